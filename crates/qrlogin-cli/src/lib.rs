//! The part of `qrlogin-cli` other crates may call: its signed-in session, kept where the desktop
//! app keeps its own (the core's session store), so the app's tests can sign in "as the CLI".

pub mod session;
