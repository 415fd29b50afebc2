//! Handshake-era (2025-11-25) tasks with the official MCP Python SDK client (`mcp==2.3.0`):
//! `tests/interop/python_tasks.py` drives `conformance-server --stdio` through a task polled to
//! completion, `tasks/result` (also while the task still works), `tasks/list`, `tasks/cancel`
//! mid-way, tool and handler failures, `taskSupport` refusals, an expired task and an unknown
//! id — every answer validated against the SDK's own task types.
//!
//! `.ci/python-client` provisions the client's venv under the target dir. Nothing is skipped:
//! if Python cannot be provisioned the test fails.

mod common;

use std::time::Duration;

use common::interop::{expect_all_passed, python_script};

const SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");

/// Hard limit for one run of the client script (it takes about 10 s).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn python_client_handshake_era_tasks() {
    expect_all_passed(
        "Python tasks",
        python_script("tests/interop/python_tasks.py")
            .args(["--timeout", "30", "--overall-timeout", "100", "--"])
            .arg(SERVER)
            .arg("--stdio")
            // The protocol_error_job fixture panics on purpose; keep its report short.
            .env("RUST_BACKTRACE", "0"),
        RUN_TIMEOUT,
        String::new,
    );
}
