//! How long building the engine's HTTP client takes (issue 18: the app builds one at start-up, and
//! with its embedded server it only ever speaks plain http to 127.0.0.1). Prints the first build
//! in this process (what a start pays) and the median of 20 more, in milliseconds.
//!   client_build          qrlogin_core::http::build_client (the OS store is read at the first
//!                         https handshake, trust.rs)
//!   client_build eager    for comparison: reqwest 0.13's own rustls set-up, which reads the OS
//!                         store while building, as the core did before
//! Run each in several fresh processes (the first build is the one a start pays):
//!   for i in $(seq 10); do target/release/examples/client_build; done

use std::time::Instant;

use qrlogin_core::http::{build_client, Limits};

fn build(eager: bool) {
    if eager {
        qrlogin_core::trust::install_crypto_provider();
        let _client = reqwest::Client::builder().build().expect("client");
    } else {
        let _client = build_client(&Limits::default()).expect("client");
    }
}

fn main() {
    let eager = std::env::args().nth(1).as_deref() == Some("eager");
    let t = Instant::now();
    build(eager);
    let first = t.elapsed();
    let mut later: Vec<f64> = (0..20)
        .map(|_| {
            let t = Instant::now();
            build(eager);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    later.sort_by(f64::total_cmp);
    println!(
        "{}: first {:.1} ms, later median {:.2} ms",
        if eager {
            "eager (reqwest's own)"
        } else {
            "build_client"
        },
        first.as_secs_f64() * 1e3,
        later[later.len() / 2]
    );
}
