//! Test support for the postgres-server tests: the throwaway cluster, `psql`, the server over
//! stdio, and a TCP proxy that can "take the database down".
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const SERVER: &str = env!("CARGO_BIN_EXE_postgres-server");
pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The longest any single request may take in these tests.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Expected row counts of the sample data, which no test may change.
pub const SAMPLE_COUNTS: [(&str, i64); 4] = [
    ("shop.customers", 50),
    ("shop.products", 20),
    ("shop.orders", 200),
    ("shop.order_lines", 600),
];

/// The cluster's URL, started once per test binary by `.ci/postgres` (which stops it when this
/// process exits). `DATABASE_URL` set by the user is used instead.
pub fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let script = Path::new(MANIFEST_DIR).join("../.ci/postgres");
        let started = Instant::now();
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", "--name", "tests", "--watch"])
            .arg(std::process::id().to_string())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} start failed ({}); see its output above",
            script.display(),
            out.status
        );
        let url = String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .unwrap_or_else(|| panic!("{} printed no URL", script.display()));
        eprintln!("test cluster ready in {:?}", started.elapsed());
        url
    })
}

/// `psql`, from PATH or the PostgreSQL bin directories.
pub fn psql_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(out) = Command::new("sh").args(["-c", "command -v psql"]).output() {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !p.is_empty() {
                return PathBuf::from(p);
            }
        }
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs.into_iter()
            .rev()
            .map(|d| d.join("bin/psql"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"))
    })
    .clone()
}

/// Runs SQL as the URL's role with psql and returns the unaligned, tuples-only output.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new(psql_path())
        .args([url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed on {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the test database's role is a superuser (some least-privilege tests need one to
/// set up roles; with a user-provided non-superuser DATABASE_URL they are skipped).
pub fn is_superuser(url: &str) -> bool {
    psql(
        url,
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
    ) == "t"
}

/// Replaces the user and password of a `postgres://user:pw@host…` URL.
pub fn with_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    format!("{scheme}://{user}:{password}@{host}")
}

/// Replaces the port of a URL.
pub fn with_port(url: &str, port: u16) -> String {
    let (before, after) = url.rsplit_once('@').expect("a URL with credentials");
    let (_, path) = after.split_once('/').expect("a URL with a database");
    let host = after.split(':').next().unwrap_or("127.0.0.1");
    format!("{before}@{host}:{port}/{path}")
}

/// The port of a URL.
pub fn port_of(url: &str) -> u16 {
    let after = url.rsplit_once('@').map(|(_, a)| a).unwrap_or(url);
    let hostport = after.split('/').next().unwrap_or(after);
    hostport
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(5432)
}

/// Asserts the sample data is intact.
pub fn assert_intact(url: &str) {
    for (table, n) in SAMPLE_COUNTS {
        let got = psql(url, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(got, n.to_string(), "{table} changed");
    }
}

/// How the test client answers `elicitation/create`.
#[derive(Debug, Clone)]
pub enum Elicit {
    /// Accept with this content.
    Accept(Value),
    /// Decline.
    Decline,
}

/// A running server speaking JSON-RPC over stdio.
pub struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
    /// Messages that arrived while waiting for something else.
    backlog: VecDeque<Value>,
    /// Answer to elicitation requests.
    pub elicit: Elicit,
    /// Every elicitation request the server sent.
    pub elicitations: Vec<Value>,
}

impl Server {
    /// Starts the server with `args`, `DATABASE_URL=url`, without initializing.
    pub fn spawn(url: &str, args: &[&str]) -> Server {
        let mut child = Command::new(SERVER)
            .args(args)
            .env("DATABASE_URL", url)
            .env_remove("MCP_POSTGRES_SCOPES")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let (tx, rx) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Server {
            child,
            stdin,
            lines: rx,
            stderr,
            next_id: 0,
            backlog: VecDeque::new(),
            elicit: Elicit::Decline,
            elicitations: Vec::new(),
        }
    }

    /// Starts and initializes (2025-11-25, with form elicitation).
    pub fn start(url: &str, args: &[&str]) -> Server {
        let mut s = Server::spawn(url, args);
        let r = s.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25",
                   "capabilities": {"elicitation": {"form": {}}},
                   "clientInfo": {"name": "postgres-tests", "version": "1"}}),
        );
        assert!(
            r.get("result").is_some(),
            "initialize failed: {r}\nstderr:\n{}",
            s.stderr()
        );
        s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        s
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Give the stderr thread a moment to drain.
                thread::sleep(Duration::from_millis(100));
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends one message.
    pub fn send(&mut self, msg: &Value) {
        let mut line = msg.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|_| self.stdin.flush())
            .expect("write to the server");
    }

    /// Sends a request and returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn next_message(&mut self, deadline: Instant) -> Value {
        if let Some(m) = self.backlog.pop_front() {
            return m;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) => panic!("the server wrote a non-JSON line ({e}): {line}"),
            },
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "no message from the server in time; stderr:\n{}",
                    self.stderr()
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the server closed stdout; stderr:\n{}", self.stderr())
            }
        }
    }

    /// Waits for the response to `id`, answering elicitation requests on the way.
    pub fn wait_response(&mut self, id: i64, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let mut skipped = Vec::new();
        let found = loop {
            let m = self.next_message(deadline);
            if m.get("method").and_then(Value::as_str) == Some("elicitation/create") {
                self.elicitations.push(m["params"].clone());
                let result = match &self.elicit {
                    Elicit::Accept(content) => json!({"action": "accept", "content": content}),
                    Elicit::Decline => json!({"action": "decline"}),
                };
                self.send(&json!({"jsonrpc": "2.0", "id": m["id"], "result": result}));
                continue;
            }
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                break m;
            }
            skipped.push(m);
        };
        // Keep other responses (of concurrent requests) for their waiters.
        self.backlog.extend(
            skipped
                .into_iter()
                .filter(|m| m.get("id").is_some() && m.get("method").is_none()),
        );
        found
    }

    /// Sends a request and waits for its response (the whole JSON-RPC message).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.wait_response(id, REQUEST_TIMEOUT)
    }

    /// Calls a tool and returns the `CallToolResult`.
    pub fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        match r.get("result") {
            Some(result) => result.clone(),
            None => panic!("tools/call {tool} failed: {r}"),
        }
    }

    /// Calls a tool that must succeed; returns its `structuredContent`.
    pub fn call_ok(&mut self, tool: &str, arguments: Value) -> Value {
        let r = self.call(tool, arguments.clone());
        assert_ne!(
            r.get("isError"),
            Some(&json!(true)),
            "{tool} {arguments} failed: {}",
            text_of(&r)
        );
        r["structuredContent"].clone()
    }

    /// Calls a tool that must fail; returns its error text.
    pub fn call_err(&mut self, tool: &str, arguments: Value) -> String {
        let r = self.call(tool, arguments.clone());
        assert_eq!(
            r.get("isError"),
            Some(&json!(true)),
            "{tool} {arguments} should have failed, got {r}"
        );
        text_of(&r)
    }

    /// Peak resident memory of the server process, in KiB (Linux).
    pub fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a tool result's content.
pub fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// A TCP proxy in front of PostgreSQL that can be taken down (new connections closed at once,
/// open ones cut) and brought back.
pub struct Proxy {
    /// The port clients connect to.
    pub port: u16,
    up: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// A proxy to `127.0.0.1:target`.
    pub fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (u, s, c) = (up.clone(), stop.clone(), conns.clone());
        thread::spawn(move || {
            // The listener stays bound while "down" (so the port cannot be taken by someone
            // else meanwhile); connections accepted then are closed at once.
            let _ = listener.set_nonblocking(true);
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if !u.load(Ordering::SeqCst) {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        let _ = client.set_nonblocking(false);
                        let Ok(server) =
                            TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], target)))
                        else {
                            continue;
                        };
                        if let (Ok(c1), Ok(s1), Ok(mut guard)) =
                            (client.try_clone(), server.try_clone(), c.lock())
                        {
                            guard.push(c1);
                            guard.push(s1);
                        }
                        pipe(client, server);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy {
            port,
            up,
            stop,
            conns,
        }
    }

    /// Closes new connections at once and cuts the open ones.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        if let Ok(mut conns) = self.conns.lock() {
            for c in conns.drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
        thread::sleep(Duration::from_millis(100));
    }

    /// Accepts connections again.
    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.down();
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    thread::spawn(move || copy(a, b2));
    thread::spawn(move || copy(b, a2));
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// What a finished (or killed) child process printed.
#[derive(Debug)]
pub struct Output {
    /// Exit code; `None` when it was killed on timeout (or by a signal).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Runs `cmd` to completion, killing it after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let collect = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = collect(Box::new(child.stdout.take().expect("stdout")));
    let err = collect(Box::new(child.stderr.take().expect("stderr")));
    let mut code = None;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            code = status.code();
            break;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    Output {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}
