//! `qrlogin-server`: the reference server's command line (see `qrlogin_server::cli`).
fn main() -> std::process::ExitCode {
    qrlogin_server::cli::main()
}
