//! A probe for the kiosk soak's web-process growth (issue 13): the real app, then one thing done
//! many times in its page, and the WebKitWebProcess PSS after every batch. `QRLOGIN_PROBE` picks
//! the thing: `idle` (nothing), `svg` (a new QR-sized SVG data URL in `#qr` each time),
//! `svg-same` (two URLs in turn), `png` (a new PNG data URL), `eval` (a new script of a QR event's
//! size, as Tauri's channel evaluates one per event), `shot` (a WebDriver screenshot), `exec` (one WebDriver execute reading
//! the state, as the harness's waits do every 100 ms), `channel` (a new
//! attempt on a new Channel: Tauri evaluates a script per event). `#[ignore]`d; run by hand:
//! `QRLOGIN_PROBE=svg scripts/e2e.sh --ignored --exact soak_probe::probe`.

use std::time::Duration;

use qrlogin_e2e::app::process_tree;
use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{App, AppConfig, AppHome, Scenario, TestServer};
use serde_json::json;

fn web_pss_kib(root: i32) -> u64 {
    process_tree(root)
        .iter()
        .filter(|p| p.comm.starts_with("WebKitWebProces"))
        .map(|p| p.pss_kib.unwrap_or(p.rss_kib))
        .sum()
}

const SVG_JS: &str = r#"
  // The app draws its QR inline now; the probe measures what an <img> of the same SVG costs.
  const box = document.getElementById('qr');
  let img = box.querySelector('img');
  if (!img) { img = document.createElement('img'); box.appendChild(img); }
  const base = window.__probeBase || (window.__probeBase = atob(box.dataset.src.split(',')[1]));
  const n = arguments[0];
  const svg = arguments[1] ? base.replace('</svg>', '<!--' + (n % 2) + '--></svg>')
                           : base.replace('</svg>', '<!--' + n + '--></svg>');
  img.src = 'data:image/svg+xml;base64,' + btoa(svg);
  return svg.length;"#;

const PNG_JS: &str = r#"
  const c = document.createElement('canvas'); c.width = 300; c.height = 300;
  const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 300, 300);
  g.fillStyle = '#000'; g.font = '40px sans-serif'; g.fillText(String(arguments[0]), 20, 150);
  const url = c.toDataURL('image/png');
  const box = document.getElementById('qr');
  let img = box.querySelector('img');
  if (!img) { img = document.createElement('img'); box.appendChild(img); }
  img.src = url;
  return url.length;"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a probe, run by hand"]
async fn probe() {
    let mode = std::env::var("QRLOGIN_PROBE").unwrap_or_else(|_| "idle".into());
    let rounds: usize = std::env::var("QRLOGIN_PROBE_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let sc = Scenario::new(&format!("probe-{mode}"));
    let server = TestServer::start(ServerOptions::default()).await;
    let config = AppConfig::for_server(&server, "v2", "en").set("kiosk.enabled", true);
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;
    let root = app.tree_root();
    app.wait_qr("qr", &[]).await;
    let mut lines = vec![format!("mode {mode}: round, web PSS MiB")];
    let start = web_pss_kib(root);
    let mut svg = String::new();
    lines.push(format!("0, {:.1}", start as f64 / 1024.0));
    for i in 1..=rounds {
        match mode.as_str() {
            "svg" => {
                app.exec(SVG_JS, vec![json!(i), json!(false)]).await;
            }
            "svg-same" => {
                app.exec(SVG_JS, vec![json!(i), json!(true)]).await;
            }
            "png" => {
                app.exec(PNG_JS, vec![json!(i)]).await;
            }
            "eval" => {
                // A new script each time, as Tauri's channel delivers each event (webview.eval of
                // a script with the event in it); the page's CSP forbids eval() itself.
                if svg.is_empty() {
                    svg = app
                        .exec("return document.getElementById('qr').dataset.src;", vec![])
                        .await
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                }
                let event = json!({"message": {"event": "qrReady",
                    "data": {"svg": format!("{svg}#{i}"), "generation": i}}, "index": i});
                app.exec(&format!("window.__probeSink = {event}; return 1;"), vec![])
                    .await;
            }
            "exec" => {
                // What every wait of the harness does ten times a second: read the state.
                app.state().await;
            }
            "channel" => {
                // A new attempt on a fresh Channel, as the page starts one: the shell sends its
                // events (starting, qrReady with a new SVG) by evaluating a script per event.
                app.exec(
                    "const c = window.__TAURI__.core; const ch = new c.Channel();
                     ch.onmessage = (m) => { window.__probeSink = m; };
                     c.invoke('start_login', { onEvent: ch }); return 1;",
                    vec![],
                )
                .await;
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            "shot" => {
                app.screenshot_unsaved().await;
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if i % 50 == 0 {
            let pss = web_pss_kib(root);
            lines.push(format!("{i}, {:.1}", pss as f64 / 1024.0));
            eprintln!("[probe {mode}] {i}: web PSS {:.1} MiB", pss as f64 / 1024.0);
        }
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let end = web_pss_kib(root);
    lines.push(format!(
        "after 10 s: {:.1}; growth {:.1} MiB over {rounds} = {:.1} kiB each",
        end as f64 / 1024.0,
        (end as f64 - start as f64) / 1024.0,
        (end as f64 - start as f64) / rounds as f64
    ));
    let out = qrlogin_e2e::scenario::target_dir().join("soak-probe");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(format!("{mode}.txt")), lines.join("\n") + "\n").unwrap();
    eprintln!("{}", lines.join("\n"));
    app.quit().await;
}
