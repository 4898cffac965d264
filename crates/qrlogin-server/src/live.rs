//! Live QR sessions: the state of every session in flight, held in memory and written through.
//! A change is made in the store first (its compare-and-set decides every race, and the change
//! is durable before anyone is answered), then published here; polls and woken long-polls answer
//! from memory and read no database. A session not in memory (made by another instance, or
//! before a restart) is read from the store once. Changes made by other instances arrive as
//! [`Progress`] (PostgreSQL's NOTIFY payload) and are merged without a query. Ended sessions
//! leave memory at the sweep ([`LiveSessions::evict_ended`]), so memory follows the sessions in
//! flight, not the sessions ever made.
//!
//! Each session has one `watch` channel: a long-poll holds a receiver (a pointer and a version),
//! a change is one `send` that wakes all of them with the new state.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::model::{Millis, QrSession, Status};
use crate::store::{Store, StoreResult};

/// Shards of the map: a poll locks one shard for a few hundred nanoseconds.
const SHARDS: usize = 64;

pub struct LiveSessions {
    shards: Box<[Mutex<HashMap<String, Slot>>]>,
    hasher: RandomState,
    store: Arc<dyn Store>,
    loads: AtomicU64,
}

enum Slot {
    /// The first read from the store is in flight; `heard` is the furthest change announced
    /// meanwhile (applied to the row when it arrives, in case the read saw the state before it).
    Loading {
        readers: u32,
        heard: Option<Progress>,
    },
    Live(watch::Sender<Arc<QrSession>>),
}

/// What changes in a session after it is made, as another instance announces it (the JSON of
/// PostgreSQL's NOTIFY payload, column names as keys). The rest of a session never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub handle: String,
    /// The stored status (`pending`, `scanned`, `authorized`, `cancelled`).
    pub status: String,
    #[serde(default)]
    pub scanned_by: Option<String>,
    #[serde(default)]
    pub scanned_at: Option<Millis>,
    #[serde(default)]
    pub decided_at: Option<Millis>,
    #[serde(default)]
    pub ticket: Option<String>,
    #[serde(default)]
    pub ticket_expires_at: Option<Millis>,
    #[serde(default)]
    pub ticket_used_at: Option<Millis>,
}

impl Progress {
    pub fn of(s: &QrSession) -> Progress {
        Progress {
            handle: s.handle.clone(),
            status: s.stored_status.as_str().to_owned(),
            scanned_by: s.scanned_by.clone(),
            scanned_at: s.scanned_at,
            decided_at: s.decided_at,
            ticket: s.ticket.clone(),
            ticket_expires_at: s.ticket_expires_at,
            ticket_used_at: s.ticket_used_at,
        }
    }

    fn stage(&self) -> Option<u8> {
        Status::parse_stored(&self.status).map(|st| stage_of(st, self.ticket_used_at.is_some()))
    }

    /// `s` with this progress, when it is further along than `s`.
    fn applied_to(&self, s: &QrSession) -> Option<QrSession> {
        let status = Status::parse_stored(&self.status)?;
        if stage_of(status, self.ticket_used_at.is_some()) <= stage(s) {
            return None;
        }
        let mut next = s.clone();
        next.stored_status = status;
        next.scanned_by = self.scanned_by.clone();
        next.scanned_at = self.scanned_at;
        next.decided_at = self.decided_at;
        next.ticket = self.ticket.clone();
        next.ticket_expires_at = self.ticket_expires_at;
        next.ticket_used_at = self.ticket_used_at;
        Some(next)
    }
}

/// How far a session has come. Every change moves it forward (pending → scanned → authorized or
/// cancelled → ticket spent) and each step is a compare-and-set in the store, so of two copies
/// the one further along is the newer: a slow read can never undo a change heard before it.
fn stage_of(status: Status, ticket_spent: bool) -> u8 {
    let step = match status {
        Status::Pending | Status::Expired => 0,
        Status::Scanned => 1,
        Status::Authorized | Status::Cancelled => 2,
    };
    step * 2 + u8::from(ticket_spent)
}

fn stage(s: &QrSession) -> u8 {
    stage_of(s.stored_status, s.ticket_used_at.is_some())
}

/// The store's sweep condition (`purge_sessions`): the QR and its ticket both expired, or the
/// ticket was spent, before `before`. Such a session can change no more.
fn ended_before(s: &QrSession, before: Millis) -> bool {
    let qr_and_ticket_over =
        s.expires_at < before && s.ticket_expires_at.is_none_or(|t| t < before);
    qr_and_ticket_over || s.ticket_used_at.is_some_and(|u| u < before)
}

/// Replaces the copy in `tx` when `s` is further along; wakes the waiters only then.
fn merge(tx: &watch::Sender<Arc<QrSession>>, s: QrSession) {
    tx.send_if_modified(|cur| {
        if stage(&s) > stage(cur) {
            *cur = Arc::new(s);
            true
        } else {
            false
        }
    });
}

impl LiveSessions {
    pub fn new(store: Arc<dyn Store>) -> LiveSessions {
        LiveSessions {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            store,
            loads: AtomicU64::new(0),
        }
    }

    fn shard(&self, handle: &str) -> MutexGuard<'_, HashMap<String, Slot>> {
        let i = (self.hasher.hash_one(handle) as usize) % SHARDS;
        // A panic while holding a shard leaves a consistent map (every change is one insert).
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads of the store made to fill or refresh memory (for tests and benchmarks: a poll of
    /// a session already in memory does not add to it).
    pub fn store_reads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// Sessions in memory.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A session just stored by this instance.
    pub fn insert_new(&self, s: QrSession) {
        let mut map = self.shard(&s.handle);
        match map.get_mut(&s.handle) {
            // An ended session of the same client-made handle, still in memory after the store
            // swept it: its waiters see the new one.
            Some(Slot::Live(tx)) => {
                tx.send_replace(Arc::new(s));
            }
            _ => {
                let handle = s.handle.clone();
                map.insert(handle, Slot::Live(watch::channel(Arc::new(s)).0));
            }
        }
    }

    /// The session, from memory, else read once from the store. `None` when it does not exist.
    pub async fn get(&self, handle: &str) -> StoreResult<Option<Arc<QrSession>>> {
        {
            let mut map = self.shard(handle);
            match map.get_mut(handle) {
                Some(Slot::Live(tx)) => return Ok(Some(tx.borrow().clone())),
                Some(Slot::Loading { readers, .. }) => *readers += 1,
                None => {
                    map.insert(
                        handle.to_owned(),
                        Slot::Loading {
                            readers: 1,
                            heard: None,
                        },
                    );
                }
            }
        }
        let mut guard = LoadGuard {
            live: self,
            handle,
            done: false,
        };
        self.loads.fetch_add(1, Ordering::Relaxed);
        let read = self.store.session_by_handle(handle).await;
        guard.done = true;
        let mut map = self.shard(handle);
        let Some(slot) = map.get_mut(handle) else {
            // Evicted meanwhile (its row was swept): answer what was read, keep nothing.
            return read.map(|o| o.map(Arc::new));
        };
        match slot {
            Slot::Live(tx) => {
                // Another read finished first, or the session changed here meanwhile.
                if let Ok(Some(s)) = read {
                    merge(tx, s);
                }
                Ok(Some(tx.borrow().clone()))
            }
            Slot::Loading { readers, heard } => {
                *readers -= 1;
                match read {
                    Ok(Some(s)) => {
                        let s = match heard.as_ref().and_then(|p| p.applied_to(&s)) {
                            Some(newer) => newer,
                            None => s,
                        };
                        let s = Arc::new(s);
                        *slot = Slot::Live(watch::channel(Arc::clone(&s)).0);
                        Ok(Some(s))
                    }
                    other => {
                        if *readers == 0 {
                            map.remove(handle);
                        }
                        other.map(|_| None)
                    }
                }
            }
        }
    }

    /// A receiver of the session's changes, holding its current state; `None` when the session
    /// does not exist. Subscribed under the shard lock, so no change after it can be missed.
    pub async fn watch(
        &self,
        handle: &str,
    ) -> StoreResult<Option<watch::Receiver<Arc<QrSession>>>> {
        let Some(s) = self.get(handle).await? else {
            return Ok(None);
        };
        let mut map = self.shard(handle);
        if let Some(Slot::Live(tx)) = map.get(handle) {
            return Ok(Some(tx.subscribe()));
        }
        // Evicted between the read and now (only an ended session is): hold it again.
        let (tx, rx) = watch::channel(s);
        map.insert(handle.to_owned(), Slot::Live(tx));
        Ok(Some(rx))
    }

    /// A state just read from the store, or made by a change of this instance: kept, and every
    /// waiter woken, when it is further along than the copy in memory.
    pub fn publish(&self, s: QrSession) {
        let mut map = self.shard(&s.handle);
        match map.get_mut(&s.handle) {
            Some(Slot::Live(tx)) => merge(tx, s),
            // A full row: the reads in flight will merge into it when they finish.
            Some(slot) => {
                let heard = match slot {
                    Slot::Loading { heard, .. } => heard.take(),
                    Slot::Live(_) => None,
                };
                let s = heard.and_then(|p| p.applied_to(&s)).unwrap_or(s);
                *slot = Slot::Live(watch::channel(Arc::new(s)).0);
            }
            None => {
                let handle = s.handle.clone();
                map.insert(handle, Slot::Live(watch::channel(Arc::new(s)).0));
            }
        }
    }

    /// A change another instance announced. A session not in memory is ignored: its first
    /// poll here reads it from the store, change included.
    pub fn hear(&self, p: Progress) {
        let Some(stage) = p.stage() else {
            tracing::warn!(status = %p.status, "announced session change with an unknown status");
            return;
        };
        let mut map = self.shard(&p.handle);
        match map.get_mut(&p.handle) {
            Some(Slot::Live(tx)) => {
                tx.send_if_modified(|cur| match p.applied_to(cur) {
                    Some(next) => {
                        *cur = Arc::new(next);
                        true
                    }
                    None => false,
                });
            }
            Some(Slot::Loading { heard, .. })
                if heard
                    .as_ref()
                    .and_then(Progress::stage)
                    .is_none_or(|h| stage > h) =>
            {
                *heard = Some(p);
            }
            Some(Slot::Loading { .. }) | None => {}
        }
    }

    /// A NOTIFY payload: the JSON of [`Progress`]. An instance of an older version announces
    /// the bare handle; then the session is read again (one query).
    pub fn hear_payload(self: &Arc<Self>, payload: &str) {
        match serde_json::from_str::<Progress>(payload) {
            Ok(p) => self.hear(p),
            Err(_) => {
                let handle = payload.to_owned();
                if self.holds(&handle) {
                    let live = Arc::clone(self);
                    tokio::spawn(async move { live.reload(&handle).await });
                }
            }
        }
    }

    fn holds(&self, handle: &str) -> bool {
        matches!(self.shard(handle).get(handle), Some(Slot::Live(_)))
    }

    /// Reads the session again from the store and merges it; drops it when its row is gone.
    pub async fn reload(&self, handle: &str) {
        self.loads.fetch_add(1, Ordering::Relaxed);
        match self.store.session_by_handle(handle).await {
            Ok(Some(s)) => {
                if let Some(Slot::Live(tx)) = self.shard(handle).get(handle) {
                    merge(tx, s);
                }
            }
            Ok(None) => {
                let mut map = self.shard(handle);
                if matches!(map.get(handle), Some(Slot::Live(_))) {
                    // Swept: waiters see the channel close and read "not found".
                    map.remove(handle);
                }
            }
            Err(e) => tracing::warn!(error = %e, "re-reading a live session failed"),
        }
    }

    /// After changes may have been missed (the LISTEN connection was lost): every session in
    /// memory is read again, one query each, and its waiters woken if it moved.
    pub async fn resync(&self) {
        let handles: Vec<String> = self
            .shards
            .iter()
            .flat_map(|s| {
                let map = s.lock().unwrap_or_else(|p| p.into_inner());
                map.iter()
                    .filter(|(_, slot)| matches!(slot, Slot::Live(_)))
                    .map(|(h, _)| h.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        for h in handles {
            self.reload(&h).await;
        }
    }

    /// Forgets sessions that ended before `before` and that no long-poll holds. Returns how many.
    /// Polled again, one is read from the store once more (or is "not found" once swept there).
    pub fn evict_ended(&self, before: Millis) -> usize {
        let mut n = 0;
        for shard in self.shards.iter() {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, slot| {
                let gone = matches!(slot, Slot::Live(tx)
                    if tx.receiver_count() == 0 && ended_before(&tx.borrow(), before));
                n += usize::from(gone);
                !gone
            });
        }
        n
    }
}

/// Undoes a reader's mark when its `get` is dropped mid-read (the client went away), so that a
/// never-existing handle leaves nothing behind.
struct LoadGuard<'a> {
    live: &'a LiveSessions,
    handle: &'a str,
    done: bool,
}

impl Drop for LoadGuard<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut map = self.live.shard(self.handle);
        if let Some(Slot::Loading { readers, .. }) = map.get_mut(self.handle) {
            *readers -= 1;
            if *readers == 0 {
                map.remove(self.handle);
            }
        }
    }
}

/// Instances in one process on one SQLite file share their live sessions (an embedder or a test
/// may open the data directory twice): each sees the other's changes at once. Separate
/// processes on one SQLite file do not; several instances need PostgreSQL.
pub(crate) fn shared_for_file(file: &Path, store: &Arc<dyn Store>) -> Arc<LiveSessions> {
    static BY_FILE: Mutex<Vec<(PathBuf, Weak<LiveSessions>)>> = Mutex::new(Vec::new());
    let key = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let mut all = BY_FILE.lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|(_, w)| w.strong_count() > 0);
    if let Some(live) = all
        .iter()
        .find(|(p, _)| *p == key)
        .and_then(|(_, w)| w.upgrade())
    {
        return live;
    }
    let live = Arc::new(LiveSessions::new(Arc::clone(store)));
    all.push((key, Arc::downgrade(&live)));
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Generation;
    use crate::store::SqliteStore;
    use std::time::Duration;

    fn session(handle: &str, expires_at: Millis) -> QrSession {
        QrSession {
            handle: handle.into(),
            scan_id: format!("scan-{handle}"),
            generation: Generation::G3,
            app_id: "app".into(),
            stored_status: Status::Pending,
            created_at: 0,
            expires_at,
            scanned_by: None,
            scanned_at: None,
            decided_at: None,
            ticket: None,
            ticket_expires_at: None,
            ticket_used_at: None,
            code_challenge: None,
            check_code: None,
            check_choices: vec![],
            requester: None,
            custom_data: None,
            qr_content: String::new(),
            user_code: None,
        }
    }

    fn scanned(mut s: QrSession) -> QrSession {
        s.stored_status = Status::Scanned;
        s.scanned_by = Some("alice".into());
        s.scanned_at = Some(1);
        s
    }

    fn authorized(s: QrSession) -> QrSession {
        let mut s = scanned(s);
        s.stored_status = Status::Authorized;
        s.decided_at = Some(2);
        s.ticket = Some("ticket".into());
        s.ticket_expires_at = Some(s.expires_at + 1000);
        s
    }

    async fn live_over_sqlite() -> (tempfile::TempDir, Arc<dyn Store>, LiveSessions) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
        store
            .insert_app(&crate::model::App {
                app_id: "app".into(),
                app_secret: "secret".into(),
                name: "Desktop".into(),
                redirect_url: None,
                allow_client_exchange: false,
                return_full_user_info: false,
                qr_ttl_secs: 120,
                ticket_ttl_secs: 300,
                qr_payload: crate::model::QrPayload::Url,
                check_code: false,
                created_at: 0,
                access_ttl_secs: 3600,
                qr_rotate_secs: 0,
                logo_png: None,
                signup: false,
            })
            .await
            .unwrap();
        let live = LiveSessions::new(Arc::clone(&store));
        (dir, store, live)
    }

    #[tokio::test]
    async fn one_change_wakes_every_waiter_with_the_new_state_without_a_read() {
        let (_dir, store, live) = live_over_sqlite().await;
        let s = session("h1", i64::MAX / 2);
        store.insert_session(&s).await.unwrap();
        live.insert_new(s.clone());
        let mut waiters = Vec::new();
        for _ in 0..100 {
            waiters.push(live.watch("h1").await.unwrap().expect("exists"));
        }
        live.publish(scanned(s.clone()));
        for w in waiters.iter_mut() {
            tokio::time::timeout(Duration::from_secs(1), w.changed())
                .await
                .expect("waiter not woken")
                .expect("channel open");
            assert_eq!(w.borrow().stored_status, Status::Scanned);
            assert_eq!(w.borrow().scanned_by.as_deref(), Some("alice"));
        }
        assert_eq!(
            live.store_reads(),
            0,
            "a session made here is never read back"
        );
        // An older copy (a slow read) does not wake anyone or undo the change.
        live.publish(s);
        for w in waiters.iter_mut() {
            assert!(!w.has_changed().unwrap(), "woken by an older state");
        }
        assert_eq!(
            live.get("h1").await.unwrap().unwrap().stored_status,
            Status::Scanned
        );
    }

    #[tokio::test]
    async fn a_session_is_read_once_and_a_change_heard_during_the_read_is_kept() {
        let (_dir, store, live) = live_over_sqlite().await;
        let s = session("h2", i64::MAX / 2);
        store.insert_session(&s).await.unwrap(); // made by "another instance": pending
                                                 // A read is in flight (a phantom reader) when the authorization is announced.
        live.shard("h2").insert(
            "h2".into(),
            Slot::Loading {
                readers: 1,
                heard: None,
            },
        );
        live.hear(Progress::of(&authorized(s.clone())));
        let got = live.get("h2").await.unwrap().expect("exists");
        assert_eq!(got.stored_status, Status::Authorized, "the stale read won");
        assert_eq!(got.ticket.as_deref(), Some("ticket"));
        assert_eq!(live.store_reads(), 1);
        live.get("h2").await.unwrap();
        assert_eq!(live.store_reads(), 1, "read again although in memory");
    }

    #[tokio::test]
    async fn unknown_handles_leave_nothing_and_ended_sessions_leave_memory() {
        let (_dir, store, live) = live_over_sqlite().await;
        assert!(live.get("nobody").await.unwrap().is_none());
        assert!(live.is_empty(), "a guessed handle stayed in memory");
        let s = session("h3", 1_000);
        store.insert_session(&s).await.unwrap();
        live.insert_new(s);
        let held = live.watch("h3").await.unwrap().unwrap();
        assert_eq!(
            live.evict_ended(2_000),
            0,
            "evicted while a long-poll holds it"
        );
        drop(held);
        assert_eq!(live.evict_ended(500), 0, "evicted before it ended");
        assert_eq!(live.evict_ended(2_000), 1);
        assert!(live.is_empty());
    }

    /// The payload PostgreSQL builds with `row_to_json` (store/postgres.rs `announced`).
    #[test]
    fn the_notify_payload_reads_as_progress() {
        let json = r#"{"handle":"h","status":"authorized","scanned_by":"u","scanned_at":1,
            "decided_at":2,"ticket":"t","ticket_expires_at":3,"ticket_used_at":null}"#;
        let p: Progress = serde_json::from_str(json).unwrap();
        assert_eq!(p.stage(), Some(4));
        let next = p.applied_to(&session("h", 10)).expect("further along");
        assert_eq!(next.ticket.as_deref(), Some("t"));
        assert!(
            p.applied_to(&next).is_none(),
            "the same state again is no change"
        );
    }
}
