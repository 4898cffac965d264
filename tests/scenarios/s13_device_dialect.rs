//! Scenario 13 (issue 16): the window speaks the standard device flow (RFC 8628) by config alone:
//! `server.dialect = "device"`, `server.url` = the issuer (our qrlogin-server, whose
//! `/.well-known/openid-configuration` names the device endpoints), `server.app_id` = the OAuth
//! client_id. The window shows a QR holding `verification_uri_complete` and the user code; the
//! phone opens the device verification page from the pixels, signs in, picks the user code the
//! window shows among the decoys, confirms, and the window shows the profile.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s13_device_dialect_signs_in_by_config_alone() {
    let sc = Scenario::new("s13-device-dialect");
    let server = TestServer::start(ServerOptions::default()).await;
    let hana = server.add_user("hana", "Hana").await;
    // Nothing but keys: no code path of the app's chooses the dialect.
    let config = AppConfig::for_server(&server, "device", "en");
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let qr = app.wait_qr("1-qr", &[]).await;
    let code = app
        .wait_text("1-qr", "check-code", "the device user code", |t| {
            t.starts_with("Code: ")
        })
        .await;
    let user_code = app
        .exec(
            "return document.querySelector('#check-code .code').textContent;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    let shape_ok = user_code.len() == 9
        && user_code.as_bytes()[4] == b'-'
        && user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| c.is_ascii_uppercase());
    if !shape_ok {
        app.fail_with("1-qr", format!("not an RFC 8628 user code: {code:?}"))
            .await;
    }
    let expected = format!("{}/device?user_code={user_code}", server.base_url());
    if qr != expected {
        app.fail_with(
            "1-qr",
            format!("the QR holds {qr:?}, not verification_uri_complete {expected:?}"),
        )
        .await;
    }

    // The phone: the device verification page, reached from the pixels.
    let scan = phone::scan(&qr, &hana).await;
    let choices = scan.check_code_choices();
    if choices.is_empty() {
        scan.confirm(None).await;
    } else {
        scan.confirm(Some(&user_code)).await;
    }
    super::profile_shows(&app, "2", &hana).await;
    qrlogin_e2e::app::note(
        &sc,
        &format!("device flow: QR {qr}, user code {user_code}, phone choices {choices:?}"),
    );
    app.quit().await;
}
