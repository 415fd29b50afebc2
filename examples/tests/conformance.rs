//! The official MCP conformance suite against `conformance-server --http`, all three pinned
//! runs, one server instance.
//!
//! `.ci/conformance-suite` provisions Node 22 and the suite packages (npm) on first use.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance-server"))
        .args(["--http", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start conformance-server");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server printed its address");
    (Server(child), url)
}

mod suite;

use suite::{run_pinned, ModernBar};

#[test]
fn official_conformance_suite() {
    let (_server, url) = start_server();
    let runs = run_pinned(
        &url,
        "conformance",
        ModernBar::NoScoredFailure { min: 160 },
        &String::new,
    );
    for run in runs {
        assert!(run.success, "the suite reported a failure:\n{}", run.output);
    }
}
