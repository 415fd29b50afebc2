//! Interop with the official MCP Python SDK client (`mcp==2.3.0`): it drives
//! `conformance-server` over stdio, once with the `initialize` handshake
//! (`mode="legacy"`) and once with the stateless 2026-07-28 revision
//! (`mode="auto"`). See `tests/interop/python_client.py` for the checks.
//!
//! `.ci/python-client` provisions the client's venv under the target dir.
//! Nothing is skipped: if Python cannot be provisioned the tests fail.

mod common;

use std::time::Duration;

use common::interop::{expect_all_passed, python_script};

const SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");

/// Hard limit for one run of the client script.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn run_client(mode: &str) {
    expect_all_passed(
        &format!("Python mode={mode}"),
        python_script("tests/interop/python_client.py")
            .args([
                "--mode",
                mode,
                "--timeout",
                "30",
                "--overall-timeout",
                "100",
                "--",
            ])
            .arg(SERVER)
            .arg("--stdio")
            .env("RUST_BACKTRACE", "1"),
        RUN_TIMEOUT,
        String::new,
    );
}

#[test]
fn legacy_mode() {
    run_client("legacy");
}

#[test]
fn auto_mode() {
    run_client("auto");
}
