//! Helpers shared by the integration tests: drive a server binary over stdio
//! (raw writes, line reads with timeouts, JSON-RPC framing checks), run a
//! command under a hard timeout, and run the official clients against a server
//! ([`interop`]).
#![allow(dead_code)]

pub(crate) mod interop;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Default wait for one expected line.
pub(crate) const STEP: Duration = Duration::from_secs(15);

/// How many exchanged lines the failure report shows.
const TRANSCRIPT_TAIL: usize = 40;
/// How much of the server's stderr is kept for the failure report.
const STDERR_KEEP: usize = 64 * 1024;

/// A command for the stdin writer thread.
enum WriteCmd {
    /// Write these bytes as they are.
    Bytes(Vec<u8>),
    /// Write `prefix`, then `chunk` `times` times, then `suffix` (one big write
    /// sequence that never holds the whole payload in memory).
    Stream {
        prefix: Vec<u8>,
        chunk: Vec<u8>,
        times: usize,
        suffix: Vec<u8>,
    },
}

/// What one read from the server's stdout produced.
#[derive(Debug)]
pub(crate) enum Read1 {
    /// A complete line (its JSON), already checked to be a JSON-RPC message.
    Line(Value),
    /// Nothing arrived in time.
    Timeout,
    /// stdout reached end of file.
    Eof,
}

/// Keeps the tail of a byte stream (the server's stderr).
#[derive(Debug, Default)]
struct Tail {
    buf: VecDeque<u8>,
}

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend(bytes);
        while self.buf.len() > STDERR_KEEP {
            self.buf.pop_front();
        }
    }
    fn text(&self) -> String {
        let (a, b) = self.buf.as_slices();
        let mut v = a.to_vec();
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// A server process spoken to over its stdin/stdout.
#[derive(Debug)]
pub(crate) struct StdioServer {
    name: String,
    child: Child,
    writer: Option<Sender<WriteCmd>>,
    acks: Receiver<Result<(), String>>,
    lines: Receiver<Vec<u8>>,
    eof: bool,
    stderr: Arc<Mutex<Tail>>,
    transcript: VecDeque<String>,
    exit: Option<ExitStatus>,
}

impl StdioServer {
    /// Spawns `exe args…` with piped stdio.
    pub(crate) fn spawn(exe: &str, args: &[&str]) -> Self {
        let mut child = Command::new(exe)
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {exe}: {e}"));
        let name = format!("{exe} {}", args.join(" ")).trim_end().to_owned();

        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");

        let (cmd_tx, cmd_rx) = mpsc::channel::<WriteCmd>();
        let (ack_tx, ack_rx) = mpsc::channel();
        thread::spawn(move || writer_thread(stdin, &cmd_rx, &ack_tx));

        let (line_tx, line_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::with_capacity(1 << 16, stdout);
            loop {
                let mut buf = Vec::new();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if line_tx.send(buf).is_err() {
                            break;
                        }
                    }
                }
            }
        });

        let tail = Arc::new(Mutex::new(Tail::default()));
        let tail2 = Arc::clone(&tail);
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match stderr.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Ok(mut t) = tail2.lock() {
                            t.push(&chunk[..n]);
                        }
                    }
                }
            }
        });

        Self {
            name,
            child,
            writer: Some(cmd_tx),
            acks: ack_rx,
            lines: line_rx,
            eof: false,
            stderr: tail,
            transcript: VecDeque::new(),
            exit: None,
        }
    }

    fn note(&mut self, entry: String) {
        let entry = if entry.len() > 300 {
            let mut cut = 300;
            while !entry.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}…({} bytes)", &entry[..cut], entry.len())
        } else {
            entry
        };
        self.transcript.push_back(entry);
        while self.transcript.len() > TRANSCRIPT_TAIL {
            self.transcript.pop_front();
        }
    }

    /// Panics with `msg`, the recent exchange and the server's stderr.
    pub(crate) fn fail(&mut self, msg: &str) -> ! {
        let status = match self.child.try_wait() {
            Ok(Some(s)) => format!("exited: {s}"),
            Ok(None) => "still running".to_owned(),
            Err(e) => format!("unknown ({e})"),
        };
        let mut report = format!("{msg}\n\nserver: {} ({status})\n", self.name);
        report.push_str("--- recent exchange (C→S sent, S→C received) ---\n");
        for t in &self.transcript {
            let _ = writeln!(report, "{t}");
        }
        let stderr = self.stderr.lock().map(|t| t.text()).unwrap_or_default();
        let _ = write!(
            report,
            "--- server stderr (tail) ---\n{stderr}\n--- end ---"
        );
        panic!("{report}");
    }

    fn write(&mut self, cmd: WriteCmd, timeout: Duration, what: &str) {
        let Some(tx) = &self.writer else {
            self.fail(&format!("cannot send {what}: stdin already closed"));
        };
        if tx.send(cmd).is_err() {
            self.fail(&format!("cannot send {what}: the stdin writer is gone"));
        }
        match self.acks.recv_timeout(timeout) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.fail(&format!("writing {what} to the server's stdin failed: {e}")),
            Err(_) => self.fail(&format!(
                "writing {what} to the server's stdin did not finish within {timeout:?} (server stopped reading?)"
            )),
        }
    }

    /// Writes raw bytes (the caller supplies any newline).
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) {
        self.note(format!("C→S {}", String::from_utf8_lossy(bytes).trim_end()));
        self.write(WriteCmd::Bytes(bytes.to_vec()), STEP, "a line");
    }

    /// Writes one JSON value as a line.
    pub(crate) fn send(&mut self, msg: &Value) {
        let mut bytes = serde_json::to_vec(msg).expect("serialisable");
        bytes.push(b'\n');
        self.send_raw(&bytes);
    }

    /// Writes `prefix`, `chunk` × `times`, `suffix` without buffering it all.
    pub(crate) fn send_stream(
        &mut self,
        prefix: &[u8],
        chunk: &[u8],
        times: usize,
        suffix: &[u8],
        timeout: Duration,
    ) {
        let total = prefix.len() + chunk.len() * times + suffix.len();
        self.note(format!(
            "C→S {}<{} bytes>{}",
            String::from_utf8_lossy(prefix),
            chunk.len() * times,
            String::from_utf8_lossy(suffix).trim_end()
        ));
        self.write(
            WriteCmd::Stream {
                prefix: prefix.to_vec(),
                chunk: chunk.to_vec(),
                times,
                suffix: suffix.to_vec(),
            },
            timeout,
            &format!("a {total}-byte line"),
        );
    }

    /// Closes the server's stdin (EOF).
    pub(crate) fn close_stdin(&mut self) {
        self.note("C→S <EOF>".to_owned());
        self.writer = None;
    }

    /// Reads the next stdout line; every line must be a JSON-RPC 2.0 message.
    pub(crate) fn read(&mut self, timeout: Duration) -> Read1 {
        if self.eof {
            return Read1::Eof;
        }
        match self.lines.recv_timeout(timeout) {
            Ok(raw) => {
                let value = self.check_line(&raw);
                Read1::Line(value)
            }
            Err(RecvTimeoutError::Timeout) => Read1::Timeout,
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                self.note("S→C <EOF>".to_owned());
                Read1::Eof
            }
        }
    }

    fn check_line(&mut self, raw: &[u8]) -> Value {
        let shown = String::from_utf8_lossy(raw).into_owned();
        self.note(format!("S→C {}", shown.trim_end()));
        let Some(body) = raw.strip_suffix(b"\n") else {
            self.fail("stdout ended in the middle of a line (no trailing newline)");
        };
        let text = match std::str::from_utf8(body) {
            Ok(t) => t,
            Err(e) => self.fail(&format!("stdout line is not UTF-8 ({e})")),
        };
        if text.ends_with('\r') {
            self.fail("stdout line ends with \\r\\n; expected bare \\n framing");
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("stdout carried a non-JSON line ({e}): {text:?}")),
        };
        if let Err(why) = jsonrpc_shape(&value) {
            self.fail(&format!(
                "stdout line is not a JSON-RPC 2.0 message ({why}): {text}"
            ));
        }
        value
    }

    /// Reads the next line, failing on timeout or EOF.
    pub(crate) fn next_line(&mut self, timeout: Duration, waiting_for: &str) -> Value {
        match self.read(timeout) {
            Read1::Line(v) => v,
            Read1::Timeout => self.fail(&format!(
                "no output within {timeout:?} while waiting for {waiting_for}"
            )),
            Read1::Eof => self.fail(&format!(
                "server closed stdout while waiting for {waiting_for}"
            )),
        }
    }

    /// Reads until the response with `id`, skipping server notifications.
    /// Any other response or a server request is a failure.
    pub(crate) fn response(&mut self, id: &Value, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self.next_line(left, &format!("the response to id {id}"));
            if is_notification(&msg) {
                continue;
            }
            if msg.get("id") == Some(id) && msg.get("method").is_none() {
                return msg;
            }
            self.fail(&format!("expected the response to id {id}, got {msg}"));
        }
    }

    /// The very next line must be the response to `id` (nothing in between).
    pub(crate) fn very_next_response(&mut self, id: &Value) -> Value {
        let msg = self.next_line(STEP, &format!("the response to id {id}"));
        if msg.get("id") != Some(id) || msg.get("method").is_some() {
            self.fail(&format!(
                "expected the very next line to be the response to id {id}, got {msg}"
            ));
        }
        msg
    }

    /// Sends `ping` with `id` and checks the very next line is its `{}` result.
    pub(crate) fn ping_is_next(&mut self, id: i64) {
        let id = json!(id);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
        let resp = self.very_next_response(&id);
        if resp.get("result") != Some(&json!({})) {
            self.fail(&format!("ping {id} should answer {{}}, got {resp}"));
        }
    }

    /// Sends a request and returns its `result`, failing on an error response.
    pub(crate) fn request_ok(&mut self, id: i64, method: &str, params: Value) -> Value {
        let id = json!(id);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let resp = self.response(&id, STEP);
        match resp.get("result") {
            Some(r) => r.clone(),
            None => self.fail(&format!("{method} (id {id}) failed: {resp}")),
        }
    }

    /// Legacy handshake at `version`, then `notifications/initialized`.
    pub(crate) fn initialize(&mut self, version: &str) -> Value {
        let result = self.request_ok(
            0,
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "mcp-examples-tests", "version": "0.0.0"}
            }),
        );
        if result.get("protocolVersion") != Some(&json!(version)) {
            self.fail(&format!("initialize at {version} answered {result}"));
        }
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        result
    }

    /// Calls tool `echo` and checks the text comes back.
    pub(crate) fn echo_roundtrip(&mut self, id: i64, text: &str) {
        let result = self.request_ok(
            id,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": text}}),
        );
        if tool_text(&result).as_deref() != Some(text)
            || result.get("isError") == Some(&json!(true))
        {
            self.fail(&format!("echo {text:?} (id {id}) returned {result}"));
        }
    }

    /// Waits for the process to exit.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(s) = self.exit {
            return s;
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.exit = Some(status);
                    return status;
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => self.fail(&format!("the server did not exit within {timeout:?}")),
                Err(e) => self.fail(&format!("waiting for the server failed: {e}")),
            }
        }
    }

    /// Closes stdin, checks every remaining stdout line is JSON-RPC and is
    /// not a response (all requests must have been answered already), and
    /// that the server exits with status 0.
    pub(crate) fn finish(&mut self) {
        self.close_stdin();
        loop {
            match self.read(STEP) {
                Read1::Line(msg) if is_notification(&msg) => {}
                Read1::Line(msg) => self.fail(&format!(
                    "unexpected line after all requests were answered: {msg}"
                )),
                Read1::Timeout => self.fail("stdout still open well after stdin was closed"),
                Read1::Eof => break,
            }
        }
        let status = self.wait_exit(STEP);
        if !status.success() {
            self.fail(&format!(
                "after stdin EOF the server exited with {status}, expected status 0"
            ));
        }
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        self.writer = None;
        if self.exit.is_none() {
            if let Ok(None) = self.child.try_wait() {
                let _ = self.child.kill();
            }
            let _ = self.child.wait();
        }
    }
}

fn writer_thread(
    mut stdin: ChildStdin,
    cmds: &Receiver<WriteCmd>,
    acks: &Sender<Result<(), String>>,
) {
    // Ends (closing stdin) when the sender is dropped.
    for cmd in cmds {
        let res = match cmd {
            WriteCmd::Bytes(b) => stdin.write_all(&b).and_then(|()| stdin.flush()),
            WriteCmd::Stream {
                prefix,
                chunk,
                times,
                suffix,
            } => write_stream(&mut stdin, &prefix, &chunk, times, &suffix),
        };
        let failed = res.is_err();
        if acks.send(res.map_err(|e| e.to_string())).is_err() || failed {
            return;
        }
    }
}

fn write_stream(
    stdin: &mut ChildStdin,
    prefix: &[u8],
    chunk: &[u8],
    times: usize,
    suffix: &[u8],
) -> std::io::Result<()> {
    stdin.write_all(prefix)?;
    for _ in 0..times {
        stdin.write_all(chunk)?;
    }
    stdin.write_all(suffix)?;
    stdin.flush()
}

/// `Ok` if `v` has the shape of a JSON-RPC 2.0 request, notification or response.
pub(crate) fn jsonrpc_shape(v: &Value) -> Result<(), String> {
    let obj = v.as_object().ok_or("not a JSON object")?;
    if obj.get("jsonrpc") != Some(&json!("2.0")) {
        return Err("\"jsonrpc\" is not \"2.0\"".into());
    }
    let id_ok = |id: &Value| id.is_string() || id.is_i64() || id.is_u64() || id.is_null();
    if let Some(method) = obj.get("method") {
        if !method.is_string() {
            return Err("\"method\" is not a string".into());
        }
        if obj.contains_key("result") || obj.contains_key("error") {
            return Err("has both \"method\" and \"result\"/\"error\"".into());
        }
        if let Some(id) = obj.get("id") {
            if !(id.is_string() || id.is_i64() || id.is_u64()) {
                return Err("request id is not a string or integer".into());
            }
        }
        return Ok(());
    }
    let id = obj.get("id").ok_or("response without \"id\"")?;
    if !id_ok(id) {
        return Err("response id is not a string, integer or null".into());
    }
    match (obj.get("result"), obj.get("error")) {
        (Some(_), None) => Ok(()),
        (None, Some(err)) => {
            if err.get("code").and_then(Value::as_i64).is_none() {
                return Err("error without an integer \"code\"".into());
            }
            if !err.get("message").is_some_and(Value::is_string) {
                return Err("error without a string \"message\"".into());
            }
            Ok(())
        }
        _ => Err("response needs exactly one of \"result\" and \"error\"".into()),
    }
}

/// A message with a method and no id.
pub(crate) fn is_notification(v: &Value) -> bool {
    v.get("method").is_some() && v.get("id").is_none()
}

/// The error code of an error response.
pub(crate) fn error_code(v: &Value) -> Option<i64> {
    v.get("error")?.get("code")?.as_i64()
}

/// The concatenated text blocks of a tool result.
pub(crate) fn tool_text(result: &Value) -> Option<String> {
    let blocks = result.get("content")?.as_array()?;
    let texts: Vec<&str> = blocks
        .iter()
        .filter(|b| b.get("type") == Some(&json!("text")))
        .filter_map(|b| b.get("text")?.as_str())
        .collect();
    (!texts.is_empty()).then(|| texts.concat())
}

/// Output of [`run_with_timeout`].
#[derive(Debug)]
pub(crate) struct RunOutput {
    /// Exit status; `None` if the command was killed at the timeout.
    pub(crate) status: Option<ExitStatus>,
    /// Everything written to stdout.
    pub(crate) stdout: String,
    /// Everything written to stderr.
    pub(crate) stderr: String,
    /// Wall time.
    pub(crate) elapsed: Duration,
}

impl RunOutput {
    /// Both streams, for a failure message.
    pub(crate) fn dump(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

/// Runs `cmd` (stdin closed) in its own process group; past `timeout` the
/// whole group is killed and `status` is `None`.
pub(crate) fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<RunOutput, String> {
    use std::os::unix::process::CommandExt as _;

    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot spawn {cmd:?}: {e}"))?;
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    for (pipe, buf) in [
        (
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            Arc::clone(&out),
        ),
        (
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            Arc::clone(&err),
        ),
    ] {
        let done = done_tx.clone();
        if let Some(mut pipe) = pipe {
            thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut b) = buf.lock() {
                        b.extend_from_slice(&chunk[..n]);
                    }
                }
                let _ = done.send(());
            });
        }
    }
    drop(done_tx);

    let deadline = start + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                // Kill the whole group: the command's own children (e.g. a
                // server spawned by a client) would otherwise hold the pipes.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(e) => return Err(format!("waiting for {cmd:?} failed: {e}")),
        }
    };
    // Let the readers drain, but never hang on a grandchild holding a pipe.
    let drain_deadline = Instant::now() + Duration::from_secs(5);
    for _ in 0..2 {
        let left = drain_deadline.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    let text = |b: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&b.lock().map(|v| v.clone()).unwrap_or_default()).into_owned()
    };
    Ok(RunOutput {
        status,
        stdout: text(&out),
        stderr: text(&err),
        elapsed: start.elapsed(),
    })
}
