//! The login session: one tokio task per attempt that generates a QR, polls it, refreshes it on
//! expiry or cancel, retries through network trouble, exchanges the ticket and reports every
//! step as a [`LoginEvent`]. Dropping the [`LoginSession`] handle (or `cancel()`) stops it.
//!
//! Support modules used here (owned by another engineer; signatures this file relies on):
//! `qr::render(&str, &QrOptions) -> Result<RenderedQr, QrError>`,
//! `qr::from_image(&reqwest::Client, url, logo: Option<&str>) -> Result<RenderedQr, QrError>`
//! (`RenderedQr { svg_data_url, png_data_url, text: Option<String>, .. }`),
//! `media::fetch_image_data_url(&reqwest::Client, url, FetchLimits) -> Result<String, MediaError>`,
//! `tips::Tips::get(TipKey, Lang) -> String`, `tips::sanitize(&str) -> String`, `secret::Secret`.

mod client;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use tokio::time::Instant;

pub use client::{Client, ClientConfig, ShownQr, DEFAULT_QR_TTL};

use crate::dialect::{self, Authorization, DialectId, Exchanged, PollExtras, ScanStatus, WireUser};
use crate::error::CoreError;
use crate::events::LoginEvent;
use crate::failure::{Failure, Next};
use crate::pkce::Pkce;
use crate::profile::{self, AuthSession, Profile};
use crate::qr::QrOptions;
use crate::tips::{self, Lang, TipKey, Tips};

/// How one login attempt behaves. `Default` suits a desktop; kiosks set `refresh_cap: None`.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Reported in `starting` (the shell counts attempts; the retry button starts a new one).
    pub attempt: u32,
    /// How many new QRs may follow the first one automatically after expiry or cancel;
    /// `None` = unlimited (kiosk).
    pub refresh_cap: Option<u32>,
    /// Pause between polls; `None` = the generation's default (1500/800/800/1000 ms).
    pub poll_interval: Option<Duration>,
    /// Long-poll when the server announces it.
    pub long_poll: bool,
    /// How long the server may hold one long-poll (at most 30 s).
    pub long_poll_wait: Duration,
    /// How long the cancelled tip shows before a new QR.
    pub cancel_pause: Duration,
    /// After the QR's own expiry time, how long to keep polling before calling it expired
    /// locally (G1 never says "expired"; other servers say it themselves).
    pub expiry_grace: Duration,
    /// First back-off delay after a failure that may pass; doubles up to `backoff_max`. A
    /// `Retry-After` longer than `backoff_max` is capped to it.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// How many retries the window shows as `retrying` before it offers the retry button;
    /// `None` = retry visibly forever (kiosk: nobody is there to press a button).
    pub visible_retries: Option<u32>,
    /// After the visible retries, the pause (±20 %) between slow background retries, so a
    /// server that comes back brings the QR back by itself.
    pub background_retry: Duration,
    /// How long to keep retrying an exchange through network errors (the ticket's lifetime).
    pub exchange_retry_for: Duration,
    /// Bind the exchange with PKCE when the server announces it.
    pub pkce: bool,
    /// Download the scanner's and the user's photos as data URLs.
    pub fetch_avatars: bool,
    /// The tip texts; may be changed while the session runs, each event reads the current one.
    pub tips: Tips,
    pub lang: Lang,
    pub qr: QrOptions,
    /// The shell opens a callback after sign-in (`after_login = "redirect"`): the success tips
    /// become `successRedirectTips`, as the SDK shows while it redirects.
    pub redirecting: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            attempt: 1,
            refresh_cap: Some(5),
            poll_interval: None,
            long_poll: true,
            long_poll_wait: Duration::from_secs(25),
            cancel_pause: Duration::from_secs(2),
            expiry_grace: Duration::from_secs(2),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            // 1 + 2 + 4 + 8 + 16 + 30 s: about a minute of visible retrying.
            visible_retries: Some(6),
            background_retry: Duration::from_secs(60),
            exchange_retry_for: Duration::from_secs(300),
            pkce: true,
            fetch_avatars: true,
            tips: Tips::default(),
            lang: Lang::default(),
            qr: QrOptions::default(),
            redirecting: false,
        }
    }
}

type Sink = Arc<dyn Fn(LoginEvent) + Send + Sync>;

/// A running login attempt. Dropping it stops the attempt (and any request in flight).
#[derive(Debug)]
pub struct LoginSession {
    task: tokio::task::JoinHandle<()>,
}

impl LoginSession {
    /// Start an attempt on the current tokio runtime. Events go to `sink`, in order, from the
    /// session's task; the sink should not block.
    pub fn start(
        client: Arc<Client>,
        opts: SessionOptions,
        sink: impl Fn(LoginEvent) + Send + Sync + 'static,
    ) -> Self {
        let runner = Runner::new(client, opts, Arc::new(sink));
        Self {
            task: tokio::spawn(runner.run()),
        }
    }

    /// Stop the attempt now. No further events are sent.
    pub fn cancel(&self) {
        self.task.abort();
    }

    /// Whether the attempt ended (logged in, failed, stopped after the refresh cap, cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Wait until the attempt ends by itself.
    pub async fn finished(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for LoginSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How watching one QR ended.
enum QrEnd {
    LoggedIn,
    Cancelled,
    Expired,
    /// It expired while the server was unreachable: make a new one without an `expired` event.
    ExpiredDuringOutage,
}

/// The QR being shown.
struct Shown {
    handle: String,
    deadline: Instant,
    event: LoginEvent,
}

struct Runner {
    client: Arc<Client>,
    opts: SessionOptions,
    sink: Sink,
    interval: Duration,
    generation: u32,
    refreshes: u32,
    /// Consecutive transient failures (one outage), across requests.
    failures: u32,
    /// Set when requests succeed again after an outage, so the current screen is shown again.
    recovered: bool,
}

impl Runner {
    fn new(client: Arc<Client>, opts: SessionOptions, sink: Sink) -> Self {
        let interval = opts
            .poll_interval
            .unwrap_or_else(|| client.dialect().default_poll_interval());
        Self {
            client,
            opts,
            sink,
            interval,
            generation: 0,
            refreshes: 0,
            failures: 0,
            recovered: false,
        }
    }

    fn emit(&self, e: LoginEvent) {
        tracing::debug!(event = e.name(), "login event");
        (self.sink)(e);
    }

    fn tip(&self, key: TipKey) -> String {
        tips::sanitize(&self.opts.tips.get(key, self.opts.lang))
    }

    /// The main line is always the configured failed tip; the detail line is ours.
    fn emit_failed(&self, f: &Failure, retryable: bool) {
        self.emit(LoginEvent::Failed {
            kind: f.kind(),
            problem: f.problem,
            message: f.message(self.opts.lang),
            retryable,
            tip_html: self.tip(TipKey::Failed),
            retry_tip_html: self.tip(TipKey::Retry),
        });
    }

    async fn run(mut self) {
        self.emit(LoginEvent::Starting {
            attempt: self.opts.attempt,
        });
        if let Err(e) = self.run_attempt().await {
            let f = Failure::of(&e);
            log_failure(&e, &f, "login attempt stopped");
            self.emit_failed(&f, f.next() != Next::Stop);
        }
    }

    fn may_refresh(&self) -> bool {
        self.opts.refresh_cap.is_none_or(|cap| self.refreshes < cap)
    }

    async fn run_attempt(&mut self) -> Result<(), CoreError> {
        let mut last_generate: Option<Instant> = None;
        loop {
            // A server that calls every new QR expired at once must not make us spin: at most
            // one generate per poll interval.
            if let Some(at) = last_generate {
                tokio::time::sleep_until(at + self.interval).await;
            }
            last_generate = Some(Instant::now());
            let client = self.client.clone();
            let qr_opts = self.opts.qr;
            let use_pkce = self.opts.pkce;
            // Discovery is part of the retried step: a server that was down (or answered
            // garbage) at the start is asked again until it answers, so its PKCE and long-poll
            // are used from the first QR and PKCE is never dropped because of an outage.
            let made = self
                .with_retry(None, move || {
                    let client = client.clone();
                    async move {
                        let ext = client.discover().await?;
                        let pkce = (use_pkce && ext.pkce).then(Pkce::generate);
                        let shown = client.new_qr(pkce.as_ref(), &ext, &qr_opts).await?;
                        Ok((shown, pkce, ext))
                    }
                })
                .await;
            let (shown, pkce, ext) = match made {
                Ok(Some(made)) => made,
                // A "QR gone" answer to a generate is odd but passes: try again, paced.
                Err(e) if Failure::of(&e).next() == Next::NewQr => continue,
                Err(e) => return Err(e),
                Ok(None) => continue,
            };
            self.recovered = false;
            self.generation += 1;
            let ttl_ms = u64::try_from(shown.ttl.as_millis()).unwrap_or(u64::MAX);
            let event = LoginEvent::QrReady {
                svg: shown.rendered.svg_data_url.clone(),
                png: shown.rendered.png_data_url.clone(),
                text: shown.text.clone(),
                expires_at: shown
                    .created_at_ms
                    .saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX)),
                ttl_ms,
                check_code: shown.qr.check_code.clone(),
                generation: self.generation,
                tip_html: self.tip(TipKey::Title),
                cant_scan: crate::cant_scan::CantScan::of(&shown.qr, &shown.text),
            };
            self.emit(event.clone());
            let current = Shown {
                handle: shown.qr.handle.clone(),
                deadline: Instant::now() + shown.ttl,
                event,
            };
            let long_poll = self.opts.long_poll && ext.long_poll;
            match self.watch(&current, pkce.as_ref(), long_poll).await? {
                QrEnd::LoggedIn => return Ok(()),
                QrEnd::ExpiredDuringOutage => continue,
                QrEnd::Cancelled => {
                    let refreshing = self.may_refresh();
                    self.emit(LoginEvent::Cancelled {
                        tip_html: self.tip(TipKey::Canceled),
                        retry_tip_html: self.tip(TipKey::Retry),
                        refreshing,
                    });
                    if !refreshing {
                        return Ok(());
                    }
                    self.refreshes += 1;
                    tokio::time::sleep(self.opts.cancel_pause).await;
                }
                QrEnd::Expired => {
                    let refreshing = self.may_refresh();
                    self.emit(LoginEvent::Expired {
                        tip_html: self.tip(TipKey::Expired),
                        retry_tip_html: self.tip(TipKey::Retry),
                        refreshing,
                    });
                    if !refreshing {
                        return Ok(());
                    }
                    self.refreshes += 1;
                }
            }
        }
    }

    /// Poll one QR until it ends. Never two requests in flight: each poll is awaited before the
    /// next is sent.
    async fn watch(
        &mut self,
        qr: &Shown,
        pkce: Option<&Pkce>,
        long_poll: bool,
    ) -> Result<QrEnd, CoreError> {
        let dialect = self.client.dialect();
        let give_up = qr.deadline + self.opts.expiry_grace;
        let mut known: Option<&'static str> = None;
        let mut scanned_event: Option<LoginEvent> = None;
        let mut scanned_who: Option<(Option<String>, Option<String>)> = None;
        // The picture on screen: a rotating QR replaces it while it waits.
        let mut shown_event = qr.event.clone();
        loop {
            let now = Instant::now();
            if now >= give_up {
                return Ok(QrEnd::Expired);
            }
            let wait = long_poll.then(|| {
                // Never hold past the QR's end, so expiry is noticed on time.
                let remaining = give_up.saturating_duration_since(now).as_secs() + 1;
                self.opts
                    .long_poll_wait
                    .as_secs()
                    .min(remaining)
                    .clamp(1, 30)
            });
            let extras = PollExtras {
                wait,
                known,
                code_verifier: match (dialect, pkce) {
                    // G1's poll is its exchange; so is RFC 8628's token request.
                    (DialectId::G1 | DialectId::Device, Some(p)) => Some(p.verifier().clone()),
                    _ => None,
                },
            };
            let started = Instant::now();
            let client = self.client.clone();
            let handle = qr.handle.clone();
            let polled = self
                .with_retry(Some(give_up), move || {
                    let client = client.clone();
                    let handle = handle.clone();
                    let extras = extras.clone();
                    async move {
                        // An error code in a poll reply is sorted like any other failure.
                        match client.poll_qr(&handle, &extras).await? {
                            (ScanStatus::Failed { code, message }, _) => {
                                Err(CoreError::business(code, message))
                            }
                            polled => Ok(polled),
                        }
                    }
                })
                .await;
            let (status, rotated) = match polled {
                Ok(Some(s)) => s,
                Ok(None) => return Ok(QrEnd::ExpiredDuringOutage),
                // 2241 / 2244 / 2245: only a new QR helps.
                Err(e) if Failure::of(&e).next() == Next::NewQr => return Ok(QrEnd::Expired),
                Err(e) => return Err(e),
            };
            if std::mem::take(&mut self.recovered) {
                // Back from an outage: the UI shows `failed`; show the QR (and scan) again.
                self.emit(shown_event.clone());
                if let Some(s) = &scanned_event {
                    self.emit(s.clone());
                }
            }
            let name = status.known_name();
            let changed = name != known;
            match status {
                ScanStatus::Pending => {
                    if let Some(text) = rotated {
                        self.show_rotated(&mut shown_event, text);
                    }
                }
                ScanStatus::Scanned { nickname, photo } => {
                    let who = (nickname.clone(), photo.clone());
                    if scanned_who.as_ref() != Some(&who) {
                        let avatar = self.avatar(photo.as_deref()).await;
                        let e = LoginEvent::Scanned {
                            nickname,
                            avatar,
                            tip_html: self.tip(TipKey::Scanned),
                        };
                        self.emit(e.clone());
                        scanned_event = Some(e);
                        scanned_who = Some(who);
                    }
                }
                ScanStatus::Authorized(auth) => {
                    self.emit(LoginEvent::Authorized {
                        tip_html: self.tip(self.success_tip()),
                    });
                    return match self.finish(auth, pkce).await {
                        Ok(true) => Ok(QrEnd::LoggedIn),
                        // The ticket outlived the outage: a new QR, a new scan.
                        Ok(false) => Ok(QrEnd::ExpiredDuringOutage),
                        // Spent or expired ticket: this QR is done, the next one may work.
                        Err(e) if Failure::of(&e).next() == Next::NewQr => Ok(QrEnd::Expired),
                        Err(e) => Err(e),
                    };
                }
                ScanStatus::Cancelled => return Ok(QrEnd::Cancelled),
                ScanStatus::Expired => return Ok(QrEnd::Expired),
                // Sorted inside the retried poll above; kept for a complete match.
                ScanStatus::Failed { code, message } => {
                    return Err(CoreError::business(code, message))
                }
            }
            known = name;
            // Interval polling waits after every reply; a long-poll that returned at once with no
            // news (a server ignoring `wait`) is paced the same so it cannot spin.
            let elapsed = started.elapsed();
            let pause = if !long_poll {
                self.interval
            } else if changed {
                Duration::ZERO
            } else {
                self.interval.saturating_sub(elapsed)
            };
            if !pause.is_zero() {
                tokio::time::sleep_until((Instant::now() + pause).min(give_up)).await;
            }
        }
    }

    async fn avatar(&self, url: Option<&str>) -> Option<String> {
        match url {
            Some(u) if self.opts.fetch_avatars => self.client.image_data_url(u).await,
            _ => None,
        }
    }

    /// From an authorized poll to `loggedIn`: exchange the ticket if there is one, fetch the
    /// profile for token sets. `Ok(false)`: the server stayed unreachable for the ticket's life.
    async fn finish(
        &mut self,
        auth: Authorization,
        pkce: Option<&Pkce>,
    ) -> Result<bool, CoreError> {
        let deadline = Instant::now() + self.opts.exchange_retry_for;
        let (user, session) = match auth {
            Authorization::User(u) => self.user_session(u)?,
            Authorization::TokenSet(ts) => self.token_set_session(ts, deadline).await?,
            Authorization::Ticket { ticket, .. } => {
                let client = self.client.clone();
                let proof = self.client.exchange_auth(pkce);
                let exchanged = self
                    .with_retry(Some(deadline), move || {
                        let client = client.clone();
                        let ticket = ticket.clone();
                        let proof = proof.clone();
                        async move { client.exchange(&ticket, &proof).await }
                    })
                    .await?;
                match exchanged {
                    Some(Exchanged::User(u)) => self.user_session(u)?,
                    Some(Exchanged::TokenSet(ts)) => self.token_set_session(ts, deadline).await?,
                    None => return Ok(false),
                }
            }
        };
        let mut profile = Profile::from_user(&user, session.expires_at);
        profile.avatar = self.avatar(user.photo.as_deref()).await;
        self.emit(LoginEvent::LoggedIn {
            profile,
            tip_html: self.tip(self.success_tip()),
            session,
            redirect: user.redirect.clone(),
        });
        Ok(true)
    }

    /// A rotating QR turned: show its new code as the next `generation` (the window cross-fades
    /// between generations), same deadline, and without counting a refresh: the refresh cap
    /// counts QR sessions, not turns.
    fn show_rotated(&mut self, shown: &mut LoginEvent, new_text: String) {
        let LoginEvent::QrReady { text, .. } = shown else {
            return;
        };
        if *text == new_text {
            return;
        }
        let rendered = match crate::qr::render(&new_text, &self.opts.qr) {
            Ok(r) => r,
            Err(e) => {
                // The old code still answers for the grace period; keep it rather than fail.
                tracing::warn!(error = %e, "could not draw the rotated QR");
                return;
            }
        };
        self.generation += 1;
        if let LoginEvent::QrReady {
            svg,
            png,
            text,
            generation,
            ..
        } = shown
        {
            *svg = rendered.svg_data_url;
            *png = rendered.png_data_url;
            *text = new_text;
            *generation = self.generation;
        }
        self.emit(shown.clone());
    }

    fn success_tip(&self) -> TipKey {
        if self.opts.redirecting {
            TipKey::SuccessRedirect
        } else {
            TipKey::Success
        }
    }

    fn user_session(&self, u: WireUser) -> Result<(WireUser, AuthSession), CoreError> {
        let token = u.token.clone().ok_or_else(|| {
            CoreError::Protocol(crate::error::ProtocolError::new(
                "the server returned a user without a token",
            ))
        })?;
        // The server's times, moved onto this computer's clock (a server with a wrong clock
        // must neither end the session at once nor stretch it).
        let now = self.client.now_ms();
        let expires_at = u
            .token_expired_at
            .as_deref()
            .and_then(profile::parse_token_expiry)
            .map(|at| profile::server_time_to_local(at, token.expose(), now))
            .or_else(|| profile::fresh_jwt_expiry_ms(token.expose(), now));
        let session = AuthSession {
            token,
            id_token: None,
            refresh_token: u.refresh_token.clone(),
            expires_at,
            photo_url: u.photo.clone(),
        };
        Ok((u, session))
    }

    async fn token_set_session(
        &mut self,
        ts: dialect::TokenSet,
        deadline: Instant,
    ) -> Result<(WireUser, AuthSession), CoreError> {
        let expires_at = ts
            .expire_in
            .map(|s| {
                self.client.now_ms().saturating_add(
                    i64::try_from(s)
                        .unwrap_or(i64::MAX / 2)
                        .saturating_mul(1000),
                )
            })
            .or_else(|| {
                profile::fresh_jwt_expiry_ms(ts.access_token.expose(), self.client.now_ms())
            });
        let client = self.client.clone();
        let token = ts.access_token.clone();
        let fetched = self
            .with_retry(Some(deadline), move || {
                let client = client.clone();
                let token = token.clone();
                async move { client.get_profile(&token).await }
            })
            .await;
        let user = match fetched {
            Ok(Some(u)) => u,
            // A server without get-profile: fall back to what the ID token says about the user.
            Ok(None) | Err(_) if claims_user(&ts).is_some() => claims_user(&ts).unwrap_or_default(),
            Ok(None) => return Err(CoreError::Network("get-profile unreachable".into())),
            Err(e) => return Err(e),
        };
        let session = AuthSession {
            token: ts.access_token,
            id_token: ts.id_token,
            refresh_token: ts.refresh_token,
            expires_at,
            photo_url: user.photo.clone(),
        };
        Ok((user, session))
    }

    /// Run `op` until it succeeds, waiting after failures that may pass (failure.rs decides).
    /// Each wait is announced by a `retrying` event: with back-off for the first
    /// `visible_retries`, then (desktop) one `failed` with the retry button and slow background
    /// retries. `Ok(None)`: `deadline` passed while waiting. Definite failures are returned.
    async fn with_retry<T, F, Fut>(
        &mut self,
        deadline: Option<Instant>,
        mut op: F,
    ) -> Result<Option<T>, CoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, CoreError>>,
    {
        loop {
            let e = match op().await {
                Ok(v) => {
                    if self.failures > 0 {
                        tracing::info!(after = self.failures, "the server answers again");
                        self.failures = 0;
                        self.recovered = true;
                    }
                    return Ok(Some(v));
                }
                Err(e) => e,
            };
            let f = Failure::of(&e);
            if f.next() != Next::Retry {
                return Err(e);
            }
            self.failures = self.failures.saturating_add(1);
            let visible = self.opts.visible_retries.is_none_or(|n| self.failures <= n);
            let delay = if visible {
                let normal = backoff(
                    self.failures,
                    self.opts.backoff_initial,
                    self.opts.backoff_max,
                );
                match &e {
                    // Never sooner than the normal back-off: a `Retry-After` of 0 or a date in
                    // the past would otherwise spend every visible retry within milliseconds
                    // on a server that just said it is busy (found by tests/adversarial_proxy.rs).
                    CoreError::RateLimited {
                        retry_after: Some(d),
                    } => (*d).max(normal).min(self.opts.backoff_max),
                    _ => normal,
                }
            } else {
                if self.opts.visible_retries == Some(self.failures - 1) {
                    // The visible retries are used up: offer the button, keep trying slowly.
                    self.emit_failed(&f, true);
                }
                jitter(self.opts.background_retry)
            };
            log_failure(&e, &f, "request failed; retrying");
            self.emit(LoginEvent::Retrying {
                attempt: self.failures,
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                kind: f.kind(),
                problem: f.problem,
                message: f.message(self.opts.lang),
                background: !visible,
                tip_html: self.tip(TipKey::Failed),
                retry_tip_html: self.tip(TipKey::Retry),
            });
            tokio::time::sleep(delay).await;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }
}

/// One log line per failure: the kind, the HTTP status, the body length and the business code.
/// Never a body or a server's message (either may carry the polling handle). The network cause
/// (host:port and the OS error) and our own config message are kept: an operator needs them.
fn log_failure(e: &CoreError, f: &Failure, what: &str) {
    let cause = match e {
        CoreError::Network(m) | CoreError::Config(m) => Some(m.as_str()),
        _ => None,
    };
    tracing::warn!(
        problem = f.problem.as_str(),
        status = f.status,
        len = f.len,
        code = f.code,
        cause,
        "{what}"
    );
}

fn claims_user(ts: &dialect::TokenSet) -> Option<WireUser> {
    let token = ts.id_token.as_ref().unwrap_or(&ts.access_token);
    let p = profile::profile_from_claims(&profile::jwt_claims(token.expose())?)?;
    Some(WireUser {
        id: Some(p.id),
        username: p.username,
        nickname: p.nickname,
        email: p.email,
        phone: p.phone,
        photo: None,
        token: None,
        token_expired_at: None,
        refresh_token: None,
        redirect: None,
    })
}

/// Exponential back-off with ±20 % jitter: 1 s, 2 s, 4 s, … capped at `max`. The jitter keeps a
/// fleet of kiosks from hammering a recovering server in step.
pub fn backoff(attempt: u32, initial: Duration, max: Duration) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let base = initial.saturating_mul(1u32 << exp).min(max);
    jitter(base).min(max)
}

/// `d` ±20 %.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(rand::thread_rng().gen_range(0.8..=1.2))
}
