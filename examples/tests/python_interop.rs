//! Interop with the official MCP Python SDK client (`mcp==2.3.0`): it drives
//! `conformance-server` over stdio, once with the `initialize` handshake
//! (`mode="legacy"`) and once with the stateless 2026-07-28 revision
//! (`mode="auto"`). See `tests/interop/python_client.py` for the checks.
//!
//! `.ci/python-client` provisions the client's venv under the target dir.
//! Nothing is skipped: if Python cannot be provisioned the tests fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::run_with_timeout;

const SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Provisioning may download from PyPI on a cold cache.
const PROVISION_TIMEOUT: Duration = Duration::from_secs(900);
/// Hard limit for one run of the client script.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The cargo target dir that holds the server binary (`<target>/<profile>/conformance-server`).
fn target_dir() -> PathBuf {
    let exe = Path::new(SERVER);
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(MANIFEST_DIR).join("../target"))
}

/// Runs `.ci/python-client` and returns the venv's python.
fn provision_python() -> PathBuf {
    let script = Path::new(MANIFEST_DIR).join("../.ci/python-client");
    assert!(script.is_file(), "missing {}", script.display());
    let out = run_with_timeout(
        Command::new("bash")
            .arg(&script)
            .env("CARGO_TARGET_DIR", target_dir()),
        PROVISION_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    match out.status {
        Some(s) if s.success() => {}
        Some(s) => panic!(
            "provisioning the Python MCP client failed ({} exited with {s}):\n{}",
            script.display(),
            out.dump()
        ),
        None => panic!(
            "provisioning the Python MCP client timed out after {PROVISION_TIMEOUT:?}:\n{}",
            out.dump()
        ),
    }
    let python = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .unwrap_or_else(|| {
            panic!(
                "{} printed no python path:\n{}",
                script.display(),
                out.dump()
            )
        });
    assert!(
        python.is_file(),
        "{} printed {}, which is not a file:\n{}",
        script.display(),
        python.display(),
        out.dump()
    );
    python
}

fn run_client(mode: &str) {
    let python = provision_python();
    let script = Path::new(MANIFEST_DIR).join("tests/interop/python_client.py");
    let out = run_with_timeout(
        Command::new(&python)
            .arg("-u")
            .arg(&script)
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
            .env("PYTHONUNBUFFERED", "1")
            .env("RUST_BACKTRACE", "1"),
        RUN_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("cannot run the interop client: {e}"));

    let Some(status) = out.status else {
        panic!(
            "the Python client (mode={mode}) did not finish within {RUN_TIMEOUT:?} and was killed:\n{}",
            out.dump()
        );
    };
    assert!(
        status.success(),
        "the Python client (mode={mode}) reported failures ({status}):\n{}",
        out.dump()
    );
    let summary = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 passed"),
        "unexpected summary line {summary:?} (mode={mode}):\n{}",
        out.dump()
    );
    println!(
        "mode={mode}: ok in {:?}\n{}",
        out.elapsed,
        out.stdout.trim_end()
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
