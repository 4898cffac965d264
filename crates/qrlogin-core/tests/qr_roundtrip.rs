//! Every QR we render decodes back to its text (PNG via rqrr, SVG by its structure), a server's
//! QR image is re-rendered from what it encodes, and an image that is not a QR comes back as is.

use std::sync::Arc;

use base64::Engine as _;
use image::{GrayImage, Luma, Rgba, RgbaImage};
use qrlogin_core::media::{self, FetchLimits, MediaError};
use qrlogin_core::qr::{self, EcLevel, QrError, QrOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const AUTHING_JSON: &str = r#"{"scene":"APP_AUTH","random":"PZ3tqbUSn7dCiYXWTu8fNBe2","userPoolId":"5f1c8e3f0a3c4d2b9e8f7a6b","createdAt":"2024-05-01T08:30:00.000Z","expiresIn":120,"customData":{"tenant":"acme","device":"kiosk-7"},"appId":"61a0b1c2d3e4f5a6b7c8d9e0"}"#;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

fn png_of(url: &str) -> Vec<u8> {
    b64(url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL"))
}

fn svg_of(url: &str) -> String {
    String::from_utf8(b64(url
        .strip_prefix("data:image/svg+xml;base64,")
        .expect("an SVG data URL")))
    .expect("utf-8")
}

fn texts() -> Vec<String> {
    let mut v = vec![
        "https://a.io/s/x".to_owned(),
        "http://127.0.0.1:41234/s/3f9a7c2e1b".to_owned(),
        format!("https://login.example.com/s/{}", "k".repeat(40)),
        format!(
            "https://login.example.com/very/long/path?{}",
            "q=1&".repeat(60)
        ),
        AUTHING_JSON.to_owned(),
        "扫码登录 — scan to sign in ✓ 🔐".to_owned(),
    ];
    assert!(AUTHING_JSON.len() > 230, "the payload is Authing-sized");
    v.push("x".to_owned());
    v
}

/// Checks the SVG: well-formed enough for an `<img>`, crisp, one path, and its viewBox has the
/// module count plus the quiet zone.
fn check_svg(svg: &str, modules: usize, quiet: u32) {
    let side = modules as u32 + 2 * quiet;
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg:.80}"
    );
    assert!(svg.ends_with("</svg>"));
    assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
    assert!(svg.contains("shape-rendering=\"crispEdges\""));
    assert_eq!(svg.matches("<path").count(), 1);
    assert_eq!(svg.matches('<').count(), svg.matches('>').count());
    assert!(!svg.contains("<script"));
    // The path uses whole module coordinates only.
    let d = svg
        .split(" d=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert!(
        d.chars()
            .all(|c| c.is_ascii_digit() || "Mhvz- ".contains(c)),
        "{d:.80}"
    );
}

/// Rasterizes the SVG path ourselves (it is only `M x y h n v1 h-n z` runs) so the SVG can be
/// decoded like the PNG.
fn rasterize_svg(svg: &str, scale: u32) -> GrayImage {
    let side: u32 = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    let mut img = GrayImage::from_pixel(side * scale, side * scale, Luma([255]));
    for cmd in d.split('M').filter(|s| !s.is_empty()) {
        let cmd = cmd.trim_end_matches('z');
        let (xy, rest) = cmd.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (u32, u32) = (x.parse().unwrap(), y.parse().unwrap());
        let run: u32 = rest.split('v').next().unwrap().parse().unwrap();
        for px in x * scale..(x + run) * scale {
            for py in y * scale..(y + 1) * scale {
                img.put_pixel(px, py, Luma([0]));
            }
        }
    }
    img
}

#[test]
fn rendered_png_and_svg_decode_back() {
    for text in texts() {
        let r = qr::render(&text, &QrOptions::default()).unwrap();
        assert_eq!(r.text.as_deref(), Some(text.as_str()));
        let decoded = qr::decode_png(&png_of(&r.png_data_url)).unwrap();
        assert_eq!(decoded, vec![text.clone()], "PNG of {text}");
        let svg = svg_of(&r.svg_data_url);
        check_svg(&svg, r.modules, 4);
        let raster = rasterize_svg(&svg, 6);
        assert_eq!(
            qr::decode_luma(&raster).unwrap(),
            vec![text.clone()],
            "SVG of {text}"
        );
    }
}

#[test]
fn every_ec_level_and_small_sizes_decode() {
    for ec in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
        for png_size in [64, 200, 512, 1024] {
            let opts = QrOptions {
                ec,
                png_size,
                quiet_zone: 4,
            };
            let r = qr::render(AUTHING_JSON, &opts).unwrap();
            let png = png_of(&r.png_data_url);
            let img = image::load_from_memory(&png).unwrap();
            let total = r.modules as u32 + 8;
            assert_eq!(img.width() % total, 0, "integer scale");
            assert!(img.width() <= png_size.max(total));
            if img.width() / total >= 2 {
                assert_eq!(qr::decode_png(&png).unwrap(), vec![AUTHING_JSON.to_owned()]);
            }
        }
    }
}

#[test]
fn more_error_correction_means_more_modules() {
    let m = qr::render(AUTHING_JSON, &QrOptions::default()).unwrap();
    let h = qr::render(
        AUTHING_JSON,
        &QrOptions {
            ec: EcLevel::H,
            ..QrOptions::default()
        },
    )
    .unwrap();
    assert!(h.modules > m.modules);
}

#[test]
fn too_long_text_is_an_error_not_a_panic() {
    let huge = "x".repeat(5000);
    assert!(matches!(
        qr::render(&huge, &QrOptions::default()),
        Err(QrError::Encode(_))
    ));
}

fn test_logo(w: u32, h: u32) -> Vec<u8> {
    // A colourful logo with transparency: a red square with a blue diagonal.
    let img = RgbaImage::from_fn(w, h, |x, y| {
        if x.abs_diff(y) < 6 {
            Rgba([20, 60, 220, 255])
        } else if (x + y) % 17 == 0 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([220, 30, 30, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn logo_codes_decode_back() {
    for text in texts() {
        for logo in [test_logo(64, 64), test_logo(300, 180)] {
            let r = qr::render_with_logo(&text, &logo, &QrOptions::default()).unwrap();
            let png = png_of(&r.png_data_url);
            assert_eq!(
                qr::decode_png(&png).unwrap(),
                vec![text.clone()],
                "logo QR of {text}"
            );
            // The logo is really there: the centre pixel is not black or white.
            let img = image::load_from_memory(&png).unwrap().to_rgb8();
            let c = img.get_pixel(img.width() / 2 + 3, img.height() / 2 + 8);
            assert!(c[0] != c[2], "centre is coloured: {c:?}");
            let svg = svg_of(&r.svg_data_url);
            check_svg(&svg, r.modules, 4);
            assert!(svg.contains("<image ") && svg.contains("<circle "));
        }
    }
}

#[test]
fn logo_uses_at_least_level_q() {
    let plain = qr::render(AUTHING_JSON, &QrOptions::default()).unwrap();
    let logo =
        qr::render_with_logo(AUTHING_JSON, &test_logo(32, 32), &QrOptions::default()).unwrap();
    let q = qr::render(AUTHING_JSON, &QrOptions::for_logo()).unwrap();
    assert!(logo.modules > plain.modules);
    assert_eq!(logo.modules, q.modules);
}

#[test]
fn bad_logo_is_an_error() {
    assert!(matches!(
        qr::render_with_logo("x", b"not an image", &QrOptions::default()),
        Err(QrError::Image(_))
    ));
}

/// The end-to-end tests read the QR off a window screenshot: a QR in the middle of a large
/// page with other content.
#[test]
fn decodes_a_qr_inside_a_screenshot() {
    let text = "http://127.0.0.1:38111/s/Zk3vQ9mW2pLx";
    for (qr_px, w, h) in [(256u32, 900u32, 700u32), (512, 1280, 800), (200, 900, 700)] {
        let r = qr::render(
            text,
            &QrOptions {
                png_size: qr_px,
                ..QrOptions::default()
            },
        )
        .unwrap();
        let code = image::load_from_memory(&png_of(&r.png_data_url))
            .unwrap()
            .to_rgba8();
        // A light grey page with a dark header bar and some text-like blocks.
        let mut page = RgbaImage::from_pixel(w, h, Rgba([244, 245, 247, 255]));
        for x in 0..w {
            for y in 0..48 {
                page.put_pixel(x, y, Rgba([30, 34, 40, 255]));
            }
        }
        for i in 0..12u32 {
            for x in 40 + i * 60..80 + i * 60 {
                for y in h - 80..h - 68 {
                    if x < w {
                        page.put_pixel(x, y, Rgba([90, 90, 90, 255]));
                    }
                }
            }
        }
        let (ox, oy) = ((w - code.width()) / 2, (h - code.height()) / 2);
        image::imageops::overlay(&mut page, &code, ox.into(), oy.into());
        let mut png = std::io::Cursor::new(Vec::new());
        page.write_to(&mut png, image::ImageFormat::Png).unwrap();
        assert_eq!(
            qr::decode_png(png.get_ref()).unwrap(),
            vec![text.to_owned()],
            "{qr_px} in {w}x{h}"
        );
    }
}

#[test]
fn decodes_a_light_on_dark_qr() {
    let text = "https://a.io/s/dark";
    let r = qr::render(text, &QrOptions::default()).unwrap();
    let mut img = image::load_from_memory(&png_of(&r.png_data_url))
        .unwrap()
        .to_luma8();
    image::imageops::invert(&mut img);
    assert_eq!(qr::decode_luma(&img).unwrap(), vec![text.to_owned()]);
}

#[test]
fn no_qr_is_not_found() {
    let blank = RgbaImage::from_pixel(300, 200, Rgba([255, 255, 255, 255]));
    let mut png = std::io::Cursor::new(Vec::new());
    blank.write_to(&mut png, image::ImageFormat::Png).unwrap();
    assert!(matches!(
        qr::decode_png(png.get_ref()),
        Err(QrError::NotFound)
    ));
    assert!(matches!(qr::decode_png(b"garbage"), Err(QrError::Image(_))));
}

// ---------- from_image and media, against a local HTTP server ----------

#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    /// Wait this long before answering.
    delay_ms: u64,
}

/// A minimal HTTP/1.1 server on 127.0.0.1: each path maps to a canned reply; unknown paths 404.
async fn serve(routes: Vec<(&'static str, Reply)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                loop {
                    let Ok(n) = sock.read(&mut buf[read..]).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    read += n;
                    if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") || read == buf.len() {
                        break;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..read]);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let reply = routes
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, r)| r.clone())
                    .unwrap_or(Reply {
                        status: 404,
                        content_type: "text/plain",
                        body: b"nope".to_vec(),
                        delay_ms: 0,
                    });
                if reply.delay_ms > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(reply.delay_ms)).await;
                }
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    reply.status,
                    reply.content_type,
                    reply.body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&reply.body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn ok(content_type: &'static str, body: Vec<u8>) -> Reply {
    Reply {
        status: 200,
        content_type,
        body,
        delay_ms: 0,
    }
}

/// A server-made QR: blurry-ish (scaled by a non-integer factor with smoothing), as a JPEG.
fn server_qr_jpeg(text: &str) -> Vec<u8> {
    let r = qr::render(
        text,
        &QrOptions {
            png_size: 240,
            ..QrOptions::default()
        },
    )
    .unwrap();
    let img = image::load_from_memory(&png_of(&r.png_data_url)).unwrap();
    let img = img
        .resize(333, 333, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A round "mini-program code": not a QR.
fn round_code_png() -> Vec<u8> {
    let img = RgbaImage::from_fn(280, 280, |x, y| {
        let (dx, dy) = (x as f32 - 140.0, y as f32 - 140.0);
        let r = (dx * dx + dy * dy).sqrt();
        let a = dy.atan2(dx);
        if r < 130.0 && ((a * 30.0).sin() > 0.3 || r < 60.0) {
            Rgba([10, 10, 10, 255])
        } else {
            Rgba([255, 255, 255, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn from_image_re_renders_a_server_qr() {
    let text = "https://core.authing.cn/oauth/wxapp/qrcode/abc?random=PZ3tqbUSn7dCiYXWTu8f";
    let base = serve(vec![
        ("/qr.jpg", ok("image/jpeg", server_qr_jpeg(text))),
        ("/logo.png", ok("image/png", test_logo(120, 120))),
        (
            "/missing-logo.png",
            Reply {
                status: 404,
                content_type: "text/plain",
                body: vec![],
                delay_ms: 0,
            },
        ),
    ])
    .await;
    qrlogin_core::trust::install_crypto_provider();
    let client = reqwest::Client::new();

    let r = qr::from_image(&client, &format!("{base}/qr.jpg"), None)
        .await
        .unwrap();
    assert_eq!(r.text.as_deref(), Some(text));
    assert!(r.png_data_url.starts_with("data:image/png;base64,"));
    assert!(r.svg_data_url.starts_with("data:image/svg+xml;base64,"));
    assert_eq!(
        qr::decode_png(&png_of(&r.png_data_url)).unwrap(),
        vec![text.to_owned()]
    );

    let with_logo = qr::from_image(
        &client,
        &format!("{base}/qr.jpg"),
        Some(&format!("{base}/logo.png")),
    )
    .await
    .unwrap();
    assert_eq!(with_logo.text.as_deref(), Some(text));
    assert!(svg_of(&with_logo.svg_data_url).contains("<image "));
    assert_eq!(
        qr::decode_png(&png_of(&with_logo.png_data_url)).unwrap(),
        vec![text.to_owned()]
    );

    // A logo that fails to load does not fail the QR.
    let r = qr::from_image(
        &client,
        &format!("{base}/qr.jpg"),
        Some(&format!("{base}/missing-logo.png")),
    )
    .await
    .unwrap();
    assert_eq!(r.text.as_deref(), Some(text));
    assert!(!svg_of(&r.svg_data_url).contains("<image "));
}

#[tokio::test]
async fn from_image_passes_a_non_qr_through() {
    let round = round_code_png();
    let base = serve(vec![("/wxacode", ok("image/png", round.clone()))]).await;
    qrlogin_core::trust::install_crypto_provider();
    let client = reqwest::Client::new();
    let r = qr::from_image(&client, &format!("{base}/wxacode"), None)
        .await
        .unwrap();
    assert_eq!(r.text, None);
    assert_eq!(r.modules, 0);
    assert_eq!(r.png_data_url, r.svg_data_url);
    assert_eq!(
        png_of(&r.png_data_url),
        round,
        "the image itself, unchanged"
    );
}

#[tokio::test]
async fn from_image_reports_download_errors() {
    let base = serve(vec![
        (
            "/html",
            ok(
                "text/html",
                b"<html><script>alert(1)</script></html>".to_vec(),
            ),
        ),
        ("/big", ok("image/png", vec![0u8; 3 * 1024 * 1024])),
    ])
    .await;
    qrlogin_core::trust::install_crypto_provider();
    let client = reqwest::Client::new();
    assert!(matches!(
        qr::from_image(&client, &format!("{base}/html"), None).await,
        Err(QrError::Media(MediaError::NotAnImage))
    ));
    assert!(matches!(
        qr::from_image(&client, &format!("{base}/big"), None).await,
        Err(QrError::Media(MediaError::TooLarge(_)))
    ));
    assert!(matches!(
        qr::from_image(&client, &format!("{base}/gone"), None).await,
        Err(QrError::Media(MediaError::Http(_)))
    ));
}

#[tokio::test]
async fn media_limits_and_types() {
    let png = test_logo(16, 16);
    let svg_ok = br##"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4" fill="#c33"/></svg>"##.to_vec();
    let svg_script =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let svg_onload =
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>"#.to_vec();
    let svg_external = br#"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>"#.to_vec();
    let svg_foreign =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div/></foreignObject></svg>"#
            .to_vec();
    let base = serve(vec![
        // The server lies about the type: the bytes decide.
        ("/avatar", ok("application/octet-stream", png.clone())),
        ("/avatar.svg", ok("image/svg+xml", svg_ok.clone())),
        ("/script.svg", ok("image/svg+xml", svg_script)),
        ("/onload.svg", ok("image/svg+xml", svg_onload)),
        ("/external.svg", ok("image/svg+xml", svg_external)),
        ("/foreign.svg", ok("image/svg+xml", svg_foreign)),
        (
            "/fake.png",
            ok("image/png", b"\x89PNG\r\n\x1a\ntruncated".to_vec()),
        ),
        (
            "/slow",
            Reply {
                status: 200,
                content_type: "image/png",
                body: png.clone(),
                delay_ms: 3000,
            },
        ),
    ])
    .await;
    qrlogin_core::trust::install_crypto_provider();
    let client = reqwest::Client::new();
    let limits = FetchLimits::default();

    let img = media::fetch_image(&client, &format!("{base}/avatar"), limits)
        .await
        .unwrap();
    assert_eq!(img.mime, "image/png");
    assert_eq!(img.bytes, png);
    let url = media::fetch_image_data_url(&client, &format!("{base}/avatar"), limits)
        .await
        .unwrap();
    assert!(url.starts_with("data:image/png;base64,"));
    assert_eq!(png_of(&url), png);

    let svg = media::fetch_image(&client, &format!("{base}/avatar.svg"), limits)
        .await
        .unwrap();
    assert_eq!(svg.mime, "image/svg+xml");
    for bad in [
        "/script.svg",
        "/onload.svg",
        "/external.svg",
        "/foreign.svg",
    ] {
        let r = media::fetch_image(&client, &format!("{base}{bad}"), limits).await;
        assert!(matches!(r, Err(MediaError::UnsafeSvg(_))), "{bad}: {r:?}");
    }
    assert!(matches!(
        media::fetch_image(&client, &format!("{base}/fake.png"), limits).await,
        Err(MediaError::NotAnImage)
    ));

    let small = FetchLimits {
        max_bytes: 100,
        ..limits
    };
    assert!(matches!(
        media::fetch_image(&client, &format!("{base}/avatar"), small).await,
        Err(MediaError::TooLarge(100))
    ));
    let quick = FetchLimits {
        timeout: std::time::Duration::from_millis(300),
        ..limits
    };
    let started = std::time::Instant::now();
    assert!(matches!(
        media::fetch_image(&client, &format!("{base}/slow"), quick).await,
        Err(MediaError::Timeout)
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn media_schemes_and_data_urls() {
    qrlogin_core::trust::install_crypto_provider();
    let client = reqwest::Client::new();
    let limits = FetchLimits::default();
    for bad in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://x/y.png",
        "JaVaScRiPt:alert(1)",
        "about:blank",
    ] {
        assert!(
            matches!(
                media::fetch_image(&client, bad, limits).await,
                Err(MediaError::Scheme(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        media::fetch_image(&client, "no scheme", limits).await,
        Err(MediaError::BadUrl(_))
    ));

    let png = test_logo(8, 8);
    let data = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    let img = media::fetch_image(&client, &data, limits).await.unwrap();
    assert_eq!((img.mime, img.bytes), ("image/png", png.clone()));
    // A data URL that claims to be an image but holds HTML is refused.
    assert!(matches!(
        media::fetch_image(
            &client,
            "data:image/png,<html><script>alert(1)</script>",
            limits
        )
        .await,
        Err(MediaError::NotAnImage)
    ));
    let svg = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E%3C/svg%3E";
    assert_eq!(
        media::fetch_image(&client, svg, limits).await.unwrap().mime,
        "image/svg+xml"
    );
    let big = format!("data:image/png;base64,{}", "A".repeat(4 * 1024 * 1024));
    assert!(matches!(
        media::fetch_image(&client, &big, limits).await,
        Err(MediaError::TooLarge(_))
    ));
}

#[test]
fn sniffs_every_allowed_type() {
    let mut gif = b"GIF89a".to_vec();
    gif.extend([0u8; 10]);
    assert_eq!(media::sniff(&gif), Some("image/gif"));
    assert_eq!(media::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
    assert_eq!(media::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
    assert_eq!(
        media::sniff(b"\xEF\xBB\xBF  <svg></svg>"),
        Some("image/svg+xml")
    );
    assert_eq!(media::sniff(b"  <svg></svg>"), Some("image/svg+xml"));
    assert_eq!(media::sniff(b"<html>"), None);
    let jpeg = server_qr_jpeg("x");
    assert_eq!(media::check_image(jpeg).unwrap().mime, "image/jpeg");
}

/// `render_svg` is the same vector code `render` puts in `svg_data_url`.
#[test]
fn render_svg_matches_the_svg_of_render() {
    let opts = qrlogin_core::qr::QrOptions::default();
    let text = "http://127.0.0.1:8080/s/Vb3kQ9xYtR2mN7pLw4Hc8sZa";
    let both = qrlogin_core::qr::render(text, &opts).unwrap();
    assert_eq!(
        qrlogin_core::qr::render_svg(text, &opts).unwrap(),
        both.svg_data_url
    );
}
