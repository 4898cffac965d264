//! Scenario 9: Locale: `en` and `zh-CN` texts appear as configured, custom tips from the config file
//! included (rendered through the safe HTML subset, nothing else).

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

const EN_TITLE_TIP: &str =
    r#"Scan with the <b>Acme</b> app <img src=x onerror="window.__xss=3">(e2e)"#;
const EN_TITLE_TIP_TEXT: &str = "Scan with the Acme app";
const EN_SCANNED_TIP: &str = "Scanned! Now tap <strong>Allow</strong> on your phone (e2e)";
const EN_SCANNED_TIP_TEXT: &str = "Scanned! Now tap Allow on your phone (e2e)";
const ZH_CANCELED_TIP: &str = "已在手机上取消（e2e 自定义）";

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_locale_en_custom_tips() {
    let sc = Scenario::new("s9-locale-en");
    let server = TestServer::start(ServerOptions::default()).await;
    let grace = server.add_user("grace", "Grace").await;
    let config = AppConfig::for_server(&server, "v2", "en")
        .set("tips.en.tips", EN_TITLE_TIP)
        .set("tips.en.scannedTips", EN_SCANNED_TIP);
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let qr = app.wait_qr("1-qr", &[]).await;
    app.assert_text("1-qr", "title", "Sign in with your phone")
        .await;
    let tip = app.text("tip").await;
    if !tip.starts_with(EN_TITLE_TIP_TEXT) || has_cjk(&tip) {
        app.fail_with(
            "1-qr",
            format!("#tip shows {tip:?}, expected the custom en tip"),
        )
        .await;
    }
    let markup = app
        .exec(
            r#"const tip = document.getElementById('tip');
               return { bold: tip.querySelectorAll('b').length, img: tip.querySelectorAll('img').length,
                        xss: typeof window.__xss };"#,
            vec![],
        )
        .await;
    if markup["bold"] != 1 || markup["img"] != 0 || markup["xss"] != "undefined" {
        app.fail_with(
            "1-qr",
            format!("the custom tip should keep <b> and drop <img>: {markup}"),
        )
        .await;
    }
    let sign_out = app.text("sign-out").await;
    assert_eq!(sign_out, "Sign out", "the chrome is in English");

    let scan = phone::scan(&qr, &grace).await;
    super::scanned_shows(&app, "2", &grace.nickname).await;
    app.assert_text("2-2-scanned", "tip", EN_SCANNED_TIP_TEXT)
        .await;
    super::confirm_with_window_code(&app, "2", &scan).await;
    super::profile_shows(&app, "2", &grace).await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_locale_zh_cn_default_and_custom_tips() {
    let sc = Scenario::new("s9-locale-zh-CN");
    let server = TestServer::start(ServerOptions::default()).await;
    let heidi = server.add_user("heidi", "海蒂").await;
    let config = AppConfig::for_server(&server, "v2", "zh-CN")
        .set("tips.zh-CN.canceledTips", ZH_CANCELED_TIP);
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let qr = app.wait_qr("1-qr", &[]).await;
    app.assert_text("1-qr", "title", "手机扫码登录").await;
    let tip = app.text("tip").await;
    if !has_cjk(&tip) {
        app.fail_with(
            "1-qr",
            format!("the default zh-CN title tip is not Chinese: {tip:?}"),
        )
        .await;
    }
    assert_eq!(
        app.text("sign-out").await,
        "退出登录",
        "the chrome is in Chinese"
    );

    let scan = phone::scan(&qr, &heidi).await;
    super::scanned_shows(&app, "2", &heidi.nickname).await;
    let scanned_tip = app.text("tip").await;
    if !has_cjk(&scanned_tip) {
        app.fail_with(
            "2-2-scanned",
            format!("the zh-CN scanned tip is not Chinese: {scanned_tip:?}"),
        )
        .await;
    }
    let mark = app.history_len().await;
    scan.cancel().await;
    let canceled = app.wait_seen("3-cancelled", "cancelled", mark).await;
    assert_eq!(canceled, ZH_CANCELED_TIP, "the custom zh-CN canceledTips");
    app.wait_qr("4-new-qr", &[&qr]).await;
    app.quit().await;
}
