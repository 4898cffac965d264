//! The phone: it only knows the text it decoded from the window's pixels and what a person reads
//! off the screen (the check code). It talks HTTP to the approval page like a phone browser.

use qrlogin_server::phone::{ApprovalPage, PageState, Phone};

use crate::server::TestUser;

/// A phone that has opened the QR's link and signed in: the server now counts it as scanned.
pub struct Scan {
    phone: Phone,
    page: ApprovalPage,
    pub qr_text: String,
}

/// Opens the link as a phone camera would, signs in on the page, and opens it again to see the
/// approval (requester details, check code choices).
pub async fn scan(qr_text: &str, user: &TestUser) -> Scan {
    let phone = Phone::new();
    let page = phone
        .open(qr_text)
        .await
        .unwrap_or_else(|e| panic!("phone: open {qr_text}: {e:?}"));
    let page = match page.state {
        PageState::SignIn => phone
            .sign_in(&page, &user.username, &user.password)
            .await
            .unwrap_or_else(|e| panic!("phone: sign in as {} on {qr_text}: {e:?}", user.username)),
        _ => page,
    };
    let page = if page.state == PageState::Approve {
        page
    } else {
        // Like a person reloading the link after signing in.
        phone
            .open(qr_text)
            .await
            .unwrap_or_else(|e| panic!("phone: open {qr_text} after signing in: {e:?}"))
    };
    assert_eq!(
        page.state,
        PageState::Approve,
        "phone: after signing in as {}, {qr_text} should offer Confirm/Cancel; it shows {:?}: {:?}",
        user.username,
        page.state,
        page.error_message
    );
    Scan {
        phone,
        page,
        qr_text: qr_text.to_string(),
    }
}

/// Types the code a person read off the window under "Can't scan?" at the address shown there,
/// signs in, and opens the approval (the same page the QR leads to).
pub async fn type_code(entry_url: &str, code: &str, user: &TestUser) -> Scan {
    let phone = Phone::new();
    let page = phone
        .type_code(entry_url, code)
        .await
        .unwrap_or_else(|e| panic!("phone: type {code} at {entry_url}: {e:?}"));
    assert_eq!(
        page.state,
        PageState::SignIn,
        "phone: the typed code {code} should lead to the sign-in form; it shows {:?}: {:?}",
        page.state,
        page.error_message
    );
    let page = phone
        .sign_in(&page, &user.username, &user.password)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "phone: sign in as {} after typing {code}: {e:?}",
                user.username
            )
        });
    assert_eq!(
        page.state,
        PageState::Approve,
        "phone: after signing in, the typed code should offer Confirm/Cancel; it shows {:?}: {:?}",
        page.state,
        page.error_message
    );
    Scan {
        phone,
        page,
        qr_text: format!("{entry_url} + {code}"),
    }
}

impl Scan {
    pub fn page(&self) -> &ApprovalPage {
        &self.page
    }

    /// The check code numbers the page offers (empty when the app has no check code).
    pub fn check_code_choices(&self) -> Vec<String> {
        self.page.check_code_choices.clone()
    }

    /// Confirms with the code the person read off the desktop window.
    pub async fn confirm(&self, check_code: Option<&str>) {
        if let Some(code) = check_code {
            let choices = self.check_code_choices();
            assert!(
                choices.iter().any(|c| c == code),
                "the phone offers {choices:?}, but the window shows check code {code:?}"
            );
        }
        self.phone
            .confirm(&self.page, check_code)
            .await
            .unwrap_or_else(|e| panic!("phone: confirm {}: {e:?}", self.qr_text));
    }

    pub async fn cancel(&self) {
        self.phone
            .cancel(&self.page)
            .await
            .unwrap_or_else(|e| panic!("phone: cancel {}: {e:?}", self.qr_text));
    }
}
