//! The official MCP conformance suite through the gateway: `gateway --http` fronting
//! `conformance-server` (a stdio child, no prefix), all three pinned runs.
//!
//! Pass-through of tools, resources, prompts, completions, logging, progress, elicitation and
//! sampling (server→client requests in 2025, `input_required` in 2026-07-28), list changes
//! and tasks is what this checks: every run must pass without a single failure, the
//! 2026-07-28 tasks extension (which the suite does not score) included.

mod gateway_support;
mod suite;

use gateway_support::*;

use suite::{failures, provision};

/// (passed, failed, output)
fn run_suite(node: &str, suite: &str, url: &str, args: &[&str]) -> (u64, u64, String) {
    let r = suite::run(node, suite, url, args, "gateway conformance");
    (r.passed, r.failed, r.output)
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
