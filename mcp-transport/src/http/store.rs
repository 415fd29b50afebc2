//! Pluggable stores: SSE events (for resumption) and sessions (for scale-out).
//!
//! The in-memory implementations are bounded; the scale-out work adds Redis-backed ones behind
//! the same traits.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed future, as the store traits return.
///
/// See [`EventStore`] for an example.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store failed.
///
/// ```
/// let e = mcp_transport::http::StoreError::Unavailable("redis down".into());
/// assert!(e.to_string().contains("redis down"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing service cannot be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Keeps the events of SSE streams so a client can resume with `Last-Event-ID`.
///
/// Stream ids are unique across sessions; event ids are `<stream id>:<sequence>`.
///
/// # Examples
///
/// A wrapper that counts what it stores and delegates the rest:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use mcp_transport::http::{EventStore, HttpConfig, InMemoryEventStore, StoreFuture};
///
/// #[derive(Default)]
/// struct Counting { inner: InMemoryEventStore, appended: AtomicUsize }
///
/// impl EventStore for Counting {
///     fn append<'a>(&'a self, stream: &'a str, message: &'a str) -> StoreFuture<'a, String> {
///         self.appended.fetch_add(1, Ordering::Relaxed);
///         self.inner.append(stream, message)
///     }
///     fn replay_after<'a>(&'a self, last_event_id: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
///         self.inner.replay_after(last_event_id)
///     }
///     fn forget<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, ()> {
///         self.inner.forget(prefix)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = Counting::default();
/// let first = store.append("s1.1", "hello").await.unwrap();
/// store.append("s1.1", "world").await.unwrap();
/// store.finish("s1.1").await.unwrap();
/// let followed = store.follow(&first, std::time::Duration::ZERO).await.unwrap().unwrap();
/// assert_eq!(followed.events[0].1, "world");
/// assert!(followed.finished);
/// assert!(!store.shared());
/// store.forget("s1").await.unwrap();
/// assert_eq!(store.appended.load(Ordering::Relaxed), 2);
/// let config = HttpConfig::default().event_store(Arc::new(store));
/// # let _ = config;
/// # }
/// ```
pub trait EventStore: Send + Sync + 'static {
    /// Stores one event and returns its id.
    ///
    /// See [`EventStore`] for an example.
    fn append<'a>(&'a self, stream: &'a str, message: &'a str) -> StoreFuture<'a, String>;

    /// The events of the stream of `last_event_id` that came after it, oldest first, as
    /// `(event id, message)`. `None` when the stream or the event is unknown (evicted).
    ///
    /// See [`EventStore`] for an example.
    fn replay_after<'a>(
        &'a self,
        last_event_id: &'a str,
    ) -> StoreFuture<'a, Option<Vec<(String, String)>>>;

    /// Drops every stream whose id starts with `prefix` (a session ended).
    ///
    /// See [`EventStore`] for an example.
    fn forget<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, ()>;

    /// Marks a stream finished: nothing more will be appended to it. A store shared by several
    /// instances keeps the mark, so that an instance following the stream for a client that
    /// resumed there (see [`EventStore::follow`]) knows when to end it. The default does
    /// nothing.
    ///
    /// See [`EventStore`] for an example.
    fn finish<'a>(&'a self, stream: &'a str) -> StoreFuture<'a, ()> {
        let _ = stream;
        Box::pin(async { Ok(()) })
    }

    /// The events after `last_event_id` (as [`EventStore::replay_after`]), waiting up to
    /// `wait` for some to arrive when there are none yet, and whether the stream is finished.
    ///
    /// The transport calls it when a client resumes a stream that is not produced in this
    /// process: with a shared store, another instance may still be producing it. The default
    /// suits a process-local store, which only holds streams of its own process: what is
    /// stored now, and finished.
    ///
    /// See [`EventStore`] for an example.
    fn follow<'a>(
        &'a self,
        last_event_id: &'a str,
        wait: std::time::Duration,
    ) -> StoreFuture<'a, Option<Followed>> {
        let _ = wait;
        Box::pin(async move {
            Ok(self
                .replay_after(last_event_id)
                .await?
                .map(|events| Followed {
                    events,
                    finished: true,
                }))
        })
    }

    /// Whether several instances share this store (so streams may be produced elsewhere, and
    /// one instance finding a session idle must not delete what others still use). `false` by
    /// default.
    ///
    /// See [`EventStore`] for an example.
    fn shared(&self) -> bool {
        false
    }
}

/// What [`EventStore::follow`] found.
///
/// ```
/// let f = mcp_transport::http::Followed { events: Vec::new(), finished: true };
/// assert!(f.events.is_empty() && f.finished);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Followed {
    /// New events, oldest first, as `(event id, message)`.
    pub events: Vec<(String, String)>,
    /// Whether the stream is finished (no more events will come).
    pub finished: bool,
}

/// A message between instances that serve the same handshake-era session, carried by a
/// [`SessionRelay`].
///
/// ```
/// use mcp_transport::http::RelayMessage;
/// let m = RelayMessage::Ended { session: "abc".into() };
/// assert_eq!(m.session(), Some("abc"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayMessage {
    /// A client message that the instances holding the session must see too: the answer to a
    /// server→client request (the request waits on the instance that sent it),
    /// `notifications/cancelled` (the request runs elsewhere), or a change of session state
    /// (`logging/setLevel`, `resources/subscribe`, `resources/unsubscribe`).
    Client {
        /// The `Mcp-Session-Id`.
        session: String,
        /// The JSON-RPC message, as the client sent it.
        json: String,
    },
    /// The session was deleted: every instance forgets it.
    Ended {
        /// The `Mcp-Session-Id`.
        session: String,
    },
    /// A 2026-07-28 `tasks/update` (answers for a task that may be waiting for them on
    /// another instance), already accepted by the instance that received it.
    TaskUpdate {
        /// The JSON-RPC request.
        json: String,
        /// The authenticated subject that sent it, if any (tasks are visible to their owner
        /// only).
        subject: Option<String>,
    },
}

impl RelayMessage {
    /// The session the message is about, if it is about one.
    ///
    /// See [`RelayMessage`] for an example.
    pub fn session(&self) -> Option<&str> {
        match self {
            RelayMessage::Client { session, .. } | RelayMessage::Ended { session } => Some(session),
            RelayMessage::TaskUpdate { .. } => None,
        }
    }
}

/// Carries [`RelayMessage`]s between instances (Redis pub/sub, for one), so that a client's
/// POST may land on any instance: the instance that receives it relays what another instance
/// must act on.
///
/// Delivery is best effort: a message published while an instance is disconnected from the
/// relay is lost to it (the request that waited for it times out).
///
/// # Examples
///
/// A relay between services in one process (instances on one machine, or a test):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use mcp_transport::http::{HttpConfig, RelayMessage, SessionRelay, StoreFuture};
/// use tokio::sync::mpsc;
///
/// #[derive(Default)]
/// struct LocalRelay(Mutex<Vec<mpsc::Sender<RelayMessage>>>);
///
/// impl SessionRelay for LocalRelay {
///     fn publish<'a>(&'a self, message: &'a RelayMessage) -> StoreFuture<'a, ()> {
///         for tx in self.0.lock().unwrap().iter() {
///             let _ = tx.try_send(message.clone());
///         }
///         Box::pin(async { Ok(()) })
///     }
///     fn subscribe(&self) -> mpsc::Receiver<RelayMessage> {
///         let (tx, rx) = mpsc::channel(64);
///         self.0.lock().unwrap().push(tx);
///         rx
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let relay = Arc::new(LocalRelay::default());
/// let mut rx = relay.subscribe();
/// relay.publish(&RelayMessage::Ended { session: "s1".into() }).await.unwrap();
/// assert_eq!(rx.recv().await.unwrap().session(), Some("s1"));
/// let config = HttpConfig::default().relay(relay);
/// # let _ = config;
/// # }
/// ```
pub trait SessionRelay: Send + Sync + 'static {
    /// Sends a message to the other instances.
    ///
    /// See [`SessionRelay`] for an example.
    fn publish<'a>(&'a self, message: &'a RelayMessage) -> StoreFuture<'a, ()>;

    /// The messages other instances publish, from now on. The transport calls it once per
    /// service, inside a Tokio runtime.
    ///
    /// See [`SessionRelay`] for an example.
    fn subscribe(&self) -> tokio::sync::mpsc::Receiver<RelayMessage>;
}

/// Splits an event id into its stream and sequence.
pub(crate) fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = id.rsplit_once(':')?;
    Some((stream, seq.parse().ok()?))
}

#[derive(Debug, Default)]
struct Streams {
    streams: HashMap<String, VecDeque<(u64, String)>>,
    next_seq: HashMap<String, u64>,
    order: VecDeque<String>,
    /// Message bytes held, over all streams.
    bytes: usize,
}

impl Streams {
    fn drop_stream(&mut self, id: &str) {
        if let Some(events) = self.streams.remove(id) {
            self.bytes -= events.iter().map(|(_, m)| m.len()).sum::<usize>();
        }
        self.next_seq.remove(id);
    }

    /// Gives back spare capacity once the store is mostly empty.
    fn shrink(&mut self) {
        super::session::shrink(&mut self.streams);
        super::session::shrink(&mut self.next_seq);
        if self.order.capacity() > 64 && self.order.len() < self.order.capacity() / 4 {
            self.order.shrink_to(self.order.len() * 2);
        }
    }
}

/// A bounded in-memory [`EventStore`]: at most `max_streams` streams of `max_events` events
/// each, and at most [`max_bytes`](InMemoryEventStore::with_max_bytes) message bytes in all
/// (64 MiB by default); the oldest stream (or event) goes first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use mcp_transport::http::{EventStore, InMemoryEventStore};
/// let store = InMemoryEventStore::new(10, 100);
/// let a = store.append("s1.1", "first").await.unwrap();
/// store.append("s1.1", "second").await.unwrap();
/// let replay = store.replay_after(&a).await.unwrap().unwrap();
/// assert_eq!(replay.len(), 1);
/// assert_eq!(replay[0].1, "second");
/// # }
/// ```
#[derive(Debug)]
pub struct InMemoryEventStore {
    inner: Mutex<Streams>,
    max_streams: usize,
    max_events: usize,
    max_bytes: usize,
}

impl InMemoryEventStore {
    /// A store with these bounds (and the default byte bound).
    ///
    /// See [`InMemoryEventStore`] for an example.
    pub fn new(max_streams: usize, max_events: usize) -> Self {
        InMemoryEventStore {
            inner: Mutex::new(Streams::default()),
            max_streams: max_streams.max(1),
            max_events: max_events.max(1),
            max_bytes: 64 * 1024 * 1024,
        }
    }

    /// Caps the message bytes kept over all streams.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use mcp_transport::http::{EventStore, InMemoryEventStore};
    /// let store = InMemoryEventStore::new(10, 100).with_max_bytes(8);
    /// let first = store.append("s.1", "12345").await.unwrap();
    /// store.append("s.1", "67890").await.unwrap(); // evicts "12345"
    /// assert_eq!(store.replay_after("s.1:0").await.unwrap(), None);
    /// assert_eq!(store.replay_after(&first).await.unwrap().unwrap().len(), 1);
    /// # }
    /// ```
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.max(1);
        self
    }

    /// Message bytes currently held.
    ///
    /// # Examples
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use mcp_transport::http::{EventStore, InMemoryEventStore};
    /// let store = InMemoryEventStore::default();
    /// store.append("s.1", "12345").await.unwrap();
    /// assert_eq!(store.bytes(), 5);
    /// # }
    /// ```
    pub fn bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        Self::new(10_000, 1_000)
    }
}

impl EventStore for InMemoryEventStore {
    fn append<'a>(&'a self, stream: &'a str, message: &'a str) -> StoreFuture<'a, String> {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !s.streams.contains_key(stream) {
            while s.streams.len() >= self.max_streams {
                let Some(old) = s.order.pop_front() else {
                    break;
                };
                s.drop_stream(&old);
            }
            s.order.push_back(stream.to_owned());
            s.streams.insert(stream.to_owned(), VecDeque::new());
        }
        let seq = {
            let n = s.next_seq.entry(stream.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        let max = self.max_events;
        let mut freed = 0;
        if let Some(events) = s.streams.get_mut(stream) {
            if events.len() >= max {
                freed += events.pop_front().map_or(0, |(_, m)| m.len());
            }
            events.push_back((seq, message.to_owned()));
        }
        s.bytes = s.bytes + message.len() - freed;
        // Over the byte bound: drop whole streams, oldest first, then this stream's oldest events.
        while s.bytes > self.max_bytes {
            let oldest = s.order.iter().find(|k| k.as_str() != stream).cloned();
            match oldest {
                Some(old) => {
                    s.order.retain(|k| *k != old);
                    s.drop_stream(&old);
                }
                None => {
                    let Some(events) = s.streams.get_mut(stream) else {
                        break;
                    };
                    if events.len() <= 1 {
                        break;
                    }
                    let n = events.pop_front().map_or(0, |(_, m)| m.len());
                    s.bytes -= n;
                }
            }
        }
        let id = format!("{stream}:{seq}");
        Box::pin(async move { Ok(id) })
    }

    fn replay_after<'a>(
        &'a self,
        last_event_id: &'a str,
    ) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        let result = parse_event_id(last_event_id).and_then(|(stream, seq)| {
            let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let events = s.streams.get(stream)?;
            // Resumption must not skip events we already dropped.
            if events.front().is_some_and(|(first, _)| *first > seq + 1) {
                return None;
            }
            Some(
                events
                    .iter()
                    .filter(|(n, _)| *n > seq)
                    .map(|(n, m)| (format!("{stream}:{n}"), m.clone()))
                    .collect(),
            )
        });
        Box::pin(async move { Ok(result) })
    }

    fn forget<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, ()> {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = s
            .streams
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in &gone {
            s.drop_stream(k);
        }
        s.next_seq.retain(|k, _| !k.starts_with(prefix));
        s.order.retain(|k| !k.starts_with(prefix));
        s.shrink();
        Box::pin(async move { Ok(()) })
    }
}
