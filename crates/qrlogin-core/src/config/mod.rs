//! The app's TOML config: the system file under the user's (or an explicit file), then
//! `QRLOGIN_<SECTION>_<KEY>` environment variables, then command-line `key=value` overrides.
//! A bad file or value stops the app with an error naming the file, the key and the line.
//! Every key, its default and meaning: [`Config::keys_markdown`] (the README's table).
//!
//! By job: [`schema`] (the sections and defaults), [`load`](mod@load) (layering), `validate`
//! (cross-key checks), [`diagnostics`] (errors and hints), [`keys`] (the key table), [`reload`]
//! (an edit while the app runs).

pub mod diagnostics;
pub mod keys;
pub mod load;
pub mod reload;
pub mod schema;
mod validate;

pub(crate) use diagnostics::did_you_mean;
pub use diagnostics::ConfigError;
pub use keys::KeyDoc;
pub use load::{load, parse_layer, ConfigSources, SECRET_KEYS};
pub use schema::*;
