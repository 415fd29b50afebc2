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
    /// The authenticated subject that created the session; only it may use the session.
    #[serde(default)]
    pub subject: Option<String>,
    /// The level the client set with `logging/setLevel`, if it did.
    #[serde(default)]
    pub log_level: Option<String>,
    /// The resources the client subscribed to (`resources/subscribe`).
    #[serde(default)]
    pub subscriptions: Vec<String>,
}

/// Where session records live, so that any instance can serve a session.
///
/// # Examples
///
/// A store over a shared map (a stand-in for a database shared by the instances):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use mcp_transport::http::{HttpConfig, SessionRecord, SessionStore, StoreFuture};
///
/// #[derive(Default)]
/// struct MapStore(Mutex<HashMap<String, SessionRecord>>);
///
/// impl SessionStore for MapStore {
///     fn put<'a>(&'a self, record: &'a SessionRecord, _ttl: Duration) -> StoreFuture<'a, ()> {
///         self.0.lock().unwrap().insert(record.id.clone(), record.clone());
///         Box::pin(async { Ok(()) })
///     }
///     fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<SessionRecord>> {
///         let found = self.0.lock().unwrap().get(id).cloned();
///         Box::pin(async move { Ok(found) })
///     }
///     fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
///         self.0.lock().unwrap().remove(id);
///         Box::pin(async { Ok(()) })
///     }
///     fn shared(&self) -> bool {
///         true
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = Arc::new(MapStore::default());
/// let record = SessionRecord { id: "s1".into(), protocol_version: "2025-11-25".into(), ..Default::default() };
/// store.put(&record, Duration::from_secs(1800)).await.unwrap();
/// store.touch("s1", Duration::from_secs(1800)).await.unwrap(); // the default does nothing
/// assert_eq!(store.get("s1").await.unwrap(), Some(record));
/// let config = HttpConfig::default().session_store(store);
/// # let _ = config;
/// # }
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// Saves (or refreshes) a record, with its idle lifetime.
    ///
    /// See [`SessionStore`] for an example.
    fn put<'a>(&'a self, record: &'a SessionRecord, ttl: Duration) -> StoreFuture<'a, ()>;
    /// Loads a record.
    ///
    /// See [`SessionStore`] for an example.
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<SessionRecord>>;
    /// Deletes a record.
    ///
    /// See [`SessionStore`] for an example.
    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;

    /// Extends a record's idle lifetime: the session is in use. The default does nothing
    /// (a process-local store's record lives as long as the session it belongs to).
    ///
    /// See [`SessionStore`] for an example.
    fn touch<'a>(&'a self, id: &'a str, ttl: Duration) -> StoreFuture<'a, ()> {
        let _ = (id, ttl);
        Box::pin(async { Ok(()) })
    }

    /// Whether several instances share this store. An instance that finds a session idle then
    /// only forgets its own state: the record expires by its TTL, which activity on any
    /// instance extends. `false` by default.
    ///
    /// See [`SessionStore`] for an example.
    fn shared(&self) -> bool {
        false
    }
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

impl InMemorySessionStore {
    /// How many records are held (expired ones included until the next write).
    ///
    /// # Examples
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use mcp_transport::http::{InMemorySessionStore, SessionRecord, SessionStore};
    /// let store = InMemorySessionStore::default();
    /// assert!(store.is_empty());
    /// store.put(&SessionRecord { id: "a".into(), ..Default::default() }, std::time::Duration::from_secs(60)).await.unwrap();
    /// assert_eq!(store.len(), 1);
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no record is held.
    ///
    /// See [`InMemorySessionStore::len`] for an example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
        let mut m = self.records.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(id);
        shrink(&mut m);
        Box::pin(async { Ok(()) })
    }
}

/// The default store: a single instance serves its sessions from its own map, so there is
/// nothing to keep elsewhere and no session to revive.
#[derive(Debug, Default)]
pub(crate) struct ProcessLocal;

impl SessionStore for ProcessLocal {
    fn put<'a>(&'a self, _: &'a SessionRecord, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn get<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<SessionRecord>> {
        Box::pin(async { Ok(None) })
    }

    fn remove<'a>(&'a self, _: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// A POST's SSE stream that may outlive its HTTP response (the client reconnects).
#[derive(Debug, Default)]
pub(crate) struct LiveStream {
    /// Where new events go while a client is attached.
    pub(crate) subscriber: Option<mpsc::Sender<(u64, Bytes)>>,
    /// The sequence number of the last event stored and handed on (0: none yet).
    pub(crate) appended: u64,
}

/// A session's queue for its GET stream, made when the first message for it comes or a GET
/// stream opens: most sessions never get one, and a queue costs more memory than the rest of
/// an idle session.
#[derive(Debug)]
pub(crate) struct UnsolicitedQueue {
    capacity: usize,
    queue: std::sync::OnceLock<UnsolicitedChannel>,
}

type UnsolicitedChannel = (
    mpsc::Sender<Outgoing>,
    Arc<AsyncMutex<mpsc::Receiver<Outgoing>>>,
);

impl UnsolicitedQueue {
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        Arc::new(UnsolicitedQueue {
            capacity: capacity.max(1),
            queue: std::sync::OnceLock::new(),
        })
    }

    fn channel(&self) -> &UnsolicitedChannel {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(self.capacity);
            (tx, Arc::new(AsyncMutex::new(rx)))
        })
    }

    /// Where messages for the GET stream go.
    pub(crate) fn sender(&self) -> mpsc::Sender<Outgoing> {
        self.channel().0.clone()
    }

    /// The GET stream's source; one reader at a time.
    pub(crate) fn receiver(&self) -> Arc<AsyncMutex<mpsc::Receiver<Outgoing>>> {
        self.channel().1.clone()
    }

    /// What a connection is given to send its unsolicited messages through.
    pub(crate) fn for_connection(self: &Arc<Self>) -> mcp_core::server::Unsolicited {
        let queue = self.clone();
        mcp_core::server::Unsolicited::lazy(move || queue.sender())
    }
}

/// A session served by this process.
pub(crate) struct Session {
    pub(crate) id: String,
    /// The authenticated subject that created it (sessions are not authentication: a session
    /// id in another caller's hands is worth nothing).
    pub(crate) subject: std::sync::OnceLock<String>,
    pub(crate) connection: Arc<Connection>,
    pub(crate) version: ProtocolVersion,
    /// What the GET stream carries, queued until one reads it.
    pub(crate) unsolicited: Arc<UnsolicitedQueue>,
    pub(crate) live: Mutex<HashMap<String, LiveStream>>,
    next_stream: AtomicU64,
    /// Names this process's streams apart from another instance's streams of the same session
    /// (they share an event store).
    stream_tag: String,
    /// On tokio's clock, so idleness follows the runtime's notion of time.
    last_seen: Mutex<tokio::time::Instant>,
    /// When the shared record's lifetime was last extended.
    pub(crate) refreshed: Mutex<tokio::time::Instant>,
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
        unsolicited: Arc<UnsolicitedQueue>,
        stream_tag: &str,
    ) -> Self {
        Session {
            subject: std::sync::OnceLock::new(),
            id,
            connection,
            version,
            unsolicited,
            live: Mutex::new(HashMap::new()),
            next_stream: AtomicU64::new(1),
            stream_tag: stream_tag.to_owned(),
            last_seen: Mutex::new(tokio::time::Instant::now()),
            refreshed: Mutex::new(tokio::time::Instant::now()),
            open_streams: AtomicUsize::new(0),
        }
    }

    pub(crate) fn touch(&self) {
        *self.last_seen.lock().unwrap_or_else(|p| p.into_inner()) = tokio::time::Instant::now();
    }

    pub(crate) fn idle_for(&self) -> Duration {
        self.last_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    /// A new stream id: the session id, a dot, this process's tag, a counter. Event ids add
    /// `:<seq>`.
    pub(crate) fn new_stream_id(&self) -> String {
        format!(
            "{}.{}{}",
            self.id,
            self.stream_tag,
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

    /// The session already known under `s.id`, or `s` once inserted; `None` at the cap.
    pub(crate) fn get_or_insert(&self, s: Arc<Session>, cap: usize) -> Option<Arc<Session>> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = m.get(&s.id) {
            return Some(existing.clone());
        }
        if m.len() >= cap {
            return None;
        }
        m.insert(s.id.clone(), s.clone());
        Some(s)
    }

    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let s = m.remove(id);
        shrink(&mut m);
        s
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
        let reaped = idle.iter().filter_map(|k| m.remove(k)).collect();
        shrink(&mut m);
        reaped
    }

    pub(crate) fn drain(&self) -> Vec<Arc<Session>> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let all = m.drain().map(|(_, s)| s).collect();
        shrink(&mut m);
        all
    }
}

/// Gives back a map's spare capacity once it is mostly empty, so that memory taken by a burst
/// of sessions returns after they end.
pub(crate) fn shrink<K: Eq + std::hash::Hash, V>(m: &mut HashMap<K, V>) {
    if m.capacity() > 64 && m.len() < m.capacity() / 4 {
        m.shrink_to(m.len() * 2);
    }
}
