//! The official MCP conformance suite through the gateway: `gateway --http` fronting
//! `conformance-server` (a stdio child, no prefix), all three pinned runs.
//!
//! Pass-through of tools, resources, prompts, completions, logging, progress, elicitation and
//! sampling (server→client requests in 2025, `input_required` in 2026-07-28), list changes
//! and tasks is what this checks: every run must pass without a single failure, the
//! 2026-07-28 tasks extension (which the suite does not score) included.

mod gateway_support;

use std::process::{Command, Stdio};
use std::time::Instant;

use gateway_support::*;

fn provision() -> (String, String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/conformance-suite");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run .ci/conformance-suite");
    assert!(
        out.status.success(),
        "provisioning the conformance suite failed"
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

/// (passed, failed, output)
fn run_suite(node: &str, suite: &str, url: &str, args: &[&str]) -> (u64, u64, String) {
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
        .rev()
        .find_map(|l| l.trim().strip_prefix("Total: "))
        .unwrap_or_else(|| panic!("no Total line in the suite output:\n{output}"))
        .to_owned();
    let nums: Vec<u64> = total
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(nums.len() >= 2, "cannot read {total:?}");
    eprintln!(
        "gateway conformance {args:?}: {total} in {:.1?}",
        start.elapsed()
    );
    (nums[0], nums[1], output)
}

/// Failing scenarios, scored or not.
fn failures(output: &str) -> Vec<String> {
    let summary = output.split("=== SUMMARY ===").nth(1).unwrap_or("");
    summary
        .lines()
        .filter_map(|l| l.trim().strip_prefix("✗ "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn conformance_suite_through_the_gateway() {
    let (node, suite_old, suite_new) = provision();
    let dir = scratch("conformance");
    let config = write_config(
        &dir,
        &format!(
            "[[backends]]\nname = \"conformance\"\ncommand = [{}, \"--stdio\"]\ntimeout_ms = 30000\n",
            toml_str(CONFORMANCE)
        ),
    );
    let config = config.to_string_lossy().into_owned();
    let (gateway, url) = spawn_http(
        GATEWAY,
        &["--config", &config, "--http", "127.0.0.1:0"],
        &[("RUST_LOG", "warn")],
    );

    let (passed, failed, output) = run_suite(&node, &suite_old, &url, &["--suite", "all"]);
    assert_eq!(
        failed,
        0,
        "0.1.16 --suite all through the gateway:\n{output}\n{}",
        gateway.stderr()
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
        "2025-11-25 through the gateway:\n{output}\n{}",
        gateway.stderr()
    );
    assert!(
        passed >= 81,
        "2025-11-25 ran fewer checks than expected: {passed}"
    );

    let (passed, failed, output) =
        run_suite(&node, &suite_new, &url, &["--requirements", "2026-07-28"]);
    assert_eq!(
        failed,
        0,
        "2026-07-28 through the gateway (tasks included): {:?}\n{output}\n{}",
        failures(&output),
        gateway.stderr()
    );
    assert!(
        passed >= 196,
        "2026-07-28 ran fewer checks than expected: {passed}"
    );
}
