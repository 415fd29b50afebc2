//! Token-bucket rate limits per client and per tool.
//!
//! The client is [`RequestMeta::client_key`]: the authenticated subject, else the client's
//! address (which the transport resolves through [`TrustedProxies`](super::TrustedProxies)).
//! Sessions play no part, so a client that opens a new session for every call is limited all
//! the same.
//!
//! [`RequestMeta::client_key`]: crate::identity::RequestMeta::client_key

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::outcome::{report, Outcome};
use super::{retry_after_secs, retry_data, tool_error, tool_name, LayerFuture, RATE_LIMITED};
use crate::jsonrpc::ErrorObject;
use crate::protocol::JsonObject;
use crate::router::is_valid_tool_name;
use crate::server::{McpRequest, McpResponse};

/// How many requests a key may make: `count` per `period`, with bursts of up to `burst`
/// (by default `count`). Enforced as a token bucket (GCRA): tokens come back one every
/// `period / count`.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::layers::Quota;
/// let q = Quota::per_second(10).burst(5);
/// assert_eq!(q.interval(), Duration::from_millis(100));
/// assert_eq!(q.burst_size(), 5);
/// assert_eq!(Quota::per_minute(30).interval(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    interval: Duration,
    burst: u32,
}

impl Quota {
    /// `count` requests per `period` (a `count` of 0 is taken as 1, a zero period as 1 ns).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_core::layers::Quota;
    /// let q = Quota::new(100, Duration::from_secs(60));
    /// assert_eq!(q.interval(), Duration::from_millis(600));
    /// assert_eq!(q.burst_size(), 100);
    /// assert_eq!(Quota::per_hour(3600).interval(), Duration::from_secs(1));
    /// ```
    pub fn new(count: u32, period: Duration) -> Quota {
        let count = count.max(1);
        Quota {
            interval: (period / count).max(Duration::from_nanos(1)),
            burst: count,
        }
    }

    /// `count` requests per second.
    ///
    /// See [`Quota`] for an example.
    pub fn per_second(count: u32) -> Quota {
        Quota::new(count, Duration::from_secs(1))
    }

    /// `count` requests per minute.
    ///
    /// See [`Quota`] for an example.
    pub fn per_minute(count: u32) -> Quota {
        Quota::new(count, Duration::from_secs(60))
    }

    /// `count` requests per hour.
    ///
    /// See [`Quota::new`] for an example.
    pub fn per_hour(count: u32) -> Quota {
        Quota::new(count, Duration::from_secs(3600))
    }

    /// How many requests may arrive at once after a quiet spell (at least 1).
    ///
    /// See [`Quota`] for an example.
    pub fn burst(mut self, burst: u32) -> Quota {
        self.burst = burst.max(1);
        self
    }

    /// The time one token takes to come back.
    ///
    /// See [`Quota`] for an example.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The bucket's size.
    ///
    /// See [`Quota`] for an example.
    pub fn burst_size(&self) -> u32 {
        self.burst
    }

    /// How far ahead of now the bucket may be drawn: `interval × burst`.
    fn tolerance(&self) -> Duration {
        self.interval
            .checked_mul(self.burst)
            .unwrap_or(Duration::MAX)
    }
}

/// A backend's verdict.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::layers::Decision;
/// assert!(Decision::Allowed.is_allowed());
/// assert!(!Decision::Limited { retry_after: Duration::from_secs(1) }.is_allowed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; a token was taken.
    Allowed,
    /// Over the limit; nothing was taken.
    Limited {
        /// When the next token is due.
        retry_after: Duration,
    },
}

impl Decision {
    /// Whether the request may proceed.
    ///
    /// See [`Decision`] for an example.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

/// A backend failed (a shared store was unreachable, for instance).
///
/// ```
/// use mcp_core::layers::BackendError;
/// assert_eq!(BackendError::new("redis is down").to_string(), "rate-limit backend failed: redis is down");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("rate-limit backend failed: {message}")]
pub struct BackendError {
    message: String,
}

impl BackendError {
    /// An error with a description.
    ///
    /// See [`BackendError`] for an example.
    pub fn new(message: impl Into<String>) -> Self {
        BackendError {
            message: message.into(),
        }
    }
}

/// What [`RateLimitBackend::check`] returns.
///
/// See [`RateLimitBackend`] for an example.
pub type BackendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Decision, BackendError>> + Send + 'a>>;

/// Where buckets live: in memory ([`InMemoryBackend`]) or in a store shared by several
/// instances (Redis, for one), so that a client's limit holds across all of them.
///
/// ```
/// use mcp_core::layers::{BackendFuture, Decision, Quota, RateLimitBackend};
///
/// /// Lets everything through (a stand-in for a real store).
/// struct Unlimited;
///
/// impl RateLimitBackend for Unlimited {
///     fn check<'a>(&'a self, _key: &'a str, _quota: &'a Quota) -> BackendFuture<'a> {
///         Box::pin(async { Ok(Decision::Allowed) })
///     }
/// }
/// let layer = mcp_core::layers::RateLimitLayer::with_backend(std::sync::Arc::new(Unlimited));
/// # let _ = layer;
/// ```
pub trait RateLimitBackend: Send + Sync + 'static {
    /// Takes one token from the bucket `key` (sized by `quota`) if it has one.
    ///
    /// See [`RateLimitBackend`] for an example.
    fn check<'a>(&'a self, key: &'a str, quota: &'a Quota) -> BackendFuture<'a>;
}

/// Buckets in this process's memory. Bounded: at most `max_keys` buckets (100,000 by
/// default); full buckets are forgotten first, and beyond the bound the bucket nearest to
/// full is, which only ever errs towards letting a request through.
///
/// It reads the time from Tokio, so paused-time tests see deterministic limits.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use mcp_core::layers::{InMemoryBackend, Quota, RateLimitBackend};
/// let backend = InMemoryBackend::new();
/// let quota = Quota::per_second(1);
/// assert!(backend.check("alice", &quota).await.unwrap().is_allowed());
/// assert!(!backend.check("alice", &quota).await.unwrap().is_allowed());
/// assert!(backend.check("bob", &quota).await.unwrap().is_allowed());
/// # }
/// ```
#[derive(Debug)]
pub struct InMemoryBackend {
    shards: Box<[Mutex<HashMap<String, Instant>>]>,
    hasher: RandomState,
    max_per_shard: usize,
}

const SHARDS: usize = 16;

impl Default for InMemoryBackend {
    fn default() -> Self {
        Self::with_max_keys(100_000)
    }
}

impl InMemoryBackend {
    /// A backend holding at most 100,000 buckets.
    ///
    /// See [`InMemoryBackend`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// A backend holding at most `max_keys` buckets (at least 16).
    ///
    /// # Examples
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use mcp_core::layers::{InMemoryBackend, Quota, RateLimitBackend};
    /// let backend = InMemoryBackend::with_max_keys(10_000);
    /// assert!(backend.is_empty());
    /// backend.check("alice", &Quota::per_second(5)).await.unwrap();
    /// assert_eq!(backend.len(), 1);
    /// # }
    /// ```
    pub fn with_max_keys(max_keys: usize) -> Self {
        InMemoryBackend {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            max_per_shard: max_keys.div_ceil(SHARDS).max(1),
        }
    }

    /// How many buckets are held.
    ///
    /// See [`InMemoryBackend::with_max_keys`] for an example.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no bucket is held.
    ///
    /// See [`InMemoryBackend::with_max_keys`] for an example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// GCRA: the bucket is a "theoretical arrival time"; a request is allowed when moving it
    /// one interval ahead keeps it within `tolerance` of now.
    fn take(&self, key: &str, quota: &Quota, now: Instant) -> Decision {
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut buckets = lock(shard);
        let tat = buckets.get(key).copied().unwrap_or(now).max(now);
        let next = tat + quota.interval;
        let ahead = next - now;
        let tolerance = quota.tolerance();
        if ahead > tolerance {
            return Decision::Limited {
                retry_after: ahead - tolerance,
            };
        }
        if !buckets.contains_key(key) && buckets.len() >= self.max_per_shard {
            // A bucket whose time has passed is full again: the same as no bucket.
            buckets.retain(|_, t| *t > now);
            if buckets.len() >= self.max_per_shard {
                if let Some(oldest) = buckets
                    .iter()
                    .min_by_key(|(_, t)| **t)
                    .map(|(k, _)| k.clone())
                {
                    buckets.remove(&oldest);
                }
            }
        }
        match buckets.get_mut(key) {
            Some(t) => *t = next,
            None => {
                buckets.insert(key.to_owned(), next);
            }
        }
        Decision::Allowed
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RateLimitBackend for InMemoryBackend {
    fn check<'a>(&'a self, key: &'a str, quota: &'a Quota) -> BackendFuture<'a> {
        let decision = self.take(key, quota, Instant::now());
        Box::pin(std::future::ready(Ok(decision)))
    }
}

#[derive(Clone)]
struct Config {
    backend: Arc<dyn RateLimitBackend>,
    per_client: Option<Quota>,
    per_tool: HashMap<String, Quota>,
    default_per_tool: Option<Quota>,
    exempt: Vec<String>,
    fail_open: bool,
}

/// Rate limits per client and per tool.
///
/// - Over the **client**'s quota, any request (but the exempt methods, `ping` by default) is
///   answered with the error [`RATE_LIMITED`] (`-31429`); its `data` carries
///   `retryAfterSeconds`, which HTTP sends as 429 with `Retry-After`.
/// - Over a **tool**'s quota (counted per client and tool), the call is answered with an
///   `isError` result naming when to retry, so the model can read it; `_meta` carries
///   `retryAfterSeconds` too. Other tools stay available.
///
/// When the backend fails, requests go through (with a warning) unless
/// [`RateLimitLayer::fail_closed`] was set.
///
/// ```
/// use mcp_core::layers::{Quota, RateLimitLayer};
/// use mcp_core::{Router, Server};
///
/// async fn search() -> &'static str { "…" }
/// let server = Server::new(Router::new().tool_fn("search", search)).layer(
///     RateLimitLayer::new()
///         .per_client(Quota::per_second(10))
///         .per_tool("search", Quota::per_minute(30))
///         .default_per_tool(Quota::per_second(5)),
/// );
/// # let _ = server;
/// ```
#[derive(Clone)]
pub struct RateLimitLayer {
    config: Arc<Config>,
}

impl std::fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("per_client", &self.config.per_client)
            .field("per_tool", &self.config.per_tool)
            .field("default_per_tool", &self.config.default_per_tool)
            .field("exempt", &self.config.exempt)
            .field("fail_open", &self.config.fail_open)
            .finish_non_exhaustive()
    }
}

impl Default for RateLimitLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimitLayer {
    /// No limits yet, buckets in memory ([`InMemoryBackend`]).
    ///
    /// See [`RateLimitLayer`] for an example.
    pub fn new() -> Self {
        Self::with_backend(Arc::new(InMemoryBackend::new()))
    }

    /// No limits yet, buckets in `backend`.
    ///
    /// See [`RateLimitBackend`] for an example.
    pub fn with_backend(backend: Arc<dyn RateLimitBackend>) -> Self {
        RateLimitLayer {
            config: Arc::new(Config {
                backend,
                per_client: None,
                per_tool: HashMap::new(),
                default_per_tool: None,
                exempt: vec!["ping".to_owned()],
                fail_open: true,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Every client's quota, over all its requests.
    ///
    /// See [`RateLimitLayer`] for an example.
    pub fn per_client(self, quota: Quota) -> Self {
        self.edit(|c| c.per_client = Some(quota))
    }

    /// The quota of one tool, for each client.
    ///
    /// See [`RateLimitLayer`] for an example.
    pub fn per_tool(self, tool: impl Into<String>, quota: Quota) -> Self {
        self.edit(|c| {
            c.per_tool.insert(tool.into(), quota);
        })
    }

    /// The quota of every tool not given one with [`RateLimitLayer::per_tool`], for each
    /// client.
    ///
    /// See [`RateLimitLayer`] for an example.
    pub fn default_per_tool(self, quota: Quota) -> Self {
        self.edit(|c| c.default_per_tool = Some(quota))
    }

    /// Methods the client quota does not count (replaces the default, `["ping"]`).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use mcp_core::layers::{InMemoryBackend, Quota, RateLimitLayer};
    ///
    /// let layer = RateLimitLayer::with_backend(Arc::new(InMemoryBackend::with_max_keys(1_000)))
    ///     .per_client(Quota::per_second(20))
    ///     .exempt(["ping", "tasks/get"])
    ///     .fail_closed();
    /// # let _ = layer;
    /// ```
    pub fn exempt<I: IntoIterator<Item = impl Into<String>>>(self, methods: I) -> Self {
        self.edit(|c| c.exempt = methods.into_iter().map(Into::into).collect())
    }

    /// Rejects requests while the backend fails, instead of letting them through.
    ///
    /// See [`RateLimitLayer::exempt`] for an example.
    pub fn fail_closed(self) -> Self {
        self.edit(|c| c.fail_open = false)
    }
}

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service [`RateLimitLayer`] builds.
///
/// See [`RateLimitLayer`] for an example.
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

enum Scope {
    Client,
    Tool,
}

impl Config {
    /// Takes a token from `key`; `Err(wait)` when over the limit.
    async fn take(&self, key: &str, quota: &Quota) -> Result<(), Duration> {
        match self.backend.check(key, quota).await {
            Ok(Decision::Allowed) => Ok(()),
            Ok(Decision::Limited { retry_after }) => Err(retry_after),
            Err(e) if self.fail_open => {
                tracing::warn!(error = %e, "rate-limit backend failed; letting the request through");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "rate-limit backend failed; rejecting the request");
                Err(Duration::from_secs(1))
            }
        }
    }

    /// `None` to go ahead, or the limit that was hit and when to retry.
    async fn check(&self, req: &McpRequest) -> Option<(Scope, Duration)> {
        let client = req.meta.client_key();
        if let Some(quota) = &self.per_client {
            if !self.exempt.iter().any(|m| m == &req.method) {
                if let Err(wait) = self.take(&format!("client|{client}"), quota).await {
                    return Some((Scope::Client, wait));
                }
            }
        }
        // Names no tool can have are left to the runtime to reject; they get no bucket.
        let tool = tool_name(req).filter(|t| is_valid_tool_name(t))?;
        let quota = self.per_tool.get(tool).or(self.default_per_tool.as_ref())?;
        let key = format!("tool|{tool}|{client}");
        self.take(&key, quota)
            .await
            .err()
            .map(|wait| (Scope::Tool, wait))
    }
}

impl<S> tower::Service<McpRequest> for RateLimit<S>
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
        let config = self.config.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            match config.check(&req).await {
                None => inner.call(req).await,
                Some((Scope::Client, wait)) => Ok(Some(Err(ErrorObject::new(
                    RATE_LIMITED,
                    format!(
                        "rate limit exceeded: too many requests from this client; retry after {} s",
                        retry_after_secs(wait)
                    ),
                )
                .with_data(retry_data(wait, json!({"scope": "client"})))))),
                Some((Scope::Tool, wait)) => {
                    report(Outcome::RateLimited);
                    let secs = retry_after_secs(wait);
                    let mut meta = JsonObject::new();
                    meta.insert("retryAfterSeconds".into(), secs.into());
                    let name = tool_name(&req).unwrap_or_default();
                    Ok(tool_error(
                        req.era,
                        format!(
                            "rate limit exceeded for the tool {name:?}: it was called too often; retry after {secs} s"
                        ),
                        Some(meta),
                    ))
                }
            }
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
    async fn a_bucket_refills_one_token_per_interval() {
        let backend = InMemoryBackend::new();
        let quota = Quota::per_second(10);
        let mut allowed = 0;
        for _ in 0..10 {
            allowed += usize::from(backend.check("k", &quota).await.unwrap().is_allowed());
        }
        assert_eq!(allowed, 10, "the whole burst is available at once");
        match backend.check("k", &quota).await.unwrap() {
            Decision::Limited { retry_after } => {
                assert_eq!(retry_after, Duration::from_millis(100))
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(backend.check("k", &quota).await.unwrap().is_allowed());
        assert!(!backend.check("k", &quota).await.unwrap().is_allowed());
    }

    #[tokio::test(start_paused = true)]
    async fn the_key_map_stays_bounded() {
        let backend = InMemoryBackend::with_max_keys(64);
        let quota = Quota::per_minute(1);
        for i in 0..10_000 {
            assert!(backend
                .check(&format!("ip:{i}"), &quota)
                .await
                .unwrap()
                .is_allowed());
        }
        assert!(backend.len() <= 64, "{} buckets", backend.len());
    }

    #[tokio::test(start_paused = true)]
    async fn client_and_tool_limits_answer_differently() {
        let ok = Fixed::new(|_| Some(Ok(json!({"content": []}))));
        let layer = RateLimitLayer::new()
            .per_client(Quota::per_second(3))
            .per_tool("a", Quota::per_minute(1));
        let svc = layer.layer(ok);
        let call = |name: &str| request("tools/call", json!({"name": name}));

        let first = svc.clone().oneshot(call("a")).await.unwrap();
        assert_eq!(Outcome::of(&first), Outcome::Ok);
        let second = svc.clone().oneshot(call("a")).await.unwrap();
        let value = second.unwrap().unwrap();
        assert_eq!(value["isError"], true);
        assert_eq!(value["_meta"]["retryAfterSeconds"], 60);
        let text = value["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("retry after 60 s"), "{text}");
        let b = svc.clone().oneshot(call("b")).await.unwrap();
        assert_eq!(Outcome::of(&b), Outcome::Ok, "tool b is still available");

        let over = svc.clone().oneshot(call("b")).await.unwrap();
        let err = over.unwrap().unwrap_err();
        assert_eq!(err.code, RATE_LIMITED);
        let data = err.data.unwrap();
        assert_eq!(data["scope"], "client");
        assert_eq!(data["retryAfterSeconds"], 1);
        assert_eq!(data["retryAfterMs"], 333);

        // ping is exempt.
        let ping = svc
            .clone()
            .oneshot(request("ping", json!({})))
            .await
            .unwrap();
        assert_eq!(Outcome::of(&ping), Outcome::Ok);
    }

    struct Broken;

    impl RateLimitBackend for Broken {
        fn check<'a>(&'a self, _key: &'a str, _quota: &'a Quota) -> BackendFuture<'a> {
            Box::pin(async { Err(BackendError::new("down")) })
        }
    }

    #[tokio::test]
    async fn backend_failures_open_or_close() {
        let ok = Fixed::new(|_| Some(Ok(json!({}))));
        let open = RateLimitLayer::with_backend(Arc::new(Broken))
            .per_client(Quota::per_second(1))
            .layer(ok.clone());
        let r = open
            .oneshot(request("tools/list", json!({})))
            .await
            .unwrap();
        assert_eq!(Outcome::of(&r), Outcome::Ok);
        let closed = RateLimitLayer::with_backend(Arc::new(Broken))
            .per_client(Quota::per_second(1))
            .fail_closed()
            .layer(ok);
        let r = closed
            .oneshot(request("tools/list", json!({})))
            .await
            .unwrap();
        assert_eq!(Outcome::of(&r), Outcome::RateLimited);
    }
}
