//! Streamable HTTP: one endpoint (default `/mcp`) serving both protocol eras.
//!
//! [`McpService`] is a tower `Service` over `http::Request`s, so it mounts anywhere a tower
//! service does (axum's `Router::route_service`, for one; see the `axum-mount` example). [`serve`]
//! runs it on a socket with graceful shutdown: on ctrl-c or SIGTERM it stops accepting, ends
//! idle streams, lets calls in flight finish up to a deadline, then returns. Mounted elsewhere,
//! call [`McpService::shutdown`] when that server starts its own graceful shutdown.
//!
//! Secure by default: `Host` and `Origin` must be loopback names unless configured otherwise
//! (403), bodies are capped at 4 MiB (413), wrong `Content-Type` is 415, an `Accept` without
//! JSON and SSE is 406, other methods are 405, malformed JSON is 400 with `-32700`, JSON-RPC
//! batches are refused except by 2025-03-26 sessions, slow clients meet header and body
//! deadlines, every per-stream queue is bounded, and TCP_NODELAY is on (the last two deadlines
//! and TCP_NODELAY are [`serve_with`]'s; a server you mount the service in brings its own).
//!
//! Refusals at the HTTP level carry a JSON-RPC error body with `-32600` (`-32603` for 5xx), so
//! no SDK-internal code reaches the wire.
//!
//! ```no_run
//! use mcp_core::{Args, Router, ToolDef};
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo { text: String }
//! async fn echo(Args(e): Args<Echo>) -> String { e.text }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let router: Router = Router::new().tool(ToolDef::new("echo", echo).description("Echoes"));
//!     mcp_transport::http::serve(router, "127.0.0.1:8080".parse().unwrap()).await
//! }
//! ```

mod headers;
mod security;
mod session;
mod sse;
mod store;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use mcp_core::context::{Outgoing, OutgoingKind};
use mcp_core::era::{claims_modern, meta_only, Envelope};
use mcp_core::identity::{Identity, RequestMeta};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, ParseError, RequestId};
use mcp_core::layers::{Metrics, TrustedProxies, RATE_LIMITED, UNAVAILABLE};
use mcp_core::protocol::{ClientCapabilities, InitializeParams, ProtocolVersion};
use mcp_core::server::Unsolicited;
use mcp_core::{Connection, Router, Server};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util_free::CancelFlag;

pub use security::Allowlist;
pub use session::{InMemorySessionStore, SessionRecord, SessionStore};
pub use store::{
    EventStore, Followed, InMemoryEventStore, RelayMessage, SessionRelay, StoreError, StoreFuture,
};

use session::{LiveStream, Session, Sessions, UnsolicitedQueue};

/// The TCP peer of a request: [`serve_with`] puts it in the request's extensions (when
/// mounting [`McpService`] elsewhere, insert it yourself).
///
/// # Examples
/// ```
/// use mcp_core::Router;
/// use mcp_transport::http::{McpService, PeerAddr};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let service = McpService::from_router(Router::new());
/// // Mounted in another server: tell the transport who the client is.
/// let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
/// let mut req = http::Request::post("/mcp")
///     .header("host", "localhost")
///     .header("content-type", "application/json")
///     .header("accept", "application/json, text/event-stream")
///     .header("mcp-protocol-version", "2025-06-18")
///     .body(http_body_util::Full::new(bytes::Bytes::from(body)))
///     .unwrap();
/// req.extensions_mut().insert(PeerAddr("203.0.113.9:51000".parse().unwrap()));
/// let resp = service.handle(req).await;
/// assert!(resp.status().is_client_error()); // no session: `initialize` first
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The response body type.
///
/// See [`McpService::handle`] for an example.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

const SESSION_HEADER: &str = "mcp-session-id";
const MCP_JSON: &str = "application/json";
const SSE: &str = "text/event-stream";

/// Settings of the HTTP transport. Every limit has a safe default.
///
/// ```
/// use mcp_transport::http::HttpConfig;
/// let config = HttpConfig::default().json_response(true).max_sessions(500);
/// assert_eq!(config.max_body_bytes, 4 * 1024 * 1024);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Accepted `Host`/`Origin` names (loopback by default).
    pub allow: Allowlist,
    /// The largest request body, in bytes (4 MiB).
    pub max_body_bytes: usize,
    /// Answer requests with plain JSON only, never SSE: notifications are dropped, and
    /// handshake-era server→client requests travel on the session's GET stream.
    pub json_response: bool,
    /// Handshake era without sessions: no `Mcp-Session-Id` is minted or required.
    pub stateless: bool,
    /// Sessions idle this long (no request, no open stream, no call in flight) are closed.
    pub session_idle_timeout: Duration,
    /// The most sessions at once; beyond it `initialize` gets 503.
    pub max_sessions: usize,
    /// Messages queued per response stream before the handler waits: a client that stops
    /// reading stalls its own calls instead of growing server memory.
    pub stream_queue: usize,
    /// SSE keep-alive comment interval.
    pub keep_alive: Duration,
    /// The deadline for reading a whole request body.
    pub body_read_timeout: Duration,
    /// The deadline for reading request headers (applies to [`serve`]).
    pub header_read_timeout: Duration,
    /// The `retry` hint of the priming event, in milliseconds.
    pub sse_retry_ms: u64,
    /// How long graceful shutdown waits for in-flight calls and their responses (applies to
    /// [`serve_with`]).
    pub shutdown_grace: Duration,
    /// The endpoint path (applies to [`serve`]).
    pub path: String,
    /// Where SSE events are kept for resumption.
    pub event_store: Arc<dyn EventStore>,
    /// Where session records are kept for other instances. By default nowhere: one
    /// instance keeps its live sessions in memory and needs no second copy of them.
    pub session_store: Arc<dyn SessionStore>,
    /// Carries client messages to the other instances serving the same sessions (none by
    /// default: one instance). See [`SessionRelay`].
    pub relay: Option<Arc<dyn SessionRelay>>,
    /// Proxies whose `X-Forwarded-For` is believed when resolving the client's address (none
    /// by default: the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// Where the session count goes (`mcp_sessions`).
    pub metrics: Option<Metrics>,
    /// `/healthz`, `/readyz` (and `/metrics`) answered on the MCP listener too (applies to
    /// [`serve_with`]).
    pub ops: Option<crate::metrics::OpsEndpoints>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("allow", &self.allow)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("json_response", &self.json_response)
            .field("stateless", &self.stateless)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allow: Allowlist::loopback(),
            max_body_bytes: 4 * 1024 * 1024,
            json_response: false,
            stateless: false,
            session_idle_timeout: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
            stream_queue: 256,
            keep_alive: Duration::from_secs(15),
            body_read_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            sse_retry_ms: 1000,
            shutdown_grace: Duration::from_secs(10),
            path: "/mcp".into(),
            event_store: Arc::new(InMemoryEventStore::default()),
            session_store: Arc::new(session::ProcessLocal),
            relay: None,
            trusted_proxies: TrustedProxies::default(),
            metrics: None,
            ops: None,
        }
    }
}

impl HttpConfig {
    /// Believes `X-Forwarded-For` as far as these proxies wrote it.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_core::layers::{Metrics, TrustedProxies};
    /// use mcp_transport::http::{Allowlist, HttpConfig};
    ///
    /// let metrics = Metrics::new();
    /// let config = HttpConfig::default()
    ///     .allow(Allowlist::with_hosts(["mcp.example.com"]))
    ///     .trusted_proxies(TrustedProxies::new(["10.0.0.0/8"]).unwrap())
    ///     .metrics(&metrics)
    ///     .path("/api/mcp")
    ///     .max_body_bytes(1024 * 1024)
    ///     .max_sessions(1_000)
    ///     .session_idle_timeout(Duration::from_secs(600));
    /// assert_eq!(config.path, "/api/mcp");
    /// assert!(config.allow.host_allowed("mcp.example.com:443"));
    /// ```
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Reports opened and closed sessions to `metrics`.
    ///
    /// See [`HttpConfig::trusted_proxies`] for an example.
    pub fn metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Serves these operations endpoints beside the MCP endpoint.
    ///
    /// See [`OpsEndpoints`](crate::metrics::OpsEndpoints) for an example.
    pub fn ops(mut self, ops: crate::metrics::OpsEndpoints) -> Self {
        self.ops = Some(ops);
        self
    }

    /// Sets the accepted host names.
    ///
    /// See [`HttpConfig::trusted_proxies`] for an example.
    pub fn allow(mut self, allow: Allowlist) -> Self {
        self.allow = allow;
        self
    }

    /// JSON-only responses for the handshake era.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::http::HttpConfig;
    /// // Behind a proxy that buffers responses: no SSE, no sessions.
    /// let config = HttpConfig::default().json_response(true).stateless(true);
    /// assert!(config.json_response && config.stateless);
    /// ```
    pub fn json_response(mut self, on: bool) -> Self {
        self.json_response = on;
        self
    }

    /// Sessionless handshake era.
    ///
    /// See [`HttpConfig::json_response`] for an example.
    pub fn stateless(mut self, on: bool) -> Self {
        self.stateless = on;
        self
    }

    /// The session cap.
    ///
    /// See [`HttpConfig::trusted_proxies`] for an example.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// The idle timeout of sessions.
    ///
    /// See [`HttpConfig::trusted_proxies`] for an example.
    pub fn session_idle_timeout(mut self, d: Duration) -> Self {
        self.session_idle_timeout = d;
        self
    }

    /// The body size cap.
    ///
    /// See [`HttpConfig::trusted_proxies`] for an example.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The endpoint path used by [`serve`].
    ///
    /// See [`HttpConfig::trusted_proxies`] for an example.
    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = p.into();
        self
    }

    /// Replaces the event store.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use mcp_transport::http::{HttpConfig, InMemoryEventStore, InMemorySessionStore};
    ///
    /// let config = HttpConfig::default()
    ///     .event_store(Arc::new(InMemoryEventStore::new(1_000, 500)))
    ///     .session_store(Arc::new(InMemorySessionStore::default()));
    /// assert!(config.relay.is_none());
    /// ```
    pub fn event_store(mut self, s: Arc<dyn EventStore>) -> Self {
        self.event_store = s;
        self
    }

    /// Replaces the session store.
    ///
    /// See [`HttpConfig::event_store`] for an example.
    pub fn session_store(mut self, s: Arc<dyn SessionStore>) -> Self {
        self.session_store = s;
        self
    }

    /// Relays client messages between instances (see [`SessionRelay`]).
    ///
    /// See [`SessionRelay`] for an example.
    pub fn relay(mut self, r: Arc<dyn SessionRelay>) -> Self {
        self.relay = Some(r);
        self
    }
}

mod tokio_util_free {
    //! A tiny one-shot "stop" flag with async waiting.
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::sync::Notify;

    #[derive(Debug, Default)]
    pub(crate) struct CancelFlag {
        set: AtomicBool,
        notify: Notify,
    }

    impl CancelFlag {
        pub(crate) fn cancel(&self) {
            self.set.store(true, Ordering::SeqCst);
            self.notify.notify_waiters();
        }

        pub(crate) fn is_cancelled(&self) -> bool {
            self.set.load(Ordering::SeqCst)
        }

        pub(crate) async fn cancelled(&self) {
            loop {
                let notified = self.notify.notified();
                if self.is_cancelled() {
                    return;
                }
                notified.await;
            }
        }
    }
}

struct Inner {
    server: Server,
    /// Serves stateless 2026-07-28 calls.
    modern: Arc<Connection>,
    /// Serves 2026-07-28 `subscriptions/listen` streams, apart from calls so that shutdown can
    /// end the streams without cancelling the calls.
    listen: Arc<Connection>,
    config: HttpConfig,
    sessions: Sessions,
    shutdown: CancelFlag,
    /// Whether the idle-session reaper runs (it needs a tokio runtime to start in).
    reaper: std::sync::atomic::AtomicBool,
    /// Whether the relay listener runs (likewise).
    relay_listener: std::sync::atomic::AtomicBool,
    /// Tells this process's SSE streams apart from other instances' (`<hex>-`).
    instance: String,
}

/// The Streamable HTTP endpoint as a tower `Service`.
///
/// ```
/// use mcp_transport::http::{HttpConfig, McpService};
/// let router: mcp_core::Router = mcp_core::Router::new();
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # rt.block_on(async {
/// let service = McpService::new(mcp_core::Server::new(router), HttpConfig::default());
/// # let _ = service; });
/// ```
#[derive(Clone)]
pub struct McpService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for McpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl McpService {
    /// A service for `server`. The idle-session reaper starts here when called inside a tokio
    /// runtime, otherwise with the first request.
    ///
    /// See [`McpService`] for an example.
    pub fn new(server: Server, config: HttpConfig) -> Self {
        let modern = Connection::new_modern(&server);
        let listen = Connection::new_modern(&server);
        // Unauthenticated 2026-07-28 tasks are visible to whoever holds their (unguessable)
        // id, as on one instance, so on every instance sharing the task store.
        modern.set_task_owner("http:anonymous");
        listen.set_task_owner("http:anonymous");
        let inner = Arc::new(Inner {
            server,
            modern,
            listen,
            config,
            sessions: Sessions::default(),
            shutdown: CancelFlag::default(),
            reaper: std::sync::atomic::AtomicBool::new(false),
            relay_listener: std::sync::atomic::AtomicBool::new(false),
            instance: instance_tag(),
        });
        ensure_reaper(&inner);
        McpService { inner }
    }

    /// A service for a router with the default configuration.
    ///
    /// See [`McpService::shutdown`] for an example.
    pub fn from_router(router: Router) -> Self {
        Self::new(Server::new(router), HttpConfig::default())
    }

    /// Starts a graceful shutdown: idle streams (handshake-era GET streams, 2026-07-28
    /// `subscriptions/listen` streams) end now, new requests get 503 with `Retry-After`, and
    /// calls in flight go on to their answers. [`serve_with`] calls this when its shutdown
    /// future completes; call it yourself when the service is mounted in another server, then
    /// [`McpService::close`] once that server's own graceful shutdown is over.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_transport::http::McpService;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let service = McpService::from_router(Router::new());
    /// // The server this service is mounted in begins its graceful shutdown:
    /// service.shutdown();
    /// assert!(service.is_shutting_down());
    /// // …and once it is over:
    /// service.close();
    /// assert_eq!(service.session_count(), 0);
    /// # }
    /// ```
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.listen.close();
    }

    /// Ends everything at once: every session is closed and forgotten, and the cancellation
    /// token of every call still running fires. The last step of a shutdown.
    ///
    /// See [`McpService::shutdown`] for an example.
    pub fn close(&self) {
        self.shutdown();
        for s in self.inner.sessions.drain() {
            if let Some(m) = &self.inner.config.metrics {
                m.session_closed();
            }
            s.connection.close();
        }
        self.inner.modern.close();
    }

    /// Whether [`McpService::shutdown`] was called.
    ///
    /// See [`McpService::shutdown`] for an example.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    /// How many handshake-era sessions are open.
    ///
    /// See [`McpService::handle`] for an example.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// Handles one request.
    ///
    /// # Examples
    /// ```
    /// use http_body_util::{BodyExt, Full};
    /// use mcp_core::Router;
    /// use mcp_transport::http::{HttpConfig, McpService};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let service = McpService::new(mcp_core::Server::new(Router::new()), HttpConfig::default().json_response(true));
    /// let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{
    ///     "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"doc","version":"1"}}}"#;
    /// let req = http::Request::post("/mcp")
    ///     .header("host", "127.0.0.1:8080")
    ///     .header("content-type", "application/json")
    ///     .header("accept", "application/json, text/event-stream")
    ///     .body(Full::new(bytes::Bytes::from(initialize)))?;
    /// let resp = service.handle(req).await;
    /// assert_eq!(resp.status(), http::StatusCode::OK);
    /// assert!(resp.headers().contains_key("mcp-session-id"));
    /// assert_eq!(service.session_count(), 1);
    /// let body = resp.into_body().collect().await?.to_bytes();
    /// assert!(std::str::from_utf8(&body)?.contains(r#""protocolVersion":"2025-06-18""#));
    ///
    /// // Another site's page may not talk to a local server.
    /// let req = http::Request::post("/mcp")
    ///     .header("host", "127.0.0.1:8080")
    ///     .header("origin", "https://evil.example")
    ///     .header("content-type", "application/json")
    ///     .header("accept", "application/json, text/event-stream")
    ///     .body(Full::new(bytes::Bytes::from(initialize)))?;
    /// assert_eq!(service.handle(req).await.status(), http::StatusCode::FORBIDDEN);
    /// # Ok(()) }
    /// ```
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        handle(self.inner.clone(), req).await
    }
}

impl<B> tower_service::Service<Request<B>> for McpService
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(handle(inner, req).await) })
    }
}

/// Starts the idle-session reaper (and the relay listener) once, if a runtime is at hand.
fn ensure_reaper(inner: &Arc<Inner>) {
    use std::sync::atomic::Ordering;
    ensure_relay_listener(inner);
    if inner.reaper.load(Ordering::Relaxed) {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if inner.reaper.swap(true, Ordering::AcqRel) {
        return;
    }
    let inner = Arc::downgrade(inner);
    rt.spawn(async move {
        loop {
            let period = match inner.upgrade() {
                Some(i) => (i.config.session_idle_timeout / 4)
                    .clamp(Duration::from_millis(50), Duration::from_secs(30)),
                None => return,
            };
            tokio::time::sleep(period).await;
            let Some(inner) = inner.upgrade() else { return };
            if inner.shutdown.is_cancelled() {
                return;
            }
            for s in inner.sessions.reap(inner.config.session_idle_timeout) {
                tracing::debug!(session = %s.id, "closing an idle session");
                // With shared stores the session may be busy on another instance: forget only
                // this process's part; the record expires by its TTL.
                if inner.config.session_store.shared() {
                    s.connection.close();
                } else {
                    end_session(&inner, &s).await;
                }
            }
        }
    });
}

/// A random tag for this process's stream ids.
fn instance_tag() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    format!("{:08x}-", u32::from_le_bytes(b))
}

/// Ends a session everywhere: its connection here, its events and record in the stores, and
/// (through the relay) its connections on other instances.
async fn end_session(inner: &Inner, s: &Session) {
    if let Some(m) = &inner.config.metrics {
        m.session_closed();
    }
    s.connection.close();
    let _ = inner.config.event_store.forget(&format!("{}.", s.id)).await;
    let _ = inner.config.session_store.remove(&s.id).await;
    if let Some(relay) = &inner.config.relay {
        let ended = RelayMessage::Ended {
            session: s.id.clone(),
        };
        if let Err(e) = relay.publish(&ended).await {
            tracing::warn!(%e, session = %s.id, "could not tell the other instances that a session ended");
        }
    }
}

/// Starts applying what other instances relay, once, if a runtime is at hand.
fn ensure_relay_listener(inner: &Arc<Inner>) {
    use std::sync::atomic::Ordering;
    let Some(relay) = inner.config.relay.clone() else {
        return;
    };
    if inner.relay_listener.load(Ordering::Relaxed)
        || tokio::runtime::Handle::try_current().is_err()
    {
        return;
    }
    if inner.relay_listener.swap(true, Ordering::AcqRel) {
        return;
    }
    let mut rx = relay.subscribe();
    let weak = Arc::downgrade(inner);
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let Some(inner) = weak.upgrade() else { return };
            apply_relayed(&inner, message).await;
        }
    });
}

/// Methods whose effect on a session's state every instance holding it must see.
const SESSION_STATE_METHODS: [&str; 3] = [
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// Applies a message another instance relayed, if this process holds the session.
async fn apply_relayed(inner: &Inner, message: RelayMessage) {
    match message {
        RelayMessage::Ended { session } => {
            if let Some(s) = inner.sessions.remove(&session) {
                tracing::debug!(session = %s.id, "the session ended on another instance");
                s.connection.close();
            }
        }
        RelayMessage::TaskUpdate { json, subject } => {
            let Ok(message @ Message::Request(_)) = Message::parse(json.as_bytes()) else {
                return;
            };
            let mut meta = RequestMeta::default();
            if let Some(subject) = subject {
                meta = meta.with_identity(Identity::new(subject));
            }
            if let Some(fut) = inner
                .modern
                .receive_inline_with(message, mpsc::channel(1).0, meta)
            {
                fut.await;
            }
        }
        RelayMessage::Client { session, json } => {
            let Some(s) = inner.sessions.get(&session) else {
                return;
            };
            let Ok(message) = Message::parse(json.as_bytes()) else {
                tracing::debug!(session = %session, "ignoring a malformed relayed message");
                return;
            };
            match message {
                Message::Request(r) if SESSION_STATE_METHODS.contains(&r.method.as_str()) => {
                    apply_state_request(&s.connection, Message::Request(r)).await;
                }
                Message::Request(r) => {
                    tracing::debug!(method = %r.method, "ignoring a relayed request");
                }
                other => s.connection.receive(other, mpsc::channel(1).0),
            }
        }
    }
}

/// Runs a session-state request (`logging/setLevel`, `resources/(un)subscribe`) to its end,
/// discarding the answer.
async fn apply_state_request(conn: &Arc<Connection>, message: Message) {
    if let Some(fut) = conn.receive_inline(message, mpsc::channel(1).0) {
        fut.await;
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = status;
    r
}

fn json_body(status: StatusCode, json: String) -> Response<Body> {
    let mut r = Response::new(full(json));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MCP_JSON));
    r
}

fn rpc_error(status: StatusCode, id: Option<&RequestId>, error: ErrorObject) -> Response<Body> {
    json_body(
        status,
        json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
    )
}

/// A refusal at the HTTP level, with a JSON-RPC error body so clients can read it. Only
/// codes the specifications define go on the wire: `-32600` for a request the transport will
/// not take, `-32603` for a server-side failure (the HTTP status carries the detail).
fn http_error(status: StatusCode, message: &str) -> Response<Body> {
    let code = if status.is_server_error() {
        ErrorCode::INTERNAL_ERROR
    } else {
        ErrorCode::INVALID_REQUEST
    };
    rpc_error(status, None, ErrorObject::new(code, message))
}

fn with_allow(mut r: Response<Body>, allow: &'static str) -> Response<Body> {
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn sse_response(
    stream: impl Stream<Item = Bytes> + Send + 'static,
    session: Option<&str>,
) -> Response<Body> {
    let body = StreamBody::new(stream.map(|b| Ok::<_, Infallible>(Frame::data(b)))).boxed_unsync();
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SSE));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Some(sid) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        h.insert(SESSION_HEADER, sid);
    }
    r
}

fn set_session(mut r: Response<Body>, session: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(session) {
        r.headers_mut().insert(SESSION_HEADER, v);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Request handling

fn accepts(headers: &HeaderMap, json: bool, sse: bool) -> bool {
    let mut has_json = false;
    let mut has_sse = false;
    for v in headers.get_all(header::ACCEPT) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(',') {
            let mut pieces = part.split(';');
            let t = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            // `q=0` means "not acceptable".
            let refused = pieces.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match t.as_str() {
                "*/*" => {
                    has_json = true;
                    has_sse = true;
                }
                "application/*" | "application/json" => has_json = true,
                "text/*" | "text/event-stream" => has_sse = true,
                _ => {}
            }
        }
    }
    (!json || has_json) && (!sse || has_sse)
}

async fn handle<B>(inner: Arc<Inner>, req: Request<B>) -> Response<Body>
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    ensure_reaper(&inner);
    if let Err(refusal) = security::check(
        &inner.config.allow,
        req.headers(),
        req.uri().authority().map(|a| a.as_str()),
    ) {
        let what = match refusal {
            security::Refusal::Host => "Forbidden: the Host header is not an allowed host name",
            security::Refusal::Origin => "Forbidden: the Origin header is not an allowed origin",
        };
        return http_error(StatusCode::FORBIDDEN, what);
    }
    match *req.method() {
        Method::POST => post(inner, req).await,
        Method::GET if inner.shutdown.is_cancelled() => shutting_down(),
        Method::GET => {
            let meta = request_meta(&inner, &req);
            get(inner, req.headers(), &meta).await
        }
        Method::DELETE => {
            let meta = request_meta(&inner, &req);
            delete(inner, req.headers(), &meta).await
        }
        _ => with_allow(
            http_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed: use POST (or GET/DELETE with a session)",
            ),
            "GET, POST, DELETE",
        ),
    }
}

async fn read_body<B>(inner: &Inner, req: Request<B>) -> Result<(HeaderMap, Bytes), Response<Body>>
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let max = inner.config.max_body_bytes;
    let too_large = || {
        http_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Payload too large: the body limit is {max} bytes"),
        )
    };
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max as u64 {
            return Err(too_large());
        }
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(
        inner.config.body_read_timeout,
        Limited::new(body, max).collect(),
    )
    .await
    {
        Err(_) => Err(http_error(
            StatusCode::REQUEST_TIMEOUT,
            "Request timeout: the body did not arrive in time",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(http_error(
            StatusCode::BAD_REQUEST,
            &format!("Bad request: could not read the body: {e}"),
        )),
        Ok(Ok(collected)) => Ok((parts.headers, collected.to_bytes())),
    }
}

async fn post<B>(inner: Arc<Inner>, req: Request<B>) -> Response<Body>
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !accepts(req.headers(), true, !inner.config.json_response)
        && !accepts(req.headers(), true, true)
    {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable: the Accept header must include application/json and text/event-stream",
        );
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(MCP_JSON) {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type: Content-Type must be application/json",
        );
    }
    // The caller an authentication layer (`auth::BearerAuth`) established, for the runtime.
    let meta = request_meta(&inner, &req);
    let (headers, bytes) = match read_body(&inner, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if is_batch(&bytes) {
        return batch_post(inner, &bytes, &headers, meta).await;
    }
    let message = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(e @ ParseError::NotJson(_)) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::PARSE_ERROR, format!("Parse error: {e}")),
            )
        }
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, e.id(), e.to_error_object()),
    };
    let raw_params = match &message {
        Message::Request(r) => r.params.as_deref(),
        Message::Notification(n) => n.params.as_deref(),
        Message::Response(_) => None,
    };
    let version_header = security::single(&headers, "mcp-protocol-version")
        .ok()
        .flatten()
        .map(str::trim);
    let header_is_modern = version_header
        .and_then(|v| v.parse::<ProtocolVersion>().ok())
        .is_some_and(|v| v.is_modern());
    // The era is decided by `_meta` alone; only 2026-07-28 requests need the params as JSON
    // here (their ladder checks headers against the arguments).
    let claimed = claims_modern(raw_params.and_then(meta_only).as_ref());
    let is_initialize = message.method() == Some("initialize");
    if claimed || (header_is_modern && !is_initialize) {
        let params = raw_params.and_then(|p| serde_json::from_str(p.get()).ok());
        return modern_post(&inner, message, params, &headers, meta).await;
    }
    legacy_post(inner, message, &headers, meta).await
}

/// What the runtime learns about a request besides its body: the caller an authentication
/// layer put in the extensions as `Arc<Identity>`.
fn request_meta<B>(inner: &Inner, req: &Request<B>) -> RequestMeta {
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    RequestMeta {
        identity: req.extensions().get::<Arc<Identity>>().cloned(),
        remote_addr: req
            .extensions()
            .get::<PeerAddr>()
            .map(|p| inner.config.trusted_proxies.resolve(p.0, forwarded)),
        session_id: None,
        traceparent: security::single(req.headers(), "traceparent")
            .ok()
            .flatten()
            .map(str::to_owned),
    }
}

// ---- 2026-07-28 -----------------------------------------------------------------------------

fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn modern_post(
    inner: &Inner,
    message: Message,
    params: Option<Value>,
    headers: &HeaderMap,
    meta: RequestMeta,
) -> Response<Body> {
    let req = match message {
        Message::Request(r) => r,
        // Notifications (cancellation is the stream closing) and stray responses: accepted.
        _ => return empty(StatusCode::ACCEPTED),
    };
    let id = req.id.clone();
    // Answers for a task that may be waiting on another instance: passed on once accepted.
    let task_update = (req.method == "tasks/update" && inner.config.relay.is_some()).then(|| {
        (
            serde_json::to_string(&Message::Request(req.clone())).unwrap_or_default(),
            meta.identity.as_ref().map(|i| i.subject.clone()),
        )
    });
    // Rung 1: the envelope.
    let envelope = match Envelope::from_params(params.as_ref()) {
        Ok(e) => e,
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, Some(&id), e),
    };
    // Rung 2: headers agree with the body.
    if let Err(e) = headers::check_standard(
        headers,
        &envelope.protocol_version,
        &req.method,
        params.as_ref(),
    ) {
        return rpc_error(StatusCode::BAD_REQUEST, Some(&id), e);
    }
    // Rungs 3-5.
    if let Err(e) = inner.modern.check_modern(&req.method, params.as_ref()) {
        return rpc_error(status_for(e.code), Some(&id), e);
    }
    // Rung 6: mirrored arguments.
    if req.method == "tools/call" {
        let name = params
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(tool) = inner.server.tool(name) {
            let args = params.as_ref().and_then(|p| p.get("arguments"));
            if let Err(e) = headers::check_params(headers, &tool.input_schema, args) {
                return rpc_error(StatusCode::BAD_REQUEST, Some(&id), e);
            }
        }
    }
    if inner.shutdown.is_cancelled() {
        return shutting_down();
    }
    let listen = req.method == "subscriptions/listen";
    let conn = if listen { &inner.listen } else { &inner.modern };
    let (tx, mut rx) = mpsc::channel::<Outgoing>(inner.config.stream_queue.max(1));
    let Some(mut fut) = conn.receive_inline_with(Message::Request(req), tx, meta) else {
        return empty(StatusCode::ACCEPTED);
    };
    let mut done = false;
    let first = tokio::select! {
        biased;
        item = rx.recv() => item,
        _ = &mut fut => { done = true; rx.recv().await }
    };
    let Some(first) = first else {
        return http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request ended without an answer",
        );
    };
    if first.kind == OutgoingKind::Response {
        if let (Some((json, subject)), Some(relay)) = (task_update, &inner.config.relay) {
            let accepted =
                serde_json::from_str::<Value>(&first.json).is_ok_and(|v| v.get("result").is_some());
            if accepted {
                let update = RelayMessage::TaskUpdate { json, subject };
                if let Err(e) = relay.publish(&update).await {
                    tracing::warn!(%e, "could not relay tasks/update to the other instances");
                }
            }
        }
        return answer_body(first.json);
    }
    if inner.config.json_response && !listen {
        // JSON-only: drop notifications, wait for the answer (still cancellable by disconnect).
        if !done {
            let mut fut = fut;
            loop {
                tokio::select! {
                    biased;
                    item = rx.recv() => match item {
                        Some(o) if o.kind == OutgoingKind::Response => return answer_body(o.json),
                        Some(_) => continue,
                        None => break,
                    },
                    _ = &mut fut => {}
                }
            }
        }
        while let Some(o) = rx.recv().await {
            if o.kind == OutgoingKind::Response {
                return answer_body(o.json);
            }
        }
        return http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request ended without an answer",
        );
    }
    let stream = InlineStream {
        fut: if done { None } else { Some(fut) },
        rx,
        pending: Some(sse::event(None, &first.json)),
        ended: false,
        keep_alive: listen.then(|| {
            tokio::time::interval_at(
                tokio::time::Instant::now() + inner.config.keep_alive,
                inner.config.keep_alive,
            )
        }),
    };
    sse_response(stream, None)
}

/// The status of a single JSON-RPC answer, and its `Retry-After`: `-32021` (a capability
/// missing from this request) is a 400, `-31429` (a client over its rate limit) a 429 and
/// `-31503` (overloaded, audit unavailable) a 503, both with `Retry-After:
/// error.data.retryAfterSeconds` when present; other errors are the handler's and travel
/// with 200.
fn response_status(json: &str) -> (StatusCode, Option<u64>) {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return (StatusCode::OK, None);
    };
    let Some(error) = v.get("error") else {
        return (StatusCode::OK, None);
    };
    let retry = error
        .get("data")
        .and_then(|d| d.get("retryAfterSeconds"))
        .and_then(Value::as_u64);
    match error.get("code").and_then(Value::as_i64).map(ErrorCode) {
        Some(ErrorCode::MISSING_CAPABILITY) => (StatusCode::BAD_REQUEST, None),
        Some(RATE_LIMITED) => (StatusCode::TOO_MANY_REQUESTS, Some(retry.unwrap_or(1))),
        Some(UNAVAILABLE) => (StatusCode::SERVICE_UNAVAILABLE, retry),
        _ => (StatusCode::OK, None),
    }
}

/// A single JSON-RPC answer with the status [`response_status`] gives it.
fn answer_body(json: String) -> Response<Body> {
    let (status, retry) = response_status(&json);
    let mut r = json_body(status, json);
    if let Some(secs) = retry {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// An SSE body that also drives the request's future: dropping the body (the client went
/// away) drops the future, which cancels the handler.
struct InlineStream {
    fut: Option<mcp_core::handler::BoxFuture<()>>,
    rx: mpsc::Receiver<Outgoing>,
    pending: Option<Bytes>,
    ended: bool,
    keep_alive: Option<tokio::time::Interval>,
}

impl Stream for InlineStream {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Bytes>> {
        if let Some(b) = self.pending.take() {
            return Poll::Ready(Some(b));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        if let Some(fut) = self.fut.as_mut() {
            if fut.as_mut().poll(cx).is_ready() {
                self.fut = None;
            }
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(o)) => {
                if o.kind == OutgoingKind::Response {
                    self.ended = true;
                }
                Poll::Ready(Some(sse::event(None, &o.json)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let tick = self
                    .keep_alive
                    .as_mut()
                    .is_some_and(|k| k.poll_tick(cx).is_ready());
                if tick {
                    Poll::Ready(Some(sse::keep_alive()))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

// ---- handshake era --------------------------------------------------------------------------

fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No CSPRNG: refuse to mint predictable ids.
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn version_header_error(headers: &HeaderMap) -> Option<Response<Body>> {
    match security::single(headers, "mcp-protocol-version") {
        Ok(None) => None,
        Ok(Some(v)) => match v.trim().parse::<ProtocolVersion>() {
            Ok(p) if p.is_handshake() => None,
            _ => Some(http_error(
                StatusCode::BAD_REQUEST,
                &format!("Bad Request: unsupported MCP-Protocol-Version {v:?}; supported: 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25"),
            )),
        },
        Err(()) => Some(http_error(StatusCode::BAD_REQUEST, "Bad Request: MCP-Protocol-Version must appear once")),
    }
}

/// A session another caller created is as unknown to this caller as a missing one.
fn owned_by(s: &Session, meta: &RequestMeta) -> bool {
    match s.subject.get() {
        None => true,
        Some(owner) => meta
            .identity
            .as_ref()
            .is_some_and(|id| &id.subject == owner),
    }
}

fn not_found_session() -> Response<Body> {
    http_error(
        StatusCode::NOT_FOUND,
        "Not Found: unknown, expired or terminated session; initialize a new one",
    )
}

async fn session_for(
    inner: &Inner,
    headers: &HeaderMap,
    meta: &RequestMeta,
) -> Result<Arc<Session>, Response<Body>> {
    let s = session_lookup(inner, headers).await?;
    if !owned_by(&s, meta) {
        return Err(not_found_session());
    }
    Ok(s)
}

async fn session_lookup(
    inner: &Inner,
    headers: &HeaderMap,
) -> Result<Arc<Session>, Response<Body>> {
    let sid = match security::single(headers, SESSION_HEADER) {
        Ok(Some(s)) => s.trim().to_owned(),
        Ok(None) => {
            return Err(http_error(
                StatusCode::BAD_REQUEST,
                "Bad Request: Mcp-Session-Id header is required; send initialize first",
            ))
        }
        Err(()) => {
            return Err(http_error(
                StatusCode::BAD_REQUEST,
                "Bad Request: Mcp-Session-Id must appear once",
            ))
        }
    };
    if let Some(s) = inner.sessions.get(&sid) {
        s.touch();
        refresh_record(inner, &s);
        return Ok(s);
    }
    // Another instance may have created it (shared session store).
    let record = match inner.config.session_store.get(&sid).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%e, "the session store failed");
            return Err(with_retry(http_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Service unavailable: the session cannot be loaded ({e}); retry later"),
            )));
        }
    };
    if let Some(record) = record {
        if let Ok(version) = record.protocol_version.parse::<ProtocolVersion>() {
            let queue = UnsolicitedQueue::new(inner.config.stream_queue);
            let conn = Connection::resume_handshake(
                &inner.server,
                version,
                record.client_capabilities.clone(),
                record.client_info.clone(),
                queue.for_connection(),
            );
            // The session's state as the client left it on other instances.
            let mut state = Vec::new();
            if let Some(level) = &record.log_level {
                state.push(("logging/setLevel", json!({ "level": level })));
            }
            for uri in &record.subscriptions {
                state.push(("resources/subscribe", json!({ "uri": uri })));
            }
            for (i, (method, params)) in state.into_iter().enumerate() {
                let text = json!({"jsonrpc": "2.0", "id": format!("revive-{i}"), "method": method, "params": params});
                if let Ok(m) = Message::from_value(text) {
                    apply_state_request(&conn, m).await;
                }
            }
            let s = Arc::new(Session::new(
                sid.clone(),
                conn,
                version,
                queue,
                &inner.instance,
            ));
            if let Some(subject) = record.subject.clone() {
                let _ = s.subject.set(subject);
            }
            // A concurrent request may have revived it first: use that one.
            if let Some(kept) = inner
                .sessions
                .get_or_insert(s.clone(), inner.config.max_sessions)
            {
                if !Arc::ptr_eq(&kept, &s) {
                    s.connection.close();
                }
                kept.touch();
                return Ok(kept);
            }
            s.connection.close();
            return Err(with_retry(http_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable: too many open sessions; retry later",
            )));
        }
    }
    Err(http_error(
        StatusCode::NOT_FOUND,
        "Not Found: unknown, expired or terminated session; initialize a new one",
    ))
}

/// Extends the shared record's lifetime now and then while the session is in use here (at
/// most once per eighth of the idle timeout), without making the request wait for it.
fn refresh_record(inner: &Inner, s: &Session) {
    let store = &inner.config.session_store;
    if !store.shared() {
        return;
    }
    let ttl = inner.config.session_idle_timeout;
    {
        let mut last = s.refreshed.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() < (ttl / 8).max(Duration::from_millis(100)) {
            return;
        }
        *last = tokio::time::Instant::now();
    }
    let store = store.clone();
    let id = s.id.clone();
    tokio::spawn(async move {
        if let Err(e) = store.touch(&id, ttl).await {
            tracing::debug!(%e, "could not extend the session record's lifetime");
        }
    });
}

/// The handshake version a sessionless request speaks: its header, else 2025-03-26.
fn stateless_version(headers: &HeaderMap) -> ProtocolVersion {
    security::single(headers, "mcp-protocol-version")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<ProtocolVersion>().ok())
        .filter(|v| v.is_handshake())
        .unwrap_or(ProtocolVersion::V2025_03_26)
}

/// Whether a request is served without a session (stateless mode, no `Mcp-Session-Id`).
fn is_sessionless(inner: &Inner, headers: &HeaderMap) -> bool {
    inner.config.stateless
        && security::single(headers, SESSION_HEADER)
            .ok()
            .flatten()
            .is_none()
}

/// A throwaway handshake-era connection for one sessionless POST.
fn stateless_connection(inner: &Inner, version: ProtocolVersion) -> Arc<Connection> {
    // Nothing unsolicited can reach a sessionless client: a queue is made only if something
    // is sent anyway, and then dropped unread.
    let nowhere = Unsolicited::lazy(|| mpsc::channel(1).0);
    Connection::new_handshake(
        &inner.server,
        version,
        ClientCapabilities::default(),
        nowhere,
    )
}

/// The connection (and session, if any) that serves a handshake-era POST.
async fn connection_for(
    inner: &Inner,
    headers: &HeaderMap,
    meta: &RequestMeta,
) -> Result<(Arc<Connection>, Option<Arc<Session>>, ProtocolVersion), Response<Body>> {
    if is_sessionless(inner, headers) {
        let version = stateless_version(headers);
        return Ok((stateless_connection(inner, version), None, version));
    }
    let session = session_for(inner, headers, meta).await?;
    Ok((
        session.connection.clone(),
        Some(session.clone()),
        session.version,
    ))
}

fn with_session(r: Response<Body>, session: Option<&Arc<Session>>) -> Response<Body> {
    match session {
        Some(s) => set_session(r, &s.id),
        None => r,
    }
}

async fn legacy_post(
    inner: Arc<Inner>,
    message: Message,
    headers: &HeaderMap,
    meta: RequestMeta,
) -> Response<Body> {
    if let Some(r) = version_header_error(headers) {
        return r;
    }
    if let Message::Request(req) = &message {
        if req.method == "initialize" {
            return initialize(&inner, message, meta).await;
        }
        // Answers and notifications still flow during shutdown (an in-flight call may be
        // waiting for the client's reply); new requests do not.
        if inner.shutdown.is_cancelled() {
            return shutting_down();
        }
    }
    let (conn, session, _) = match connection_for(&inner, headers, &meta).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut meta = meta;
    if let Some(s) = &session {
        meta.session_id = Some(Arc::from(s.id.as_str()));
        relay_client_message(&inner, s, &message).await;
    }
    match message {
        Message::Request(req) => {
            let (tx, rx) = mpsc::channel(inner.config.stream_queue.max(1));
            conn.receive_with(Message::Request(req), tx, meta);
            respond(inner, session, rx, 1, false, Vec::new()).await
        }
        other => {
            conn.receive_with(other, mpsc::channel(1).0, meta);
            with_session(empty(StatusCode::ACCEPTED), session.as_ref())
        }
    }
}

/// Passes on to the other instances what they must see of a client message: answers to
/// server→client requests and cancellations (the request may live elsewhere), and changes of
/// session state, which are also saved in the session record for instances that revive the
/// session later.
async fn relay_client_message(inner: &Inner, session: &Session, message: &Message) {
    let json = match message {
        Message::Response(_) => serde_json::to_string(message).ok(),
        Message::Notification(n) if n.method == "notifications/cancelled" => {
            serde_json::to_string(message).ok()
        }
        Message::Request(r) if SESSION_STATE_METHODS.contains(&r.method.as_str()) => {
            let params: Option<Value> = r
                .params
                .as_deref()
                .and_then(|p| serde_json::from_str(p.get()).ok());
            if !save_session_state(inner, &session.id, &r.method, params.as_ref()).await {
                return;
            }
            // A fresh id: the client's own is answered here.
            let relay_id = format!(
                "relay-{}{}",
                inner.instance,
                new_session_id().get(..8).unwrap_or("0")
            );
            Some(
                json!({"jsonrpc": "2.0", "id": relay_id, "method": r.method, "params": params})
                    .to_string(),
            )
        }
        _ => None,
    };
    let (Some(relay), Some(json)) = (&inner.config.relay, json) else {
        return;
    };
    let message = RelayMessage::Client {
        session: session.id.clone(),
        json,
    };
    if let Err(e) = relay.publish(&message).await {
        tracing::warn!(%e, session = %session.id, "could not relay a client message to the other instances");
    }
}

/// Saves a session-state change in the shared record; `false` when the request is malformed
/// (it will fail here, so there is nothing to pass on).
async fn save_session_state(
    inner: &Inner,
    sid: &str,
    method: &str,
    params: Option<&Value>,
) -> bool {
    let field = |name: &str| {
        params
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let change = match method {
        "logging/setLevel" => match field("level") {
            Some(l)
                if serde_json::from_value::<mcp_core::protocol::LoggingLevel>(json!(l)).is_ok() =>
            {
                l
            }
            _ => return false,
        },
        _ => match field("uri") {
            Some(u) => u,
            None => return false,
        },
    };
    let store = &inner.config.session_store;
    if !store.shared() {
        return true;
    }
    match store.get(sid).await {
        Ok(Some(mut rec)) => {
            match method {
                "logging/setLevel" => rec.log_level = Some(change),
                "resources/subscribe" => {
                    if !rec.subscriptions.contains(&change) && rec.subscriptions.len() < 1000 {
                        rec.subscriptions.push(change);
                    }
                }
                _ => rec.subscriptions.retain(|u| *u != change),
            }
            if let Err(e) = store.put(&rec, inner.config.session_idle_timeout).await {
                tracing::warn!(%e, "could not save a session-state change");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(%e, "could not save a session-state change"),
    }
    true
}

/// Whether a body is a JSON array (a JSON-RPC batch).
fn is_batch(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// A JSON-RPC batch: accepted from 2025-03-26 sessions (the one revision whose transport
/// requires it), refused with 400 `-32600` by every other revision.
async fn batch_post(
    inner: Arc<Inner>,
    bytes: &[u8],
    headers: &HeaderMap,
    meta: RequestMeta,
) -> Response<Body> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let items: Vec<Value> = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::PARSE_ERROR, format!("Parse error: {e}")),
            )
        }
    };
    let refuse = |why: String| {
        rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            ErrorObject::new(ErrorCode::INVALID_REQUEST, why),
        )
    };
    let header_is_modern = security::single(headers, "mcp-protocol-version")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<ProtocolVersion>().ok())
        .is_some_and(|v| v.is_modern());
    let claimed = items.iter().any(|i| claims_modern(i.get("params")));
    if header_is_modern || claimed {
        return refuse(
            "Invalid request: 2026-07-28 takes exactly one JSON-RPC message per POST, not a batch"
                .into(),
        );
    }
    if let Some(r) = version_header_error(headers) {
        return r;
    }
    if items.is_empty() {
        return refuse("Invalid request: an empty JSON-RPC batch".into());
    }
    if items
        .iter()
        .any(|i| i.get("method").and_then(Value::as_str) == Some("initialize"))
    {
        return refuse("Invalid request: initialize must not be part of a JSON-RPC batch".into());
    }
    let (conn, session, version) = match connection_for(&inner, headers, &meta).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut meta = meta;
    if let Some(s) = &session {
        meta.session_id = Some(Arc::from(s.id.as_str()));
    }
    if version != ProtocolVersion::V2025_03_26 {
        return with_session(
            refuse(format!(
                "Invalid request: protocol version {} has no JSON-RPC batches (only 2025-03-26 does); send one message per POST",
                version.as_str()
            )),
            session.as_ref(),
        );
    }
    let mut answers = Vec::new();
    let mut messages = Vec::new();
    for item in items {
        match Message::from_value(item) {
            Ok(m) => messages.push(m),
            Err(e) => answers.push(
                json!({"jsonrpc": "2.0", "id": e.id(), "error": e.to_error_object()}).to_string(),
            ),
        }
    }
    let requests = messages
        .iter()
        .filter(|m| matches!(m, Message::Request(_)))
        .count();
    if requests > 0 && inner.shutdown.is_cancelled() {
        return shutting_down();
    }
    if let Some(s) = &session {
        for m in &messages {
            relay_client_message(&inner, s, m).await;
        }
    }
    let (tx, rx) = mpsc::channel(inner.config.stream_queue.max(1));
    for m in messages {
        match m {
            Message::Request(r) => conn.receive_with(Message::Request(r), tx.clone(), meta.clone()),
            other => conn.receive_with(other, mpsc::channel(1).0, meta.clone()),
        }
    }
    drop(tx);
    if requests == 0 && answers.is_empty() {
        return with_session(empty(StatusCode::ACCEPTED), session.as_ref());
    }
    respond(inner, session, rx, requests, true, answers).await
}

async fn initialize(inner: &Inner, message: Message, meta: RequestMeta) -> Response<Body> {
    if inner.shutdown.is_cancelled() {
        return shutting_down();
    }
    let stateful = !inner.config.stateless;
    if stateful && inner.sessions.len() >= inner.config.max_sessions {
        return with_retry(http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable: too many open sessions; retry later",
        ));
    }
    if let Some(m) = &inner.config.metrics {
        m.session_opened();
    }
    // What the session store keeps about the client.
    let declared = match &message {
        Message::Request(r) => r
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str::<InitializeParams>(p.get()).ok()),
        _ => None,
    };
    let queue = UnsolicitedQueue::new(inner.config.stream_queue);
    let conn = Connection::new(&inner.server, queue.for_connection());
    let (tx, mut rx) = mpsc::channel(4);
    conn.receive_with(message, tx, meta.clone());
    let Some(answer) = rx.recv().await else {
        conn.close();
        return http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "initialize was not answered",
        );
    };
    let Some(version) = conn.handshake_version() else {
        conn.close();
        return json_body(StatusCode::OK, answer.json);
    };
    if !stateful {
        conn.close();
        return json_body(StatusCode::OK, answer.json);
    }
    let id = new_session_id();
    if id.is_empty() {
        conn.close();
        return http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no secure random source to mint a session id",
        );
    }
    let session = Arc::new(Session::new(
        id.clone(),
        conn,
        version,
        queue,
        &inner.instance,
    ));
    if let Some(identity) = &meta.identity {
        let _ = session.subject.set(identity.subject.clone());
    }
    if !inner
        .sessions
        .insert(session.clone(), inner.config.max_sessions)
    {
        session.connection.close();
        return with_retry(http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable: too many open sessions; retry later",
        ));
    }
    let (client_capabilities, client_info) = match declared {
        Some(p) => (p.capabilities, Some(p.client_info)),
        None => (ClientCapabilities::default(), None),
    };
    let rec = SessionRecord {
        id: id.clone(),
        protocol_version: version.as_str().into(),
        client_capabilities,
        client_info,
        subject: meta.identity.as_ref().map(|i| i.subject.clone()),
        ..SessionRecord::default()
    };
    if let Err(e) = inner
        .config
        .session_store
        .put(&rec, inner.config.session_idle_timeout)
        .await
    {
        // Without its record no other instance could serve the session: refuse it now
        // rather than fail on the client's next request.
        tracing::warn!(%e, "could not save the session record");
        inner.sessions.remove(&id);
        session.connection.close();
        return with_retry(http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Service unavailable: the session cannot be saved ({e}); retry later"),
        ));
    }
    set_session(json_body(StatusCode::OK, answer.json), &id)
}

fn shutting_down() -> Response<Body> {
    with_retry(http_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service unavailable: the server is shutting down",
    ))
}

fn with_retry(mut r: Response<Body>) -> Response<Body> {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// Answers the requests of one POST (one request, or the `expected` requests of a 2025-03-26
/// batch, plus `answers` already made for its malformed members).
///
/// Plain JSON when nothing but the answers comes; an SSE stream as soon as a notification or a
/// server→client request comes first (JSON-only mode drops those and never streams). A session
/// gets a resumable stream; a sessionless request a plain one.
async fn respond(
    inner: Arc<Inner>,
    session: Option<Arc<Session>>,
    mut rx: mpsc::Receiver<Outgoing>,
    expected: usize,
    batch: bool,
    mut answers: Vec<String>,
) -> Response<Body> {
    // A session with a call in flight is not idle, whatever the client does meanwhile.
    let _busy = session.as_ref().map(StreamGuard::new);
    let mut got = 0;
    let mut interjection = None;
    while got < expected {
        let Some(o) = rx.recv().await else { break };
        if o.kind == OutgoingKind::Response {
            answers.push(o.json);
            got += 1;
        } else if !inner.config.json_response {
            interjection = Some(o);
            break;
        } else if o.kind == OutgoingKind::Request {
            // JSON-only: a server→client request cannot ride this response; the session's GET
            // stream carries it instead (notifications are dropped in this mode).
            match &session {
                Some(s) => {
                    if s.unsolicited.sender().try_send(o).is_err() {
                        tracing::warn!(session = %s.id, "GET stream queue full; a server request was dropped");
                    }
                }
                None => tracing::debug!(
                    "sessionless JSON-only request: a server→client request cannot be delivered"
                ),
            }
        }
    }
    let Some(first) = interjection else {
        let json = if batch {
            (!answers.is_empty()).then(|| format!("[{}]", answers.join(",")))
        } else {
            answers.pop()
        };
        return match json {
            Some(json) if batch => with_session(json_body(StatusCode::OK, json), session.as_ref()),
            Some(json) => with_session(answer_body(json), session.as_ref()),
            None => with_session(
                http_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request ended without an answer",
                ),
                session.as_ref(),
            ),
        };
    };
    let head: Vec<Outgoing> = answers
        .into_iter()
        .map(|json| Outgoing {
            kind: OutgoingKind::Response,
            json,
        })
        .chain(std::iter::once(first))
        .collect();
    let remaining = expected - got;
    match session {
        Some(s) => resumable_stream(inner, s, head, rx, remaining),
        None => plain_stream(&inner, head, rx, remaining),
    }
}

/// An SSE stream without event ids: `head`, then messages until `remaining` more answers.
fn plain_stream(
    inner: &Inner,
    head: Vec<Outgoing>,
    rx: mpsc::Receiver<Outgoing>,
    remaining: usize,
) -> Response<Body> {
    let head = futures_util::stream::iter(head.into_iter().map(|o| sse::event(None, &o.json)));
    let keep_alive = inner.config.keep_alive;
    let tick = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    let rest = futures_util::stream::unfold(
        (rx, remaining, tick),
        |(mut rx, left, mut tick)| async move {
            if left == 0 {
                return None;
            }
            tokio::select! {
                o = rx.recv() => {
                    let o = o?;
                    let left = if o.kind == OutgoingKind::Response { left - 1 } else { left };
                    Some((sse::event(None, &o.json), (rx, left, tick)))
                }
                _ = tick.tick() => Some((sse::keep_alive(), (rx, left, tick))),
            }
        },
    );
    sse_response(head.chain(rest), None)
}

/// The handshake-era SSE response of a session: events get ids and are kept in the event
/// store; if the client drops the stream, the call goes on and the client can resume with
/// `Last-Event-ID`.
fn resumable_stream(
    inner: Arc<Inner>,
    session: Arc<Session>,
    head: Vec<Outgoing>,
    mut rx: mpsc::Receiver<Outgoing>,
    remaining: usize,
) -> Response<Body> {
    let stream_id = session.new_stream_id();
    let (sub_tx, sub_rx) = mpsc::channel::<(u64, Bytes)>(inner.config.stream_queue.max(1));
    session
        .live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            stream_id.clone(),
            LiveStream {
                subscriber: Some(sub_tx),
                appended: 0,
            },
        );
    let prime = (session.version >= ProtocolVersion::V2025_11_25)
        .then(|| sse::priming(&format!("{stream_id}:0"), inner.config.sse_retry_ms));
    // The producer outlives the HTTP response: it stores every event and forwards it to
    // whoever is attached.
    let producer_session = session.clone();
    let producer_inner = inner.clone();
    let sid = stream_id.clone();
    let busy = StreamGuard::new(&session);
    tokio::spawn(async move {
        // Until the last answer is stored the session is busy, attached client or not.
        let _busy = busy;
        let mut head = head.into_iter();
        let mut left = remaining;
        loop {
            let o = match head.next() {
                Some(o) => o,
                None if left == 0 => break,
                None => match rx.recv().await {
                    Some(o) => {
                        if o.kind == OutgoingKind::Response {
                            left -= 1;
                        }
                        o
                    }
                    None => break,
                },
            };
            let event_id = match producer_inner
                .config
                .event_store
                .append(&sid, &o.json)
                .await
            {
                Ok(id) => id,
                Err(e) => {
                    tracing::warn!(%e, "event store unavailable; the event cannot be replayed");
                    format!("{sid}:0")
                }
            };
            let seq = store::parse_event_id(&event_id).map_or(0, |(_, n)| n);
            let bytes = sse::event(Some(&event_id), &o.json);
            let subscriber = {
                let mut live = producer_session
                    .live
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                live.get_mut(&sid).and_then(|l| {
                    l.appended = l.appended.max(seq);
                    l.subscriber.clone()
                })
            };
            if let Some(sub) = subscriber {
                if sub.send((seq, bytes)).await.is_err() {
                    if let Some(l) = producer_session
                        .live
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(&sid)
                    {
                        // Only forget the subscriber that went away, not a newer one.
                        if l.subscriber.as_ref().is_some_and(|s| s.is_closed()) {
                            l.subscriber = None;
                        }
                    }
                }
            }
        }
        // Other instances following this stream for a client that resumed there end it now.
        if let Err(e) = producer_inner.config.event_store.finish(&sid).await {
            tracing::debug!(%e, "could not mark an SSE stream finished");
        }
        // Finished streams stay replayable through the event store; forget the live entry
        // (dropping the subscriber ends the client's stream).
        producer_session
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&sid);
    });
    let guard = StreamGuard::new(&session);
    let body = futures_util::stream::iter(prime)
        .chain(subscriber_stream(sub_rx, 0, inner.config.keep_alive))
        .map(move |b| {
            let _ = &guard;
            b
        });
    sse_response(body, Some(&session.id))
}

/// Counts open streams and calls in flight, so idle reaping leaves a busy session alone.
struct StreamGuard(Arc<Session>);

impl StreamGuard {
    fn new(s: &Arc<Session>) -> Self {
        s.open_streams
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        StreamGuard(s.clone())
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0
            .open_streams
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.0.touch();
    }
}

/// Events from a live stream, skipping those already replayed (sequence <= `after`), with
/// keep-alive comments while nothing comes.
fn subscriber_stream(
    rx: mpsc::Receiver<(u64, Bytes)>,
    after: u64,
    keep_alive: Duration,
) -> impl Stream<Item = Bytes> + Send {
    let tick = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    futures_util::stream::unfold((rx, tick), move |(mut rx, mut tick)| async move {
        loop {
            let item = tokio::select! {
                i = rx.recv() => i,
                _ = tick.tick() => return Some((sse::keep_alive(), (rx, tick))),
            };
            let (seq, bytes) = item?;
            if seq > after || seq == 0 {
                return Some((bytes, (rx, tick)));
            }
        }
    })
}

async fn get(inner: Arc<Inner>, headers: &HeaderMap, meta: &RequestMeta) -> Response<Body> {
    let has_session = security::single(headers, SESSION_HEADER)
        .ok()
        .flatten()
        .is_some();
    if !has_session {
        return with_allow(http_error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed: GET needs an Mcp-Session-Id (handshake era); 2026-07-28 uses POST only"), "POST");
    }
    if !accepts(headers, false, true) {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable: the Accept header must include text/event-stream",
        );
    }
    if let Some(r) = version_header_error(headers) {
        return r;
    }
    let session = match session_for(&inner, headers, meta).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let last_event_id = security::single(headers, "last-event-id")
        .ok()
        .flatten()
        .map(str::to_owned);
    match last_event_id {
        Some(last) => resume(inner, session, &last).await,
        None => unsolicited_stream(inner, session, None).await,
    }
}

async fn resume(inner: Arc<Inner>, session: Arc<Session>, last: &str) -> Response<Body> {
    let Some((stream_id, after)) = store::parse_event_id(last) else {
        return http_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: malformed Last-Event-ID",
        );
    };
    if !stream_id.starts_with(&format!("{}.", session.id)) {
        return http_error(
            StatusCode::NOT_FOUND,
            "Not Found: that event stream does not belong to this session",
        );
    }
    if stream_id == session.get_stream_id() {
        return unsolicited_stream(inner, session, Some(last.to_owned())).await;
    }
    // Attach first, then replay: whatever is appended after the replay snapshot reaches the new
    // subscriber, and duplicates are dropped by sequence number.
    let (sub_tx, sub_rx) = mpsc::channel::<(u64, Bytes)>(inner.config.stream_queue.max(1));
    // `Some(n)`: the stream is still producing, and had handed on events up to `n` when we
    // attached; everything after that reaches the new subscriber.
    let attached = {
        let mut live = session.live.lock().unwrap_or_else(|p| p.into_inner());
        live.get_mut(stream_id).map(|l| {
            l.subscriber = Some(sub_tx);
            l.appended
        })
    };
    if attached.is_none() {
        // Not produced here: finished, or produced by another instance.
        return follow_stream(inner, session, last.to_owned(), after).await;
    }
    let live = attached.is_some();
    let replay = match inner.config.event_store.replay_after(last).await {
        Ok(Some(events)) => events,
        // A live stream with nothing stored yet (the client resumes right after the priming
        // event): nothing to replay, the rest comes live.
        Ok(None) if after == 0 && attached == Some(0) => Vec::new(),
        Ok(None) => {
            return http_error(
                StatusCode::NOT_FOUND,
                "Not Found: those events are no longer available",
            )
        }
        Err(e) => {
            return with_retry(http_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Service unavailable: {e}"),
            ))
        }
    };
    let last_replayed = replay
        .last()
        .and_then(|(id, _)| store::parse_event_id(id))
        .map_or(after, |(_, n)| n);
    let replayed: Vec<Bytes> = replay
        .iter()
        .map(|(id, m)| sse::event(Some(id), m))
        .collect();
    let guard = StreamGuard::new(&session);
    let tail = if live {
        Some(subscriber_stream(
            sub_rx,
            last_replayed,
            inner.config.keep_alive,
        ))
    } else {
        None
    };
    let body = futures_util::stream::iter(replayed)
        .chain(futures_util::stream::iter(tail).flatten())
        .map(move |b| {
            let _ = &guard;
            b
        });
    sse_response(body, Some(&session.id))
}

/// A resumed stream that this process does not produce: what the event store holds after
/// `last`, then (with a shared store, while another instance is still producing the stream)
/// the events as they are stored, until the stream is finished. Bounded by the session idle
/// timeout; a store failure ends it (the client resumes again later).
async fn follow_stream(
    inner: Arc<Inner>,
    session: Arc<Session>,
    last: String,
    after: u64,
) -> Response<Body> {
    let store = inner.config.event_store.clone();
    let first = match store.follow(&last, Duration::ZERO).await {
        Ok(Some(f)) => f,
        // Resuming right after the priming event of a stream another instance has not stored
        // anything in yet.
        Ok(None) if after == 0 && store.shared() => Followed::default(),
        Ok(None) => {
            return http_error(
                StatusCode::NOT_FOUND,
                "Not Found: those events are no longer available",
            )
        }
        Err(e) => {
            return with_retry(http_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Service unavailable: {e}"),
            ))
        }
    };
    let guard = StreamGuard::new(&session);
    let cursor = first.events.last().map_or(last, |(id, _)| id.clone());
    let head: Vec<Bytes> = first
        .events
        .iter()
        .map(|(id, m)| sse::event(Some(id), m))
        .collect();
    let deadline = tokio::time::Instant::now() + inner.config.session_idle_timeout;
    let state = (inner, cursor, first.finished, tokio::time::Instant::now());
    let tail = futures_util::stream::unfold(state, move |(inner, cursor, done, mut quiet)| {
        let store = store.clone();
        async move {
            let keep_alive = inner.config.keep_alive;
            loop {
                if done || inner.shutdown.is_cancelled() || tokio::time::Instant::now() > deadline {
                    return None;
                }
                let wait = keep_alive
                    .saturating_sub(quiet.elapsed())
                    .clamp(Duration::from_millis(10), Duration::from_secs(1));
                match store.follow(&cursor, wait).await {
                    Ok(Some(f)) if !f.events.is_empty() => {
                        let next = f.events.last().map_or(cursor, |(id, _)| id.clone());
                        let mut chunk = Vec::new();
                        for (id, m) in &f.events {
                            chunk.extend_from_slice(&sse::event(Some(id), m));
                        }
                        let state = (inner, next, f.finished, tokio::time::Instant::now());
                        return Some((Bytes::from(chunk), state));
                    }
                    Ok(Some(f)) if f.finished => return None,
                    Ok(Some(_)) => {}
                    // Evicted meanwhile, or the store failed: end; the client may resume again.
                    Ok(None) if after == 0 && cursor.ends_with(":0") => {}
                    Ok(None) | Err(_) => return None,
                }
                if quiet.elapsed() >= keep_alive {
                    quiet = tokio::time::Instant::now();
                    return Some((sse::keep_alive(), (inner, cursor, false, quiet)));
                }
            }
        }
    });
    let body = futures_util::stream::iter(head).chain(tail).map(move |b| {
        let _ = &guard;
        b
    });
    sse_response(body, Some(&session.id))
}

async fn unsolicited_stream(
    inner: Arc<Inner>,
    session: Arc<Session>,
    resume_from: Option<String>,
) -> Response<Body> {
    let Ok(rx) = session.unsolicited.receiver().try_lock_owned() else {
        return http_error(
            StatusCode::CONFLICT,
            "Conflict: this session already has an open GET stream",
        );
    };
    let stream_id = session.get_stream_id();
    let mut replayed = Vec::new();
    if let Some(last) = resume_from {
        if let Ok(Some(events)) = inner.config.event_store.replay_after(&last).await {
            replayed = events
                .iter()
                .map(|(id, m)| sse::event(Some(id), m))
                .collect();
        }
    }
    let prime = (session.version >= ProtocolVersion::V2025_11_25 && replayed.is_empty())
        .then(|| sse::priming(&format!("{stream_id}:0"), inner.config.sse_retry_ms));
    let guard = StreamGuard::new(&session);
    let keep_alive = inner.config.keep_alive;
    let state = (
        rx,
        inner.clone(),
        stream_id,
        tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive),
    );
    let live = futures_util::stream::unfold(state, |(mut rx, inner, sid, mut tick)| async move {
        let item = tokio::select! {
            o = rx.recv() => o,
            _ = tick.tick() => return Some((sse::keep_alive(), (rx, inner, sid, tick))),
            _ = inner.shutdown.cancelled() => None,
        };
        let o = item?;
        let id = inner
            .config
            .event_store
            .append(&sid, &o.json)
            .await
            .unwrap_or_else(|_| format!("{sid}:0"));
        Some((sse::event(Some(&id), &o.json), (rx, inner, sid, tick)))
    });
    let body = futures_util::stream::iter(prime)
        .chain(futures_util::stream::iter(replayed))
        .chain(live)
        .map(move |b| {
            let _ = &guard;
            b
        });
    sse_response(body, Some(&session.id))
}

async fn delete(inner: Arc<Inner>, headers: &HeaderMap, meta: &RequestMeta) -> Response<Body> {
    let sid = match security::single(headers, SESSION_HEADER) {
        Ok(Some(s)) => s.trim().to_owned(),
        _ => {
            return with_allow(
                http_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Method not allowed: DELETE needs an Mcp-Session-Id",
                ),
                "POST",
            )
        }
    };
    // The session may live on another instance: the shared record revives it here first.
    let s = match session_lookup(&inner, headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !owned_by(&s, meta) {
        return not_found_session();
    }
    let s = inner.sessions.remove(&sid).unwrap_or(s);
    end_session(&inner, &s).await;
    empty(StatusCode::OK)
}

// ---------------------------------------------------------------------------------------------
// Serving on a socket

/// Serves `router` at `http://ADDR/mcp` until ctrl-c or SIGTERM, then shuts down gracefully.
///
/// Loopback addresses get the loopback allowlist; any other address also allows its own IP
/// as a host name (configure more with [`serve_with`]).
///
/// # Examples
/// ```no_run
/// use mcp_core::Router;
///
/// async fn ping() -> &'static str { "pong" }
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     // Serves http://127.0.0.1:8080/mcp until ctrl-c.
///     mcp_transport::http::serve(Router::new().tool_fn("ping", ping), "127.0.0.1:8080".parse().unwrap()).await
/// }
/// ```
pub async fn serve(router: Router, addr: SocketAddr) -> io::Result<()> {
    let mut config = HttpConfig::default();
    if !addr.ip().is_loopback() {
        config.allow = Allowlist::with_hosts([addr.ip().to_string()]);
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving MCP over Streamable HTTP at /mcp");
    let service = McpService::new(Server::new(router), config);
    serve_with(service, listener, shutdown_signal()).await
}

/// Completes on ctrl-c or SIGTERM.
///
/// # Examples
/// ```no_run
/// use mcp_transport::http::{serve_with, shutdown_signal, McpService};
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
///     let service = McpService::from_router(mcp_core::Router::new());
///     serve_with(service, listener, shutdown_signal()).await
/// }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Serves on a bound listener until `shutdown` completes, then shuts down gracefully: it stops
/// accepting connections, ends idle streams (GET streams, `subscriptions/listen`), answers new
/// requests with 503, lets calls in flight finish and their responses go out for up to
/// [`HttpConfig::shutdown_grace`], then closes every session and returns.
///
/// Each connection gets TCP_NODELAY, must deliver its request headers within
/// [`HttpConfig::header_read_timeout`] (the first request's too, whatever the protocol), and
/// requests other than [`HttpConfig::path`] get 404.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mcp_core::Router;
/// use mcp_transport::client::{Client, ClientConfig, HttpTransport};
/// use mcp_transport::http::{serve_with, HttpConfig, McpService};
///
/// async fn ping() -> &'static str { "pong" }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("http://{}/mcp", listener.local_addr()?);
/// let mut config = HttpConfig::default();
/// config.shutdown_grace = Duration::from_secs(1);
/// let service = McpService::new(mcp_core::Server::new(Router::new().tool_fn("ping", ping)), config);
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(serve_with(service, listener, async { let _ = stopped.await; }));
///
/// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
/// assert_eq!(client.call_tool("ping", serde_json::json!({})).await?.content[0].as_text(), Some("pong"));
/// client.close();
///
/// stop.send(()).ok();
/// server.await??;
/// # Ok(()) }
/// ```
pub async fn serve_with(
    service: McpService,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use std::sync::atomic::{AtomicBool, Ordering};

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = service.inner.config.header_read_timeout;
    // HTTP/1.1 only, unless the `http2` feature asks for both (prior-knowledge h2c).
    #[cfg(feature = "http2")]
    let builder = {
        let mut builder =
            hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        builder
    };
    #[cfg(not(feature = "http2"))]
    let builder = {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        builder
    };
    let path = service.inner.config.path.clone();
    let ops = service.inner.config.ops.clone().map(Arc::new);
    let grace = service.inner.config.shutdown_grace;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(%e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%e, "could not set TCP_NODELAY");
        }
        let svc = service.clone();
        let path = path.clone();
        let ops = ops.clone();
        // hyper's header timeout starts once the protocol is known; a client that sends nothing
        // (or a few bytes of an HTTP/2 preface) would otherwise hold the connection forever.
        let started = Arc::new(AtomicBool::new(false));
        let started_in_service = started.clone();
        let hyper_service =
            hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                started_in_service.store(true, Ordering::Relaxed);
                req.extensions_mut().insert(PeerAddr(peer));
                let svc = svc.clone();
                let path = path.clone();
                let ops = ops.clone();
                async move {
                    let ops = ops.as_ref();
                    if let Some(r) = ops.and_then(|o| o.respond(req.method(), req.uri().path())) {
                        return Ok::<_, Infallible>(r.map(|b| b.boxed_unsync()));
                    }
                    if req.uri().path() != path {
                        return Ok::<_, Infallible>(http_error(
                            StatusCode::NOT_FOUND,
                            &format!("Not Found: the MCP endpoint is {path}"),
                        ));
                    }
                    Ok(svc.handle(req).await)
                }
            });
        #[cfg(feature = "http2")]
        let conn = graceful.watch(
            builder
                .serve_connection(TokioIo::new(stream), hyper_service)
                .into_owned(),
        );
        #[cfg(not(feature = "http2"))]
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), hyper_service));
        tokio::spawn(async move {
            let first_request_deadline = async {
                tokio::time::sleep(header_timeout).await;
                if started.load(Ordering::Relaxed) {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                r = conn => if let Err(e) = r {
                    tracing::debug!(%e, "connection ended with an error");
                },
                _ = first_request_deadline => {
                    tracing::debug!("no request within the header read timeout; closing the connection");
                }
            }
        });
    }
    drop(listener);
    service.shutdown();
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "calls still running at the end of the shutdown grace period"
        );
    }
    service.close();
    Ok(())
}
