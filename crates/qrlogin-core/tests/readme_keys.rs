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

/// The README's table is exactly `Config::keys_markdown()` (defaults and meanings included), so a
/// changed default or meaning cannot leave the README behind. Regenerate it with
/// `QRLOGIN_WRITE_README=1 cargo test -p qrlogin-core --test readme_keys`.
#[test]
fn readme_table_is_keys_markdown() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md at the workspace root");
    let table = Config::keys_markdown();
    if readme.contains(&table) {
        return;
    }
    let start = readme
        .find("| key | default | meaning |")
        .expect("the README has a key table");
    let end = readme[start..]
        .find("\n\n")
        .map(|i| start + i + 1)
        .unwrap_or(readme.len());
    if std::env::var_os("QRLOGIN_WRITE_README").is_some() {
        let updated = format!("{}{}{}", &readme[..start], table, &readme[end..]);
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    panic!("README.md's key table is not Config::keys_markdown(); regenerate it with QRLOGIN_WRITE_README=1");
}
