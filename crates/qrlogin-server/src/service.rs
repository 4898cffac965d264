//! The QR login operations, independent of any generation's wire format: generate, poll (with
//! long-poll), scan, confirm, cancel, exchange, sign in. The `gen` and `approval` modules only
//! parse requests into these calls and render the results.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::crypto::{constant_time_eq, dummy_hash, pkce_matches, verify_password};
use crate::devicecode;
use crate::errors::{ApiError, Forbidden};
use crate::ids;
use crate::model::{
    now_ms, rfc3339, App, Generation, QrPayload, QrSession, Requester, Status, User,
};
use crate::rotation;
use crate::server::Server;
use crate::sessions::NewSession;
use crate::store::auth::SessionKind;
use crate::store::StoreError;

/// Longest hold of a long-poll (PROTOCOL.md §4.5).
pub const MAX_WAIT_SECS: u64 = 30;

/// What a generate of any generation asks for.
#[derive(Debug, Default)]
pub struct GenerateRequest {
    /// G1's client-made `random`; the server makes one when absent.
    pub handle: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub requester: Option<Requester>,
    pub custom_data: Option<Value>,
    pub ip: Option<IpAddr>,
    /// A device authorization's user code (device.rs): it is the scan id, and the check code
    /// when the app asks for one.
    pub user_code: Option<String>,
}

/// How an exchange proves it may have the user.
#[derive(Debug, Default)]
pub struct ExchangeAuth {
    /// `x-authing-app-id`, when sent.
    pub header_app_id: Option<String>,
    /// App id and secret, from `Authorization: Basic` or G4's `client_id`/`client_secret`.
    pub client: Option<(String, String)>,
    pub code_verifier: Option<String>,
}

pub(crate) use crate::sessions::Exchanged;

impl Server {
    pub(crate) async fn app_for(&self, app_id: Option<&str>) -> Result<App, ApiError> {
        let store = self.store();
        match app_id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) if id != self.user_pool_id() => {
                store.get_app(id).await?.ok_or(ApiError::UnknownApp)
            }
            // The pool id, or nothing: the pool's default app (the first one made).
            _ => store
                .list_apps()
                .await?
                .into_iter()
                .next()
                .ok_or(ApiError::UnknownApp),
        }
    }

    pub(crate) async fn generate(
        &self,
        generation: Generation,
        app: &App,
        req: GenerateRequest,
        public_url: &str,
    ) -> Result<QrSession, ApiError> {
        let code_challenge = match req.code_challenge.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => {
                let method = req.code_challenge_method.as_deref().unwrap_or("S256");
                if method != "S256" {
                    return Err(ApiError::BadRequest(
                        "codeChallengeMethod must be S256".into(),
                    ));
                }
                if c.len() != 43 || URL_SAFE_NO_PAD.decode(c).is_err() {
                    return Err(ApiError::BadRequest(
                        "codeChallenge must be the base64url SHA-256 of the verifier".into(),
                    ));
                }
                Some(c.to_owned())
            }
        };
        let handle = match req.handle {
            Some(h) => {
                if !(12..=64).contains(&h.len()) || !h.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(ApiError::BadRequest(
                        "random must be 12 to 64 letters and digits".into(),
                    ));
                }
                h
            }
            None => ids::handle(),
        };
        let custom_data = req.custom_data.filter(|v| !v.is_null());
        if let Some(c) = &custom_data {
            if c.to_string().len() > crate::limits::MAX_CUSTOM_DATA_BYTES {
                return Err(ApiError::BadRequest(format!(
                    "customData is larger than {} bytes",
                    crate::limits::MAX_CUSTOM_DATA_BYTES
                )));
            }
        }
        let now = now_ms();
        let requester = req.requester.map(|r| Requester {
            device_name: clip(r.device_name),
            platform: clip(r.platform),
            app_name: clip(r.app_name),
            app_version: clip(r.app_version),
            ip: req.ip.map(|ip| ip.to_string()),
            time: now,
        });
        let requester = requester.or_else(|| {
            Some(Requester {
                ip: req.ip.map(|ip| ip.to_string()),
                time: now,
                ..Requester::default()
            })
        });
        let (check_code, check_choices) = if let Some(u) = &req.user_code {
            if app.check_code {
                let (code, choices) = devicecode::user_code_choices(u);
                (Some(code), choices)
            } else {
                (None, Vec::new())
            }
        } else if app.check_code {
            let (code, choices) = ids::check_code();
            (Some(code), choices)
        } else {
            (None, Vec::new())
        };
        let mut session = QrSession {
            handle,
            scan_id: req.user_code.clone().unwrap_or_else(ids::scan_id),
            generation,
            app_id: app.app_id.clone(),
            stored_status: Status::Pending,
            created_at: now,
            expires_at: now + i64::from(app.qr_ttl_secs) * 1000,
            scanned_by: None,
            scanned_at: None,
            decided_at: None,
            ticket: None,
            ticket_expires_at: None,
            ticket_used_at: None,
            code_challenge,
            check_code,
            check_choices,
            requester,
            custom_data,
            qr_content: String::new(),
            user_code: None,
        };
        session.qr_content = self.qr_content(app, &session, public_url);
        match self.store().insert_session(&session).await {
            Ok(()) => {}
            Err(StoreError::Duplicate) => {
                return Err(ApiError::BadRequest("this random is already in use".into()))
            }
            Err(e) => return Err(e.into()),
        }
        // A device authorization's scan id is its user code already.
        if generation != Generation::Device {
            session.user_code = Some(crate::devicecode::issue(self, &session, public_url).await?);
        }
        // Stored first: a session is in memory only once it would survive a crash.
        self.inner.live.insert_new(session.clone());
        tracing::info!(
            app_id = %app.app_id,
            generation = generation.as_str(),
            scan_id = %session.scan_id,
            pkce = session.code_challenge.is_some(),
            "QR generated"
        );
        Ok(session)
    }

    /// The text the QR encodes (PROTOCOL.md §4.1).
    fn qr_content(&self, app: &App, s: &QrSession, public_url: &str) -> String {
        if s.generation == Generation::Device {
            return devicecode::verification_uri_complete(public_url, &s.scan_id);
        }
        if app.qr_payload == QrPayload::Url {
            return format!("{public_url}/s/{}", s.scan_id);
        }
        let custom = s.custom_data.clone().unwrap_or_else(|| json!({}));
        let payload = match s.generation {
            Generation::G2 | Generation::G4 => json!({
                "scene": "APP_AUTH",
                "qrcodeId": s.handle,
                "userPoolId": self.user_pool_id(),
                "createdAt": rfc3339(s.created_at),
                "expireAt": rfc3339(s.expires_at),
                "userDefinedData": custom,
            }),
            Generation::G1 | Generation::G3 | Generation::Device => json!({
                "scene": "APP_AUTH",
                "random": s.handle,
                "userPoolId": self.user_pool_id(),
                "createdAt": rfc3339(s.created_at),
                "expiresIn": app.qr_ttl_secs,
                "customData": custom,
            }),
        };
        payload.to_string()
    }

    /// A requester's poll: by handle only, never by scan id (a photo of the QR must not poll).
    /// With `wait`, holds the request until the status differs from `known` or time runs out.
    /// Answered from memory (live.rs): a woken waiter gets the new state with its wake-up.
    pub(crate) async fn poll(
        &self,
        handle: &str,
        wait: Option<u64>,
        known: Option<Status>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<QrSession>, ApiError> {
        let wait = wait.unwrap_or(0).min(MAX_WAIT_SECS);
        let (Some(known), true) = (known, wait > 0) else {
            return self.live_session(handle).await;
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        let mut rx = self
            .inner
            .live
            .watch(handle)
            .await?
            .ok_or(ApiError::QrNotFound)?;
        let first = Arc::clone(&rx.borrow_and_update());
        let app = self.session_app(&first).await?;
        let first_turn = rotation::turn_at(&app, &first, now_ms());
        loop {
            let session = Arc::clone(&rx.borrow_and_update());
            let now = now_ms();
            let status = session.status_at(now);
            let stopping = *shutdown.borrow();
            // A new turn of a rotating QR is news too: the desktop shows the new code.
            let turned =
                status == Status::Pending && rotation::turn_at(&app, &session, now) != first_turn;
            if status != known || stopping || turned {
                return Ok(session);
            }
            // Expiry and turns are derived, not announced: wake up when they happen.
            let mut until = deadline;
            if matches!(status, Status::Pending | Status::Scanned) {
                let left = Duration::from_millis((session.expires_at - now).max(0) as u64);
                until = until.min(tokio::time::Instant::now() + left);
            }
            if let Some(next) = rotation::next_turn_at(&app, &session, now) {
                let left = Duration::from_millis((next - now).max(0) as u64);
                until = until.min(tokio::time::Instant::now() + left);
            }
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        // Dropped from memory (its row was swept): ask the store.
                        return self.live_session(handle).await;
                    }
                }
                _ = tokio::time::sleep_until(until) => {
                    if until >= deadline {
                        return Ok(Arc::clone(&rx.borrow()));
                    }
                }
                _ = stopped(&mut shutdown) => {
                    return Ok(Arc::clone(&rx.borrow()));
                }
            }
        }
    }

    /// The app of a session, from a copy at most a few seconds old (cache.rs): read per poll.
    pub(crate) async fn session_app(&self, s: &QrSession) -> Result<Arc<App>, ApiError> {
        self.app_copy(&s.app_id).await?.ok_or(ApiError::UnknownApp)
    }

    /// An app from a recent copy, else the store.
    pub(crate) async fn app_copy(&self, app_id: &str) -> Result<Option<Arc<App>>, StoreError> {
        if let Some(app) = self.inner.apps.get(app_id) {
            return Ok(Some(app));
        }
        let Some(app) = self.store().get_app(app_id).await? else {
            return Ok(None);
        };
        let app = Arc::new(app);
        self.inner.apps.put(app_id, Arc::clone(&app));
        Ok(Some(app))
    }

    /// The user who scanned `s`, from a recent copy, else the store.
    pub(crate) async fn scanner_of(&self, s: &QrSession) -> Result<Option<Arc<User>>, StoreError> {
        let Some(id) = s.scanned_by.as_deref() else {
            return Ok(None);
        };
        if let Some(user) = self.inner.users.get(id) {
            return Ok(Some(user));
        }
        let Some(user) = self.store().get_user(id).await? else {
            return Ok(None);
        };
        let user = Arc::new(user);
        self.inner.users.put(id, Arc::clone(&user));
        Ok(Some(user))
    }

    /// The session a QR's public id names, refused with "scan the new one" when the id is a
    /// rotating QR's earlier code (`rotation`). `None` when no session has that id.
    pub(crate) async fn session_by_public_id(
        &self,
        id: &str,
    ) -> Result<Option<QrSession>, ApiError> {
        // A typed code stands for its session while it waits, whatever the QR's turn.
        if let Some(s) = crate::devicecode::session_for_code(self, id).await? {
            return Ok(Some(s));
        }
        let Some(public) = self.inner.rotation.parse(id) else {
            return Ok(None);
        };
        let Some(s) = self.store().session_by_scan_id(public.scan_id).await? else {
            return Ok(None);
        };
        // Fresh from the store: the phone acts on it, and memory may learn from it.
        self.inner.live.publish(s.clone());
        let app = self.session_app(&s).await?;
        if !rotation::is_current(&app, &s, public.turn, now_ms()) {
            return Err(ApiError::QrRotated);
        }
        Ok(Some(s))
    }

    /// The QR content and public id in force now, when the app rotates and `s` waits; `None`
    /// otherwise (nothing changed since the generate reply). Only URL QRs rotate: an Authing
    /// JSON payload carries the handle, which stays.
    pub(crate) async fn rotated_qr(
        &self,
        s: &QrSession,
        public_url: &str,
    ) -> Result<Option<(String, String)>, ApiError> {
        let app = self.session_app(s).await?;
        let now = now_ms();
        if app.qr_payload != QrPayload::Url || s.status_at(now) != Status::Pending {
            return Ok(None);
        }
        let turn = rotation::turn_at(&app, s, now);
        if turn == 0 {
            return Ok(None);
        }
        let id = self.inner.rotation.public_id(&s.scan_id, turn);
        Ok(Some((format!("{public_url}/s/{id}"), id)))
    }

    /// The session, from memory (read from the store once when it is not there).
    pub(crate) async fn session_by_handle(&self, handle: &str) -> Result<QrSession, ApiError> {
        Ok(QrSession::clone(&*self.live_session(handle).await?))
    }

    /// The session as memory shares it: what a poll answers from, without copying it.
    pub(crate) async fn live_session(&self, handle: &str) -> Result<Arc<QrSession>, ApiError> {
        self.inner
            .live
            .get(handle)
            .await?
            .ok_or(ApiError::QrNotFound)
    }

    /// The session as the store has it now, and memory updated with it: after a change (the
    /// reply shows what was stored) and after a compare-and-set that did not apply (another
    /// instance may have changed it).
    async fn stored_session(&self, handle: &str) -> Result<QrSession, ApiError> {
        let s = self
            .store()
            .session_by_handle(handle)
            .await?
            .ok_or(ApiError::QrNotFound)?;
        self.inner.live.publish(s.clone());
        Ok(s)
    }

    /// The phone side names a session by `scanId`, or by the handle an Authing QR carries.
    pub(crate) async fn session_for_phone(&self, id: &str) -> Result<QrSession, ApiError> {
        if let Some(s) = self.session_by_public_id(id).await? {
            return Ok(s);
        }
        self.session_by_handle(id).await
    }

    /// Marks the session scanned by `user`; scanning again by the same user is a no-op.
    pub(crate) async fn scan(&self, s: &QrSession, user: &User) -> Result<QrSession, ApiError> {
        let now = now_ms();
        if self.store().mark_scanned(&s.handle, &user.id, now).await? {
            tracing::info!(scan_id = %s.scan_id, user_id = %user.id, "QR scanned");
            return self.stored_session(&s.handle).await;
        }
        let current = self.stored_session(&s.handle).await?;
        match current.status_at(now) {
            Status::Expired => Err(ApiError::QrExpired),
            Status::Pending => Err(ApiError::Internal),
            _ if current.scanned_by.as_deref() == Some(user.id.as_str()) => Ok(current),
            _ => Err(ApiError::ScannedByOther),
        }
    }

    /// Authorizes the session for the user who scanned it, minting its single-use ticket.
    pub(crate) async fn confirm(
        &self,
        s: &QrSession,
        user: &User,
        check_code: Option<&str>,
    ) -> Result<QrSession, ApiError> {
        let now = now_ms();
        let store = self.store();
        if let Some(expected) = s.check_code.as_deref() {
            if check_code.map(str::trim) != Some(expected) {
                // Fail closed: a wrong pick may mean the user is looking at someone else's QR.
                if store.mark_cancelled(&s.handle, &user.id, now).await? {
                    self.stored_session(&s.handle).await?;
                    tracing::warn!(scan_id = %s.scan_id, "wrong check code: QR cancelled");
                    return Err(ApiError::Forbidden(Forbidden::CheckCode));
                }
                return Err(self.why_not_decided(s, user, now).await);
            }
        }
        let ticket = ids::ticket();
        let ttl = self
            .app_copy(&s.app_id)
            .await?
            .map(|a| a.ticket_ttl_secs)
            .unwrap_or(300);
        let ticket_expires_at = now + i64::from(ttl) * 1000;
        if store
            .mark_authorized(&s.handle, &user.id, &ticket, ticket_expires_at, now)
            .await?
        {
            tracing::info!(scan_id = %s.scan_id, user_id = %user.id, "QR authorized");
            return self.stored_session(&s.handle).await;
        }
        let current = self.stored_session(&s.handle).await?;
        if current.status_at(now) == Status::Authorized
            && current.scanned_by.as_deref() == Some(user.id.as_str())
        {
            return Ok(current); // a double tap
        }
        Err(self.why_not_decided(s, user, now).await)
    }

    pub(crate) async fn cancel(&self, s: &QrSession, user: &User) -> Result<QrSession, ApiError> {
        let now = now_ms();
        if self
            .store()
            .mark_cancelled(&s.handle, &user.id, now)
            .await?
        {
            tracing::info!(scan_id = %s.scan_id, user_id = %user.id, "QR cancelled");
            return self.stored_session(&s.handle).await;
        }
        let current = self.stored_session(&s.handle).await?;
        if current.status_at(now) == Status::Cancelled
            && current.scanned_by.as_deref() == Some(user.id.as_str())
        {
            return Ok(current);
        }
        Err(self.why_not_decided(s, user, now).await)
    }

    /// Why a confirm or cancel did not apply, read after the conditional update failed.
    async fn why_not_decided(&self, s: &QrSession, user: &User, now: i64) -> ApiError {
        let current = match self.stored_session(&s.handle).await {
            Ok(c) => c,
            Err(e) => return e,
        };
        let mine = current.scanned_by.as_deref() == Some(user.id.as_str());
        match current.status_at(now) {
            Status::Expired => ApiError::QrExpired,
            Status::Pending => ApiError::Forbidden(Forbidden::NotScanner),
            _ if !mine => ApiError::ScannedByOther,
            _ => ApiError::Forbidden(Forbidden::AlreadyDecided),
        }
    }

    /// Exchanges a ticket for the user and tokens. Checks come first and spend nothing; the
    /// spend itself is one conditional update, so of two racing exchanges exactly one wins.
    pub(crate) async fn exchange(
        &self,
        ticket: &str,
        auth: &ExchangeAuth,
        ip: Option<IpAddr>,
        issuer: &str,
    ) -> Result<Exchanged, ApiError> {
        let ticket = ticket.trim();
        if ticket.is_empty() {
            return Err(ApiError::TicketInvalid);
        }
        let session = self
            .store()
            .session_by_ticket(ticket)
            .await?
            .ok_or(ApiError::TicketInvalid)?;
        self.redeem(&session, auth, ip, issuer).await
    }

    /// The checks and spend of [`Server::exchange`] for a known session (G1 polls use it).
    pub(crate) async fn redeem(
        &self,
        session: &QrSession,
        auth: &ExchangeAuth,
        ip: Option<IpAddr>,
        issuer: &str,
    ) -> Result<Exchanged, ApiError> {
        let now = now_ms();
        let (Some(ticket), Some(expires)) = (&session.ticket, session.ticket_expires_at) else {
            return Err(ApiError::TicketInvalid);
        };
        if session.ticket_used_at.is_some() || expires <= now {
            return Err(ApiError::TicketInvalid);
        }
        let app = self
            .store()
            .get_app(&session.app_id)
            .await?
            .ok_or(ApiError::TicketInvalid)?;
        if let Some(h) = auth.header_app_id.as_deref().filter(|h| !h.is_empty()) {
            if h != app.app_id && h != self.user_pool_id() {
                return Err(ApiError::Forbidden(Forbidden::WrongApp));
            }
        }
        let secret_ok = match &auth.client {
            Some((id, secret)) => {
                if id != &app.app_id || !constant_time_eq(secret, &app.app_secret) {
                    return Err(ApiError::Forbidden(Forbidden::WrongApp));
                }
                true
            }
            None => false,
        };
        // G1 has no exchange: its poll hands the user over. In `url` mode its `random` is never
        // shown (PROTOCOL.md §4.1), so holding it proves being the requester, as a ticket does.
        // A device code is never shown either (RFC 8628: only the user code is).
        let handle_is_secret = session.generation == Generation::Device
            || (session.generation == Generation::G1 && app.qr_payload == QrPayload::Url);
        if let Some(challenge) = &session.code_challenge {
            // Bound to the requester: only its verifier will do, whatever else is presented.
            let verifier = auth.code_verifier.as_deref().unwrap_or("");
            if !pkce_matches(verifier, challenge) {
                return Err(ApiError::PkceMismatch);
            }
        } else if !secret_ok && !app.allow_client_exchange && !handle_is_secret {
            return Err(ApiError::Forbidden(Forbidden::ClientExchange));
        }
        if !self.store().spend_ticket(ticket, &app.app_id, now).await? {
            return Err(ApiError::TicketInvalid);
        }
        self.spent(session, now);
        let ex = self
            .hand_over(session, &app, !secret_ok, ip, issuer)
            .await?;
        tracing::info!(app_id = %app.app_id, user_id = %ex.user.id, sid = %ex.sid, "ticket exchanged");
        Ok(ex)
    }

    /// Memory learns that the ticket of `session` (as it was when the spend applied) is spent.
    fn spent(&self, session: &QrSession, at: crate::model::Millis) {
        let mut s = session.clone();
        s.ticket_used_at = Some(at);
        self.inner.live.publish(s);
    }

    /// After the ticket was spent: counts the login and starts the desktop session.
    async fn hand_over(
        &self,
        session: &QrSession,
        app: &App,
        public_client: bool,
        ip: Option<IpAddr>,
        issuer: &str,
    ) -> Result<Exchanged, ApiError> {
        let now = now_ms();
        let user_id = session.scanned_by.as_deref().ok_or(ApiError::Internal)?;
        let ip_text = ip.map(|i| i.to_string());
        self.store()
            .record_login(user_id, ip_text.as_deref(), now)
            .await?;
        let user = self
            .store()
            .get_user(user_id)
            .await?
            .ok_or(ApiError::Internal)?;
        let new = NewSession {
            user: &user,
            app_id: &app.app_id,
            kind: SessionKind::Desktop,
            public_client,
            access_ttl_secs: i64::from(app.access_ttl_secs),
            with_refresh: true,
            device: session
                .requester
                .as_ref()
                .and_then(|r| r.device_name.clone()),
            ip,
        };
        self.open_session(new, issuer).await
    }

    /// A `returnFullUserInfo` poll: the first authorized poll spends the ticket and carries the
    /// tokens; every later one gets `None` (PROTOCOL.md §4.2: a token is delivered once).
    pub(crate) async fn deliver_on_poll(
        &self,
        session: &QrSession,
        app: &App,
        ip: Option<IpAddr>,
        issuer: &str,
    ) -> Result<Option<Exchanged>, ApiError> {
        let Some(ticket) = &session.ticket else {
            return Ok(None);
        };
        let now = now_ms();
        if session.ticket_used_at.is_some()
            || !self.store().spend_ticket(ticket, &app.app_id, now).await?
        {
            return Ok(None);
        }
        self.spent(session, now);
        Ok(Some(self.hand_over(session, app, true, ip, issuer).await?))
    }

    /// Password sign-in. Unknown user and wrong password take as long and answer the same; a
    /// disabled user who knows the password is told so. A backing-off account gets 429 whether it
    /// exists or not (signin_guard.rs). Each attempt goes to the history.
    pub(crate) async fn sign_in(
        &self,
        username: &str,
        password: &str,
        app_id: &str,
        ip: Option<IpAddr>,
    ) -> Result<User, ApiError> {
        let guard = &self.inner.sign_in_guard;
        guard.check_account(username)?;
        let user = self.store().find_user_by_username(username.trim()).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let ok = {
            let _slot = guard.verification_slot().await?;
            verify_password(password.to_owned(), hash).await
        };
        guard.record(username, ok && user.is_some());
        let result = match user {
            Some(u) if ok => {
                if self.store().user_disabled(&u.id).await? {
                    tracing::info!(user_id = %u.id, "sign-in of a disabled user refused");
                    Err((Some(u), ApiError::Forbidden(Forbidden::UserDisabled)))
                } else {
                    tracing::info!(user_id = %u.id, "signed in");
                    Ok(u)
                }
            }
            u => {
                tracing::info!("sign-in refused");
                Err((u, ApiError::BadCredentials))
            }
        };
        let (who, outcome) = match &result {
            Ok(u) => (Some(u), "signed-in"),
            Err((u, ApiError::BadCredentials)) => (u.as_ref(), "wrong-password"),
            Err((u, _)) => (u.as_ref(), "disabled"),
        };
        self.record_sign_in(username, who, app_id, ip, outcome)
            .await;
        result.map_err(|(_, e)| e)
    }

    pub(crate) fn jwks(&self) -> Value {
        self.inner.keys.jwks()
    }
}

/// Resolves once the server is shutting down. (The `Ref` of `wait_for` is not `Send`, so it is
/// dropped here rather than held across a `select!` branch.)
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// A requester field the approval page may show (limits.rs: no controls, no bidi, capped).
fn clip(s: Option<String>) -> Option<String> {
    s.map(|s| crate::limits::clean_field(&s))
        .filter(|s| !s.is_empty())
}
