//! The fuzz targets of qrlogin, as plain functions: each `fuzz_targets/<name>.rs` hands
//! libFuzzer's input to [`run`], and `tests/replay.rs` runs the same functions over the seeds
//! and the kept regression inputs (`make test`), so a replay needs no sanitizer build.
//!
//! A target fails by panicking: on a panic of the code under test, or on a broken property
//! (`assert!` here). Each module says what it checks beyond "no panic".

pub mod core_targets;
pub mod html;
pub mod server_targets;

/// Every target, by name (the file names in `fuzz_targets/` and the directories of the
/// corpora and regressions).
pub const TARGETS: &[&str] = &[
    "dialect_generate",
    "dialect_poll",
    "dialect_exchange",
    "dialect_profile",
    "jwt_claims",
    "retry_after",
    "media",
    "qr_decode",
    "config_load",
    "tips_sanitize",
    "server_headers",
    "server_long_poll",
    "server_tokens",
    "server_json_bodies",
    "approval_page",
    "router",
];

/// Runs one target on one input.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "dialect_generate" => core_targets::dialect_generate(data),
        "dialect_poll" => core_targets::dialect_poll(data),
        "dialect_exchange" => core_targets::dialect_exchange(data),
        "dialect_profile" => core_targets::dialect_profile(data),
        "jwt_claims" => core_targets::jwt_claims(data),
        "retry_after" => core_targets::retry_after(data),
        "media" => core_targets::media(data),
        "qr_decode" => core_targets::qr_decode(data),
        "config_load" => core_targets::config_load(data),
        "tips_sanitize" => core_targets::tips_sanitize(data),
        "server_headers" => server_targets::headers(data),
        "server_long_poll" => server_targets::long_poll(data),
        "server_tokens" => server_targets::tokens(data),
        "server_json_bodies" => server_targets::json_bodies(data),
        "approval_page" => server_targets::approval_page(data),
        "router" => server_targets::router(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Splits an input into at most `n` parts at NUL bytes (the seeds use the same separator).
pub fn parts(data: &[u8], n: usize) -> Vec<String> {
    data.splitn(n, |b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}
