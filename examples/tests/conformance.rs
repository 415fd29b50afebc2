//! The official MCP conformance suite against `conformance-server --http`, all three pinned
//! runs, one server instance.
//!
//! `.ci/conformance-suite` provisions Node 22 and the suite packages (npm) on first use.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn provision() -> (String, String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/conformance-suite");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run .ci/conformance-suite");
    assert!(
        out.status.success(),
        "provisioning the conformance suite failed (see stderr above)"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("a result line").to_owned();
    let parts: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(parts.len(), 3, "unexpected provisioning output: {last}");
    (
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    )
}

struct Run {
    passed: u64,
    failed: u64,
    output: String,
}

fn run_suite(node: &str, suite: &str, url: &str, args: &[&str]) -> Run {
    let start = Instant::now();
    let out = Command::new(node)
        .arg(suite)
        .args(["server", "--url", url])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the conformance suite");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let total = output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Total: "))
        .next_back()
        .unwrap_or_else(|| panic!("no Total line in the suite output:\n{output}"))
        .to_owned();
    let nums: Vec<u64> = total
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(nums.len() >= 2, "cannot read {total:?}");
    eprintln!(
        "conformance {args:?}: {total} in {:.1?} (exit {:?})",
        start.elapsed(),
        out.status.code()
    );
    assert!(
        out.status.success(),
        "the suite reported a failure {args:?}:\n{output}"
    );
    Run {
        passed: nums[0],
        failed: nums[1],
        output,
    }
}

/// Failing scenarios listed in the SUMMARY that the suite does not list as "not scored".
fn scored_failures(output: &str) -> Vec<String> {
    let summary = output.split("=== SUMMARY ===").nth(1).unwrap_or("");
    let (scored, unscored) = summary.split_once("Not scored").unwrap_or((summary, ""));
    scored
        .lines()
        .filter_map(|l| l.trim().strip_prefix("✗ "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_owned)
        .filter(|name| !unscored.contains(&format!("✗ {name} ")))
        .collect()
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
