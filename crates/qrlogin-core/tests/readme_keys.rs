//! The README documents every config key: a key added in code without a line in the README (or
//! the other way round) fails here.

use qrlogin_core::config::Config;

#[test]
fn readme_lists_every_config_key() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md at the workspace root");
    for key in Config::documented_keys() {
        assert!(
            readme.contains(&format!("`{}`", key.key)),
            "README.md does not document `{}`",
            key.key
        );
    }
}
