//! What the client saw: notifications and the server's questions, in arrival order.

use std::sync::{Mutex, MutexGuard};

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

/// The shared record; the unsolicited drain task writes to it too.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    notifications: Mutex<Vec<Value>>,
    requests: Mutex<Vec<ServerRequest>>,
    arrived: Notify,
}

impl Capture {
    pub(crate) fn notification(&self, message: Value) {
        lock(&self.notifications).push(message);
        self.arrived.notify_waiters();
    }

    pub(crate) fn server_request(&self, request: ServerRequest) {
        lock(&self.requests).push(request);
    }

    pub(crate) fn notifications(&self) -> Vec<Value> {
        lock(&self.notifications).clone()
    }

    pub(crate) fn take_notifications(&self) -> Vec<Value> {
        std::mem::take(&mut *lock(&self.notifications))
    }

    pub(crate) fn server_requests(&self) -> Vec<ServerRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn with_method(&self, method: &str) -> Vec<Value> {
        lock(&self.notifications)
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
