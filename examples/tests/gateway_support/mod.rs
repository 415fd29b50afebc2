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

/// A fresh directory under the target dir for one test's files.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let exe = Path::new(GATEWAY);
    let base = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base
        .join("gateway-tests")
        .join(format!("{name}-{}", std::process::id()));
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
