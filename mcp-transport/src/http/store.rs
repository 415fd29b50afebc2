//! Pluggable stores: SSE events (for resumption) and sessions (for scale-out).
//!
//! The in-memory implementations are bounded; the scale-out work adds Redis-backed ones behind
//! the same traits.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed future, as the store traits return.
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
pub trait EventStore: Send + Sync + 'static {
    /// Stores one event and returns its id.
    fn append<'a>(&'a self, stream: &'a str, message: &'a str) -> StoreFuture<'a, String>;

    /// The events of the stream of `last_event_id` that came after it, oldest first, as
    /// `(event id, message)`. `None` when the stream or the event is unknown (evicted).
    fn replay_after<'a>(
        &'a self,
        last_event_id: &'a str,
    ) -> StoreFuture<'a, Option<Vec<(String, String)>>>;

    /// Drops every stream whose id starts with `prefix` (a session ended).
    fn forget<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, ()>;
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
