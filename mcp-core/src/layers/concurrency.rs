//! A global limit on requests served at once, with a bounded queue in front of it.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{retry_after_secs, retry_data, LayerFuture, UNAVAILABLE};
use crate::jsonrpc::ErrorObject;
use crate::server::{McpRequest, McpResponse};

/// The slots and the queue, shared by every clone of the layer.
#[derive(Debug)]
struct State {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
}

#[derive(Clone)]
struct Shared {
    max: usize,
    state: Arc<State>,
    queue: usize,
    queue_timeout: Option<Duration>,
    retry_after: Duration,
    exempt: Vec<String>,
}

/// At most `max` requests run at once; up to `queue` more wait for a slot (in arrival order);
/// beyond that a request is answered at once with [`UNAVAILABLE`] (`-31503`,
/// `data.reason = "overloaded"`, `data.retryAfterSeconds`), which HTTP sends as 503 with
/// `Retry-After`.
///
/// The limit is shared by every service built from this layer (and its clones). Long-lived
/// `subscriptions/listen` streams and `ping` are not counted (see
/// [`ConcurrencyLimitLayer::exempt`]). A call that leaves the queue because the client went
/// away gives its place up.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::layers::ConcurrencyLimitLayer;
/// use mcp_core::{Router, Server};
///
/// let limit = ConcurrencyLimitLayer::new(64)
///     .queue(1024)
///     .queue_timeout(Duration::from_secs(10))
///     .retry_after(Duration::from_secs(2));
/// let server = Server::new(Router::new()).layer(limit);
/// # let _ = server;
/// ```
#[derive(Clone)]
pub struct ConcurrencyLimitLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ConcurrencyLimitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurrencyLimitLayer")
            .field("max", &self.shared.max)
            .field("queue", &self.shared.queue)
            .field("queue_timeout", &self.shared.queue_timeout)
            .finish_non_exhaustive()
    }
}

impl ConcurrencyLimitLayer {
    /// At most `max` requests at once (at least 1), no queue, `Retry-After: 1`.
    ///
    /// See [`ConcurrencyLimitLayer`] for an example.
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        ConcurrencyLimitLayer {
            shared: Arc::new(Shared {
                max,
                state: Arc::new(State {
                    permits: Arc::new(Semaphore::new(max)),
                    waiting: AtomicUsize::new(0),
                }),
                queue: 0,
                queue_timeout: None,
                retry_after: Duration::from_secs(1),
                exempt: vec!["subscriptions/listen".to_owned(), "ping".to_owned()],
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        f(Arc::make_mut(&mut self.shared));
        self
    }

    /// How many requests may wait for a slot.
    ///
    /// See [`ConcurrencyLimitLayer`] for an example.
    pub fn queue(self, queue: usize) -> Self {
        self.edit(|s| s.queue = queue)
    }

    /// How long a request may wait in the queue before it is answered as overloaded.
    ///
    /// See [`ConcurrencyLimitLayer`] for an example.
    pub fn queue_timeout(self, timeout: Duration) -> Self {
        self.edit(|s| s.queue_timeout = Some(timeout))
    }

    /// What `retryAfterSeconds` says when a request is turned away.
    ///
    /// See [`ConcurrencyLimitLayer`] for an example.
    pub fn retry_after(self, after: Duration) -> Self {
        self.edit(|s| s.retry_after = after)
    }

    /// Methods not counted (replaces the default, `subscriptions/listen` and `ping`).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::ConcurrencyLimitLayer;
    /// // Long-polling methods should not hold one of the 8 slots.
    /// let limit = ConcurrencyLimitLayer::new(8).exempt(["subscriptions/listen", "ping", "tasks/get"]);
    /// assert_eq!(limit.running(), 0);
    /// ```
    pub fn exempt<I: IntoIterator<Item = impl Into<String>>>(self, methods: I) -> Self {
        let methods = methods.into_iter().map(Into::into).collect();
        self.edit(|s| s.exempt = methods)
    }

    /// How many requests are running now.
    ///
    /// ```
    /// # use mcp_core::layers::ConcurrencyLimitLayer;
    /// assert_eq!(ConcurrencyLimitLayer::new(8).running(), 0);
    /// ```
    pub fn running(&self) -> usize {
        self.shared.max - self.shared.state.permits.available_permits()
    }
}

impl<S> tower::Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> ConcurrencyLimit<S> {
        ConcurrencyLimit {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`ConcurrencyLimitLayer`] builds.
///
/// See [`ConcurrencyLimitLayer`] for an example.
#[derive(Clone)]
pub struct ConcurrencyLimit<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for ConcurrencyLimit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurrencyLimit")
            .field("max", &self.shared.max)
            .finish_non_exhaustive()
    }
}

/// A place in the queue, given up when dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Shared {
    /// A slot, or `None` when the queue is full or the wait took too long.
    async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        let state = &*self.state;
        if let Ok(permit) = state.permits.clone().try_acquire_owned() {
            return Some(permit);
        }
        if state.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            state.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let _place = Waiting(&state.waiting);
        let wait = state.permits.clone().acquire_owned();
        match self.queue_timeout {
            None => wait.await.ok(),
            Some(t) => tokio::time::timeout(t, wait).await.ok()?.ok(),
        }
    }

    fn overloaded(&self) -> McpResponse {
        Some(Err(ErrorObject::new(
            UNAVAILABLE,
            format!(
                "the server is busy ({} requests running and the queue is full); retry after {} s",
                self.max,
                retry_after_secs(self.retry_after)
            ),
        )
        .with_data(retry_data(
            self.retry_after,
            json!({"reason": "overloaded"}),
        ))))
    }
}

impl<S> tower::Service<McpRequest> for ConcurrencyLimit<S>
where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = LayerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> LayerFuture {
        if self.shared.exempt.iter().any(|m| m == &req.method) {
            return Box::pin(self.inner.call(req));
        }
        let shared = self.shared.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let Some(_permit) = shared.acquire().await else {
                return Ok(shared.overloaded());
            };
            inner.call(req).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::testing::{request, Fixed};
    use crate::layers::Outcome;
    use serde_json::json;
    use tower::{Layer, ServiceExt};

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_turns_requests_away_and_a_timeout_too() {
        let layer = ConcurrencyLimitLayer::new(1)
            .queue(1)
            .queue_timeout(Duration::from_secs(5))
            .retry_after(Duration::from_millis(1500));
        let holder = layer
            .shared
            .state
            .permits
            .clone()
            .try_acquire_owned()
            .unwrap();
        let svc = layer.layer(Fixed::new(|_| Some(Ok(json!({})))));
        let queued = tokio::spawn(
            svc.clone()
                .oneshot(request("tools/call", json!({"name": "a"}))),
        );
        tokio::task::yield_now().await;
        let turned_away = svc
            .clone()
            .oneshot(request("tools/call", json!({"name": "a"})))
            .await
            .unwrap();
        assert_eq!(Outcome::of(&turned_away), Outcome::Unavailable);
        let err = turned_away.unwrap().unwrap_err();
        assert_eq!(err.data.as_ref().unwrap()["retryAfterSeconds"], 2);
        assert_eq!(err.data.unwrap()["reason"], "overloaded");
        // The queued one gives up after the queue timeout.
        let timed_out = queued.await.unwrap().unwrap();
        assert_eq!(Outcome::of(&timed_out), Outcome::Unavailable);
        drop(holder);
        let served = svc
            .oneshot(request("tools/call", json!({"name": "a"})))
            .await
            .unwrap();
        assert_eq!(Outcome::of(&served), Outcome::Ok);
        assert_eq!(layer.running(), 0);
    }
}
