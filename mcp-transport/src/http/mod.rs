//! Streamable HTTP: one endpoint (default `/mcp`) serving both protocol eras.
//!
//! [`McpService`] is a tower `Service` over `http::Request`s, so it mounts anywhere a tower
//! service does (axum's `Router::route_service`, for one). [`serve`] runs it on a socket with
//! graceful shutdown.
//!
//! Secure by default: `Host` and `Origin` must be loopback names unless configured otherwise
//! (403), bodies are capped at 4 MiB (413), wrong `Content-Type` is 415, an `Accept` without
//! JSON and SSE is 406, other methods are 405, malformed JSON is 400 with `-32700`, slow
//! clients meet header and body deadlines, every per-stream queue is bounded, and TCP_NODELAY
//! is on.
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
use std::sync::{Arc, Weak};
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
use mcp_core::era::{claims_modern, Envelope};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, ParseError, RequestId};
use mcp_core::protocol::{ClientCapabilities, ProtocolVersion};
use mcp_core::{Connection, Router, Server};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util_free::CancelFlag;

pub use security::Allowlist;
pub use session::{InMemorySessionStore, SessionRecord, SessionStore};
pub use store::{EventStore, InMemoryEventStore, StoreError, StoreFuture};

use session::{LiveStream, Session, Sessions};

/// The response body type.
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
    /// Answer handshake-era requests with plain JSON only, never SSE (notifications dropped).
    pub json_response: bool,
    /// Handshake era without sessions: no `Mcp-Session-Id` is minted or required.
    pub stateless: bool,
    /// Sessions idle this long (no request, no open stream) are closed.
    pub session_idle_timeout: Duration,
    /// The most sessions at once; beyond it `initialize` gets 503.
    pub max_sessions: usize,
    /// Messages queued per response stream before the handler waits.
    pub stream_queue: usize,
    /// SSE keep-alive comment interval.
    pub keep_alive: Duration,
    /// The deadline for reading a whole request body.
    pub body_read_timeout: Duration,
    /// The deadline for reading request headers (applies to [`serve`]).
    pub header_read_timeout: Duration,
    /// The `retry` hint of the priming event, in milliseconds.
    pub sse_retry_ms: u64,
    /// How long graceful shutdown waits for in-flight calls.
    pub shutdown_grace: Duration,
    /// The endpoint path (applies to [`serve`]).
    pub path: String,
    /// Where SSE events are kept for resumption.
    pub event_store: Arc<dyn EventStore>,
    /// Where session records are kept.
    pub session_store: Arc<dyn SessionStore>,
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
            session_store: Arc::new(InMemorySessionStore::default()),
        }
    }
}

impl HttpConfig {
    /// Sets the accepted host names.
    pub fn allow(mut self, allow: Allowlist) -> Self {
        self.allow = allow;
        self
    }

    /// JSON-only responses for the handshake era.
    pub fn json_response(mut self, on: bool) -> Self {
        self.json_response = on;
        self
    }

    /// Sessionless handshake era.
    pub fn stateless(mut self, on: bool) -> Self {
        self.stateless = on;
        self
    }

    /// The session cap.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// The idle timeout of sessions.
    pub fn session_idle_timeout(mut self, d: Duration) -> Self {
        self.session_idle_timeout = d;
        self
    }

    /// The body size cap.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The endpoint path used by [`serve`].
    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = p.into();
        self
    }

    /// Replaces the event store.
    pub fn event_store(mut self, s: Arc<dyn EventStore>) -> Self {
        self.event_store = s;
        self
    }

    /// Replaces the session store.
    pub fn session_store(mut self, s: Arc<dyn SessionStore>) -> Self {
        self.session_store = s;
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
    modern: Arc<Connection>,
    config: HttpConfig,
    sessions: Sessions,
    shutdown: CancelFlag,
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
    /// A service for `server`. Must be called inside a tokio runtime (it starts the session
    /// reaper).
    pub fn new(server: Server, config: HttpConfig) -> Self {
        let modern = Connection::new_modern(&server);
        let inner = Arc::new(Inner {
            server,
            modern,
            config,
            sessions: Sessions::default(),
            shutdown: CancelFlag::default(),
        });
        spawn_reaper(Arc::downgrade(&inner));
        McpService { inner }
    }

    /// A service for a router with the default configuration.
    pub fn from_router(router: Router) -> Self {
        Self::new(Server::new(router), HttpConfig::default())
    }

    /// Ends every session and stream (graceful shutdown's first step).
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
        for s in self.inner.sessions.drain() {
            s.connection.close();
        }
        self.inner.modern.close();
    }

    /// How many handshake-era sessions are open.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// Handles one request.
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

fn spawn_reaper(inner: Weak<Inner>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
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
                end_session(&inner, &s).await;
            }
        }
    });
}

async fn end_session(inner: &Inner, s: &Session) {
    s.connection.close();
    let _ = inner.config.event_store.forget(&format!("{}.", s.id)).await;
    let _ = inner.config.session_store.remove(&s.id).await;
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

fn http_error(status: StatusCode, message: &str) -> Response<Body> {
    let code = if status == StatusCode::BAD_REQUEST {
        ErrorCode::INVALID_REQUEST
    } else {
        ErrorCode(-32000 - i64::from(status.as_u16() % 1000))
    };
    // Keep SDK-internal codes off the wire: HTTP-level refusals carry -32600.
    let code = if code.0 < -32000 && code.0 > -32100 && code != ErrorCode::INVALID_REQUEST {
        ErrorCode::INVALID_REQUEST
    } else {
        code
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
            let t = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
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
    if let Err(refusal) = security::check(&inner.config.allow, req.headers()) {
        let what = match refusal {
            security::Refusal::Host => "Forbidden: the Host header is not an allowed host name",
            security::Refusal::Origin => "Forbidden: the Origin header is not an allowed origin",
        };
        return http_error(StatusCode::FORBIDDEN, what);
    }
    match *req.method() {
        Method::POST => post(inner, req).await,
        Method::GET => get(inner, req.headers()).await,
        Method::DELETE => delete(inner, req.headers()).await,
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
    let (headers, bytes) = match read_body(&inner, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
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
    let params: Option<Value> = match &message {
        Message::Request(r) => r
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str(p.get()).ok()),
        Message::Notification(n) => n
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str(p.get()).ok()),
        Message::Response(_) => None,
    };
    let version_header = security::single(&headers, "mcp-protocol-version")
        .ok()
        .flatten()
        .map(str::trim);
    let header_is_modern = version_header
        .and_then(|v| v.parse::<ProtocolVersion>().ok())
        .is_some_and(|v| v.is_modern());
    let claimed = claims_modern(params.as_ref());
    let is_initialize = message.method() == Some("initialize");
    if claimed || (header_is_modern && !is_initialize) {
        return modern_post(&inner, message, params, &headers).await;
    }
    legacy_post(inner, message, &headers).await
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
) -> Response<Body> {
    let req = match message {
        Message::Request(r) => r,
        // Notifications (cancellation is the stream closing) and stray responses: accepted.
        _ => return empty(StatusCode::ACCEPTED),
    };
    let id = req.id.clone();
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
    let listen = req.method == "subscriptions/listen";
    let (tx, mut rx) = mpsc::channel::<Outgoing>(inner.config.stream_queue.max(1));
    let Some(mut fut) = inner.modern.receive_inline(Message::Request(req), tx) else {
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
        let status = response_status(&first.json);
        return json_body(status, first.json);
    }
    if inner.config.json_response && !listen {
        // JSON-only: drop notifications, wait for the answer (still cancellable by disconnect).
        if !done {
            let mut fut = fut;
            loop {
                tokio::select! {
                    biased;
                    item = rx.recv() => match item {
                        Some(o) if o.kind == OutgoingKind::Response => return json_body(response_status(&o.json), o.json),
                        Some(_) => continue,
                        None => break,
                    },
                    _ = &mut fut => {}
                }
            }
        }
        while let Some(o) = rx.recv().await {
            if o.kind == OutgoingKind::Response {
                return json_body(response_status(&o.json), o.json);
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

/// `-32021` (a capability missing from this request) is a 400; other errors after the ladder
/// are the handler's and travel with 200.
fn response_status(json: &str) -> StatusCode {
    let code = serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v.get("error")?.get("code")?.as_i64());
    match code {
        Some(c) if c == ErrorCode::MISSING_CAPABILITY.0 => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
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

async fn session_for(inner: &Inner, headers: &HeaderMap) -> Result<Arc<Session>, Response<Body>> {
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
        return Ok(s);
    }
    // Another instance may have created it (shared session store).
    if let Ok(Some(record)) = inner.config.session_store.get(&sid).await {
        if let Ok(version) = record.protocol_version.parse::<ProtocolVersion>() {
            let (utx, urx) = mpsc::channel(inner.config.stream_queue.max(1));
            let conn = Connection::new_handshake(
                &inner.server,
                version,
                record.client_capabilities.clone(),
                utx,
            );
            let s = Arc::new(Session::new(sid.clone(), conn, version, urx));
            if inner.sessions.insert(s.clone(), inner.config.max_sessions) {
                return Ok(s);
            }
        }
    }
    Err(http_error(
        StatusCode::NOT_FOUND,
        "Not Found: unknown, expired or terminated session; initialize a new one",
    ))
}

async fn legacy_post(inner: Arc<Inner>, message: Message, headers: &HeaderMap) -> Response<Body> {
    if let Some(r) = version_header_error(headers) {
        return r;
    }
    if let Message::Request(req) = &message {
        if req.method == "initialize" {
            return initialize(&inner, message).await;
        }
    }
    if inner.config.stateless
        && security::single(headers, SESSION_HEADER)
            .ok()
            .flatten()
            .is_none()
    {
        let version = security::single(headers, "mcp-protocol-version")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<ProtocolVersion>().ok())
            .unwrap_or(ProtocolVersion::V2025_03_26);
        let (utx, _urx) = mpsc::channel(1);
        let conn =
            Connection::new_handshake(&inner.server, version, ClientCapabilities::default(), utx);
        return match message {
            Message::Request(req) => {
                let (tx, rx) = mpsc::channel(inner.config.stream_queue.max(1));
                conn.receive(Message::Request(req), tx);
                respond_plain(&inner, rx, None).await
            }
            other => {
                conn.receive(other, mpsc::channel(1).0);
                empty(StatusCode::ACCEPTED)
            }
        };
    }
    let session = match session_for(&inner, headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match message {
        Message::Request(req) => {
            let (tx, rx) = mpsc::channel(inner.config.stream_queue.max(1));
            session.connection.receive(Message::Request(req), tx);
            if inner.config.json_response {
                return respond_plain(&inner, rx, Some(&session.id)).await;
            }
            respond_resumable(inner, session, rx).await
        }
        other => {
            session.connection.receive(other, mpsc::channel(1).0);
            set_session(empty(StatusCode::ACCEPTED), &session.id)
        }
    }
}

async fn initialize(inner: &Inner, message: Message) -> Response<Body> {
    if inner.shutdown.is_cancelled() {
        return with_retry(http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable: the server is shutting down",
        ));
    }
    let stateful = !inner.config.stateless;
    if stateful && inner.sessions.len() >= inner.config.max_sessions {
        return with_retry(http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable: too many open sessions; retry later",
        ));
    }
    let (utx, urx) = mpsc::channel(inner.config.stream_queue.max(1));
    let conn = Connection::new(&inner.server, utx);
    let (tx, mut rx) = mpsc::channel(4);
    conn.receive(message, tx);
    let Some(answer) = rx.recv().await else {
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
        return http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no secure random source to mint a session id",
        );
    }
    let record = serde_json::from_str::<Value>(&answer.json).ok();
    let _ = record;
    let session = Arc::new(Session::new(id.clone(), conn, version, urx));
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
    let rec = SessionRecord {
        id: id.clone(),
        protocol_version: version.as_str().into(),
        ..Default::default()
    };
    if let Err(e) = inner
        .config
        .session_store
        .put(&rec, inner.config.session_idle_timeout)
        .await
    {
        tracing::warn!(%e, "could not save the session record");
    }
    set_session(json_body(StatusCode::OK, answer.json), &id)
}

fn with_retry(mut r: Response<Body>) -> Response<Body> {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// JSON when the answer comes first; otherwise an SSE stream without resumption.
async fn respond_plain(
    inner: &Inner,
    mut rx: mpsc::Receiver<Outgoing>,
    session: Option<&str>,
) -> Response<Body> {
    let json_only = inner.config.json_response;
    loop {
        let Some(first) = rx.recv().await else {
            return http_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request ended without an answer",
            );
        };
        if first.kind == OutgoingKind::Response {
            let r = json_body(StatusCode::OK, first.json);
            return match session {
                Some(s) => set_session(r, s),
                None => r,
            };
        }
        if json_only {
            continue;
        }
        let head = futures_util::stream::iter([sse::event(None, &first.json)]);
        let rest = futures_util::stream::unfold((rx, false), |(mut rx, ended)| async move {
            if ended {
                return None;
            }
            let o = rx.recv().await?;
            let end = o.kind == OutgoingKind::Response;
            Some((sse::event(None, &o.json), (rx, end)))
        });
        return sse_response(head.chain(rest), session);
    }
}

/// The handshake-era SSE response: events get ids and are kept in the event store; if the
/// client drops the stream, the call goes on and the client can resume with `Last-Event-ID`.
async fn respond_resumable(
    inner: Arc<Inner>,
    session: Arc<Session>,
    mut rx: mpsc::Receiver<Outgoing>,
) -> Response<Body> {
    let Some(first) = rx.recv().await else {
        return http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request ended without an answer",
        );
    };
    if first.kind == OutgoingKind::Response {
        return set_session(json_body(StatusCode::OK, first.json), &session.id);
    }
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
                done: false,
            },
        );
    let prime = (session.version >= ProtocolVersion::V2025_11_25)
        .then(|| sse::priming(&format!("{stream_id}:0"), inner.config.sse_retry_ms));
    // The producer outlives the HTTP response: it stores every event and forwards it to
    // whoever is attached.
    let producer_session = session.clone();
    let producer_inner = inner.clone();
    let sid = stream_id.clone();
    tokio::spawn(async move {
        let mut next = Some(first);
        while let Some(o) = match next.take() {
            Some(o) => Some(o),
            None => rx.recv().await,
        } {
            let is_response = o.kind == OutgoingKind::Response;
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
                let live = producer_session
                    .live
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                live.get(&sid).and_then(|l| l.subscriber.clone())
            };
            if let Some(sub) = subscriber {
                if sub.send((seq, bytes)).await.is_err() {
                    if let Some(l) = producer_session
                        .live
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(&sid)
                    {
                        l.subscriber = None;
                    }
                }
            }
            if is_response {
                break;
            }
        }
        let mut live = producer_session
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(l) = live.get_mut(&sid) {
            l.done = true;
            l.subscriber = None;
        }
        // Finished streams stay replayable through the event store; forget the live entry.
        live.remove(&sid);
    });
    let guard = StreamGuard::new(&session);
    let body = futures_util::stream::iter(prime)
        .chain(subscriber_stream(sub_rx, 0, None))
        .map(move |b| {
            let _ = &guard;
            b
        });
    sse_response(body, Some(&session.id))
}

/// Counts open streams so idle reaping leaves a session with a live stream alone.
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

/// Events from a live stream, skipping those already replayed (sequence <= `after`).
fn subscriber_stream(
    rx: mpsc::Receiver<(u64, Bytes)>,
    after: u64,
    stop: Option<Arc<Inner>>,
) -> impl Stream<Item = Bytes> + Send {
    futures_util::stream::unfold((rx, stop), move |(mut rx, stop)| async move {
        loop {
            let item = match &stop {
                Some(inner) => tokio::select! {
                    i = rx.recv() => i,
                    _ = inner.shutdown.cancelled() => None,
                },
                None => rx.recv().await,
            };
            let (seq, bytes) = item?;
            if seq > after || seq == 0 {
                return Some((bytes, (rx, stop)));
            }
        }
    })
}

async fn get(inner: Arc<Inner>, headers: &HeaderMap) -> Response<Body> {
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
    let session = match session_for(&inner, headers).await {
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
    let live = {
        let mut live = session.live.lock().unwrap_or_else(|p| p.into_inner());
        match live.get_mut(stream_id) {
            Some(l) if !l.done => {
                l.subscriber = Some(sub_tx);
                true
            }
            _ => false,
        }
    };
    let replay = match inner.config.event_store.replay_after(last).await {
        Ok(Some(events)) => events,
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
        Some(subscriber_stream(sub_rx, last_replayed, None))
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

async fn unsolicited_stream(
    inner: Arc<Inner>,
    session: Arc<Session>,
    resume_from: Option<String>,
) -> Response<Body> {
    let Ok(rx) = session.unsolicited.clone().try_lock_owned() else {
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

async fn delete(inner: Arc<Inner>, headers: &HeaderMap) -> Response<Body> {
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
    match inner.sessions.remove(&sid) {
        Some(s) => {
            end_session(&inner, &s).await;
            empty(StatusCode::OK)
        }
        None => http_error(
            StatusCode::NOT_FOUND,
            "Not Found: unknown or already terminated session",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Serving on a socket

/// Serves `router` at `http://ADDR/mcp` until ctrl-c or SIGTERM, then shuts down gracefully.
///
/// Loopback addresses get the loopback allowlist; any other address also allows its own IP
/// as a host name (configure more with [`serve_with`]).
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

/// Serves on a bound listener until `shutdown` completes: then stops accepting, ends idle
/// streams, lets in-flight calls finish up to [`HttpConfig::shutdown_grace`], and returns.
pub async fn serve_with(
    service: McpService,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(service.inner.config.header_read_timeout);
    let path = service.inner.config.path.clone();
    let grace = service.inner.config.shutdown_grace;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
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
        let _ = stream.set_nodelay(true);
        let svc = service.clone();
        let path = path.clone();
        let hyper_service =
            hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let svc = svc.clone();
                let path = path.clone();
                async move {
                    if req.uri().path() != path {
                        return Ok::<_, Infallible>(http_error(
                            StatusCode::NOT_FOUND,
                            &format!("Not Found: the MCP endpoint is {path}"),
                        ));
                    }
                    Ok(svc.handle(req).await)
                }
            });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), hyper_service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // In-flight calls finish; idle streams (GET, listen) end now.
    let modern = service.inner.modern.clone();
    let sessions = service.inner.sessions.drain();
    service.inner.shutdown.cancel();
    modern.close();
    for s in &sessions {
        s.connection.close();
    }
    let wait_calls = async {
        for s in &sessions {
            s.connection.wait().await;
        }
        modern.wait().await;
    };
    let _ = tokio::time::timeout(grace, async {
        wait_calls.await;
        graceful.shutdown().await;
    })
    .await;
    Ok(())
}
