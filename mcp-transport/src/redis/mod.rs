//! Redis-backed state for running several instances behind a load balancer (feature `redis`).
//!
//! One [`Redis`] handle gives every store the HTTP transport and the runtime need to treat N
//! instances as one server:
//!
//! | store | trait | what it makes possible |
//! |---|---|---|
//! | [`RedisSessionStore`] | [`SessionStore`](crate::http::SessionStore) | any instance serves any handshake-era session |
//! | [`RedisEventStore`] | [`EventStore`](crate::http::EventStore) | a client resumes an SSE stream on another instance, which follows it while its producer runs |
//! | [`RedisRelay`] | [`SessionRelay`](crate::http::SessionRelay) | the answer to an elicitation (or a cancellation) reaches the instance that waits for it |
//! | [`RedisTaskStore`] | [`TaskStore`](mcp_core::server::TaskStore) | a task started on one instance is polled, read and cancelled on another |
//! | [`RedisRateLimitBackend`] | [`RateLimitBackend`](mcp_core::layers::RateLimitBackend) | one client's quota holds across all instances together |
//!
//! Keys are namespaced (`<prefix>:…`, `mcp` by default) and all of them expire. Values carry a
//! format version (`"v": 1`): readers ignore fields they do not know, so a rolling upgrade that
//! adds fields reads old and new records alike; an incompatible change bumps the version, and
//! a reader refuses records newer than it understands.
//!
//! **When Redis is unavailable** every operation fails within a bounded time, never hangs: a
//! connection attempt is cut after [`RedisConfig::connect_timeout`], a command after
//! [`RedisConfig::command_timeout`], and after a failure a circuit breaker answers at once with
//! [`StoreError::Unavailable`] for [`RedisConfig::retry_interval`] before letting one attempt
//! through again. The transport turns that into 503 with `Retry-After` for requests that need a
//! session it does not hold; stateless 2026-07-28 requests never touch Redis (a rate limit
//! fails open by default). Recovery is automatic once Redis answers again.
//!
//! ```no_run
//! use std::sync::Arc;
//! use mcp_transport::http::{serve_with, shutdown_signal, HttpConfig, McpService};
//! use mcp_transport::redis::{Redis, RedisConfig};
//! # async fn run(router: mcp_core::Router, secret: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379").prefix("myapp"))?;
//! let server = mcp_core::Server::new(router)
//!     .with_state_key(secret) // the same secret on every instance
//!     .with_task_store(Arc::new(redis.task_store()));
//! let config = redis.http_config(HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve_with(McpService::new(server, config), listener, shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! The client is the `redis` crate's multiplexed Tokio connection: one TCP connection per
//! instance carries every command, pipelined, so there is no pool to size; the relay holds one
//! more for pub/sub. The reconnection and fast-failure policy is this module's own breaker
//! rather than the crate's `ConnectionManager`, whose retries and backoff would make a
//! request wait for Redis to come back.

mod conn;
mod events;
mod rate_limit;
mod relay;
mod session;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

pub use events::RedisEventStore;
pub use rate_limit::RedisRateLimitBackend;
pub use relay::RedisRelay;
pub use session::RedisSessionStore;
pub use tasks::RedisTaskStore;

use crate::http::{HttpConfig, StoreError};
use conn::Conn;

/// The version written into every value; readers refuse newer ones.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Settings of the Redis connection and stores. Every bound has a default.
///
/// ```
/// use std::time::Duration;
/// use mcp_transport::redis::RedisConfig;
/// let c = RedisConfig::new("redis://127.0.0.1:6379")
///     .prefix("myapp")
///     .command_timeout(Duration::from_millis(300));
/// assert_eq!(c.prefix, "myapp");
/// assert_eq!(c.connect_timeout, Duration::from_millis(500));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (or `rediss://` where TLS is compiled in).
    pub url: String,
    /// The namespace of every key and channel (`mcp`).
    pub prefix: String,
    /// The longest a connection attempt may take (500 ms).
    pub connect_timeout: Duration,
    /// The longest one command (or script) may take (500 ms).
    pub command_timeout: Duration,
    /// After a failure, how long operations fail at once before one is tried again (1 s).
    pub retry_interval: Duration,
    /// The most events kept per SSE stream (1,000); older ones are trimmed, and resuming
    /// before them is refused rather than silently skipped.
    pub max_events_per_stream: usize,
    /// How long an SSE stream's events are kept after its last event (1 hour).
    pub event_ttl: Duration,
    /// How often a follower looks for new events of a stream another instance produces
    /// (50 ms).
    pub follow_poll: Duration,
}

impl RedisConfig {
    /// Defaults for the server at `url`.
    ///
    /// See [`RedisConfig`] for an example.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: "mcp".into(),
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(500),
            retry_interval: Duration::from_secs(1),
            max_events_per_stream: 1000,
            event_ttl: Duration::from_secs(3600),
            follow_poll: Duration::from_millis(50),
        }
    }

    /// Sets the key namespace (several deployments may share one Redis).
    ///
    /// See [`RedisConfig`] for an example.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the connection timeout.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_transport::redis::RedisConfig;
    /// // A Redis across a slower network, with long-lived SSE resumption:
    /// let config = RedisConfig::new("redis://redis.internal:6379/2")
    ///     .connect_timeout(Duration::from_secs(2))
    ///     .command_timeout(Duration::from_secs(1))
    ///     .retry_interval(Duration::from_secs(5))
    ///     .max_events_per_stream(5_000)
    ///     .event_ttl(Duration::from_secs(6 * 3600));
    /// assert_eq!(config.max_events_per_stream, 5_000);
    /// ```
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets the command timeout.
    ///
    /// See [`RedisConfig::connect_timeout`] for an example.
    pub fn command_timeout(mut self, d: Duration) -> Self {
        self.command_timeout = d;
        self
    }

    /// Sets how long the breaker stays open after a failure.
    ///
    /// See [`RedisConfig::connect_timeout`] for an example.
    pub fn retry_interval(mut self, d: Duration) -> Self {
        self.retry_interval = d;
        self
    }

    /// Sets the number of events kept per SSE stream.
    ///
    /// See [`RedisConfig::connect_timeout`] for an example.
    pub fn max_events_per_stream(mut self, n: usize) -> Self {
        self.max_events_per_stream = n.max(1);
        self
    }

    /// Sets how long SSE events are kept.
    ///
    /// See [`RedisConfig::connect_timeout`] for an example.
    pub fn event_ttl(mut self, d: Duration) -> Self {
        self.event_ttl = d;
        self
    }
}

/// The Redis URL could not be used.
///
/// ```
/// use mcp_transport::redis::{Redis, RedisConfig};
/// let e = Redis::new(RedisConfig::new("http://nope")).unwrap_err();
/// assert!(e.to_string().contains("redis URL"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RedisSetupError {
    /// The URL is malformed or names an unsupported scheme.
    #[error("invalid redis URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, without its password.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A handle on one Redis deployment: makes the stores. Cheap to clone; clones share the
/// connection and its breaker.
///
/// Creating it does not connect: the first operation does, so an instance starts (and serves
/// stateless traffic) while Redis is still down.
///
/// # Examples
///
/// Every store of one deployment, wired into the HTTP transport and the runtime (nothing
/// connects until the first operation):
///
/// ```
/// use std::sync::Arc;
/// use mcp_core::layers::{Quota, RateLimitLayer};
/// use mcp_core::{Router, Server};
/// use mcp_transport::http::{HttpConfig, McpService};
/// use mcp_transport::redis::{Redis, RedisConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379").prefix("shop"))?;
/// assert_eq!(redis.config().prefix, "shop");
/// let server = Server::new(Router::new())
///     .with_state_key(b"the same secret on every instance!")
///     .with_task_store(Arc::new(redis.task_store()))
///     .layer(RateLimitLayer::with_backend(Arc::new(redis.rate_limit_backend())).per_client(Quota::per_second(20)));
/// let config = HttpConfig::default()
///     .session_store(Arc::new(redis.session_store()))
///     .event_store(Arc::new(redis.event_store()))
///     .relay(Arc::new(redis.relay()));
/// let service = McpService::new(server, config);
/// # let _ = service;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Redis {
    conn: Arc<Conn>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.conn.config.prefix)
            .field("available", &self.is_available())
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// A handle for the server `config.url` names.
    ///
    /// See [`Redis`] for an example.
    pub fn new(config: RedisConfig) -> Result<Redis, RedisSetupError> {
        Ok(Redis {
            conn: Arc::new(Conn::new(config)?),
        })
    }

    /// The settings.
    ///
    /// See [`Redis`] for an example.
    pub fn config(&self) -> &RedisConfig {
        &self.conn.config
    }

    /// Sends `PING`: whether Redis answers now (within the command timeout).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_transport::redis::{Redis, RedisConfig};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Nothing listens on port 1: the failure is quick and the breaker opens.
    /// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:1").connect_timeout(Duration::from_millis(200))).unwrap();
    /// assert!(redis.is_available(), "no operation failed yet");
    /// assert!(redis.ping().await.is_err());
    /// assert!(!redis.is_available());
    /// # }
    /// ```
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .run(|mut c| async move { ::redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }

    /// Whether the breaker is closed (the last operation reached Redis, or none failed yet).
    ///
    /// See [`Redis::ping`] for an example.
    pub fn is_available(&self) -> bool {
        self.conn.is_available()
    }

    /// The session store.
    ///
    /// See [`Redis`] for an example.
    pub fn session_store(&self) -> RedisSessionStore {
        RedisSessionStore::new(self.conn.clone())
    }

    /// The SSE event store.
    ///
    /// See [`Redis`] for an example.
    pub fn event_store(&self) -> RedisEventStore {
        RedisEventStore::new(self.conn.clone())
    }

    /// The relay between instances (pub/sub on `<prefix>:relay`).
    ///
    /// See [`Redis`] for an example.
    pub fn relay(&self) -> RedisRelay {
        RedisRelay::new(self.conn.clone())
    }

    /// The task store, for [`Server::with_task_store`](mcp_core::Server::with_task_store).
    ///
    /// See [`Redis`] for an example.
    pub fn task_store(&self) -> RedisTaskStore {
        RedisTaskStore::new(self.conn.clone())
    }

    /// The rate-limit backend, for
    /// [`RateLimitLayer::with_backend`](mcp_core::layers::RateLimitLayer::with_backend).
    ///
    /// See [`Redis`] for an example.
    pub fn rate_limit_backend(&self) -> RedisRateLimitBackend {
        RedisRateLimitBackend::new(self.conn.clone())
    }

    /// `config` with this deployment's session store, event store and relay.
    ///
    /// ```
    /// use mcp_transport::http::HttpConfig;
    /// use mcp_transport::redis::{Redis, RedisConfig};
    /// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")).unwrap();
    /// let config = redis.http_config(HttpConfig::default());
    /// assert!(config.relay.is_some());
    /// ```
    pub fn http_config(&self, config: HttpConfig) -> HttpConfig {
        config
            .session_store(Arc::new(self.session_store()))
            .event_store(Arc::new(self.event_store()))
            .relay(Arc::new(self.relay()))
    }
}

/// `<prefix>:<kind>:<rest>`.
pub(crate) fn key(conn: &Conn, kind: &str, rest: &str) -> String {
    format!("{}:{kind}:{rest}", conn.config.prefix)
}

/// Refuses values written by a newer, incompatible format.
pub(crate) fn check_version(v: u32, what: &str) -> Result<(), StoreError> {
    if v > FORMAT_VERSION {
        return Err(StoreError::Unavailable(format!(
            "the {what} was written in format v{v}; this instance reads up to v{FORMAT_VERSION}"
        )));
    }
    Ok(())
}

/// Milliseconds of a duration, at least 1 (Redis refuses a zero expiry).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests;
