//! Handshake-era sessions: the live connection of each, its streams, and the pluggable record
//! store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_core::context::Outgoing;
use mcp_core::protocol::{ClientCapabilities, Implementation, ProtocolVersion};
use mcp_core::Connection;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Mutex as AsyncMutex};

use super::store::{StoreError, StoreFuture};

/// What is kept about a session outside the process that serves it.
///
/// ```
/// use mcp_transport::http::SessionRecord;
/// let r = SessionRecord { id: "abc".into(), protocol_version: "2025-11-25".into(), ..Default::default() };
/// assert_eq!(r.id, "abc");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The `Mcp-Session-Id`.
    pub id: String,
    /// The negotiated version.
    pub protocol_version: String,
    /// What the client declared in `initialize`.
    pub client_capabilities: ClientCapabilities,
    /// Who the client said it was.
    pub client_info: Option<Implementation>,
}

/// Where session records live, so that any instance can serve a session.
pub trait SessionStore: Send + Sync + 'static {
    /// Saves (or refreshes) a record, with its idle lifetime.
    fn put<'a>(&'a self, record: &'a SessionRecord, ttl: Duration) -> StoreFuture<'a, ()>;
    /// Loads a record.
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<SessionRecord>>;
    /// Deletes a record.
    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;
}

/// A process-local [`SessionStore`] (records expire with their TTL).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use mcp_transport::http::{InMemorySessionStore, SessionRecord, SessionStore};
/// let store = InMemorySessionStore::default();
/// let rec = SessionRecord { id: "s".into(), ..Default::default() };
/// store.put(&rec, std::time::Duration::from_secs(60)).await.unwrap();
/// assert!(store.get("s").await.unwrap().is_some());
/// # }
/// ```
#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    records: Mutex<HashMap<String, (SessionRecord, Instant)>>,
}

impl SessionStore for InMemorySessionStore {
    fn put<'a>(&'a self, record: &'a SessionRecord, ttl: Duration) -> StoreFuture<'a, ()> {
        let mut m = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        m.retain(|_, (_, exp)| *exp > now);
        m.insert(record.id.clone(), (record.clone(), now + ttl));
        Box::pin(async { Ok(()) })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<SessionRecord>> {
        let m = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let r = m
            .get(id)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(r, _)| r.clone());
        Box::pin(async move { Ok::<_, StoreError>(r) })
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        Box::pin(async { Ok(()) })
    }
}

/// A POST's SSE stream that may outlive its HTTP response (the client reconnects).
#[derive(Debug, Default)]
pub(crate) struct LiveStream {
    /// Where new events go while a client is attached.
    pub(crate) subscriber: Option<mpsc::Sender<(u64, Bytes)>>,
    /// The response was sent; nothing more will come.
    pub(crate) done: bool,
}

/// A session served by this process.
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) connection: Arc<Connection>,
    pub(crate) version: ProtocolVersion,
    /// The unsolicited (GET) stream's source; one reader at a time.
    pub(crate) unsolicited: Arc<AsyncMutex<mpsc::Receiver<Outgoing>>>,
    pub(crate) live: Mutex<HashMap<String, LiveStream>>,
    next_stream: AtomicU64,
    last_seen: Mutex<Instant>,
    pub(crate) open_streams: AtomicUsize,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        id: String,
        connection: Arc<Connection>,
        version: ProtocolVersion,
        unsolicited: mpsc::Receiver<Outgoing>,
    ) -> Self {
        Session {
            id,
            connection,
            version,
            unsolicited: Arc::new(AsyncMutex::new(unsolicited)),
            live: Mutex::new(HashMap::new()),
            next_stream: AtomicU64::new(1),
            last_seen: Mutex::new(Instant::now()),
            open_streams: AtomicUsize::new(0),
        }
    }

    pub(crate) fn touch(&self) {
        *self.last_seen.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    pub(crate) fn idle_for(&self) -> Duration {
        self.last_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    /// A new stream id: the session id, a dot, a counter. Event ids add `:<seq>`.
    pub(crate) fn new_stream_id(&self) -> String {
        format!(
            "{}.{}",
            self.id,
            self.next_stream.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The GET stream's id.
    pub(crate) fn get_stream_id(&self) -> String {
        format!("{}.0", self.id)
    }
}

/// The sessions this process serves, with a cap.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
}

impl Sessions {
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Inserts unless the cap is reached.
    pub(crate) fn insert(&self, s: Arc<Session>, cap: usize) -> bool {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= cap {
            return false;
        }
        m.insert(s.id.clone(), s);
        true
    }

    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Session>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Removes and returns sessions idle longer than `timeout` with no open stream.
    pub(crate) fn reap(&self, timeout: Duration) -> Vec<Arc<Session>> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let idle: Vec<String> = m
            .iter()
            .filter(|(_, s)| s.open_streams.load(Ordering::Relaxed) == 0 && s.idle_for() > timeout)
            .map(|(k, _)| k.clone())
            .collect();
        idle.iter().filter_map(|k| m.remove(k)).collect()
    }

    pub(crate) fn drain(&self) -> Vec<Arc<Session>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, s)| s)
            .collect()
    }
}
