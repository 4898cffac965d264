//! Rotating QRs (issue 15 item 8): while a QR waits, its public id changes every
//! `qr_rotate_secs`; the poll reply carries the new `qrContent`; a photo of the code taken
//! before a turn is refused after it, on the page, the phone API and the QR image alike.

mod common;

use std::time::Duration;

use common::*;
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::NewApp;
use serde_json::json;

fn rotating(secs: u32) -> NewApp {
    NewApp {
        qr_rotate_secs: Some(secs),
        ..app("Rotating")
    }
}

/// A phone signed in on the page beforehand (through a QR of its own), so that opening a code
/// later is the scan at once: signing in (an Argon2 check in a debug build, on a loaded machine)
/// can outlast a 1 s turn.
async fn signed_in_phone(ts: &TestServer) -> Phone {
    let phone = Phone::new();
    let own = ts.g3_generate(json!({})).await;
    scan_as(&phone, own["qrContent"].as_str().unwrap(), ALICE).await;
    phone
}

#[tokio::test]
async fn a_photo_taken_before_the_turn_is_refused_and_the_new_code_signs_in() {
    let ts = start(rotating(1)).await;
    let owner = signed_in_phone(&ts).await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().unwrap().to_owned();
    let photo = d["qrContent"].as_str().unwrap().to_owned();
    let photo_id = d["scanId"].as_str().unwrap().to_owned();
    // Within the first turn the poll reports nothing new.
    let s = ts.g3_status(&random).await;
    assert_eq!(s["status"], 0, "{s}");
    assert!(s.get("qrContent").is_none(), "{s}");

    // Past the turn and its grace: the attacker's photo.
    tokio::time::sleep(Duration::from_millis(3_300)).await;
    let s = ts.g3_status(&random).await;
    let current = s["qrContent"]
        .as_str()
        .expect("the poll carries the new code");
    assert_ne!(current, photo);
    assert!(
        current.starts_with(&ts.base) && current.contains("/s/"),
        "{current}"
    );
    assert_eq!(s["random"], random, "the requester's handle stays");

    // The page refuses the photo, in words.
    let page = Phone::new().open(&photo).await.expect("an error page");
    assert_eq!(page.state, PageState::Error);
    assert_eq!(page.error_code, Some(2244));
    assert!(
        page.error_message
            .as_deref()
            .is_some_and(|m| m.contains("新二维码") || m.contains("scan the new one")),
        "{:?}",
        page.error_message
    );
    // So do the phone API and the QR image of the old id.
    let token = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("token");
    let auth = [("authorization", format!("Bearer {token}"))];
    let (_, r) = ts
        .post_h("/api/v2/qrcode/scanned", json!({"scanId": photo_id}), &auth)
        .await;
    assert_eq!(r["code"], 2244, "{r}");
    let png = ts
        .http
        .get(format!("{}/qrcode/{photo_id}.png", ts.base))
        .send()
        .await
        .unwrap();
    assert!(!png
        .headers()
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap_or("").starts_with("image/")));
    // A made-up next id from the photo's base is unknown.
    let forged = format!("{}/s/{photo_id}.9.0000000000000000", ts.base);
    let page = Phone::new().open(&forged).await.expect("an error page");
    assert_eq!(page.error_code, Some(2241), "{page:?}");

    // The code on the screen now works (read again: the checks above took time, it may have
    // turned since).
    let s = ts.g3_status(&random).await;
    let current = s["qrContent"].as_str().unwrap_or(current);
    let page = owner.open(current).await.expect("the approval page");
    assert_eq!(page.state, PageState::Approve, "{}", page.html);
    owner.confirm(&page, None).await.expect("confirm");
    let s = ts.g3_status(&random).await;
    assert_eq!(s["status"], 2, "{s}");
    assert!(s.get("qrContent").is_none(), "no rotation once decided");
}

#[tokio::test]
async fn off_with_zero_and_a_scanned_session_no_longer_turns() {
    let ts = start(rotating(0)).await;
    let d = ts.g3_generate(json!({})).await;
    let photo = d["qrContent"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let s = ts.g3_status(d["random"].as_str().unwrap()).await;
    assert!(s.get("qrContent").is_none(), "{s}");
    approve(&photo, ALICE, None).await;

    // With rotation on, a phone that scanned in the first turn may still confirm later.
    let ts = start(rotating(1)).await;
    let phone = signed_in_phone(&ts).await;
    let d = ts.g3_generate(json!({})).await;
    let page = phone.open(d["qrContent"].as_str().unwrap()).await.unwrap();
    assert_eq!(page.state, PageState::Approve, "{}", page.html);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    phone
        .confirm(&page, None)
        .await
        .expect("the scanner confirms");
    let s = ts.g3_status(d["random"].as_str().unwrap()).await;
    assert_eq!(s["status"], 2, "{s}");
}

/// A long-poll held on a pending rotating QR returns at the turn with the new code, so the
/// desktop changes its picture on time without polling faster.
#[tokio::test]
async fn a_held_poll_wakes_at_the_turn() {
    let ts = start(rotating(1)).await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().unwrap();
    let started = std::time::Instant::now();
    let (_, s) = ts
        .get(&format!(
            "/api/v2/qrcode/check?random={random}&wait=20&known=pending"
        ))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "held past the turn"
    );
    assert!(s["data"]["qrContent"].is_string(), "{s}");
}
