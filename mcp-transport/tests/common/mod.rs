//! Helpers shared by the Streamable HTTP tests: a router of probe tools, request builders for
//! both protocol eras, an SSE reader, a socket server with a shutdown trigger, and a small
//! hyper client.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_core::protocol::{ElicitAction, ElicitRequest};
use mcp_core::{Args, Context, Router, Server, State, ToolDef, ToolError};
use mcp_transport::http::{HttpConfig, McpService};
use serde::Deserialize;
use serde_json::{json, Value};

/// Every step of a test waits at most this long.
pub const STEP: Duration = Duration::from_secs(10);

/// The newest handshake-era revision.
pub const LEGACY: &str = "2025-11-25";
/// The stateless revision.
pub const MODERN: &str = "2026-07-28";

/// Runs `fut` under [`STEP`]-sized `limit`, failing the test with `what` on timeout.
pub async fn within<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test

/// Counters the probe tools update, shared with the test.
#[derive(Clone, Default, Debug)]
pub struct Probe {
    /// `sleep` calls that started.
    pub started: Arc<AtomicUsize>,
    /// `sleep` calls that ran to the end.
    pub finished: Arc<AtomicUsize>,
    /// `sleep` calls whose future was dropped before the end (cancelled).
    pub dropped: Arc<AtomicUsize>,
    /// Messages `flood` handed to the transport.
    pub emitted: Arc<AtomicUsize>,
    /// `flood` calls that ran to the end.
    pub flooded: Arc<AtomicUsize>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ProgressArgs {
    /// How many progress notifications.
    steps: u32,
    /// Pause before each, in milliseconds.
    #[serde(default)]
    delay_ms: u64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct SleepArgs {
    /// How long, in milliseconds.
    ms: u64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct FloodArgs {
    /// How many log messages.
    count: usize,
    /// Bytes of text in each.
    size: usize,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct RegionArgs {
    /// Mirrored in `Mcp-Param-Region`.
    #[serde(default)]
    region: Option<String>,
}

async fn echo(Args(a): Args<EchoArgs>) -> String {
    a.text
}

async fn progress(ctx: Context, Args(a): Args<ProgressArgs>) -> String {
    for i in 1..=a.steps {
        if a.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(a.delay_ms)).await;
        }
        ctx.progress(f64::from(i), Some(f64::from(a.steps)), None)
            .await;
    }
    format!("done {}", a.steps)
}

/// Counts a drop that happens before `finish`.
struct DropProbe {
    probe: Probe,
    done: bool,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        if !self.done {
            self.probe.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn sleep(State(probe): State<Probe>, Args(a): Args<SleepArgs>) -> String {
    probe.started.fetch_add(1, Ordering::SeqCst);
    let mut guard = DropProbe {
        probe: probe.clone(),
        done: false,
    };
    tokio::time::sleep(Duration::from_millis(a.ms)).await;
    guard.done = true;
    probe.finished.fetch_add(1, Ordering::SeqCst);
    format!("slept {}", a.ms)
}

async fn flood(State(probe): State<Probe>, ctx: Context, Args(a): Args<FloodArgs>) -> String {
    let payload = "x".repeat(a.size);
    for _ in 0..a.count {
        ctx.log_info(payload.clone()).await;
        probe.emitted.fetch_add(1, Ordering::SeqCst);
    }
    probe.flooded.fetch_add(1, Ordering::SeqCst);
    format!("flooded {}", a.count)
}

async fn elicit(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"]
    });
    let r = ctx
        .elicit("name", ElicitRequest::form("What is your name?", schema))
        .await?;
    if r.action != ElicitAction::Accept {
        return Ok("declined".into());
    }
    let name = r
        .content
        .and_then(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    Ok(format!("hello {name}"))
}

async fn region(Args(a): Args<RegionArgs>) -> String {
    format!("region={}", a.region.unwrap_or_else(|| "none".into()))
}

/// The probe tools: `echo`, `progress`, `sleep`, `flood`, `elicit`, `region` (its `region`
/// argument is mirrored in `Mcp-Param-Region`).
pub fn router(probe: Probe) -> Router {
    let region_schema = json!({
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}
    });
    let Value::Object(region_schema) = region_schema else {
        unreachable!()
    };
    Router::new()
        .tool(ToolDef::new("echo", echo).description("Sends the text back"))
        .tool(ToolDef::new("progress", progress).description("Reports progress, then answers"))
        .tool(ToolDef::new("sleep", sleep).description("Sleeps, then answers"))
        .tool(ToolDef::new("flood", flood).description("Logs a lot"))
        .tool(ToolDef::new("elicit", elicit).description("Asks the user for a name"))
        .tool(
            ToolDef::new("region", region)
                .description("Echoes the region")
                .input_schema(region_schema),
        )
        .logging(true)
        .with_state(probe)
}

/// A server over the probe tools (keep it to add tools later and trigger list changes).
pub fn server(probe: Probe) -> Server {
    Server::new(router(probe))
}

/// A service over the probe tools.
pub fn service(config: HttpConfig) -> (McpService, Probe, Server) {
    let probe = Probe::default();
    let server = server(probe.clone());
    (McpService::new(server.clone(), config), probe, server)
}

// ---------------------------------------------------------------------------------------------
// Requests

/// A request body.
pub type ReqBody = Full<Bytes>;

/// Builds a POST with `json` as its body and `headers` added.
pub fn post_json(json: &Value, headers: &[(&str, &str)]) -> Request<ReqBody> {
    let mut b = Request::post("/mcp")
        .header("host", "127.0.0.1:3000")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from(json.to_string())))
        .expect("a valid request")
}

/// A JSON-RPC request.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// `initialize` at `version`.
pub fn initialize_msg(version: &str) -> Value {
    rpc(
        0,
        "initialize",
        json!({
            "protocolVersion": version,
            "capabilities": {"elicitation": {}},
            "clientInfo": {"name": "transport-tests", "version": "0"}
        }),
    )
}

/// A handshake-era request on `session`, with the version header.
pub fn legacy(session: &str, version: &str, msg: &Value) -> Request<ReqBody> {
    post_json(
        msg,
        &[
            ("mcp-session-id", session),
            ("mcp-protocol-version", version),
        ],
    )
}

/// `tools/call` params, with a progress token when `token` is set.
pub fn call_params(name: &str, args: Value, token: Option<&str>) -> Value {
    let mut p = json!({"name": name, "arguments": args});
    if let Some(t) = token {
        p["_meta"] = json!({"progressToken": t});
    }
    p
}

/// The 2026-07-28 envelope, merged into `params._meta`.
pub fn envelope(mut params: Value, log_level: Option<&str>) -> Value {
    let meta = params
        .as_object_mut()
        .expect("params object")
        .entry("_meta")
        .or_insert_with(|| json!({}));
    meta["io.modelcontextprotocol/protocolVersion"] = json!(MODERN);
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    meta["io.modelcontextprotocol/clientInfo"] = json!({"name": "transport-tests", "version": "0"});
    if let Some(l) = log_level {
        meta["io.modelcontextprotocol/logLevel"] = json!(l);
    }
    params
}

/// A well-formed 2026-07-28 request: envelope plus `MCP-Protocol-Version`, `Mcp-Method` and
/// (for the named methods) `Mcp-Name`; `extra` headers are added.
pub fn modern(id: i64, method: &str, params: Value, extra: &[(&str, &str)]) -> Request<ReqBody> {
    let params = envelope(params, None);
    modern_raw(id, method, params, extra)
}

/// Like [`modern`], but `params` are sent as given (bring your own envelope).
pub fn modern_raw(
    id: i64,
    method: &str,
    params: Value,
    extra: &[(&str, &str)],
) -> Request<ReqBody> {
    let name = match method {
        "tools/call" | "prompts/get" => params.get("name").and_then(Value::as_str),
        "resources/read" => params.get("uri").and_then(Value::as_str),
        _ => None,
    }
    .map(str::to_owned);
    let mut headers: Vec<(&str, &str)> =
        vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if let Some(n) = &name {
        headers.push(("mcp-name", n));
    }
    headers.extend_from_slice(extra);
    post_json(&rpc(id, method, params), &headers)
}

// ---------------------------------------------------------------------------------------------
// Responses

/// A response, body still unread.
pub type Resp = Response<mcp_transport::http::Body>;

/// A header's value as text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The whole body as JSON; panics (with the text) when it is not JSON.
pub async fn json_of<B>(resp: Response<B>) -> (StatusCode, HeaderMap, Value)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = resp.into_parts();
    let bytes = within(STEP, "reading a JSON body", body.collect())
        .await
        .expect("body")
        .to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "status {}: body is not JSON ({e}): {:?}",
            parts.status,
            String::from_utf8_lossy(&bytes)
        )
    });
    (parts.status, parts.headers, v)
}

/// Asserts an HTTP error with a JSON-RPC error body of `code`, and returns the body.
pub async fn expect_error<B>(resp: Response<B>, status: StatusCode, code: i64) -> Value
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let (got, headers, v) = json_of(resp).await;
    assert_eq!(got, status, "unexpected status; body {v}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/json"),
        "error bodies are JSON"
    );
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert_eq!(v["error"]["code"], code, "unexpected error code: {v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    v
}

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    /// `id:`.
    pub id: Option<String>,
    /// `retry:`.
    pub retry: Option<u64>,
    /// The joined `data:` lines.
    pub data: String,
}

impl Event {
    /// The data as JSON (`Null` for the empty priming event).
    pub fn json(&self) -> Value {
        if self.data.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {:?}", self.data))
    }

    /// Whether this is a JSON-RPC response.
    pub fn is_response(&self) -> bool {
        let v = self.json();
        v.get("method").is_none() && (v.get("result").is_some() || v.get("error").is_some())
    }
}

/// Reads events off an SSE body incrementally.
pub struct Sse<B> {
    body: B,
    buf: Vec<u8>,
    /// Comment lines seen (keep-alives).
    pub comments: usize,
    ended: bool,
}

impl<B> Sse<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    /// Wraps a body.
    pub fn new(body: B) -> Self {
        Sse {
            body,
            buf: Vec::new(),
            comments: 0,
            ended: false,
        }
    }

    fn take_event(&mut self) -> Option<Event> {
        loop {
            let pos = self.buf.windows(2).position(|w| w == b"\n\n")?;
            let block: Vec<u8> = self.buf.drain(..pos + 2).collect();
            let text = String::from_utf8(block).expect("SSE is UTF-8");
            let mut ev = Event::default();
            let mut data = Vec::new();
            let mut fields = 0;
            for line in text.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (k, v) = line.split_once(':').unwrap_or((line, ""));
                let v = v.strip_prefix(' ').unwrap_or(v);
                fields += 1;
                match k {
                    "id" => ev.id = Some(v.to_owned()),
                    "retry" => ev.retry = v.parse().ok(),
                    "data" => data.push(v.to_owned()),
                    _ => {}
                }
            }
            if fields == 0 {
                continue;
            }
            ev.data = data.join("\n");
            return Some(ev);
        }
    }

    /// The next event; `None` at the end of the stream. Fails the test after `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<Event> {
        within(limit, "the next SSE event", self.next_inner()).await
    }

    async fn next_inner(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.take_event() {
                return Some(e);
            }
            if self.ended {
                return None;
            }
            match self.body.frame().await {
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                    }
                }
                Some(Err(e)) => panic!("the SSE body failed: {e:?}"),
                None => self.ended = true,
            }
        }
    }

    /// Every remaining event, until the stream ends.
    pub async fn rest(&mut self, limit: Duration) -> Vec<Event> {
        within(limit, "the end of the SSE stream", async {
            let mut v = Vec::new();
            while let Some(e) = self.next_inner().await {
                v.push(e);
            }
            v
        })
        .await
    }
}

/// Checks an SSE response's headers and returns its event reader.
pub fn sse<B>(resp: Response<B>) -> (HeaderMap, Sse<B>)
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = resp.into_parts();
    assert_eq!(parts.status, StatusCode::OK, "an SSE stream is a 200");
    assert_eq!(
        header(&parts.headers, "content-type"),
        Some("text/event-stream"),
        "expected an SSE response"
    );
    (parts.headers, Sse::new(body))
}

// ---------------------------------------------------------------------------------------------
// In-process helpers

/// Opens a handshake-era session at `version` and sends `notifications/initialized`.
pub async fn open_session(svc: &McpService, version: &str) -> String {
    let resp = svc.handle(post_json(&initialize_msg(version), &[])).await;
    let (status, headers, v) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "initialize failed: {v}");
    assert_eq!(v["result"]["protocolVersion"], version, "{v}");
    let sid = header(&headers, "mcp-session-id")
        .expect("initialize mints a session")
        .to_owned();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let resp = svc.handle(legacy(&sid, version, &note)).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    sid
}

// ---------------------------------------------------------------------------------------------
// On a socket

/// A server on a loopback port, shut down by [`Running::stop`].
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The service (to inspect sessions).
    pub service: McpService,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Completes when `serve_with` returns.
    pub done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Triggers the graceful shutdown.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `serve_with` on 127.0.0.1:0.
pub async fn spawn_server(service: McpService) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(mcp_transport::http::serve_with(
        service.clone(),
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    Running {
        addr,
        service,
        stop: Some(tx),
        done: Some(done),
    }
}

/// A hyper HTTP/1.1 client connection.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<ReqBody>,
    /// The connection task.
    pub conn: tokio::task::JoinHandle<()>,
    /// The client's local address.
    pub local: SocketAddr,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Client {
        let tcp = within(STEP, "connecting", tokio::net::TcpStream::connect(addr))
            .await
            .expect("connect");
        Self::handshake(tcp).await
    }

    /// Speaks HTTP/1.1 over an established stream.
    pub async fn handshake(tcp: tokio::net::TcpStream) -> Client {
        let local = tcp.local_addr().expect("local addr");
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .expect("handshake");
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        Client {
            sender,
            conn,
            local,
        }
    }

    /// Sends a request (its Host header is kept as built).
    pub async fn send(&mut self, req: Request<ReqBody>) -> Response<hyper::body::Incoming> {
        within(STEP, "the response headers", async {
            self.sender.ready().await.expect("connection ready");
            self.sender.send_request(req).await.expect("response")
        })
        .await
    }
}

impl Client {
    /// Sends a request without a time limit (for calls the test abandons).
    pub async fn send_unbounded(
        &mut self,
        req: Request<ReqBody>,
    ) -> hyper::Result<Response<hyper::body::Incoming>> {
        self.sender.ready().await?;
        self.sender.send_request(req).await
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

/// Never completes; for bodies that must not be read.
#[derive(Debug, Default)]
pub struct PendingBody {
    /// Set if the server ever polled it.
    pub polled: Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for PendingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        self.polled.store(true, Ordering::SeqCst);
        std::task::Poll::Pending
    }
}

/// The resident set size of this process, in bytes.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("resident pages");
    pages * rustix::param::page_size()
}
