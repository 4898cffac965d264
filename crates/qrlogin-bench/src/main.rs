//! `qrlogin-bench`: the measuring half of `make bench` (scripts/bench.sh runs it and builds the
//! table). Every subcommand prints JSON and writes it to `--out`. Loopback only; every loop is
//! bounded in count and time; child processes are stopped by PID.
//!
//!     qrlogin-bench approval [--logins 100] [--concurrency 10] [--deadline-secs 300] --out F
//!     qrlogin-bench capacity [--waiters 10000] [--requests 50000] [--conns 32] [--phases throughput,waiters,fanout] --out F
//!     qrlogin-bench limiter [--clients 100000] [--threads 2] [--budget-secs 60] --out F
//!     qrlogin-bench app --app target/release/qrlogin --hello <hello> [--samples 10] [--profile-samples 100] [--idle-secs 60] [--build release|debug] --work D --out F
//!     qrlogin-bench soak [--duration-secs 120] [--desktops 12] [--sample-secs 5] [--out-dir D] [--check]
//!     qrlogin-bench serve-ours <data dir> | serve-hello      (children of `capacity`)
//!     qrlogin-bench soak-server <data dir>                    (child of `soak`)

mod app;
mod approval;
mod capacity;
/// h19's fault-injecting proxy, shared with the core's tests and the e2e scenarios.
#[path = "../../qrlogin-core/tests/common/fault.rs"]
mod fault;
mod limiter;
mod soak;
mod svg;
mod util;

use std::path::PathBuf;
use std::time::Duration;

use util::{arg, arg_str, write_json};

#[tokio::main]
async fn main() {
    // reqwest 0.13 runs rustls on the process's crypto provider (ring): before any client.
    qrlogin_core::trust::install_crypto_provider();
    let args: Vec<String> = std::env::args().collect();
    let cmd = args.get(1).map(String::as_str).unwrap_or("");
    let out_default = match cmd {
        "soak" => format!(
            "{}/summary.json",
            arg_str(&args, "--out-dir", "target/soak")
        ),
        _ => String::new(),
    };
    let out = arg_str(&args, "--out", &out_default);
    let result = match cmd {
        "serve-ours" => {
            let dir = args.get(2).cloned().unwrap_or_default();
            finish(capacity::serve_ours(dir).await);
            return;
        }
        "soak-server" => {
            let dir = args.get(2).cloned().unwrap_or_default();
            finish(soak::serve(dir).await);
            return;
        }
        "soak" => {
            soak::run(soak::Params {
                duration: Duration::from_secs(arg(&args, "--duration-secs", 120)),
                desktops: arg(&args, "--desktops", 12),
                sample_every: Duration::from_secs(arg(&args, "--sample-secs", 5)),
                out_dir: PathBuf::from(arg_str(&args, "--out-dir", "target/soak")),
                check: args.iter().any(|a| a == "--check"),
            })
            .await
        }
        "serve-hello" => {
            finish(capacity::serve_hello().await);
            return;
        }
        "approval" => {
            approval::run(
                arg(&args, "--logins", 100),
                arg(&args, "--concurrency", 10),
                Duration::from_secs(arg(&args, "--deadline-secs", 300)),
            )
            .await
        }
        "capacity" => {
            capacity::run(capacity::Params {
                waiters: arg(&args, "--waiters", 10_000),
                requests: arg(&args, "--requests", 50_000),
                conns: arg(&args, "--conns", 32),
                phases: arg_str(&args, "--phases", "throughput,waiters,fanout"),
            })
            .await
        }
        "limiter" => {
            limiter::run(limiter::Params {
                clients: arg(&args, "--clients", 100_000),
                threads: arg(&args, "--threads", 2),
                budget: Duration::from_secs(arg(&args, "--budget-secs", 60)),
            })
            .await
        }
        "app" => {
            app::run(app::Params {
                app: PathBuf::from(arg_str(&args, "--app", "target/release/qrlogin")),
                hello: PathBuf::from(arg_str(&args, "--hello", "")),
                samples: arg(&args, "--samples", 10),
                idle_secs: arg(&args, "--idle-secs", 60),
                profile_samples: arg(&args, "--profile-samples", 100),
                work: PathBuf::from(arg_str(&args, "--work", "target/bench/app-work")),
                build: arg_str(&args, "--build", "release"),
            })
            .await
        }
        _ => {
            eprintln!(
                "usage: qrlogin-bench approval|capacity|limiter|app|soak [options] --out FILE (see src/main.rs)"
            );
            std::process::exit(2);
        }
    };
    match result {
        Ok(v) => write_json(&out, &v),
        Err(e) => {
            eprintln!("qrlogin-bench {cmd}: {e}");
            std::process::exit(1);
        }
    }
}

fn finish(r: Result<(), String>) {
    if let Err(e) = r {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
