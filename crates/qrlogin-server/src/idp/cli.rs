//! `qrlogin-server idp …`: add a WeChat mini-program as an identity source (its AppSecret read
//! from standard input, never an argument), list the sources (never the secret), and change how
//! a source links sign-ins to existing users.

use std::io::Read;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{LinkMode, NewIdentitySource};
use crate::{Error, Server};

#[derive(Debug, Subcommand)]
pub enum IdpCommand {
    /// Add an identity source: `idp add wechat-miniprogram --id ID --app-id APPID
    /// --app-secret-stdin [--link none|match-phone|match-email|ask]`.
    Add(IdpAddArgs),
    /// List the identity sources (without secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change what a source does when a sign-in's verified phone or email matches a user.
    SetLink {
        #[arg(long)]
        id: String,
        #[arg(long, value_enum)]
        link: LinkArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// A WeChat mini-program (wx.login codes, phone numbers): `signInByMobile` with the
    /// `wechat_mini_program_*` connections.
    WechatMiniprogram,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LinkArg {
    /// Always a new user (the phone is bound to it only if nobody has it).
    None,
    /// Sign in to the user whose phone is the verified one.
    MatchPhone,
    /// Sign in to the user whose email is the verified one (WeChat gives none).
    MatchEmail,
    /// Ask on the phone page: the user links with that account's password.
    Ask,
}

impl From<LinkArg> for LinkMode {
    fn from(l: LinkArg) -> Self {
        match l {
            LinkArg::None => LinkMode::None,
            LinkArg::MatchPhone => LinkMode::MatchPhone,
            LinkArg::MatchEmail => LinkMode::MatchEmail,
            LinkArg::Ask => LinkMode::Ask,
        }
    }
}

#[derive(Debug, Args)]
pub struct IdpAddArgs {
    #[arg(value_enum)]
    pub kind: KindArg,
    /// The `extIdpConnidentifier` the mini-program names this source by (lower-case letters,
    /// digits, '-'; under 32).
    #[arg(long)]
    pub id: String,
    /// The mini-program's AppID (WeChat's console: 开发 → 开发设置).
    #[arg(long, value_name = "APPID")]
    pub app_id: String,
    /// Read the mini-program's AppSecret from standard input (the only way: never on the
    /// command line).
    #[arg(long)]
    pub app_secret_stdin: bool,
    /// When a sign-in's verified phone or email matches an existing user.
    #[arg(long, value_enum, default_value = "none")]
    pub link: LinkArg,
    #[arg(long)]
    pub json: bool,
}

fn read_secret(flag: bool) -> Result<String, Error> {
    if !flag {
        return Err(Error::InvalidInput(
            "pass the AppSecret on standard input with --app-secret-stdin".into(),
        ));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::InvalidInput(format!("cannot read the AppSecret from stdin: {e}")))?;
    let secret = text.trim().to_owned();
    if secret.is_empty() {
        return Err(Error::InvalidInput(
            "the AppSecret read from standard input is empty".into(),
        ));
    }
    Ok(secret)
}

pub async fn run(server: &Server, command: IdpCommand) -> Result<(), Error> {
    match command {
        IdpCommand::Add(a) => {
            let app_secret = read_secret(a.app_secret_stdin)?;
            let info = match a.kind {
                KindArg::WechatMiniprogram => {
                    server
                        .add_wechat_miniprogram(NewIdentitySource {
                            id: a.id,
                            app_id: a.app_id,
                            app_secret,
                            link: a.link.into(),
                        })
                        .await?
                }
            };
            if a.json {
                println!("{}", json!(info));
            } else {
                println!(
                    "added identity source {} ({}, appId {}, link {})",
                    info.id, info.kind, info.app_id, info.link
                );
            }
        }
        IdpCommand::List { json } => {
            let list = server.list_identity_sources().await?;
            if json {
                println!("{}", json!(list));
            } else if list.is_empty() {
                println!("no identity sources (add one with `idp add wechat-miniprogram …`)");
            } else {
                for s in list {
                    println!(
                        "{}  {}  appId={} link={} created={}",
                        s.id, s.kind, s.app_id, s.link, s.created
                    );
                }
            }
        }
        IdpCommand::SetLink { id, link } => {
            server.set_identity_source_link(&id, link.into()).await?;
            println!(
                "identity source {id}: link {}",
                LinkMode::from(link).as_str()
            );
        }
    }
    Ok(())
}
