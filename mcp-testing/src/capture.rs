//! What the client saw: notifications and the server's questions, in arrival order.

use std::sync::{Mutex, MutexGuard};

use mcp_core::jsonrpc::RequestId;
use mcp_core::protocol::meta;
use serde_json::Value;
use tokio::sync::Notify;
use tokio::time::Instant;

/// A question the server asked the client: a server→client request in the handshake era, an
/// `inputRequests` entry in 2026-07-28.
///
/// ```
/// fn methods_asked(client: &mcp_testing::TestClient) -> Vec<String> {
///     client.server_requests().into_iter().map(|r| r.method).collect()
/// }
/// # let _ = methods_asked;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerRequest {
    /// `elicitation/create`, `sampling/createMessage`, `roots/list`, `ping`, ….
    pub method: String,
    /// Its parameters (`null` when there were none).
    pub params: Value,
    /// The `inputRequests` key (2026-07-28); `None` in the handshake era.
    pub key: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A handshake-era server→client request outside any request of the test — a task's question
/// — that no responder could answer: it waits for [`TaskHandle::update`](crate::TaskHandle::update).
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) id: RequestId,
    pub(crate) method: String,
    pub(crate) params: Value,
    /// From `_meta["io.modelcontextprotocol/related-task"]`, when the server says.
    pub(crate) task_id: Option<String>,
}

impl Held {
    pub(crate) fn new(id: RequestId, method: String, params: Value) -> Self {
        let task_id = params
            .get("_meta")
            .and_then(|m| m.get(meta::RELATED_TASK))
            .and_then(|t| t.get("taskId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Held {
            id,
            method,
            params,
            task_id,
        }
    }
}

/// The notifications still held, and how many were taken before them, so that a stream's
/// position survives [`Capture::take_notifications`].
#[derive(Debug, Default)]
struct Log {
    items: Vec<Value>,
    taken: usize,
}

/// The shared record; the unsolicited drain task writes to it too.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    notifications: Mutex<Log>,
    requests: Mutex<Vec<ServerRequest>>,
    held: Mutex<Vec<Held>>,
    arrived: Notify,
}

impl Capture {
    pub(crate) fn notification(&self, message: Value) {
        // The server gave up on a question it asked: it no longer waits for an answer.
        if message.get("method").and_then(Value::as_str) == Some("notifications/cancelled") {
            let id = message.pointer("/params/requestId").cloned();
            if let Some(id) = id.and_then(|v| serde_json::from_value::<RequestId>(v).ok()) {
                self.release(&id);
            }
        }
        lock(&self.notifications).items.push(message);
        self.arrived.notify_waiters();
    }

    pub(crate) fn server_request(&self, request: ServerRequest) {
        lock(&self.requests).push(request);
    }

    pub(crate) fn hold(&self, held: Held) {
        lock(&self.held).push(held);
        self.arrived.notify_waiters();
    }

    /// The held questions, oldest first.
    pub(crate) fn held(&self) -> Vec<Held> {
        lock(&self.held).clone()
    }

    /// Removes a held question, returning whether it was still held.
    pub(crate) fn release(&self, id: &RequestId) -> bool {
        let mut held = lock(&self.held);
        let before = held.len();
        held.retain(|h| &h.id != id);
        held.len() != before
    }

    pub(crate) fn notifications(&self) -> Vec<Value> {
        lock(&self.notifications).items.clone()
    }

    pub(crate) fn take_notifications(&self) -> Vec<Value> {
        let mut log = lock(&self.notifications);
        let items = std::mem::take(&mut log.items);
        log.taken += items.len();
        items
    }

    /// The position just before the oldest notification still held.
    pub(crate) fn start(&self) -> usize {
        lock(&self.notifications).taken
    }

    /// The notification at absolute position `at` (or the oldest still held, if `at` was
    /// taken), and the position after it.
    pub(crate) fn at(&self, at: usize) -> Option<(Value, usize)> {
        let log = lock(&self.notifications);
        let at = at.max(log.taken);
        log.items
            .get(at - log.taken)
            .map(|value| (value.clone(), at + 1))
    }

    /// Waits until the notification at `at` exists; `None` at the deadline.
    pub(crate) async fn next_at(&self, at: usize, deadline: Instant) -> Option<(Value, usize)> {
        loop {
            let arrived = self.arrived.notified();
            let mut arrived = std::pin::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(found) = self.at(at) {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.at(at);
            }
        }
    }

    pub(crate) fn server_requests(&self) -> Vec<ServerRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn with_method(&self, method: &str) -> Vec<Value> {
        lock(&self.notifications)
            .items
            .iter()
            .filter(|n| n.get("method").and_then(Value::as_str) == Some(method))
            .cloned()
            .collect()
    }

    /// Waits until `count` notifications with `method` have been captured; `Err` carries how
    /// many there were at the deadline.
    pub(crate) async fn wait_for(
        &self,
        method: &str,
        count: usize,
        deadline: Instant,
    ) -> Result<Vec<Value>, usize> {
        loop {
            let arrived = self.arrived.notified();
            let mut arrived = std::pin::pin!(arrived);
            // Register before looking, so a notification between the look and the wait wakes us.
            arrived.as_mut().enable();
            let found = self.with_method(method);
            if found.len() >= count {
                return Ok(found);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Err(self.with_method(method).len());
            }
        }
    }
}

/// The client's notifications, one at a time in arrival order, waiting for the next; from
/// [`TestClient::notification_stream`](crate::TestClient::notification_stream).
///
/// It reads the same record as [`TestClient::notifications`](crate::TestClient::notifications)
/// without consuming it, so several streams (and the vector accessors) see every notification.
/// [`into_stream`](Self::into_stream) turns it into a `futures` [`Stream`](futures_util::Stream).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mcp_core::{Context, Router};
/// use mcp_testing::TestClient;
///
/// async fn work(ctx: Context) -> &'static str {
///     ctx.log_info("starting").await;
///     ctx.log_info("finished").await;
///     "done"
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::new(Router::new().tool_fn("work", work)).await?;
/// let mut stream = client.notification_stream().timeout(Duration::from_secs(2));
/// assert!(stream.try_next().is_none());
/// client.call_tool("work", ()).await?;
/// let first = stream.next().await.expect("a log message");
/// assert_eq!(first["params"]["data"], "starting");
/// let second = stream.next_method("notifications/message").await.expect("another one");
/// assert_eq!(second["params"]["data"], "finished");
/// assert!(stream.try_next().is_none());
/// # Ok(()) }
/// ```
pub struct NotificationStream {
    pub(crate) capture: std::sync::Arc<Capture>,
    pub(crate) position: usize,
    pub(crate) timeout: std::time::Duration,
}

impl std::fmt::Debug for NotificationStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationStream")
            .field("position", &self.position)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl NotificationStream {
    /// How long [`next`](Self::next) waits for a notification (default: the client's timeout).
    ///
    /// See [`NotificationStream`] for an example.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The next notification (a whole JSON-RPC message), waiting for it to arrive; `None`
    /// when none arrives in time.
    ///
    /// See [`NotificationStream`] for an example.
    pub async fn next(&mut self) -> Option<Value> {
        let deadline = Instant::now() + self.timeout;
        let (value, next) = self.capture.next_at(self.position, deadline).await?;
        self.position = next;
        Some(value)
    }

    /// The next notification with `method`, skipping others; `None` when none arrives in time.
    ///
    /// See [`NotificationStream`] for an example.
    pub async fn next_method(&mut self, method: &str) -> Option<Value> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let (value, next) = self.capture.next_at(self.position, deadline).await?;
            self.position = next;
            if value.get("method").and_then(Value::as_str) == Some(method) {
                return Some(value);
            }
        }
    }

    /// The next notification if one has already arrived, without waiting.
    ///
    /// See [`NotificationStream`] for an example.
    pub fn try_next(&mut self) -> Option<Value> {
        let (value, next) = self.capture.at(self.position)?;
        self.position = next;
        Some(value)
    }

    /// A [`Stream`](futures_util::Stream) of the notifications; it ends when none arrives
    /// within the timeout.
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use mcp_core::protocol::ProgressToken;
    /// use mcp_core::{Context, Router, ToolDef};
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn work(ctx: Context) -> &'static str {
    ///     for step in 1..=3 {
    ///         ctx.progress(f64::from(step), Some(3.0), None).await;
    ///     }
    ///     "done"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool(ToolDef::new("work", work))).await?;
    /// let opts = RequestOptions::new().progress_token(ProgressToken::Number(1));
    /// client.call_tool_with("work", (), opts).await?;
    /// let steps: Vec<f64> = client
    ///     .notification_stream()
    ///     .into_stream()
    ///     .take(3)
    ///     .filter_map(|n| async move { n["params"]["progress"].as_f64() })
    ///     .collect()
    ///     .await;
    /// assert_eq!(steps, [1.0, 2.0, 3.0]);
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Value> + Send + Unpin {
        Box::pin(futures_util::stream::unfold(self, |mut s| async move {
            let value = s.next().await?;
            Some((value, s))
        }))
    }
}
