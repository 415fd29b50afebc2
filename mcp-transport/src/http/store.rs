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
}

/// A bounded in-memory [`EventStore`]: at most `max_streams` streams of `max_events` events
/// each; the oldest stream (or event) goes first.
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
}

impl InMemoryEventStore {
    /// A store with these bounds.
    pub fn new(max_streams: usize, max_events: usize) -> Self {
        InMemoryEventStore {
            inner: Mutex::new(Streams::default()),
            max_streams: max_streams.max(1),
            max_events: max_events.max(1),
        }
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
                s.streams.remove(&old);
                s.next_seq.remove(&old);
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
        if let Some(events) = s.streams.get_mut(stream) {
            if events.len() >= max {
                events.pop_front();
            }
            events.push_back((seq, message.to_owned()));
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
            if seq > 0 && events.front().is_some_and(|(first, _)| *first > seq + 1) {
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
        s.streams.retain(|k, _| !k.starts_with(prefix));
        s.next_seq.retain(|k, _| !k.starts_with(prefix));
        s.order.retain(|k| !k.starts_with(prefix));
        Box::pin(async move { Ok(()) })
    }
}
