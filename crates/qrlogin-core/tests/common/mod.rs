//! A scripted in-memory server for state-machine tests: no sockets, so tokio's paused time
//! drives every timeout, back-off and poll interval exactly.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qrlogin_core::clock::TokioClock;
use qrlogin_core::http::{BoxFuture, HttpReply, HttpRequest, Transport};
use qrlogin_core::{
    Client, ClientConfig, CoreError, DialectId, LoginEvent, LoginSession, SessionOptions,
};
use serde_json::Value;
use tokio::time::Instant;

pub const EPOCH_MS: i64 = 1_700_000_000_000;

/// What the fake does with one request.
pub enum Scripted {
    Reply(HttpReply),
    /// A connection error.
    NetErr,
    /// Answer after a while (a long-poll held by the server).
    After(Duration, Box<Scripted>),
    /// Never answer.
    Hang,
}

pub fn json(v: Value) -> Scripted {
    Scripted::Reply(HttpReply::json(200, &v))
}

pub fn status(code: u16, v: Value) -> Scripted {
    Scripted::Reply(HttpReply::json(code, &v))
}

pub fn not_found() -> Scripted {
    Scripted::Reply(HttpReply {
        status: 404,
        retry_after: None,
        body: b"Not Found".to_vec(),
    })
}

type Handler = Box<dyn FnMut(&HttpRequest) -> Scripted + Send>;

pub struct Fake {
    handler: Mutex<Handler>,
    pub log: Mutex<Vec<(Instant, HttpRequest)>>,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

impl Fake {
    pub fn new(handler: impl FnMut(&HttpRequest) -> Scripted + Send + 'static) -> Arc<Self> {
        Arc::new(Self {
            handler: Mutex::new(Box::new(handler)),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        })
    }

    /// Requests whose path ends with `suffix`, with the time they arrived.
    pub fn requests(&self, suffix: &str) -> Vec<(Instant, HttpRequest)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, r)| r.url.path().ends_with(suffix))
            .cloned()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

struct InFlight<'a>(&'a Fake);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Transport for Fake {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpReply, CoreError>> {
        Box::pin(async move {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let _guard = InFlight(self);
            self.log.lock().unwrap().push((Instant::now(), req.clone()));
            let mut scripted = (self.handler.lock().unwrap())(&req);
            loop {
                match scripted {
                    Scripted::Reply(r) => return Ok(r),
                    Scripted::NetErr => {
                        return Err(CoreError::Network("connection refused".into()))
                    }
                    Scripted::After(d, next) => {
                        tokio::time::sleep(d).await;
                        scripted = *next;
                    }
                    Scripted::Hang => std::future::pending::<()>().await,
                }
            }
        })
    }
}

pub fn config(dialect: DialectId) -> ClientConfig {
    let mut c = ClientConfig::new("http://fake.test", dialect, "app1");
    // The scripted server has a made-up remote name and no TLS.
    c.allow_insecure_http = true;
    c.app.user_pool_id = Some("pool1".into());
    c.clock = Arc::new(TokioClock::starting_at(EPOCH_MS));
    c
}

pub fn client(fake: &Arc<Fake>, config: ClientConfig) -> Arc<Client> {
    let transport: Arc<dyn Transport> = fake.clone();
    qrlogin_core::trust::install_crypto_provider();
    Arc::new(Client::with_transport(config, transport, reqwest::Client::new()).unwrap())
}

pub fn options() -> SessionOptions {
    SessionOptions {
        fetch_avatars: false,
        ..SessionOptions::default()
    }
}

#[derive(Clone, Default)]
pub struct Events(pub Arc<Mutex<Vec<(Instant, LoginEvent)>>>);

impl Events {
    pub fn sink(&self) -> impl Fn(LoginEvent) + Send + Sync + 'static {
        let me = self.0.clone();
        move |e| me.lock().unwrap().push((Instant::now(), e))
    }

    pub fn all(&self) -> Vec<LoginEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    pub fn timed(&self) -> Vec<(Instant, LoginEvent)> {
        self.0.lock().unwrap().clone()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.all().iter().map(LoginEvent::name).collect()
    }

    /// Wait (in paused time) until an event matches, at most `max`.
    pub async fn wait_for(&self, max: Duration, pred: impl Fn(&LoginEvent) -> bool) -> LoginEvent {
        let end = Instant::now() + max;
        loop {
            if let Some(e) = self.all().into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(
                Instant::now() < end,
                "no matching event; got {:?}",
                self.names()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub fn start(client: Arc<Client>, opts: SessionOptions, events: &Events) -> LoginSession {
    LoginSession::start(client, opts, events.sink())
}

/// Run a session to its end (paused time makes this instant), at most `max` of virtual time.
pub async fn run_to_end(session: &mut LoginSession, max: Duration) {
    tokio::time::timeout(max, session.finished())
        .await
        .expect("session did not end in time");
}
pub mod fault;
pub mod real_server;
pub mod tls_front;
