//! postgres-server driven by the official MCP Python SDK client (`mcp==2.3.0`) over stdio:
//! every tool, resource, template, completion and prompt, a few attacks, and `execute`
//! confirmed and declined through the client's elicitation callback — once with the
//! `initialize` handshake (`legacy`) and once with the stateless 2026-07-28 revision (`auto`),
//! where the confirmation is an `input_required` round trip. See `postgres/python_client.py`.
//!
//! `.ci/postgres` provides the database and `.ci/python-client` the client's venv.

#[path = "postgres/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{database_url, run_with_timeout, MANIFEST_DIR, SERVER};

/// Provisioning may download from PyPI on a cold cache.
const PROVISION_TIMEOUT: Duration = Duration::from_secs(900);
/// One run of the client script.
const RUN_TIMEOUT: Duration = Duration::from_secs(150);

fn target_dir() -> PathBuf {
    Path::new(SERVER)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(MANIFEST_DIR).join("../target"))
}

fn python() -> PathBuf {
    let script = Path::new(MANIFEST_DIR).join("../.ci/python-client");
    let out = run_with_timeout(
        Command::new("bash")
            .arg(&script)
            .env("CARGO_TARGET_DIR", target_dir()),
        PROVISION_TIMEOUT,
    );
    assert_eq!(
        out.code,
        Some(0),
        "{} failed:\n{}\n{}",
        script.display(),
        out.stdout,
        out.stderr
    );
    let path = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .unwrap_or_else(|| panic!("{} printed no python path", script.display()));
    assert!(path.is_file(), "{} is not a file", path.display());
    path
}

fn run_client(mode: &str) {
    let url = database_url();
    let python = python();
    let script = Path::new(MANIFEST_DIR).join("tests/postgres/python_client.py");
    let out = run_with_timeout(
        Command::new(python)
            .arg("-u")
            .arg(&script)
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
    );
    let dump = format!("--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    assert!(
        out.code.is_some(),
        "the Python client (mode={mode}) did not finish within {RUN_TIMEOUT:?}:\n{dump}"
    );
    assert_eq!(
        out.code,
        Some(0),
        "the Python client (mode={mode}) reported failures:\n{dump}"
    );
    let summary = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 passed"),
        "unexpected summary {summary:?}:\n{dump}"
    );
    println!(
        "mode={mode}: ok in {:?}\n{}",
        out.elapsed,
        out.stdout.trim_end()
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
