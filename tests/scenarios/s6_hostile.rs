//! Scenario 6: Hostile data: a nickname that is an HTML/script payload is shown as text; nothing runs.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

const PAYLOADS: [&str; 2] = [
    r#"<img src=x onerror="window.__xss=1">"#,
    r#"<script>window.__xss=2</script><b>bold</b>"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_hostile_nickname_is_text() {
    let sc = Scenario::new("s6-hostile");
    let server = TestServer::start(ServerOptions::default()).await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, "v2", "en"));
    let app = App::launch(&sc, &home, &[]).await;

    let mut used = Vec::new();
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let user = server.add_user(&format!("mallory{i}"), payload).await;
        let step = format!("{}", i + 1);
        let not: Vec<&str> = used.iter().map(String::as_str).collect();
        let qr = app.wait_qr(&format!("{step}-1-qr"), &not).await;
        used.push(qr.clone());
        let scan = phone::scan(&qr, &user).await;

        super::scanned_shows(&app, &step, payload).await;
        inert(&app, &format!("{step}-2-scanned"), "scanned-name").await;
        super::confirm_with_window_code(&app, &step, &scan).await;
        super::profile_shows(&app, &step, &user).await;
        inert(&app, &format!("{step}-3-profile"), "profile-nickname").await;

        app.click("sign-out").await;
        app.wait_state(&format!("{step}-4-signed-out"), "waiting")
            .await;
        inert(&app, &format!("{step}-4-signed-out"), "scanned-name").await;
    }
    app.quit().await;
}

/// Nothing of the payload became markup or ran: no element inside `#id`, no stray `<img src=x>`
/// or `<script>` anywhere in the page, and `window.__xss` was never set.
async fn inert(app: &App, step: &str, id: &str) {
    let v = app
        .exec(
            r#"const el = document.getElementById(arguments[0]);
               return {
                 children: el ? el.children.length : -1,
                 strayImg: document.querySelectorAll('img[src="x"]').length,
                 strayScript: Array.from(document.querySelectorAll('script'))
                   .filter(s => (s.textContent || '').includes('__xss')).length,
                 bold: document.querySelectorAll('#scanned-name b, #profile-nickname b, #status b').length,
                 xss: typeof window.__xss,
               };"#,
            vec![serde_json::json!(id)],
        )
        .await;
    let ok = v["children"] == 0
        && v["strayImg"] == 0
        && v["strayScript"] == 0
        && v["bold"] == 0
        && v["xss"] == "undefined";
    if !ok {
        app.fail_with(step, format!("the hostile nickname was not inert: {v}"))
            .await;
    }
}
