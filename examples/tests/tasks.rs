//! Long-running work: tasks, end to end over Streamable HTTP, in both protocol eras.
//!
//! The server is the conformance server's own router (`mcp_examples::conformance`) behind
//! `McpService` on a loopback port, exactly as `conformance-server --http` serves it, with one
//! addition for the ownership tests: a test-only layer that takes `Authorization: Bearer <name>`
//! as the authenticated subject `<name>` (what a real authentication layer puts in the request
//! extensions).
//!
//! Each era gets the same five checks: a 10-second task polled to completion; a task cancelled
//! mid-way, whose handler sees it (`slow_compute` records in a journal, read with the
//! `slow_compute_journal` tool, when its future is dropped before it finished); a result fetched
//! after the client reconnected; an expired task that is gone (and whose handler was stopped);
//! and a task another caller cannot see, read, await or cancel.
//!
//! The HTTP client is a few lines of raw HTTP/1.1 (one connection per request, JSON or SSE
//! answers), so every byte that matters is visible here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mcp_core::identity::Identity;
use mcp_core::server::ServerConfig;
use mcp_transport::http::{HttpConfig, McpService};
use serde_json::{json, Value};

/// The longest any single HTTP exchange may take (`tasks/result` waits for the task).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(40);
/// The suite's handshake-era protocol version.
const HANDSHAKE: &str = "2025-11-25";
/// The stateless revision.
const MODERN: &str = "2026-07-28";
const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";
const INVALID_PARAMS: i64 = -32602;

// ---- The server ----------------------------------------------------------------------------

/// The conformance fixtures served over HTTP on a loopback port, on their own runtime.
struct TestServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Test-only authentication: `Authorization: Bearer <name>` is the subject `<name>`.
async fn bearer_is_subject(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let subject = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(subject) = subject {
        req.extensions_mut()
            .insert(Arc::new(Identity::new(subject)));
    }
    next.run(req).await
}

impl TestServer {
    fn start() -> TestServer {
        Self::with_config(ServerConfig::default())
    }

    fn with_config(config: ServerConfig) -> TestServer {
        Self::with_configs(config, HttpConfig::default())
    }

    fn with_configs(config: ServerConfig, http_config: HttpConfig) -> TestServer {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind a loopback port");
                addr_tx
                    .send(listener.local_addr().expect("the bound address"))
                    .expect("the test is waiting");
                let server =
                    mcp_core::Server::with_config(mcp_examples::conformance::router(), config);
                let mcp = McpService::new(server, http_config);
                let app = axum::Router::new()
                    .route_service("/mcp", mcp)
                    .layer(axum::middleware::from_fn(bearer_is_subject));
                tokio::select! {
                    r = axum::serve(listener, app) => r.expect("serve"),
                    _ = stop_rx => {}
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the server started");
        TestServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---- Raw HTTP ------------------------------------------------------------------------------

/// One HTTP answer: its status, lower-cased head, and the JSON-RPC messages of its body (one
/// for a JSON body, every `data:` event of an SSE body).
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    messages: Vec<Value>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::trim)
    }

    /// The response to request `id`.
    fn response(&self, id: u64) -> &Value {
        self.messages
            .iter()
            .find(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no response to id {id} in {self:#?}"))
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size.min(body.len())]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

fn parse_messages(content_type: &str, body: &str) -> Vec<Value> {
    if content_type.starts_with("text/event-stream") {
        body.split("\n\n")
            .filter_map(|event| {
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                let data = data.join("\n");
                (!data.trim().is_empty()).then(|| {
                    serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {data:?}"))
                })
            })
            .collect()
    } else if body.trim().is_empty() {
        Vec::new()
    } else {
        vec![serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {body:?}"))]
    }
}

/// One exchange on a fresh TCP connection (`Connection: close`).
fn http(addr: SocketAddr, method: &str, headers: &[(&str, String)], body: &str) -> Reply {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(EXCHANGE_TIMEOUT))
        .expect("read timeout");
    let mut req = format!(
        "{method} /mcp HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    tcp.write_all(req.as_bytes()).expect("write the request");
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading the answer to {body} failed: {e}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_owned();
    let body = String::from_utf8_lossy(&body).into_owned();
    let messages = parse_messages(&content_type, &body);
    Reply {
        status,
        head,
        messages,
    }
}

fn result(response: &Value) -> &Value {
    response
        .get("result")
        .unwrap_or_else(|| panic!("expected a result, got {response}"))
}

fn error_code(response: &Value) -> i64 {
    response
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("expected an error, got {response}"))
}

fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// A label no other test uses.
fn label(what: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("randomness");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{what}-{hex}")
}

// ---- The two kinds of client ---------------------------------------------------------------

/// Something that can call tools and `tasks/*`, in one era.
trait Caller {
    /// Sends one request and returns the whole response message (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value;

    /// A plain (non-task) tool call's result.
    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        result(&r).clone()
    }

    /// What `slow_compute_journal` says about `label` (without the `label: ` prefix).
    fn journal(&mut self, label: &str) -> String {
        let r = self.call("slow_compute_journal", json!({ "label": label }));
        let t = text(&r);
        t.strip_prefix(&format!("{label}: "))
            .unwrap_or_else(|| panic!("unexpected journal text {t:?}"))
            .to_owned()
    }

    /// Polls `tasks/get` until the task is terminal; returns the last task and the statuses
    /// seen on the way (each distinct status once, in order).
    fn poll(&mut self, task_id: &str, limit: Duration) -> (Value, Vec<String>) {
        let start = Instant::now();
        let mut seen: Vec<String> = Vec::new();
        loop {
            let r = self.request("tasks/get", json!({ "taskId": task_id }));
            let task = result(&r).clone();
            let status = task["status"].as_str().unwrap_or_default().to_owned();
            if seen.last() != Some(&status) {
                seen.push(status.clone());
            }
            if matches!(status.as_str(), "completed" | "failed" | "cancelled") {
                return (task, seen);
            }
            assert!(
                start.elapsed() < limit,
                "task {task_id} still {status} after {limit:?}: {task}"
            );
            let poll_ms = task
                .get("pollInterval")
                .or_else(|| task.get("pollIntervalMs"))
                .and_then(Value::as_u64)
                .unwrap_or(500);
            thread::sleep(Duration::from_millis(poll_ms.clamp(50, 1000)));
        }
    }

    /// Waits until the journal entry for `label` satisfies `pred`; returns it.
    fn journal_until(&mut self, label: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let entry = self.journal(label);
            if pred(&entry) {
                return entry;
            }
            assert!(
                Instant::now() < deadline,
                "the journal of {label} never showed {what}; last: {entry:?}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A handshake-era (2025-11-25) client on one HTTP session.
struct Session {
    addr: SocketAddr,
    id: String,
    bearer: Option<String>,
    next_id: u64,
}

impl Session {
    fn open(addr: SocketAddr, bearer: Option<&str>) -> Session {
        let mut s = Session {
            addr,
            id: String::new(),
            bearer: bearer.map(str::to_owned),
            next_id: 1,
        };
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": HANDSHAKE, "capabilities": {},
            "clientInfo": {"name": "tasks-test", "version": "0"}}});
        let reply = http(addr, "POST", &s.auth(), &init.to_string());
        assert_eq!(reply.status, 200, "{reply:#?}");
        let r = reply.response(0);
        assert_eq!(result(r)["protocolVersion"], HANDSHAKE, "{r}");
        let caps = &result(r)["capabilities"]["tasks"];
        assert!(
            caps["requests"]["tools"]["call"].is_object(),
            "tasks capability: {r}"
        );
        s.id = reply
            .header("mcp-session-id")
            .expect("a session id")
            .to_owned();
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let reply = http(addr, "POST", &s.headers(), &note.to_string());
        assert_eq!(reply.status, 202, "{reply:#?}");
        s
    }

    fn auth(&self) -> Vec<(&'static str, String)> {
        self.bearer
            .iter()
            .map(|b| ("Authorization", format!("Bearer {b}")))
            .collect()
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = self.auth();
        h.push(("Mcp-Session-Id", self.id.clone()));
        h.push(("MCP-Protocol-Version", HANDSHAKE.to_owned()));
        h
    }

    /// The same session, used by someone else (another identity, or none).
    fn as_caller(&self, bearer: Option<&str>) -> Session {
        Session {
            addr: self.addr,
            id: self.id.clone(),
            bearer: bearer.map(str::to_owned),
            next_id: 1000,
        }
    }

    /// The raw HTTP exchange for one request.
    fn exchange(&mut self, method: &str, params: Value) -> (u64, Reply) {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        (
            id,
            http(self.addr, "POST", &self.headers(), &body.to_string()),
        )
    }

    /// `tools/call` with `task: {ttl}`; returns the created task.
    fn start_task(&mut self, tool: &str, arguments: Value, ttl_ms: u64) -> Value {
        let r = self.request(
            "tools/call",
            json!({"name": tool, "arguments": arguments, "task": {"ttl": ttl_ms}}),
        );
        let task = result(&r)["task"].clone();
        assert!(task["taskId"].is_string(), "no task in {r}");
        assert_eq!(task["status"], "working", "{r}");
        assert!(task["createdAt"].is_string(), "{r}");
        assert!(task["lastUpdatedAt"].is_string(), "{r}");
        task
    }

    fn list_ids(&mut self) -> Vec<String> {
        let r = self.request("tasks/list", json!({}));
        result(&r)["tasks"]
            .as_array()
            .unwrap_or_else(|| panic!("tasks/list: {r}"))
            .iter()
            .filter_map(|t| t["taskId"].as_str().map(str::to_owned))
            .collect()
    }

    /// Ends the session (`DELETE`), as a client that goes away does.
    fn close(self) {
        let reply = http(self.addr, "DELETE", &self.headers(), "");
        assert!(
            reply.status == 200 || reply.status == 204,
            "DELETE: {reply:#?}"
        );
    }
}

impl Caller for Session {
    fn request(&mut self, method: &str, params: Value) -> Value {
        let (id, reply) = self.exchange(method, params);
        assert_eq!(reply.status, 200, "{method}: {reply:#?}");
        reply.response(id).clone()
    }
}

/// A 2026-07-28 client: stateless, every request carries its envelope; the tasks extension
/// is declared.
struct Modern {
    addr: SocketAddr,
    bearer: Option<String>,
    next_id: u64,
}

impl Modern {
    fn new(addr: SocketAddr, bearer: Option<&str>) -> Modern {
        Modern {
            addr,
            bearer: bearer.map(str::to_owned),
            next_id: 1,
        }
    }

    /// `tools/call` of a task-capable tool; returns the created task.
    fn start_task(&mut self, tool: &str, arguments: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let task = result(&r).clone();
        assert_eq!(task["resultType"], "task", "{r}");
        assert!(task["taskId"].is_string(), "{r}");
        assert_eq!(task["status"], "working", "{r}");
        assert!(task["ttlMs"].is_u64(), "{r}");
        assert!(task["pollIntervalMs"].is_u64(), "{r}");
        task
    }
}

impl Caller for Modern {
    fn request(&mut self, method: &str, mut params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS_EXTENSION: {}}},
            "io.modelcontextprotocol/clientInfo": {"name": "tasks-test", "version": "0"},
        });
        let mut headers: Vec<(&str, String)> = vec![
            ("MCP-Protocol-Version", MODERN.to_owned()),
            ("Mcp-Method", method.to_owned()),
        ];
        let name = match method {
            "tools/call" => params["name"].as_str(),
            m if m.starts_with("tasks/") => params["taskId"].as_str(),
            _ => None,
        };
        if let Some(n) = name {
            headers.push(("Mcp-Name", n.to_owned()));
        }
        if let Some(b) = &self.bearer {
            headers.push(("Authorization", format!("Bearer {b}")));
        }
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let reply = http(self.addr, "POST", &headers, &body.to_string());
        assert!(
            !reply.messages.is_empty(),
            "{method}: no JSON-RPC answer: {reply:#?}"
        );
        reply.response(id).clone()
    }
}

/// The step at which a `cancelled at step N/M` journal entry stopped.
fn cancelled_step(entry: &str) -> u32 {
    entry
        .strip_prefix("cancelled at step ")
        .and_then(|s| s.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a cancellation entry: {entry:?}"))
}

/// The step a `running: step N/M` journal entry reached (0 for anything else).
fn running_step(entry: &str) -> u32 {
    entry
        .strip_prefix("running: step ")
        .and_then(|s| s.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// After a handler was stopped, its journal entry must not move again.
fn assert_stays_stopped(c: &mut impl Caller, label: &str, entry: &str) {
    thread::sleep(Duration::from_millis(400));
    assert_eq!(
        c.journal(label),
        entry,
        "the handler of {label} kept running after it was stopped"
    );
}

// ---- 2025-11-25: the handshake era ---------------------------------------------------------

#[test]
fn handshake_ten_second_task_polled_to_completion() {
    let server = TestServer::start();
    let mut s = Session::open(server.addr, None);
    let label = label("ten-seconds");
    let started = Instant::now();
    let task = s.start_task(
        "slow_compute",
        json!({"seconds": 10, "label": label}),
        60_000,
    );
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    assert_eq!(task["ttl"], 60_000, "the requested TTL is granted: {task}");
    assert!(
        task["pollInterval"].is_u64(),
        "a poll interval is suggested: {task}"
    );
    // The call answered at once; the work goes on in the background.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(s.list_ids().contains(&id));

    let (done, seen) = s.poll(&id, Duration::from_secs(30));
    let elapsed = started.elapsed();
    assert_eq!(seen, ["working", "completed"], "{done}");
    assert!(
        elapsed >= Duration::from_millis(9_500),
        "completed after only {elapsed:?}"
    );
    assert_eq!(s.journal(&label), "completed: 100/100 steps");

    let r = s.request("tasks/result", json!({ "taskId": id }));
    let payload = result(&r);
    assert_eq!(
        text(payload),
        format!("Computed {label} after 10 seconds"),
        "{r}"
    );
    assert_ne!(payload["isError"], true, "{r}");
    assert_eq!(
        payload["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id,
        "{r}"
    );
    // Fetching the result again gives the same result.
    let again = s.request("tasks/result", json!({ "taskId": id }));
    assert_eq!(text(result(&again)), text(payload));
    println!("a 10-second task completed in {elapsed:?}, polled {seen:?}");
}

#[test]
fn handshake_task_cancelled_midway_stops_its_handler() {
    let server = TestServer::start();
    let mut s = Session::open(server.addr, None);
    let label = label("cancel");
    let task = s.start_task(
        "slow_compute",
        json!({"seconds": 60, "label": label}),
        60_000,
    );
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    s.journal_until(&label, "three steps", |e| running_step(e) >= 3);

    let r = s.request("tasks/cancel", json!({ "taskId": id }));
    let cancelled = result(&r);
    assert_eq!(cancelled["taskId"], id.as_str(), "{r}");
    assert_eq!(cancelled["status"], "cancelled", "{r}");

    // The handler observes the cancellation: its future is dropped mid-way.
    let entry = s.journal_until(&label, "the cancellation", |e| {
        e.starts_with("cancelled at step")
    });
    let step = cancelled_step(&entry);
    assert!(
        (3..600).contains(&step),
        "stopped at step {step} of 600: {entry}"
    );
    assert_stays_stopped(&mut s, &label, &entry);

    let r = s.request("tasks/get", json!({ "taskId": id }));
    assert_eq!(result(&r)["status"], "cancelled", "{r}");
    assert!(result(&r)["statusMessage"].is_string(), "{r}");
    // A cancelled task has no result, and cannot be cancelled twice.
    let r = s.request("tasks/result", json!({ "taskId": id }));
    assert_eq!(error_code(&r), INVALID_PARAMS, "{r}");
    let r = s.request("tasks/cancel", json!({ "taskId": id }));
    assert_eq!(error_code(&r), INVALID_PARAMS, "{r}");
    println!("cancelled mid-way; the handler stopped at step {step}/600");
}

#[test]
fn handshake_result_fetched_after_reconnecting() {
    let server = TestServer::start();
    let mut s = Session::open(server.addr, Some("alice"));
    let label = label("reconnect");
    let task = s.start_task(
        "slow_compute",
        json!({"seconds": 2, "label": label}),
        60_000,
    );
    let id = task["taskId"].as_str().expect("taskId").to_owned();

    // The client drops everything it had open: a GET stream cut mid-way, and no request in
    // flight. Every request here is its own TCP connection, so what follows is a reconnect.
    {
        let mut tcp = TcpStream::connect(server.addr).expect("connect");
        let get = format!(
            "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nAuthorization: Bearer alice\r\nMcp-Session-Id: {}\r\nMCP-Protocol-Version: {HANDSHAKE}\r\n\r\n",
            server.addr, s.id
        );
        tcp.write_all(get.as_bytes()).expect("write");
        tcp.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 256];
        let n = tcp.read(&mut buf).expect("the stream's head");
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "GET stream: {}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
    thread::sleep(Duration::from_millis(500));

    // Reconnected: the session resumes on a new connection and the task is there.
    let mut again = s.as_caller(Some("alice"));
    assert!(again.list_ids().contains(&id));
    let started = Instant::now();
    let r = again.request("tasks/result", json!({ "taskId": id }));
    assert_eq!(
        text(result(&r)),
        format!("Computed {label} after 2 seconds"),
        "{r}"
    );
    let r = again.request("tasks/get", json!({ "taskId": id }));
    assert_eq!(result(&r)["status"], "completed", "{r}");
    println!(
        "tasks/result after reconnecting waited {:?} for the task",
        started.elapsed()
    );
}

#[test]
fn handshake_expired_task_is_gone_and_stopped() {
    let server = TestServer::start();
    let mut s = Session::open(server.addr, None);

    // A finished task whose TTL runs out.
    let short = s.start_task("slow_compute", json!({"seconds": 0.2}), 1_000);
    let short_id = short["taskId"].as_str().expect("taskId").to_owned();
    assert_eq!(short["ttl"], 1_000, "{short}");
    let (done, _) = s.poll(&short_id, Duration::from_secs(5));
    assert_eq!(done["status"], "completed", "{done}");

    // A running task whose TTL runs out before its work is done.
    let label = label("expire");
    let long = s.start_task(
        "slow_compute",
        json!({"seconds": 60, "label": label}),
        1_000,
    );
    let long_id = long["taskId"].as_str().expect("taskId").to_owned();
    s.journal_until(&label, "a step", |e| running_step(e) >= 1);

    thread::sleep(Duration::from_millis(1_500));
    for id in [&short_id, &long_id] {
        for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
            let r = s.request(method, json!({ "taskId": id }));
            assert_eq!(error_code(&r), INVALID_PARAMS, "{method} {id}: {r}");
        }
    }
    let listed = s.list_ids();
    assert!(
        !listed.contains(&short_id) && !listed.contains(&long_id),
        "expired tasks are still listed: {listed:?}"
    );
    // Nobody can fetch its result any more, so the expired task's work was stopped.
    let entry = s.journal_until(&label, "the stop at expiry", |e| {
        e.starts_with("cancelled at step")
    });
    let step = cancelled_step(&entry);
    assert!(step < 40, "stopped only at step {step}: {entry}");
    assert_stays_stopped(&mut s, &label, &entry);
}

#[test]
fn handshake_other_sessions_and_identities_are_refused() {
    let server = TestServer::start();

    // Without authentication a task belongs to the session that created it.
    let mut a = Session::open(server.addr, None);
    let mut b = Session::open(server.addr, None);
    let task = a.start_task("slow_compute", json!({"seconds": 30}), 60_000);
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    assert!(!b.list_ids().contains(&id));
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let r = b.request(method, json!({ "taskId": id }));
        assert_eq!(
            error_code(&r),
            INVALID_PARAMS,
            "{method} from another session: {r}"
        );
    }
    // Untouched by those attempts.
    let r = a.request("tasks/get", json!({ "taskId": id }));
    assert_eq!(result(&r)["status"], "working", "{r}");

    // With authentication: alice's task is invisible to bob, in his session or in hers.
    let mut alice = Session::open(server.addr, Some("alice"));
    let mut bob = Session::open(server.addr, Some("bob"));
    let task = alice.start_task("slow_compute", json!({"seconds": 30}), 60_000);
    let alice_id = task["taskId"].as_str().expect("taskId").to_owned();
    assert!(!bob.list_ids().contains(&alice_id));
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let r = bob.request(method, json!({ "taskId": alice_id }));
        assert_eq!(error_code(&r), INVALID_PARAMS, "{method} by bob: {r}");
    }
    let mut bob_in_alices_session = alice.as_caller(Some("bob"));
    let (_, reply) = bob_in_alices_session.exchange("tasks/get", json!({ "taskId": alice_id }));
    assert_eq!(reply.status, 404, "bob in alice's session: {reply:#?}");
    let mut anonymous_in_alices_session = alice.as_caller(None);
    let (_, reply) =
        anonymous_in_alices_session.exchange("tasks/get", json!({ "taskId": alice_id }));
    assert_eq!(
        reply.status, 404,
        "no identity in alice's session: {reply:#?}"
    );

    // Alice still has it, and can cancel it.
    assert!(alice.list_ids().contains(&alice_id));
    let r = alice.request("tasks/cancel", json!({ "taskId": alice_id }));
    assert_eq!(result(&r)["status"], "cancelled", "{r}");
    let r = a.request("tasks/cancel", json!({ "taskId": id }));
    assert_eq!(result(&r)["status"], "cancelled", "{r}");
    a.close();
    b.close();
}

// ---- 2026-07-28: the tasks extension -------------------------------------------------------

#[test]
fn modern_ten_second_task_polled_to_completion() {
    let server = TestServer::start();
    let mut c = Modern::new(server.addr, None);
    let label = label("ten-seconds");
    let started = Instant::now();
    let task = c.start_task("slow_compute", json!({"seconds": 10, "label": label}));
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    assert!(started.elapsed() < Duration::from_secs(5));

    let (done, seen) = c.poll(&id, Duration::from_secs(30));
    let elapsed = started.elapsed();
    assert_eq!(seen, ["working", "completed"], "{done}");
    assert!(
        elapsed >= Duration::from_millis(9_500),
        "completed after only {elapsed:?}"
    );
    // The result is inlined in the terminal task.
    assert_eq!(
        text(&done["result"]),
        format!("Computed {label} after 10 seconds"),
        "{done}"
    );
    assert_eq!(c.journal(&label), "completed: 100/100 steps");
    println!("a 10-second task completed in {elapsed:?}, polled {seen:?}");
}

#[test]
fn modern_task_cancelled_midway_stops_its_handler() {
    let server = TestServer::start();
    let mut c = Modern::new(server.addr, None);
    let label = label("cancel");
    let task = c.start_task("slow_compute", json!({"seconds": 60, "label": label}));
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    c.journal_until(&label, "three steps", |e| running_step(e) >= 3);

    let r = c.request("tasks/cancel", json!({ "taskId": id }));
    assert_eq!(result(&r)["resultType"], "complete", "{r}");

    let entry = c.journal_until(&label, "the cancellation", |e| {
        e.starts_with("cancelled at step")
    });
    let step = cancelled_step(&entry);
    assert!(
        (3..600).contains(&step),
        "stopped at step {step} of 600: {entry}"
    );
    assert_stays_stopped(&mut c, &label, &entry);

    let r = c.request("tasks/get", json!({ "taskId": id }));
    let t = result(&r);
    assert_eq!(t["status"], "cancelled", "{r}");
    assert!(
        t.get("result").is_none(),
        "a cancelled task has no result: {r}"
    );
    // Cancelling again is acknowledged (the 2026-07-28 extension's tasks/cancel is idempotent).
    let r = c.request("tasks/cancel", json!({ "taskId": id }));
    assert!(r.get("result").is_some(), "{r}");
    println!("cancelled mid-way; the handler stopped at step {step}/600");
}

#[test]
fn modern_result_fetched_after_reconnecting() {
    let server = TestServer::start();
    let label = label("reconnect");
    let id = {
        let mut first = Modern::new(server.addr, Some("alice"));
        let task = first.start_task("slow_compute", json!({"seconds": 2, "label": label}));
        task["taskId"].as_str().expect("taskId").to_owned()
        // The first client goes away.
    };
    thread::sleep(Duration::from_millis(300));
    // A new client, new connections, the same caller.
    let mut second = Modern::new(server.addr, Some("alice"));
    let (done, _) = second.poll(&id, Duration::from_secs(15));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        text(&done["result"]),
        format!("Computed {label} after 2 seconds"),
        "{done}"
    );
}

#[test]
fn modern_expired_task_is_gone_and_stopped() {
    let mut config = ServerConfig::default();
    config.tasks.default_ttl = Duration::from_secs(1);
    let server = TestServer::with_config(config);
    let mut c = Modern::new(server.addr, None);

    let short = c.start_task("slow_compute", json!({"seconds": 0.2}));
    let short_id = short["taskId"].as_str().expect("taskId").to_owned();
    assert_eq!(short["ttlMs"], 1_000, "{short}");
    let (done, _) = c.poll(&short_id, Duration::from_secs(5));
    assert_eq!(done["status"], "completed", "{done}");

    let label = label("expire");
    let long = c.start_task("slow_compute", json!({"seconds": 60, "label": label}));
    let long_id = long["taskId"].as_str().expect("taskId").to_owned();
    c.journal_until(&label, "a step", |e| running_step(e) >= 1);

    thread::sleep(Duration::from_millis(1_500));
    for id in [&short_id, &long_id] {
        let r = c.request("tasks/get", json!({ "taskId": id }));
        assert_eq!(error_code(&r), INVALID_PARAMS, "tasks/get {id}: {r}");
        let r = c.request("tasks/cancel", json!({ "taskId": id }));
        assert_eq!(error_code(&r), INVALID_PARAMS, "tasks/cancel {id}: {r}");
    }
    let entry = c.journal_until(&label, "the stop at expiry", |e| {
        e.starts_with("cancelled at step")
    });
    assert!(cancelled_step(&entry) < 40, "{entry}");
    assert_stays_stopped(&mut c, &label, &entry);
}

#[test]
fn modern_unknown_task_ids_are_refused() {
    let server = TestServer::start();
    let mut c = Modern::new(server.addr, None);
    let task = c.start_task("slow_compute", json!({"seconds": 0.1}));
    let id = task["taskId"].as_str().expect("taskId");
    // One character off: another task id, which nobody owns.
    let mut other: Vec<char> = id.chars().collect();
    other[0] = if other[0] == '0' { '1' } else { '0' };
    let other: String = other.into_iter().collect();
    for method in ["tasks/get", "tasks/cancel"] {
        let r = c.request(method, json!({ "taskId": other }));
        assert_eq!(error_code(&r), INVALID_PARAMS, "{method}: {r}");
    }
    // Without the extension declared, the task methods are refused outright (-32021).
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {
        "taskId": id,
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                  "io.modelcontextprotocol/clientCapabilities": {}}}});
    let headers = [
        ("MCP-Protocol-Version", MODERN.to_owned()),
        ("Mcp-Method", "tasks/get".to_owned()),
        ("Mcp-Name", id.to_owned()),
    ];
    let reply = http(server.addr, "POST", &headers, &body.to_string());
    assert_eq!(error_code(reply.response(1)), -32021, "{reply:#?}");
}

// ---- What a handshake-era task sends while it runs -----------------------------------------

/// The JSON-RPC messages of an SSE stream's raw bytes (chunk framing and all).
fn sse_messages(raw: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(raw)
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

#[test]
fn handshake_task_progress_never_stalls_it_without_a_listener() {
    // A small stream queue, and no GET stream to drain it: 30 progress notifications cannot
    // all be queued.
    let mut http_config = HttpConfig::default();
    http_config.stream_queue = 4;
    let server = TestServer::with_configs(ServerConfig::default(), http_config);
    let mut s = Session::open(server.addr, None);
    let label = label("unheard");
    let r = s.request(
        "tools/call",
        json!({"name": "slow_compute", "arguments": {"seconds": 3, "label": label},
               "task": {"ttl": 60_000}, "_meta": {"progressToken": "p-unheard"}}),
    );
    let id = result(&r)["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("no task: {r}"))
        .to_owned();
    let (done, _) = s.poll(&id, Duration::from_secs(15));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(s.journal(&label), "completed: 30/30 steps");
}

#[test]
fn handshake_task_progress_carries_its_related_task() {
    let server = TestServer::start();
    let mut s = Session::open(server.addr, None);
    // The client listens on its GET stream, where a task's messages go.
    let mut get = TcpStream::connect(server.addr).expect("connect");
    let request = format!(
        "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {}\r\nMCP-Protocol-Version: {HANDSHAKE}\r\n\r\n",
        server.addr, s.id
    );
    get.write_all(request.as_bytes()).expect("write");
    get.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let reader = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(6);
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        while Instant::now() < deadline {
            match get.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        raw
    });
    thread::sleep(Duration::from_millis(200));
    let r = s.request(
        "tools/call",
        json!({"name": "slow_compute", "arguments": {"seconds": 1},
               "task": {"ttl": 60_000}, "_meta": {"progressToken": "p-related"}}),
    );
    let id = result(&r)["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("no task: {r}"))
        .to_owned();
    let (done, _) = s.poll(&id, Duration::from_secs(10));
    assert_eq!(done["status"], "completed", "{done}");
    let messages = sse_messages(&reader.join().expect("the reader"));
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 10, "{messages:#?}");
    for p in progress {
        assert_eq!(p["params"]["progressToken"], "p-related", "{p}");
        assert_eq!(
            p["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
            id.as_str(),
            "{p}"
        );
    }
}

// ---- Ownership by identity -----------------------------------------------------------------

#[test]
fn handshake_result_fetched_from_a_new_session_of_the_same_identity() {
    let server = TestServer::start();
    let mut first = Session::open(server.addr, Some("alice"));
    let label = label("new-session");
    let task = first.start_task(
        "slow_compute",
        json!({"seconds": 2, "label": label}),
        60_000,
    );
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    // The client goes away for good: its session ends.
    first.close();

    // Alice comes back with a new session; her task is there, and its result.
    let mut second = Session::open(server.addr, Some("alice"));
    assert!(second.list_ids().contains(&id));
    let r = second.request("tasks/result", json!({ "taskId": id }));
    assert_eq!(
        text(result(&r)),
        format!("Computed {label} after 2 seconds"),
        "{r}"
    );
    // Still nobody else's.
    let mut bob = Session::open(server.addr, Some("bob"));
    assert!(!bob.list_ids().contains(&id));
    let r = bob.request("tasks/get", json!({ "taskId": id }));
    assert_eq!(error_code(&r), INVALID_PARAMS, "{r}");
}

#[test]
fn modern_other_identities_are_refused() {
    let server = TestServer::start();
    let mut alice = Modern::new(server.addr, Some("alice"));
    let task = alice.start_task("slow_compute", json!({"seconds": 30}));
    let id = task["taskId"].as_str().expect("taskId").to_owned();
    for caller in [Some("bob"), None] {
        let mut other = Modern::new(server.addr, caller);
        for method in ["tasks/get", "tasks/cancel"] {
            let r = other.request(method, json!({ "taskId": id }));
            assert_eq!(
                error_code(&r),
                INVALID_PARAMS,
                "{method} by {caller:?}: {r}"
            );
        }
    }
    // Untouched by those attempts.
    let r = alice.request("tasks/get", json!({ "taskId": id }));
    assert_eq!(result(&r)["status"], "working", "{r}");
    let r = alice.request("tasks/cancel", json!({ "taskId": id }));
    assert!(r.get("result").is_some(), "{r}");
    let r = alice.request("tasks/get", json!({ "taskId": id }));
    assert_eq!(result(&r)["status"], "cancelled", "{r}");
}

// ---- Cooperative cancellation: the handler's token -----------------------------------------

#[test]
fn a_tasks_token_fires_on_cancel_and_expiry_not_on_disconnect() {
    let server = TestServer::start();
    // tasks/cancel, both eras.
    let mut s = Session::open(server.addr, None);
    let l = label("token-cancel");
    let t = s.start_task("slow_compute", json!({"seconds": 60, "label": l}), 60_000);
    s.journal_until(&l, "a step", |e| running_step(e) >= 1);
    let r = s.request("tasks/cancel", json!({ "taskId": t["taskId"] }));
    assert_eq!(result(&r)["status"], "cancelled", "{r}");
    s.journal_until(&format!("{l}#token"), "the token", |e| e == "cancelled");

    let mut m = Modern::new(server.addr, None);
    let l = label("token-cancel-modern");
    let t = m.start_task("slow_compute", json!({"seconds": 60, "label": l}));
    m.journal_until(&l, "a step", |e| running_step(e) >= 1);
    let r = m.request("tasks/cancel", json!({ "taskId": t["taskId"] }));
    assert!(r.get("result").is_some(), "{r}");
    m.journal_until(&format!("{l}#token"), "the token", |e| e == "cancelled");

    // Expiry.
    let l = label("token-expiry");
    s.start_task("slow_compute", json!({"seconds": 60, "label": l}), 1_000);
    s.journal_until(&format!("{l}#token"), "the token", |e| e == "cancelled");

    // The client going away is no cancellation: the task completes, its token never fired.
    let mut gone = Session::open(server.addr, None);
    let l = label("token-disconnect");
    gone.start_task("slow_compute", json!({"seconds": 1, "label": l}), 60_000);
    gone.close();
    s.journal_until(&l, "the completion", |e| e.starts_with("completed"));
    assert_eq!(s.journal(&format!("{l}#token")), "not cancelled");
}
