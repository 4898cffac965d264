//! The engine against the real `qrlogin-server` (in-process, random port, real time): a full
//! login in each of the four generations with the phone played by `qrlogin_server::phone`, plus
//! expiry, cancel from the phone, the server going down and coming back, and PKCE refusals.

mod common;

use common::real_server::{RealServer, PASSWORD};
use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::dialect::{Authorization, ExchangeAuth, PollExtras, ScanStatus};
use qrlogin_core::pkce::Pkce;
use qrlogin_core::secret::Secret;
use qrlogin_core::{
    Client, ClientConfig, CoreError, DialectId, ErrorKind, LoginEvent, LoginSession, SessionOptions,
};
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const WAIT: Duration = Duration::from_secs(30);

struct Env {
    srv: RealServer,
}

impl Env {
    async fn new(app: NewApp) -> Env {
        Env {
            srv: RealServer::start(app).await,
        }
    }

    fn base_url(&self) -> String {
        self.srv.base_url()
    }

    fn client(&self, dialect: DialectId) -> Arc<Client> {
        let mut c = self.srv.config(&self.base_url(), dialect);
        c.requester = Some(qrlogin_core::dialect::Requester::this_machine(
            "qrlogin-tests",
            "0.1.0",
        ));
        Arc::new(Client::new(c).unwrap())
    }
}

struct Watch {
    rx: UnboundedReceiver<LoginEvent>,
    seen: Vec<LoginEvent>,
    session: LoginSession,
}

impl Watch {
    fn start(client: Arc<Client>, opts: SessionOptions) -> Watch {
        let (tx, rx) = unbounded_channel();
        let session = LoginSession::start(client, opts, move |e| {
            let _ = tx.send(e);
        });
        Watch {
            rx,
            seen: Vec::new(),
            session,
        }
    }

    /// The next event named `name`; panics on a `failed` event unless that is what is awaited.
    async fn next(&mut self, name: &str) -> LoginEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let e = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {name} event; saw {:?}", self.names()))
                .unwrap_or_else(|| panic!("session ended before {name}; saw {:?}", self.names()));
            self.seen.push(e.clone());
            if e.name() == name {
                return e;
            }
            if let LoginEvent::Failed { kind, message, .. } = &e {
                if name != "failed" && *kind != ErrorKind::Network {
                    panic!("failed while waiting for {name}: {message}");
                }
            }
        }
    }

    fn names(&self) -> Vec<&'static str> {
        self.seen.iter().map(LoginEvent::name).collect()
    }
}

fn opts() -> SessionOptions {
    SessionOptions {
        cancel_pause: Duration::from_millis(200),
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        ..SessionOptions::default()
    }
}

/// The phone scans `text`, signs in as alice and confirms with `check_code` when offered.
async fn approve(text: &str, check_code: Option<&str>) -> Phone {
    let phone = Phone::new();
    let page = phone.open(text).await.expect("phone opens the QR");
    let page = phone
        .sign_in(&page, "alice", PASSWORD)
        .await
        .expect("phone signs in");
    let pick = if page.check_code_choices.is_empty() {
        None
    } else {
        let code = check_code.expect("the desktop shows a check code");
        assert!(page.check_code_choices.iter().any(|c| c == code));
        Some(code)
    };
    phone.confirm(&page, pick).await.expect("phone confirms");
    phone
}

async fn full_login(dialect: DialectId, app: NewApp) {
    let env = Env::new(app).await;
    let client = env.client(dialect);
    let mut w = Watch::start(client.clone(), opts());
    w.next("starting").await;
    let LoginEvent::QrReady {
        text,
        check_code,
        generation,
        svg,
        png,
        expires_at,
        ttl_ms,
        ..
    } = w.next("qrReady").await
    else {
        unreachable!()
    };
    assert_eq!(generation, 1);
    assert!(
        text.starts_with(&env.base_url()) && text.contains("/s/"),
        "{text}"
    );
    assert!(svg.starts_with("data:image/svg+xml") && png.starts_with("data:image/png"));
    assert_eq!(ttl_ms, 120_000);
    assert!(expires_at > 1_700_000_000_000);
    // Scan (sign in on the phone), see the desktop show it, then confirm.
    let phone = Phone::new();
    let page = phone.open(&text).await.expect("phone opens the QR");
    let page = phone.sign_in(&page, "alice", PASSWORD).await.unwrap();
    // The approval page shows who is asking (informed approval, PROTOCOL.md §4.3).
    assert_eq!(page.requester.app_name.as_deref(), Some("qrlogin-tests"));
    assert!(page.requester.device_name.is_some(), "{:?}", page.requester);
    assert_eq!(
        page.requester.platform.as_deref(),
        Some(std::env::consts::OS)
    );
    let LoginEvent::Scanned {
        nickname, avatar, ..
    } = w.next("scanned").await
    else {
        unreachable!()
    };
    let pick = (!page.check_code_choices.is_empty()).then(|| check_code.clone().unwrap());
    phone.confirm(&page, pick.as_deref()).await.unwrap();
    assert_eq!(nickname.as_deref(), Some("Alice"));
    assert!(
        avatar
            .as_deref()
            .is_some_and(|a| a.starts_with("data:image/")),
        "the scanner's photo arrives as a data URL"
    );
    w.next("authorized").await;
    let LoginEvent::LoggedIn {
        profile, session, ..
    } = w.next("loggedIn").await
    else {
        unreachable!()
    };
    assert_eq!(profile.username.as_deref(), Some("alice"));
    assert_eq!(profile.nickname.as_deref(), Some("Alice"));
    assert_eq!(profile.email.as_deref(), Some("alice@example.test"));
    assert!(!profile.id.is_empty());
    assert!(profile
        .avatar
        .as_deref()
        .is_some_and(|a| a.starts_with("data:image/")));
    assert!(profile.expires_at.is_some_and(|t| t > client.now_ms()));
    assert!(!session.token.is_empty());
    w.session.finished().await;
    assert_eq!(
        w.names(),
        ["starting", "qrReady", "scanned", "authorized", "loggedIn"]
    );

    // The desktop's session restore: the token is good for get-profile.
    let checked = client.check_token(&session.token).await.unwrap();
    assert_eq!(checked.id, profile.id);
    assert_eq!(checked.username.as_deref(), Some("alice"));
    let bad = client
        .check_token(&Secret::new("eyJhbGciOiJub25lIn0.e30.x"))
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Denied, "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_g1_wxapp_legacy() {
    full_login(DialectId::G1, NewApp::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_g2_app_v1() {
    full_login(DialectId::G2, NewApp::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_g3_v2_with_check_code() {
    full_login(
        DialectId::G3,
        NewApp {
            check_code: true,
            ..Default::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_g4_v3() {
    full_login(DialectId::G4, NewApp::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_refreshes_then_stops_at_the_cap() {
    let env = Env::new(NewApp {
        qr_ttl_secs: Some(2),
        ..Default::default()
    })
    .await;
    let o = SessionOptions {
        refresh_cap: Some(1),
        ..opts()
    };
    let mut w = Watch::start(env.client(DialectId::G3), o);
    let LoginEvent::QrReady { ttl_ms, .. } = w.next("qrReady").await else {
        unreachable!()
    };
    assert_eq!(ttl_ms, 2_000);
    assert!(matches!(
        w.next("expired").await,
        LoginEvent::Expired {
            refreshing: true,
            ..
        }
    ));
    assert!(matches!(
        w.next("qrReady").await,
        LoginEvent::QrReady { generation: 2, .. }
    ));
    assert!(matches!(
        w.next("expired").await,
        LoginEvent::Expired {
            refreshing: false,
            ..
        }
    ));
    tokio::time::timeout(WAIT, w.session.finished())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_from_the_phone_then_a_new_qr_logs_in() {
    let env = Env::new(NewApp::default()).await;
    let mut w = Watch::start(env.client(DialectId::G4), opts());
    let LoginEvent::QrReady { text, .. } = w.next("qrReady").await else {
        unreachable!()
    };
    let phone = Phone::new();
    let page = phone.open(&text).await.unwrap();
    let page = phone.sign_in(&page, "alice", PASSWORD).await.unwrap();
    w.next("scanned").await;
    phone.cancel(&page).await.unwrap();
    assert!(matches!(
        w.next("cancelled").await,
        LoginEvent::Cancelled {
            refreshing: true,
            ..
        }
    ));
    let LoginEvent::QrReady {
        text: text2,
        generation,
        ..
    } = w.next("qrReady").await
    else {
        unreachable!()
    };
    assert_eq!(generation, 2);
    assert_ne!(text, text2);
    approve(&text2, None).await;
    w.next("loggedIn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_then_up_the_same_qr_still_logs_in() {
    let mut env = Env::new(NewApp::default()).await;
    let mut w = Watch::start(env.client(DialectId::G3), opts());
    let first = w.next("qrReady").await;
    let LoginEvent::QrReady { text, .. } = first.clone() else {
        unreachable!()
    };

    env.srv.stop().await;
    // The window shows `retrying` (no retry button yet), with the configured failed tip.
    let LoginEvent::Retrying {
        kind,
        problem,
        background,
        tip_html,
        ..
    } = w.next("retrying").await
    else {
        unreachable!()
    };
    assert_eq!(
        (kind, problem, background),
        (
            ErrorKind::Network,
            qrlogin_core::failure::Problem::Unreachable,
            false
        )
    );
    assert!(!tip_html.is_empty());
    w.next("retrying").await;
    assert!(!w.names().contains(&"failed"), "{:?}", w.names());

    // Same port, same data dir: the QR session survived.
    env.srv.start_again().await;
    let again = w.next("qrReady").await;
    assert_eq!(again, first, "the same QR is shown again, not a new one");
    approve(&text, None).await;
    w.next("loggedIn").await;
}

/// Generate with a PKCE challenge, let the phone confirm, poll until authorized.
async fn authorized_ticket(client: &Client, pkce: &Pkce) -> Authorization {
    let qr = client.generate(Some(pkce)).await.unwrap();
    approve(qr.qr_content.as_deref().unwrap(), qr.check_code.as_deref()).await;
    loop {
        match client
            .poll(&qr.handle, &PollExtras::default())
            .await
            .unwrap()
        {
            ScanStatus::Authorized(a) => return a,
            ScanStatus::Pending | ScanStatus::Scanned { .. } => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pkce_verifier_is_refused_and_does_not_spend_the_ticket() {
    let env = Env::new(NewApp::default()).await;
    for dialect in [DialectId::G2, DialectId::G3, DialectId::G4] {
        let client = env.client(dialect);
        let pkce = Pkce::generate();
        let Authorization::Ticket { ticket, .. } = authorized_ticket(&client, &pkce).await else {
            panic!("{dialect}: expected a ticket")
        };
        let wrong = Pkce::generate();
        let err = client
            .exchange(&ticket, &ExchangeAuth::Pkce(wrong.verifier().clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::Denied { code: 2243, .. }),
            "{dialect}: {err:?}"
        );
        let err = client
            .exchange(&ticket, &ExchangeAuth::None)
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(2243),
            "{dialect}: a missing verifier too: {err:?}"
        );
        client
            .exchange(&ticket, &ExchangeAuth::Pkce(pkce.verifier().clone()))
            .await
            .unwrap_or_else(|e| panic!("{dialect}: the right verifier still works: {e:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pkce_verifier_is_refused_on_g1_poll() {
    let env = Env::new(NewApp::default()).await;
    let client = env.client(DialectId::G1);
    let pkce = Pkce::generate();
    let qr = client.generate(Some(&pkce)).await.unwrap();
    approve(qr.qr_content.as_deref().unwrap(), None).await;
    let wrong = PollExtras {
        code_verifier: Some(Pkce::generate().verifier().clone()),
        ..Default::default()
    };
    let mut status = ScanStatus::Pending;
    for _ in 0..50 {
        status = client.poll(&qr.handle, &wrong).await.unwrap();
        if !matches!(status, ScanStatus::Pending | ScanStatus::Scanned { .. }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        matches!(status, ScanStatus::Failed { code: 2243, .. }),
        "{status:?}"
    );
    let right = PollExtras {
        code_verifier: Some(pkce.verifier().clone()),
        ..Default::default()
    };
    let status = client.poll(&qr.handle, &right).await.unwrap();
    assert!(
        matches!(status, ScanStatus::Authorized(Authorization::User(ref u)) if u.token.is_some()),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_reads_the_servers_extensions() {
    let env = Env::new(NewApp::default()).await;
    let ext = env.client(DialectId::G3).extensions().await;
    assert!(ext.long_poll && ext.pkce && ext.check_code && ext.requester && ext.scan_id);
}

/// Seeds 000/001 through the config keys a user writes: `server.enable_fetch_phone` reaches
/// our server (the phone number comes with the user), the default title is the mini-program's,
/// and in redirect mode without `login.redirect_url` the G1 `redirect` is the callback while
/// `successRedirectTips` shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_options_from_the_config_reach_the_server_and_the_redirect_comes_back() {
    use qrlogin_core::config::Config;
    use qrlogin_core::tips::{default_text, Lang, TipKey, Tips};
    let env = Env::new(NewApp {
        redirect_url: Some("https://app.example/cb".into()),
        ..NewApp::default()
    })
    .await;
    env.srv
        .server
        .add_user(NewUser {
            username: "carol".into(),
            password: PASSWORD.into(),
            phone: Some("+8613800000000".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let config: Config = toml::from_str(
        "[server]\ndialect = \"wxapp-legacy\"\nenable_fetch_phone = true\n\
         [login]\nafter_login = \"redirect\"\n",
    )
    .unwrap();
    config
        .validate()
        .expect("redirect mode needs no URL with wxapp-legacy");
    let mut c = ClientConfig::new(env.base_url(), DialectId::G1, &env.srv.creds.app_id);
    config.server.apply_generate_options(&mut c.app);
    let tips = Tips::new();
    tips.set_title_variant(config.server.title_variant());
    let mut w = Watch::start(
        Arc::new(Client::new(c).unwrap()),
        SessionOptions {
            tips,
            lang: Lang::ZhCn,
            redirecting: true,
            ..opts()
        },
    );
    let LoginEvent::QrReady { text, tip_html, .. } = w.next("qrReady").await else {
        unreachable!()
    };
    assert_eq!(tip_html, "搜索小程序 <strong>小登录</strong> 扫码登录");
    let phone = Phone::new();
    let page = phone.open(&text).await.unwrap();
    let page = phone.sign_in(&page, "carol", PASSWORD).await.unwrap();
    phone.confirm(&page, None).await.unwrap();
    let LoginEvent::Authorized { tip_html } = w.next("authorized").await else {
        unreachable!()
    };
    let redirect_tip = default_text(TipKey::SuccessRedirect, Lang::ZhCn);
    assert_eq!(tip_html, redirect_tip);
    let LoginEvent::LoggedIn {
        profile,
        tip_html,
        redirect,
        ..
    } = w.next("loggedIn").await
    else {
        unreachable!()
    };
    assert_eq!(tip_html, redirect_tip);
    assert_eq!(redirect.as_deref(), Some("https://app.example/cb"));
    assert_eq!(profile.phone.as_deref(), Some("+8613800000000"));
}

/// A rotating QR (issue 15 item 8): the desktop follows the server's new code as the next
/// generation (the window cross-fades), the phone signs in with the code on screen, and turns
/// do not use up the refresh cap (here 0: no new QR session allowed at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_follows_a_rotating_qr_without_spending_refreshes() {
    let env = Env::new(NewApp {
        qr_rotate_secs: Some(2),
        ..NewApp::default()
    })
    .await;
    let mut w = Watch::start(
        env.client(DialectId::G3),
        SessionOptions {
            refresh_cap: Some(0),
            long_poll_wait: Duration::from_secs(10),
            ..opts()
        },
    );
    let LoginEvent::QrReady {
        text: first,
        expires_at: first_expiry,
        generation: 1,
        ..
    } = w.next("qrReady").await
    else {
        panic!("first QR")
    };
    let LoginEvent::QrReady {
        text,
        expires_at,
        generation,
        svg,
        ..
    } = w.next("qrReady").await
    else {
        unreachable!()
    };
    assert_eq!(generation, 2);
    assert_ne!(text, first, "a new code");
    assert_eq!(expires_at, first_expiry, "the same QR session");
    assert!(svg.starts_with("data:image/svg+xml"));
    approve(&text, None).await;
    w.next("loggedIn").await;
}

/// Issue 15 item 3: our server's app logo (G4 `customLogoUrl`) sits in the centre of the
/// desktop's own QR, at EC level H, and the code still decodes (rqrr) to the same text. The
/// picture is left in `$CARGO_TARGET_TMPDIR/qr-with-logo.png` for a look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_logo_is_drawn_in_the_centre_and_the_qr_still_decodes() {
    use base64::Engine;
    let mut logo = Vec::new();
    image::RgbaImage::from_pixel(300, 300, image::Rgba([20, 120, 220, 255]))
        .write_to(
            &mut std::io::Cursor::new(&mut logo),
            image::ImageFormat::Png,
        )
        .unwrap();
    let env = Env::new(NewApp {
        logo: Some(logo),
        ..NewApp::default()
    })
    .await;
    let mut w = Watch::start(env.client(DialectId::G4), opts());
    let LoginEvent::QrReady { text, png, svg, .. } = w.next("qrReady").await else {
        unreachable!()
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(
            png.strip_prefix("data:image/png;base64,")
                .expect("PNG data URL"),
        )
        .unwrap();
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("qr-with-logo.png"),
        &bytes,
    )
    .unwrap();
    let img = image::load_from_memory(&bytes).unwrap().to_rgba8();
    let centre = img.get_pixel(img.width() / 2, img.height() / 2);
    assert_eq!(&centre.0[..3], &[20, 120, 220], "the logo is in the centre");
    assert_eq!(
        qrlogin_core::qr::decode_png(&bytes).unwrap(),
        vec![text.clone()],
        "the QR still reads"
    );
    assert!(svg.starts_with("data:image/svg+xml"));
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The restore decision (`qrlogin_core::restore`, shared by the front ends) against the real
/// server: a good token is confirmed with the server's profile; a token the server refuses ends
/// the session; with the server down the token is trusted until it expires, and not after (but
/// the session is not ended either: the server did not say so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_confirms_ends_what_the_server_refuses_and_trusts_only_an_unexpired_token_offline()
{
    use qrlogin_core::credentials::Credentials;
    use qrlogin_core::restore::{restore, Restored};

    let mut env = Env::new(NewApp::default()).await;
    let client = env.client(DialectId::G3);
    let mut w = Watch::start(client.clone(), opts());
    let LoginEvent::QrReady { text, .. } = w.next("qrReady").await else {
        unreachable!()
    };
    approve(&text, None).await;
    let LoginEvent::LoggedIn { session, .. } = w.next("loggedIn").await else {
        unreachable!()
    };
    let creds = Credentials::from_session(&session, wall_ms());

    match restore(&client, creds.clone(), wall_ms).await {
        Restored::Confirmed {
            profile, refreshed, ..
        } => {
            assert_eq!(profile.username.as_deref(), Some("alice"));
            assert!(!refreshed);
        }
        other => panic!("a good token must be confirmed, got {other:?}"),
    }

    // A token the server does not know (forged, or revoked): the session is over.
    let forged = Credentials {
        access_token: Secret::new("eyJhbGciOiJub25lIn0.e30.x"),
        refresh_token: None,
        ..creds.clone()
    };
    assert!(
        matches!(restore(&client, forged, wall_ms).await, Restored::Ended(_)),
        "a refused token must end the session"
    );

    // The server goes away: an unexpired token is trusted until it expires...
    env.srv.stop().await;
    let unexpired = Credentials {
        expires_at: Some(wall_ms() + 3_600_000),
        ..creds.clone()
    };
    assert!(
        matches!(
            restore(&client, unexpired, wall_ms).await,
            Restored::Trusted { .. }
        ),
        "server unreachable: trust the token until it expires"
    );
    // ...and an expired one (whose refresh cannot reach the server either) is not, though the
    // session is kept for when the server is back.
    let expired = Credentials {
        expires_at: Some(wall_ms() - 1_000),
        refresh_token: Some(Secret::new("refresh-while-offline")),
        ..creds
    };
    assert!(matches!(
        restore(&client, expired, wall_ms).await,
        Restored::Unreachable
    ));
}
