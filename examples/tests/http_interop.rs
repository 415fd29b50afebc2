//! Interop over Streamable HTTP: the official clients drive `conformance-server --http` through
//! the same scenario as the stdio interop test (tools, progress, logging, an error result,
//! sampling and elicitation callbacks, unknown tool `-32602`, resources, prompts, completion),
//! plus checks of what went over the wire.
//!
//! - Python `mcp==2.3.0` (`.ci/python-client`): `mode="legacy"` and `mode="auto"`
//!   (`tests/interop/python_http_client.py`, which reuses `python_client.py`'s checks).
//! - TypeScript (`.ci/ts-client`, `tests/interop/ts/client.mjs`): `@modelcontextprotocol/sdk`
//!   1.x in the handshake era, `@modelcontextprotocol/client` 2.x in both eras.
//!
//! It also runs the `axum-mount` example: MCP mounted in an axum app beside a plain route, and
//! its graceful shutdown on SIGTERM.
//!
//! Nothing is skipped: if a client cannot be provisioned, the test fails with the reason.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::interop::{expect_all_passed, provision, python_script};
use serde_json::{json, Value};

const CONFORMANCE_SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");
const AXUM_MOUNT: &str = env!("CARGO_BIN_EXE_axum-mount");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Hard limit for one client run.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// A server process on a free loopback port, killed on drop.
struct Server {
    child: Child,
    url: String,
    addr: SocketAddr,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `exe --http 127.0.0.1:0` and waits for its `listening on URL` line.
    fn start(exe: &str) -> Server {
        let mut child = Command::new(exe)
            .args(["--http", "127.0.0.1:0"])
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let log2 = log.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                if let Ok(mut l) = log2.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{exe} did not print `listening on URL` within 30 s"));
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {url:?}: {e}"));
        Server {
            child,
            url,
            addr,
            stderr: log,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs an interop client command against `server` and checks its report.
fn run_client(what: &str, cmd: &mut Command, server: &Server) {
    expect_all_passed(what, cmd, RUN_TIMEOUT, || {
        format!("--- server stderr ---\n{}", server.stderr().trim_end())
    });
}

fn python(mode: &str) {
    let server = Server::start(CONFORMANCE_SERVER);
    run_client(
        &format!("Python mcp==2.3.0 mode={mode}"),
        python_script("tests/interop/python_http_client.py")
            .args(["--mode", mode, "--url", &server.url])
            .args(["--timeout", "30", "--overall-timeout", "100"]),
        &server,
    );
}

fn typescript(sdk: &str, mode: &str) {
    let line = provision("ts-client");
    let (node, modules) = line
        .split_once(' ')
        .unwrap_or_else(|| panic!(".ci/ts-client printed {line:?}, expected \"<node> <dir>\""));
    let server = Server::start(CONFORMANCE_SERVER);
    let script = Path::new(MANIFEST_DIR).join("tests/interop/ts/client.mjs");
    let package = if sdk == "v1" {
        "@modelcontextprotocol/sdk 1.x"
    } else {
        "@modelcontextprotocol/client 2.x"
    };
    run_client(
        &format!("TypeScript {package} mode={mode}"),
        Command::new(node)
            .arg(&script)
            .args(["--modules", modules, "--sdk", sdk, "--mode", mode])
            .args(["--url", &server.url, "--timeout", "30"]),
        &server,
    );
}

#[test]
fn python_client_legacy_mode() {
    python("legacy");
}

#[test]
fn python_client_auto_mode() {
    python("auto");
}

#[test]
fn typescript_sdk_v1_handshake_era() {
    typescript("v1", "legacy");
}

#[test]
fn typescript_client_v2_legacy_mode() {
    typescript("v2", "legacy");
}

#[test]
fn typescript_client_v2_auto_mode() {
    typescript("v2", "auto");
}

// ---------------------------------------------------------------------------------------------
// The axum-mount example

/// One HTTP/1.1 exchange over a fresh connection (`Connection: close`).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    tcp.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).expect("read the response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn header_value(head: &str, name: &str) -> Option<String> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(|v| v.trim().to_owned())
}

const MCP_HEADERS: [(&str, &str); 2] = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json, text/event-stream"),
];

#[test]
fn axum_mount_serves_mcp_beside_other_routes() {
    let server = Server::start(AXUM_MOUNT);
    // The app's own route.
    let (status, _, body) = http(server.addr, "GET", "/health", &[], "");
    assert_eq!((status, body.as_str()), (200, "ok"));
    // MCP, handshake era: initialize, then a call on the session.
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "axum-mount-test", "version": "0"}}});
    let (status, head, body) = http(server.addr, "POST", "/mcp", &MCP_HEADERS, &init.to_string());
    assert_eq!(status, 200, "{head}\n{body}");
    let sid = header_value(&head, "mcp-session-id").expect("a session id");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["result"]["protocolVersion"], "2025-11-25", "{v}");
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 40, "b": 2}}});
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("Mcp-Session-Id", &sid));
    headers.push(("MCP-Protocol-Version", "2025-11-25"));
    let (status, _, body) = http(server.addr, "POST", "/mcp", &headers, &call.to_string());
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["result"]["content"][0]["text"], "42", "{v}");
    // 2026-07-28, stateless, through the same mount.
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "add", "arguments": {"a": 1, "b": 2},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}});
    let mut headers = MCP_HEADERS.to_vec();
    headers.extend([
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "add"),
    ]);
    let (status, head, body) = http(server.addr, "POST", "/mcp", &headers, &call.to_string());
    assert_eq!(status, 200, "{body}");
    assert!(header_value(&head, "mcp-session-id").is_none());
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["result"]["content"][0]["text"], "3", "{v}");
    assert_eq!(v["result"]["resultType"], "complete", "{v}");
    // The security defaults travel with the mounted service.
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("Origin", "http://localhost.evil.com"));
    let (status, _, _) = http(server.addr, "POST", "/mcp", &headers, &init.to_string());
    assert_eq!(status, 403);
    // Routes axum does not know stay axum's 404.
    let (status, _, _) = http(server.addr, "GET", "/elsewhere", &[], "");
    assert_eq!(status, 404);
}

#[test]
fn axum_mount_shuts_down_gracefully_on_sigterm() {
    let mut server = Server::start(AXUM_MOUNT);
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "axum-mount-test", "version": "0"}}});
    let (_, head, _) = http(server.addr, "POST", "/mcp", &MCP_HEADERS, &init.to_string());
    let sid = header_value(&head, "mcp-session-id").expect("a session id");
    // An idle GET stream: shutdown must end it rather than wait for it forever.
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let get = format!(
        "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n",
        server.addr
    );
    stream.write_all(get.as_bytes()).expect("write");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).expect("the stream's head");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("text/event-stream"),
        "{head}"
    );

    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // The GET stream ends...
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    // ...and the process exits cleanly.
    let exit = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "axum-mount did not exit within 10 s of SIGTERM:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status {exit}:\n{}", server.stderr());
    println!(
        "axum-mount exited {:?} after SIGTERM with an open GET stream",
        sent.elapsed()
    );
}
