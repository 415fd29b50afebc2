//! The official MCP conformance suite (all three pinned runs, as in `conformance.rs`) against
//! two `conformance-server` instances sharing Redis, through nginx doing round robin: every
//! scenario's requests alternate between the instances.
//!
//! `.ci/redis-nginx` provisions Redis and nginx, `.ci/conformance-suite` Node 22 and the suite.

#[path = "scale_out/support.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::Cluster;

fn provision_suite() -> (String, String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/conformance-suite");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .expect("run .ci/conformance-suite");
    assert!(
        out.status.success(),
        "provisioning the conformance suite failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
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

/// Runs one suite invocation (bounded) and returns (passed, failed, output).
fn run_suite(node: &str, suite: &str, url: &str, args: &[&str]) -> (u64, u64, String) {
    let start = Instant::now();
    let child = Command::new(node)
        .arg(suite)
        .args(["server", "--url", url])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the conformance suite");
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(600)).is_err() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    let out = child.wait_with_output().expect("the suite's output");
    let _ = tx.send(());
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
    println!(
        "conformance through nginx {args:?}: {total} in {:.1?}",
        start.elapsed()
    );
    (nums[0], nums[1], output)
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
fn official_conformance_suite_through_nginx_and_two_instances() {
    let (node, suite_old, suite_new) = provision_suite();
    let cluster = Cluster::start("conformance", &[]);
    let url = cluster.nginx_url();

    let (passed, failed, output) = run_suite(&node, &suite_old, &url, &["--suite", "all"]);
    assert_eq!(
        failed,
        0,
        "0.1.16 --suite all:\n{output}\n{}",
        cluster.logs()
    );
    assert!(
        passed >= 45,
        "0.1.16 ran fewer checks than expected: {passed}"
    );

    let (passed, failed, output) =
        run_suite(&node, &suite_new, &url, &["--requirements", "2025-11-25"]);
    assert_eq!(
        failed,
        0,
        "--requirements 2025-11-25:\n{output}\n{}",
        cluster.logs()
    );
    assert!(
        passed >= 81,
        "2025-11-25 ran fewer checks than expected: {passed}"
    );

    let (passed, _, output) = run_suite(&node, &suite_new, &url, &["--requirements", "2026-07-28"]);
    let scored = scored_failures(&output);
    assert!(
        scored.is_empty(),
        "scored 2026-07-28 scenarios failed through nginx: {scored:?}\n{output}\n{}",
        cluster.logs()
    );
    assert!(
        passed >= 160,
        "2026-07-28 ran fewer checks than expected: {passed}"
    );

    let served = cluster.upstreams();
    let on_a = served
        .iter()
        .filter(|u| **u == cluster.a.addr.to_string())
        .count();
    let on_b = served
        .iter()
        .filter(|u| **u == cluster.b.addr.to_string())
        .count();
    println!(
        "nginx spread {} requests: {on_a} on A, {on_b} on B",
        served.len()
    );
    assert!(on_a > 50 && on_b > 50, "both instances served the suite");
}
