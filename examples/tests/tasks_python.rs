//! Handshake-era (2025-11-25) tasks with the official MCP Python SDK client (`mcp==2.3.0`):
//! `tests/interop/python_tasks.py` drives `conformance-server --stdio` through a task polled to
//! completion, `tasks/result` (also while the task still works), `tasks/list`, `tasks/cancel`
//! mid-way, tool and handler failures, `taskSupport` refusals, an expired task and an unknown
//! id — every answer validated against the SDK's own task types.
//!
//! `.ci/python-client` provisions the client's venv under the target dir. Nothing is skipped:
//! if Python cannot be provisioned the test fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::run_with_timeout;

const SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Provisioning may download from PyPI on a cold cache.
const PROVISION_TIMEOUT: Duration = Duration::from_secs(900);
/// Hard limit for one run of the client script (it takes about 10 s).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The cargo target dir that holds the server binary (`<target>/<profile>/conformance-server`).
fn target_dir() -> PathBuf {
    Path::new(SERVER)
        .parent()
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

#[test]
fn python_client_handshake_era_tasks() {
    let python = provision_python();
    let script = Path::new(MANIFEST_DIR).join("tests/interop/python_tasks.py");
    let out = run_with_timeout(
        Command::new(&python)
            .arg("-u")
            .arg(&script)
            .args(["--timeout", "30", "--overall-timeout", "100", "--"])
            .arg(SERVER)
            .arg("--stdio")
            .env("PYTHONUNBUFFERED", "1")
            // The protocol_error_job fixture panics on purpose; keep its report short.
            .env("RUST_BACKTRACE", "0"),
        RUN_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("cannot run the Python tasks client: {e}"));
    let Some(status) = out.status else {
        panic!(
            "the Python tasks client did not finish within {RUN_TIMEOUT:?} and was killed:\n{}",
            out.dump()
        );
    };
    let summary = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        status.success() && summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 "),
        "the Python tasks client reported failures ({status}, {summary:?}):\n{}",
        out.dump()
    );
    println!("ok in {:?}\n{}", out.elapsed, out.stdout.trim_end());
}
