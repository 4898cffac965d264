//! Command-line flags. They override the config file; secrets are deliberately not accepted here
//! (a command line is visible to every user of the machine through /proc).

use clap::Parser;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Parser)]
#[command(name = "qrlogin", version, about = "Scan with your phone to sign in")]
pub struct Cli {
    /// Config file (default: $QRLOGIN_CONFIG, then /etc/qrlogin/config.toml and the user's config.toml)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Full screen, cannot be closed, QR refreshes forever, signs out when idle
    #[arg(long)]
    pub kiosk: bool,

    /// Embedded server: listen on this machine's LAN address so a phone on the network can sign in
    #[arg(long)]
    pub lan: bool,

    /// After sign-in, print the user JSON (with the token) to stdout and exit: for scripts
    #[arg(long)]
    pub print_token: bool,

    /// Server to use instead of the embedded one (Authing app domain or a qrlogin-server)
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,

    /// API generation: wxapp-legacy | app-v1 | v2 | v3
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,

    /// The app id on that server
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,

    /// Language of the window and the tips: zh-CN | en
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,

    /// Any config key, e.g. --set login.refresh_cap=0 (repeatable). Secrets are refused here:
    /// server.app_secret goes in server.app_secret_file or $QRLOGIN_APP_SECRET
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl Cli {
    /// The flags as dotted config overrides, in the order they apply (later wins).
    pub fn overrides(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut push = |k: &str, v: &str| out.push((k.to_string(), v.to_string()));
        if self.kiosk {
            push("kiosk.enabled", "true");
        }
        if self.lan {
            push("server.lan", "true");
        }
        if self.print_token {
            push("login.after_login", "print-token");
        }
        if let Some(v) = &self.server_url {
            push("server.url", v);
        }
        if let Some(v) = &self.dialect {
            push("server.dialect", v);
        }
        if let Some(v) = &self.app_id {
            push("server.app_id", v);
        }
        if let Some(v) = &self.lang {
            push("login.lang", v);
        }
        for kv in &self.set {
            match kv.split_once('=') {
                Some((k, v)) => push(k.trim(), v.trim()),
                None => push(kv.trim(), ""),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrlogin_core::config::{self, ConfigSources};

    #[test]
    fn a_secret_on_the_command_line_is_refused_with_where_it_goes() {
        let cli = Cli::parse_from(["qrlogin", "--set", "server.app_secret=cli-s3cr3t"]);
        let err = config::load(&ConfigSources {
            overrides: cli.overrides(),
            ..ConfigSources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("--set server.app_secret"), "{err}");
        assert!(err.contains("server.app_secret_file"), "{err}");
        assert!(!err.contains("cli-s3cr3t"), "{err}");
        // Other keys still pass.
        let cli = Cli::parse_from(["qrlogin", "--set", "login.refresh_cap=0"]);
        let c = config::load(&ConfigSources {
            overrides: cli.overrides(),
            ..ConfigSources::default()
        })
        .unwrap();
        assert_eq!(c.login.refresh_cap, 0);
    }
}
