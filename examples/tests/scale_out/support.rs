//! Shared by the scale-out tests: a cluster of two `conformance-server` instances sharing a
//! real Redis, behind a real nginx (round robin), all on loopback ports, provisioned and
//! stopped by `.ci/redis-nginx`; and a small blocking HTTP/1.1 + SSE client and RESP client.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub(crate) const SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");
pub(crate) const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// The secret every instance seals `requestState` and cursors with.
pub(crate) const STATE_KEY: &str = "scale-out-test-secret-0123456789abcdef";
/// apt-get on a fresh machine may take a while.
const PROVISION_TIMEOUT: Duration = Duration::from_secs(900);
pub(crate) const STEP: Duration = Duration::from_secs(15);

/// The script that provisions Redis and nginx.
pub(crate) fn script() -> PathBuf {
    Path::new(MANIFEST_DIR).join("../.ci/redis-nginx")
}

/// Runs `.ci/redis-nginx ARGS…` under a timeout; panics with its output unless it succeeds.
/// Returns the last stdout line.
pub(crate) fn provision(args: &[&str]) -> String {
    let mut child = Command::new("bash")
        .arg(script())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run .ci/redis-nginx: {e}"));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if started.elapsed() > PROVISION_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!(".ci/redis-nginx {args:?} failed ({s}):\n{out}\n{err}"),
        None => {
            panic!(".ci/redis-nginx {args:?} timed out after {PROVISION_TIMEOUT:?}:\n{out}\n{err}")
        }
    }
    out.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .unwrap_or_default()
}

/// One `conformance-server --http` process.
pub(crate) struct Instance {
    child: Child,
    pub(crate) addr: SocketAddr,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Instance {
    fn start(args: &[String]) -> Instance {
        let mut child = Command::new(SERVER)
            .args(["--http", "127.0.0.1:0"])
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {SERVER}: {e}"));
        let stderr = child.stderr.take().expect("stderr");
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail2 = tail.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                if let Ok(mut t) = tail2.lock() {
                    t.push_back(line);
                    while t.len() > 200 {
                        t.pop_front();
                    }
                }
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let log = tail
                .lock()
                .map(|t| Vec::from(t.clone()).join("\n"))
                .unwrap_or_default();
            panic!("conformance-server {args:?} did not start (does it take the scale-out flags? see docs/deployment.md):\n{log}");
        };
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {url:?}: {e}"));
        Instance {
            child,
            addr,
            stderr: tail,
        }
    }

    pub(crate) fn log(&self) -> String {
        self.stderr
            .lock()
            .map(|t| Vec::from(t.clone()).join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Redis, two instances and nginx; everything stops on drop (and, should the test process
/// die, the script's watcher stops Redis and nginx).
pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
    pub(crate) redis_url: String,
    pub(crate) redis_port: u16,
    pub(crate) a: Instance,
    pub(crate) b: Instance,
    pub(crate) nginx: SocketAddr,
    /// The key namespace (`test-<name>:`).
    pub(crate) prefix: String,
}

impl Cluster {
    /// Starts a cluster; `extra` goes to both instances' command lines.
    pub(crate) fn start(name: &str, extra: &[&str]) -> Cluster {
        let dir = std::env::temp_dir().join(format!("mcp-scale-out-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let d = dir.to_string_lossy().into_owned();
        let pid = std::process::id().to_string();
        let redis_url = provision(&["redis", "start", &d, "--watch", &pid]);
        assert!(
            redis_url.starts_with("redis://"),
            "no Redis URL from .ci/redis-nginx"
        );
        let redis_port = redis_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad redis URL {redis_url:?}"));
        let mut args: Vec<String> = vec![
            "--redis".into(),
            redis_url.clone(),
            "--redis-prefix".into(),
            format!("test-{name}"),
            "--state-key".into(),
            STATE_KEY.into(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let a = Instance::start(&args);
        let b = Instance::start(&args);
        let url = provision(&[
            "nginx",
            "start",
            &d,
            "--upstream",
            &a.addr.to_string(),
            "--upstream",
            &b.addr.to_string(),
            "--watch",
            &pid,
        ]);
        let nginx = url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
            .parse()
            .unwrap_or_else(|e| panic!("bad nginx URL {url:?}: {e}"));
        Cluster {
            dir,
            redis_url,
            redis_port,
            a,
            b,
            nginx,
            prefix: format!("test-{name}:"),
        }
    }

    pub(crate) fn nginx_url(&self) -> String {
        format!("http://{}/mcp", self.nginx)
    }

    /// Which upstream served each request, from nginx's access log, in order.
    pub(crate) fn upstreams(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("nginx/access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
            .collect()
    }

    /// Both instances' logs, for failure reports.
    pub(crate) fn logs(&self) -> String {
        format!(
            "--- instance A ({}) ---\n{}\n--- instance B ({}) ---\n{}\n--- nginx error log ---\n{}",
            self.a.addr,
            self.a.log(),
            self.b.addr,
            self.b.log(),
            std::fs::read_to_string(self.dir.join("nginx/error.log")).unwrap_or_default()
        )
    }

    /// Checks that every Redis key is in this cluster's namespace and expires; returns how
    /// many there are.
    pub(crate) fn check_keys(&self) -> usize {
        let keys = redis(self.redis_port, &["KEYS", "*"]);
        let keys: Vec<String> = keys
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for k in &keys {
            assert!(
                k.starts_with(&self.prefix),
                "a key outside the namespace: {k}"
            );
            let ttl = redis(self.redis_port, &["PTTL", k]);
            assert!(
                ttl.as_i64().is_some_and(|t| t > 0),
                "{k} does not expire (PTTL {ttl})"
            );
        }
        keys.len()
    }

    /// Kills Redis (SIGKILL, as in a crash).
    pub(crate) fn kill_redis(&self) {
        provision(&["redis", "stop", &self.dir.to_string_lossy(), "--kill"]);
    }

    /// Starts Redis again on the same port (empty: it keeps nothing on disk).
    pub(crate) fn restart_redis(&self) {
        let url = provision(&["redis", "start", &self.dir.to_string_lossy()]);
        assert_eq!(url, self.redis_url, "Redis came back on another port");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let d = self.dir.to_string_lossy().into_owned();
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", &d])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// A response: status, lower-cased headers, and the body as it arrives.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    reader: BufReader<TcpStream>,
    chunked: bool,
    remaining: Option<usize>,
    chunk_left: usize,
    done: bool,
    pending: String,
}

/// One SSE event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Event {
    pub(crate) id: Option<String>,
    pub(crate) data: String,
}

impl Event {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }

    /// The sequence number of the event id (`<stream>:<seq>`).
    pub(crate) fn seq(&self) -> Option<u64> {
        self.id.as_deref()?.rsplit_once(':')?.1.parse().ok()
    }
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn read_some(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        if self.chunked {
            if self.chunk_left == 0 {
                let mut line = String::new();
                if self.reader.read_line(&mut line).ok()? == 0 {
                    self.done = true;
                    return None;
                }
                let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
                if size == 0 {
                    self.done = true;
                    return None;
                }
                self.chunk_left = size;
            }
            let mut buf = vec![0u8; self.chunk_left.min(8192)];
            let n = self.reader.read(&mut buf).ok()?;
            if n == 0 {
                self.done = true;
                return None;
            }
            buf.truncate(n);
            self.chunk_left -= n;
            if self.chunk_left == 0 {
                let mut crlf = String::new();
                let _ = self.reader.read_line(&mut crlf);
            }
            return Some(buf);
        }
        let want = self.remaining.unwrap_or(8192).min(8192);
        if want == 0 {
            self.done = true;
            return None;
        }
        let mut buf = vec![0u8; want];
        let n = self.reader.read(&mut buf).ok()?;
        if n == 0 {
            self.done = true;
            return None;
        }
        buf.truncate(n);
        if let Some(r) = self.remaining.as_mut() {
            *r -= n;
        }
        Some(buf)
    }

    /// The whole body as text.
    pub(crate) fn text(mut self) -> String {
        let mut out = std::mem::take(&mut self.pending).into_bytes();
        while let Some(b) = self.read_some() {
            out.extend(b);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The body as JSON.
    pub(crate) fn json(self) -> Value {
        let text = self.text();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
    }

    /// The next SSE event (comments skipped), or `None` at the end of the stream or after
    /// `timeout`.
    pub(crate) fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut e = Event::default();
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        e.id = Some(v.trim().to_owned());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        e.data.push_str(v.trim_start());
                        any = true;
                    }
                }
                if any {
                    return Some(e);
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = self
                .reader
                .get_ref()
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            let bytes = self.read_some()?;
            self.pending.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

/// Sends one request on a fresh connection and reads the response head.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut tcp = TcpStream::connect_timeout(&addr, STEP)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    tcp.set_read_timeout(Some(STEP)).expect("timeout");
    let mut req = format!("{method} /mcp HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    tcp.write_all(req.as_bytes()).expect("write");
    let mut reader = BufReader::new(tcp);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .unwrap_or_else(|e| panic!("no response from {addr}: {e}"));
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line from {addr}: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let chunked = find("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let remaining = find("content-length").and_then(|v| v.parse().ok());
    Response {
        status,
        headers,
        reader,
        chunked,
        remaining: if chunked { None } else { remaining },
        chunk_left: 0,
        done: false,
        pending: String::new(),
    }
}

pub(crate) const LEGACY: &str = "2025-11-25";

/// POSTs a JSON-RPC message in the handshake era (with the session, if any).
pub(crate) fn post(addr: SocketAddr, session: Option<&str>, body: &Value) -> Response {
    let mut h = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", LEGACY),
    ];
    if let Some(s) = session {
        h.push(("Mcp-Session-Id", s));
    }
    request(addr, "POST", &h, &body.to_string())
}

/// `initialize` (2025-11-25, declaring elicitation and tasks), then `initialized`; the session id.
pub(crate) fn open_session(addr: SocketAddr) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY,
        "capabilities": {"elicitation": {}, "tasks": {"requests": {"elicitation": {"create": {}}}}},
        "clientInfo": {"name": "scale-out-test", "version": "0"}}});
    let r = post(addr, None, &init);
    assert_eq!(r.status, 200, "initialize on {addr}");
    let sid = r.header("mcp-session-id").expect("a session id").to_owned();
    let _ = r.text();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(addr, Some(&sid), &note).status, 202);
    sid
}

/// The JSON-RPC message of a response, whether JSON or SSE (the first message with an `id`
/// equal to `id`).
pub(crate) fn answer(mut r: Response, id: u64) -> Value {
    let sse = r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/event-stream"));
    if !sse {
        return r.json();
    }
    while let Some(e) = r.next_event(STEP) {
        let v = e.json();
        if v["id"] == id && v.get("method").is_none() {
            return v;
        }
    }
    panic!("no answer with id {id} on the stream");
}

/// A 2026-07-28 request (stateless): headers and envelope.
pub(crate) fn modern(addr: SocketAddr, id: u64, method: &str, mut params: Value) -> Response {
    let caps = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    });
    // Mcp-Name mirrors the tool name, or the task id of tasks/*.
    let name = params
        .get("name")
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut h = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", method),
    ];
    if method == "tools/call" || method.starts_with("tasks/") {
        h.push(("Mcp-Name", name.as_str()));
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    request(addr, "POST", &h, &body.to_string())
}

// ---------------------------------------------------------------------------------------------
// RESP

/// Sends one command to Redis and returns the reply, rendered as JSON (strings, integers,
/// arrays, null).
pub(crate) fn redis(port: u16, args: &[&str]) -> Value {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    tcp.set_read_timeout(Some(STEP)).expect("timeout");
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    tcp.write_all(cmd.as_bytes()).expect("write");
    let mut r = BufReader::new(tcp);
    read_resp(&mut r)
}

fn read_resp(r: &mut BufReader<TcpStream>) -> Value {
    let mut line = String::new();
    r.read_line(&mut line).expect("reply");
    let line = line.trim_end();
    let (kind, rest) = line.split_at(1);
    match kind {
        "+" => json!(rest),
        "-" => json!({"error": rest}),
        ":" => json!(rest.parse::<i64>().unwrap_or(0)),
        "$" => {
            let n: i64 = rest.parse().unwrap_or(-1);
            if n < 0 {
                return Value::Null;
            }
            let mut buf = vec![0u8; n as usize + 2];
            r.read_exact(&mut buf).expect("bulk");
            json!(String::from_utf8_lossy(&buf[..n as usize]))
        }
        "*" => {
            let n: i64 = rest.parse().unwrap_or(-1);
            if n < 0 {
                return Value::Null;
            }
            Value::Array((0..n).map(|_| read_resp(r)).collect())
        }
        _ => panic!("unexpected reply {line:?}"),
    }
}
