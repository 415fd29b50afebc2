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

use suite::{provision, scored_failures, Run};

fn run_suite(node: &str, suite: &str, url: &str, args: &[&str]) -> Run {
    let run = suite::run(node, suite, url, args, "conformance");
    assert!(
        run.success,
        "the suite reported a failure {args:?}:\n{}",
        run.output
    );
    run
}

#[test]
fn official_conformance_suite() {
    let (node, suite_old, suite_new) = provision();
    let (_server, url) = start_server();

    let all = run_suite(&node, &suite_old, &url, &["--suite", "all"]);
    assert_eq!(all.failed, 0, "0.1.16 --suite all:\n{}", all.output);
    assert!(
        all.passed >= 45,
        "0.1.16 ran fewer checks than expected: {}",
        all.passed
    );

    let handshake = run_suite(&node, &suite_new, &url, &["--requirements", "2025-11-25"]);
    assert_eq!(
        handshake.failed, 0,
        "--requirements 2025-11-25:\n{}",
        handshake.output
    );
    assert!(
        handshake.passed >= 81,
        "2025-11-25 ran fewer checks than expected: {}",
        handshake.passed
    );

    let modern = run_suite(&node, &suite_new, &url, &["--requirements", "2026-07-28"]);
    let scored = scored_failures(&modern.output);
    assert!(
        scored.is_empty(),
        "scored 2026-07-28 scenarios failed: {scored:?}\n{}",
        modern.output
    );
    assert!(
        modern.passed >= 160,
        "2026-07-28 ran fewer checks than expected: {}",
        modern.passed
    );
}
