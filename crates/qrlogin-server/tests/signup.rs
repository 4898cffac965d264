//! Login-only or sign-up on the phone page (issue 15 item 4). Off by default: no link, and the
//! sign-up endpoints refuse (making no user). On (`app add|set --signup`): a new user registers
//! with username, password and nickname, is told clearly what to fix (zh-CN and en), keeps what
//! was typed, and goes on to approve the QR; the account then signs in like any other. Sign-ups
//! cost sign-in tokens.

mod common;

use common::*;
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, RateLimits};
use serde_json::json;

fn with_signup() -> NewApp {
    NewApp {
        signup: true,
        ..app("Open")
    }
}

#[tokio::test]
async fn login_only_by_default_offers_no_sign_up_and_refuses_one() {
    let ts = start(app("Closed")).await;
    let d = ts.g3_generate(json!({})).await;
    let qr = d["qrContent"].as_str().unwrap();
    let phone = Phone::new();
    let page = phone.open(qr).await.unwrap();
    assert_eq!(page.state, PageState::SignIn);
    assert!(page.sign_up_link.is_none(), "{}", page.html);

    // Typing the address anyway: refused in words.
    let off = phone.open(&format!("{qr}/signup")).await.unwrap();
    assert_eq!(off.state, PageState::SignUpOff);
    assert_eq!(off.http_status, 403);
    assert!(off
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("未开放注册")));

    // `app set --signup` turns it on for this app: the link and the form appear.
    ts.server
        .set_app_signup(&ts.app.app_id, true)
        .await
        .unwrap();
    let page = phone.open(qr).await.unwrap();
    let form = phone.open_sign_up(&page).await.unwrap();
    assert_eq!(form.state, PageState::SignUp);
    // Turned off again while the form is open: its submission (or a forged one with a valid
    // CSRF pair) makes no user.
    ts.server
        .set_app_signup(&ts.app.app_id, false)
        .await
        .unwrap();
    let refused = phone
        .sign_up(&form, "mallory", "mallory-password", "")
        .await
        .unwrap();
    assert_eq!(refused.state, PageState::SignUpOff, "{}", refused.html);
    assert!(ts
        .server
        .find_user_by_username("mallory")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_new_user_signs_up_on_the_phone_and_approves_the_qr() {
    let ts = start(with_signup()).await;
    let d = ts.g3_generate(json!({})).await;
    let qr = d["qrContent"].as_str().unwrap().to_owned();
    let random = d["random"].as_str().unwrap().to_owned();
    let phone = Phone::with_accept_language("en");
    let page = phone.open(&qr).await.unwrap();
    let form = phone.open_sign_up(&page).await.unwrap();
    assert_eq!(form.state, PageState::SignUp, "{}", form.html);

    // Too short a password: the form again, saying so, with the username and nickname kept.
    let again = phone
        .sign_up(&form, "carol", "short", "Carol C.")
        .await
        .unwrap();
    assert_eq!(again.state, PageState::SignUp);
    assert_eq!(again.http_status, 400);
    assert_eq!(
        again.error_message.as_deref(),
        Some("The password must be 8 to 128 characters long.")
    );
    assert!(again.html.contains("value=\"carol\"") && again.html.contains("value=\"Carol C.\""));
    assert!(
        !again.html.contains("short"),
        "a password is never sent back"
    );
    // A taken username.
    let taken = phone
        .sign_up(&again, "alice", "carol-password", "")
        .await
        .unwrap();
    assert_eq!(taken.http_status, 409);
    assert!(taken
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("taken")));
    // Bad characters.
    let odd = phone
        .sign_up(&taken, "car ol", "carol-password", "")
        .await
        .unwrap();
    assert!(odd
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("letters")));
    assert!(ts
        .server
        .find_user_by_username("carol")
        .await
        .unwrap()
        .is_none());

    // Done right: signed in as the new user, on the approval screen of the same QR.
    let page = phone
        .sign_up(&odd, "carol", "carol-password", "Carol C.")
        .await
        .unwrap();
    assert_eq!(page.state, PageState::Approve, "{}", page.html);
    assert_eq!(page.signed_in_as.as_deref(), Some("Carol C."));
    phone.confirm(&page, None).await.unwrap();
    let s = ts.g3_status(&random).await;
    assert_eq!(s["status"], 2, "{s}");
    assert_eq!(s["userInfo"]["nickname"], "Carol C.", "{s}");

    // The account is a user like the others: the password (argon2) signs in, a wrong one not.
    let info = ts
        .server
        .find_user_by_username("carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.nickname.as_deref(), Some("Carol C."));
    assert!(Phone::new()
        .sign_in_api(&ts.base, "carol", "carol-password")
        .await
        .is_ok());
    assert!(Phone::new()
        .sign_in_api(&ts.base, "carol", "wrong-password")
        .await
        .is_err());
}

#[tokio::test]
async fn sign_up_errors_are_in_chinese_by_default() {
    let ts = start(with_signup()).await;
    let qr = ts.g3_generate(json!({})).await["qrContent"]
        .as_str()
        .unwrap()
        .to_owned();
    let phone = Phone::new();
    let form = phone.open(&format!("{qr}/signup")).await.unwrap();
    assert_eq!(form.lang, "zh-CN");
    let again = phone
        .sign_up(&form, "dave", "dave-password", &"长".repeat(33))
        .await
        .unwrap();
    assert_eq!(again.error_message.as_deref(), Some("昵称最多 32 个字符。"));
    let again = phone.sign_up(&again, "dave", "DAVE", "").await.unwrap();
    assert_eq!(
        again.error_message.as_deref(),
        Some("密码需为 8 到 128 个字符。")
    );
}

#[tokio::test]
async fn sign_ups_are_rate_limited_like_sign_ins() {
    let limits = RateLimits {
        signin_per_minute: Some(3),
        ..RateLimits::unlimited()
    };
    let ts = start_with(with_signup(), limits).await;
    let qr = ts.g3_generate(json!({})).await["qrContent"]
        .as_str()
        .unwrap()
        .to_owned();
    let phone = Phone::new();
    let mut form = phone.open(&format!("{qr}/signup")).await.unwrap();
    let mut statuses = Vec::new();
    for i in 0..5 {
        // Probing usernames: each try is a sign-in's worth.
        let page = phone
            .sign_up(&form, &format!("user{i}"), "x", "")
            .await
            .unwrap();
        statuses.push(page.http_status);
        if page.state == PageState::SignUp {
            form = page;
        }
    }
    assert_eq!(&statuses[..3], &[400; 3], "{statuses:?}");
    assert_eq!(&statuses[3..], &[429; 2], "{statuses:?}");
}
