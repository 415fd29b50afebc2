//! The Streamable HTTP client wire (plain `http://`, hyper-util's pooled client).
//!
//! Each request is a POST; the answer is JSON or an SSE stream carrying the request's
//! notifications, the server's questions (handshake era) and finally the response. A
//! handshake-era stream that ends early is resumed with `GET` + `Last-Event-ID`. In 2026-07-28
//! the request headers mirror the body (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`,
//! `Mcp-Param-*`), and closing the stream cancels the request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, RequestId, ResponsePayload};
use mcp_core::protocol::{JsonObject, ProtocolVersion};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::sse::Parser;
use super::{event_of, lock, ClientConfig, ClientError, Exchange, Framing, Incoming, ServerEvent};

/// The largest JSON response body read (16 MiB).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How many times a handshake-era response stream is resumed before giving up.
const MAX_RESUMES: u32 = 5;

type HyperClient = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

/// Where a Streamable HTTP server is, and what to send it besides MCP.
///
/// ```
/// use mcp_transport::client::HttpTransport;
/// let t = HttpTransport::new("http://127.0.0.1:8080/mcp").bearer_token("secret");
/// assert_eq!(t.url(), "http://127.0.0.1:8080/mcp");
/// ```
#[derive(Clone)]
pub struct HttpTransport {
    url: String,
    headers: Vec<(String, String)>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values may be credentials: names only.
        f.debug_struct("HttpTransport")
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HttpTransport {
    /// The endpoint, e.g. `http://127.0.0.1:8080/mcp`.
    ///
    /// See [`HttpTransport`] for an example.
    pub fn new(url: impl Into<String>) -> Self {
        HttpTransport {
            url: url.into(),
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    ///
    /// See [`HttpTransport`] for an example.
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        self.header("authorization", format!("Bearer {}", token.as_ref()))
    }

    /// Sends a header with every request.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_transport::client::HttpTransport;
    /// let t = HttpTransport::new("https://mcp.example.com/mcp")
    ///     .header("x-tenant", "acme")
    ///     .connect_timeout(Duration::from_secs(2));
    /// assert_eq!(t.url(), "https://mcp.example.com/mcp");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long opening a TCP connection may take (default 5 s).
    ///
    /// See [`HttpTransport::header`] for an example.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// The endpoint.
    ///
    /// See [`HttpTransport`] for an example.
    pub fn url(&self) -> &str {
        &self.url
    }
}

pub(crate) struct HttpWire {
    client: HyperClient,
    uri: http::Uri,
    headers: Vec<(http::HeaderName, HeaderValue)>,
    session: Mutex<Option<String>>,
    version: Mutex<Option<ProtocolVersion>>,
    generation: AtomicU64,
    events: broadcast::Sender<ServerEvent>,
    stopped: AtomicBool,
    body_timeout: Duration,
}

/// Encodes a header value: as is when it is visible ASCII, else `=?base64?…?=`.
fn header_text(value: &str) -> String {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) && value.trim() == value {
        value.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

/// The `x-mcp-header` properties of a tool's input schema: (header name, argument path).
pub(crate) fn mirrored(schema: &JsonObject) -> Vec<(String, Vec<String>)> {
    fn walk(props: &JsonObject, path: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
        for (name, prop) in props {
            path.push(name.clone());
            if let Some(h) = prop.get("x-mcp-header").and_then(Value::as_str) {
                out.push((h.to_owned(), path.clone()));
            }
            if let Some(inner) = prop.get("properties").and_then(Value::as_object) {
                walk(inner, path, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        walk(props, &mut Vec::new(), &mut out);
    }
    out
}

fn response_payload(r: ResponsePayload) -> Result<Value, ErrorObject> {
    match r {
        ResponsePayload::Result(raw) => serde_json::from_str(raw.get())
            .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string())),
        ResponsePayload::Error(e) => Err(e),
    }
}

fn params_of(raw: Option<&serde_json::value::RawValue>) -> Value {
    raw.and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_else(|| json!({}))
}

impl HttpWire {
    pub(crate) fn new(
        t: HttpTransport,
        config: &ClientConfig,
    ) -> Result<Arc<HttpWire>, ClientError> {
        let uri: http::Uri = t
            .url
            .parse()
            .map_err(|e| ClientError::Transport(format!("bad URL {:?}: {e}", t.url)))?;
        if uri.scheme_str() != Some("http") {
            return Err(ClientError::Transport(format!(
                "only http:// URLs are supported (got {:?}); put a TLS-terminating proxy in front",
                t.url
            )));
        }
        let mut headers = Vec::new();
        for (k, v) in &t.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| ClientError::Transport(format!("bad header name {k:?}: {e}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| ClientError::Transport(format!("bad value for header {k:?}")))?;
            headers.push((name, value));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(t.connect_timeout));
        connector.set_nodelay(true);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Arc::new(HttpWire {
            client,
            uri,
            headers,
            session: Mutex::new(None),
            version: Mutex::new(None),
            generation: AtomicU64::new(1),
            events: broadcast::channel(256).0,
            stopped: AtomicBool::new(false),
            body_timeout: config.request_timeout,
        }))
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn events(&self) -> &broadcast::Sender<ServerEvent> {
        &self.events
    }

    pub(crate) fn reset_session(&self) {
        *lock(&self.session) = None;
        *lock(&self.version) = None;
    }

    pub(crate) fn set_version(&self, v: ProtocolVersion) {
        *lock(&self.version) = Some(v);
    }

    pub(crate) fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// A connection failure: the server may come back as something else, so negotiate again.
    fn broken(&self, e: impl std::fmt::Display) -> ClientError {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.reset_session();
        ClientError::Transport(format!("{}: {e}", self.uri))
    }

    fn build(
        &self,
        method: Method,
        body: Option<String>,
        framing: &Framing,
        rpc: Option<(&str, &Value)>,
        last_event_id: Option<&str>,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(self.uri.clone());
        let h = req
            .headers_mut()
            .ok_or_else(|| ClientError::Transport("cannot build the request".into()))?;
        for (k, v) in &self.headers {
            h.append(k.clone(), v.clone());
        }
        let accept = if method == Method::GET {
            "text/event-stream"
        } else {
            "application/json, text/event-stream"
        };
        h.insert(header::ACCEPT, HeaderValue::from_static(accept));
        if body.is_some() {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let mut extra: Vec<(String, String)> = Vec::new();
        if framing.modern {
            extra.push((
                "mcp-protocol-version".into(),
                ProtocolVersion::V2026_07_28.as_str().into(),
            ));
            if let Some((m, params)) = rpc {
                extra.push(("mcp-method".into(), header_text(m)));
                let name_field = match m {
                    "tools/call" | "prompts/get" => Some("name"),
                    "resources/read" => Some("uri"),
                    "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
                    _ => None,
                };
                if let Some(field) = name_field {
                    let v = params
                        .get(field)
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    extra.push(("mcp-name".into(), header_text(v)));
                }
            }
            for (k, v) in &framing.headers {
                extra.push((k.clone(), header_text(v)));
            }
        } else {
            let version = framing.version.or(*lock(&self.version));
            if let Some(v) = version.filter(|v| v.is_handshake()) {
                extra.push(("mcp-protocol-version".into(), v.as_str().into()));
            }
            if let Some(sid) = lock(&self.session).clone() {
                extra.push(("mcp-session-id".into(), sid));
            }
            if let Some(last) = last_event_id {
                extra.push(("last-event-id".into(), last.to_owned()));
            }
        }
        for (k, v) in extra {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| ClientError::Protocol(format!("bad header name {k:?}: {e}")))?;
            let value = HeaderValue::from_str(&v)
                .map_err(|_| ClientError::Protocol(format!("bad value for header {k}")))?;
            h.insert(name, value);
        }
        req.body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Transport(format!("cannot build the request: {e}")))
    }

    async fn read_body(&self, body: hyper::body::Incoming) -> Result<Bytes, ClientError> {
        let limited = http_body_util::Limited::new(body, MAX_BODY);
        match tokio::time::timeout(self.body_timeout, limited.collect()).await {
            Err(_) => Err(ClientError::Timeout(self.body_timeout)),
            Ok(Err(e)) => Err(ClientError::Transport(format!("reading the body: {e}"))),
            Ok(Ok(c)) => Ok(c.to_bytes()),
        }
    }

    pub(crate) async fn start(
        self: &Arc<Self>,
        id: &RequestId,
        method: &str,
        params: &Value,
        framing: &Framing,
    ) -> Result<Exchange, ClientError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ClientError::Closed);
        }
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let req = self.build(
            Method::POST,
            Some(body.to_string()),
            framing,
            Some((method, params)),
            None,
        )?;
        let resp = self.client.request(req).await.map_err(|e| self.broken(e))?;
        let status = resp.status();
        let is_sse = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if method == "initialize" && status.is_success() {
            if let Some(sid) = resp
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
            {
                *lock(&self.session) = Some(sid.to_owned());
            }
        }
        let (tx, rx) = mpsc::channel(256);
        if status == StatusCode::NOT_FOUND
            && !framing.modern
            && method != "initialize"
            && lock(&self.session).is_some()
        {
            return Err(ClientError::SessionExpired);
        }
        if is_sse && status.is_success() {
            let wire = self.clone();
            let id = id.clone();
            let framing = framing.clone();
            tokio::spawn(async move {
                wire.pump(resp.into_body(), tx, id, framing).await;
            });
            return Ok(Exchange { rx, _guard: None });
        }
        let bytes = self.read_body(resp.into_body()).await?;
        let parsed = Message::parse(&bytes);
        match parsed {
            Ok(Message::Response(r)) => {
                let _ = tx
                    .send(Ok(Incoming::Response(response_payload(r.payload))))
                    .await;
                Ok(Exchange { rx, _guard: None })
            }
            _ if status == StatusCode::NOT_FOUND && !framing.modern => Err(ClientError::Transport(
                format!("{} answered 404: is this the MCP endpoint?", self.uri),
            )),
            _ => {
                let text = String::from_utf8_lossy(&bytes);
                let snippet: String = text.chars().take(200).collect();
                Err(ClientError::Transport(format!(
                    "{} answered HTTP {status} without a JSON-RPC response: {snippet}",
                    self.uri
                )))
            }
        }
    }

    /// Reads a response stream, resuming a handshake-era one that ends early.
    async fn pump(
        self: Arc<Self>,
        mut body: hyper::body::Incoming,
        tx: mpsc::Sender<Result<Incoming, ClientError>>,
        id: RequestId,
        framing: Framing,
    ) {
        let mut parser = Parser::default();
        let mut resumes = 0;
        loop {
            loop {
                let frame = tokio::select! {
                    _ = tx.closed() => return,
                    f = body.frame() => f,
                };
                let data = match frame {
                    None | Some(Err(_)) => break,
                    Some(Ok(f)) => match f.into_data() {
                        Ok(d) => d,
                        Err(_) => continue,
                    },
                };
                let events = match parser.feed(&data) {
                    Ok(e) => e,
                    Err(e) => {
                        let _ = tx.send(Err(ClientError::Protocol(e))).await;
                        return;
                    }
                };
                for event in events {
                    if self.deliver(&event.data, &tx, &id, &framing).await {
                        return;
                    }
                }
            }
            let last = parser.last_id().map(str::to_owned);
            let can_resume = !framing.modern && last.is_some() && resumes < MAX_RESUMES;
            if !can_resume {
                let _ = tx
                    .send(Err(ClientError::Transport(
                        "the response stream ended before the response".into(),
                    )))
                    .await;
                return;
            }
            resumes += 1;
            let wait = parser.retry_ms.unwrap_or(500).min(5_000);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let req = match self.build(Method::GET, None, &framing, None, last.as_deref()) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            match self.client.request(req).await {
                Ok(resp) if resp.status().is_success() => body = resp.into_body(),
                Ok(resp) => {
                    let status = resp.status();
                    let _ = tx
                        .send(Err(ClientError::Transport(format!(
                            "resuming the response stream failed: HTTP {status}"
                        ))))
                        .await;
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Err(self.broken(e))).await;
                    return;
                }
            }
        }
    }

    /// Passes one event's message on; `true` once the response arrived.
    async fn deliver(
        &self,
        data: &str,
        tx: &mpsc::Sender<Result<Incoming, ClientError>>,
        id: &RequestId,
        framing: &Framing,
    ) -> bool {
        if data.trim().is_empty() {
            return false;
        }
        let message = match Message::parse(data.as_bytes()) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(%e, "ignoring an unreadable event");
                return false;
            }
        };
        match message {
            Message::Response(r) => {
                if r.id.as_ref() != Some(id) {
                    return false;
                }
                let _ = tx
                    .send(Ok(Incoming::Response(response_payload(r.payload))))
                    .await;
                true
            }
            Message::Notification(n) => {
                let params = params_of(n.params.as_deref());
                let _ = tx.try_send(Ok(Incoming::Notification {
                    method: n.method,
                    params,
                }));
                false
            }
            Message::Request(r) => {
                let params = params_of(r.params.as_deref());
                if tx
                    .send(Ok(Incoming::Request {
                        id: r.id.clone(),
                        method: r.method,
                        params,
                    }))
                    .await
                    .is_err()
                {
                    let reply = json!({"jsonrpc": "2.0", "id": r.id, "error":
                        ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the request was abandoned")});
                    self.post_message(reply, framing).await;
                }
                false
            }
        }
    }

    /// POSTs a notification or a response (answered 202).
    pub(crate) async fn post_message(&self, message: Value, framing: &Framing) {
        let Ok(req) = self.build(Method::POST, Some(message.to_string()), framing, None, None)
        else {
            return;
        };
        match self.client.request(req).await {
            Ok(resp) => {
                let status = resp.status();
                let _ = resp.into_body().collect().await;
                if !status.is_success() {
                    tracing::debug!(%status, "the server refused a posted message");
                }
            }
            Err(e) => tracing::debug!(%e, "posting a message failed"),
        }
    }

    pub(crate) async fn notify(&self, method: &str, params: Value, framing: &Framing) {
        if framing.modern && method == "notifications/cancelled" {
            return; // closing the stream is the cancellation
        }
        self.post_message(
            json!({"jsonrpc": "2.0", "method": method, "params": params}),
            framing,
        )
        .await;
    }

    /// Reads the handshake-era GET stream until it ends; `false` when the server has none.
    pub(crate) async fn get_stream(self: &Arc<Self>, framing: &Framing) -> bool {
        if lock(&self.session).is_none() || self.stopped.load(Ordering::SeqCst) {
            return false;
        }
        let Ok(req) = self.build(Method::GET, None, framing, None, None) else {
            return false;
        };
        let resp = match self.client.request(req).await {
            Ok(r) => r,
            Err(_) => return true,
        };
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            return false;
        }
        if !resp.status().is_success() {
            return true;
        }
        let mut body = resp.into_body();
        let mut parser = Parser::default();
        while let Some(Ok(frame)) = body.frame().await {
            if self.stopped.load(Ordering::SeqCst) {
                return false;
            }
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let Ok(events) = parser.feed(&data) else {
                return true;
            };
            for event in events {
                let Ok(message) = Message::parse(event.data.as_bytes()) else {
                    continue;
                };
                match message {
                    Message::Notification(n) => {
                        let params = params_of(n.params.as_deref());
                        if let Some(e) = event_of(&n.method, &params) {
                            let _ = self.events.send(e);
                        }
                    }
                    Message::Request(r) => {
                        let reply = if r.method == "ping" {
                            json!({"jsonrpc": "2.0", "id": r.id, "result": {}})
                        } else {
                            json!({"jsonrpc": "2.0", "id": r.id, "error": ErrorObject::new(
                                ErrorCode::METHOD_NOT_FOUND,
                                format!("{} outside a request is not answered by this client", r.method),
                            )})
                        };
                        self.post_message(reply, framing).await;
                    }
                    Message::Response(_) => {}
                }
            }
        }
        true
    }
}
