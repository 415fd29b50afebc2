//! postgres-server driven by the official MCP Python SDK client (`mcp==2.3.0`) over stdio:
//! every tool, resource, template, completion and prompt, a few attacks, and `execute`
//! confirmed and declined through the client's elicitation callback — once with the
//! `initialize` handshake (`legacy`) and once with the stateless 2026-07-28 revision (`auto`),
//! where the confirmation is an `input_required` round trip. See `postgres/python_client.py`.
//!
//! `.ci/postgres` provides the database and `.ci/python-client` the client's venv.

mod common;
#[path = "postgres/support.rs"]
mod support;

use std::time::Duration;

use common::interop::{expect_all_passed, python_script};
use support::{database_url, SERVER};

/// One run of the client script.
const RUN_TIMEOUT: Duration = Duration::from_secs(150);

fn run_client(mode: &str) {
    let url = database_url();
    expect_all_passed(
        &format!("Python mode={mode}"),
        python_script("tests/postgres/python_client.py")
            .args([
                "--mode",
                mode,
                "--timeout",
                "30",
                "--overall-timeout",
                "120",
                "--",
            ])
            .arg(SERVER)
            .arg("--allow-writes")
            .env("DATABASE_URL", url)
            .env_remove("MCP_POSTGRES_SCOPES"),
        RUN_TIMEOUT,
        String::new,
    );
}

#[test]
fn python_client_legacy_handshake() {
    run_client("legacy");
}

#[test]
fn python_client_2026_stateless() {
    run_client("auto");
}
