//! Tips at run time (issue 15 item 2): the config file is edited while the QR is shown. The new
//! title tip appears in the window at once, with the same QR (the login in flight goes on); a
//! broken edit is refused, `#notice` says why and the tip stays; the phone then signs in with the
//! QR that was on screen all along.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_live_tips_edit_while_the_qr_is_shown() {
    let sc = Scenario::new("s-live-tips");
    let server = TestServer::start(ServerOptions::default()).await;
    let ivan = server.add_user("ivan", "Ivan").await;
    let config =
        AppConfig::for_server(&server, "v2", "en").set("tips.en.title", "Before the edit (e2e)");
    let mut home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let qr = app.wait_qr("1-qr", &[]).await;
    app.assert_text("1-qr", "tip", "Before the edit (e2e)")
        .await;

    home.write_config(&config.clone().set(
        "tips.en.title",
        "After the <b>edit</b><img src=x onerror=\"window.__xss=1\"> (e2e)",
    ));
    app.wait_text("2-edited", "tip", "the edited title", |t| {
        t == "After the edit (e2e)"
    })
    .await;
    let markup = app
        .exec(
            r#"const tip = document.getElementById('tip');
               return { bold: tip.querySelectorAll('b').length, img: tip.querySelectorAll('img').length,
                        xss: typeof window.__xss, state: document.body.dataset.state };"#,
            vec![],
        )
        .await;
    if markup["bold"] != 1 || markup["img"] != 0 || markup["xss"] != "undefined" {
        app.fail_with(
            "2-edited",
            format!("the edited tip is not the safe subset: {markup}"),
        )
        .await;
    }
    let same = app.wait_qr("2-edited", &[]).await;
    if same != qr || markup["state"] != "waiting" {
        app.fail_with(
            "2-edited",
            format!("the edit restarted the login: {markup}, QR {same} (was {qr})"),
        )
        .await;
    }

    // A broken edit: refused, the window says why (file and line), the tip stays.
    let file = home.path().join("qrlogin-e2e.toml");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{good}\n[tips.en\nscanned = 1\n")).unwrap();
    let notice = app
        .wait_text("3-broken", "notice", "why the edit was refused", |t| {
            t.starts_with("The config edit was not applied") && t.contains("qrlogin-e2e.toml:")
        })
        .await;
    qrlogin_e2e::app::note(&sc, &format!("refused edit: {notice}"));
    app.assert_text("3-broken", "tip", "After the edit (e2e)")
        .await;
    app.screenshot("3-broken").await;

    // The login that was in flight the whole time completes.
    let scan = phone::scan(&qr, &ivan).await;
    super::scanned_shows(&app, "4", &ivan.nickname).await;
    super::confirm_with_window_code(&app, "4", &scan).await;
    super::profile_shows(&app, "4", &ivan).await;
    app.quit().await;
}
