//! Helpers of the gateway tests: child processes that die with the test, HTTP servers that
//! report their address, configuration files.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const GATEWAY: &str = env!("CARGO_BIN_EXE_gateway");
pub(crate) const HELLO: &str = env!("CARGO_BIN_EXE_hello");
pub(crate) const CONFORMANCE: &str = env!("CARGO_BIN_EXE_conformance-server");
pub(crate) const POSTGRES: &str = env!("CARGO_BIN_EXE_postgres-server");
pub(crate) const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A child process killed (and reaped) when dropped; its stderr is kept.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) stderr: Arc<Mutex<String>>,
}

impl Proc {
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a server with `--http ADDR` and waits for its `listening on URL` line.
pub(crate) fn spawn_http(program: &str, args: &[&str], env: &[(&str, &str)]) -> (Proc, String) {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let kept = Arc::new(Mutex::new(String::new()));
    let sink = kept.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
            if let Ok(mut s) = sink.lock() {
                if s.len() < 256 * 1024 {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        }
    });
    let proc = Proc {
        child,
        stderr: kept,
    };
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{program} printed no address:\n{}", proc.stderr()));
    (proc, url)
}

/// A fresh directory under the target dir for one test's files: unique per call, since tests
/// of one binary run at once in one process and may pass the same name.
pub(crate) fn scratch(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let exe = Path::new(GATEWAY);
    let base = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base
        .join("gateway-tests")
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch dir");
    dir
}

/// Writes a configuration file.
pub(crate) fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("gateway.toml");
    std::fs::write(&path, text).expect("write the config");
    path
}

/// A TOML string literal.
pub(crate) fn toml_str(s: &str) -> String {
    format!("{s:?}")
}

/// Starts a server with `--http 127.0.0.1:0` off the async runtime (it waits for the address).
pub(crate) async fn spawn_http_async(
    program: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
) -> (Proc, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        spawn_http(program, &args, &env)
    })
    .await
    .expect("spawn_http")
}

/// Every request header a backend received, as `name: value` lines.
pub(crate) type SeenHeaders = Arc<Mutex<Vec<String>>>;

/// Records the headers of every request before passing it on.
#[derive(Clone)]
struct Recording<S> {
    inner: S,
    seen: SeenHeaders,
}

impl<S, B> tower::Service<http::Request<B>> for Recording<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> S::Future {
        if let Ok(mut seen) = self.seen.lock() {
            for (k, v) in req.headers() {
                seen.push(format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())));
            }
        }
        self.inner.call(req)
    }
}

/// Serves `router` over Streamable HTTP on loopback, in this process, recording the request
/// headers into `seen`; returns the endpoint URL.
pub(crate) async fn serve_backend(router: mcp_core::Router, seen: SeenHeaders) -> String {
    use mcp_transport::http::{HttpConfig, McpService};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a backend port");
    let addr = listener.local_addr().expect("addr");
    let mcp = McpService::new(mcp_core::Server::new(router), HttpConfig::default());
    let app = axum::Router::new().fallback_service(Recording { inner: mcp, seen });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/mcp")
}
