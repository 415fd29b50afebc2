//! The official MCP clients run against the example servers: provisioned by the `.ci/` scripts
//! (once; later calls return at once), each client script run under a hard time limit, and
//! judged by the check lines every script prints — one `PASS …` or `FAIL …` line per check,
//! then `N passed, M failed`. A run passes only if it finished in time, exited with 0, printed
//! no `FAIL` line, and its summary counts at least one passed check and no failed one.
//!
//! Nothing is skipped: a client that cannot be provisioned fails the test with the reason.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{run_with_timeout, RunOutput};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Provisioning may download from PyPI or npm on a cold cache.
pub(crate) const PROVISION_TIMEOUT: Duration = Duration::from_secs(900);

/// The cargo target dir that holds the example binaries (`<target>/<profile>/<bin>`), where
/// the `.ci/` scripts keep what they provision.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_hello"))
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(MANIFEST_DIR).join("../target"))
}

/// Runs `.ci/<script>` and returns the last line it printed (what it provisioned).
pub(crate) fn provision(script: &str) -> String {
    let path = Path::new(MANIFEST_DIR).join("../.ci").join(script);
    assert!(path.is_file(), "missing {}", path.display());
    let out = run_with_timeout(
        Command::new("bash")
            .arg(&path)
            .env("CARGO_TARGET_DIR", target_dir()),
        PROVISION_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    match out.status {
        Some(s) if s.success() => {}
        Some(s) => panic!(
            "provisioning failed ({} exited with {s}):\n{}",
            path.display(),
            out.dump()
        ),
        None => panic!(
            "provisioning timed out after {PROVISION_TIMEOUT:?} ({}):\n{}",
            path.display(),
            out.dump()
        ),
    }
    out.stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| panic!("{} printed nothing:\n{}", path.display(), out.dump()))
}

/// The Python of the official client's venv (`.ci/python-client`).
pub(crate) fn python() -> PathBuf {
    let python = PathBuf::from(provision("python-client"));
    assert!(
        python.is_file(),
        ".ci/python-client printed {}, which is not a file",
        python.display()
    );
    python
}

/// `python -u SCRIPT` (unbuffered, so a killed run still shows its last checks), for a script
/// under `examples/`, e.g. `tests/interop/python_client.py`.
pub(crate) fn python_script(script: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg("-u")
        .arg(Path::new(MANIFEST_DIR).join(script))
        .env("PYTHONUNBUFFERED", "1");
    cmd
}

/// `(passed, failed)` from the last non-empty line, `N passed, M failed`.
pub(crate) fn summary(stdout: &str) -> Option<(u64, u64)> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let (passed, failed) = last.trim().split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.parse().ok()?, failed.parse().ok()?))
}

/// Runs a client command (`what` names it in messages) under `timeout` and checks its report;
/// `context` adds to a failure message (the server's stderr, say). Returns the run, which
/// passed.
pub(crate) fn expect_all_passed(
    what: &str,
    cmd: &mut Command,
    timeout: Duration,
    context: impl Fn() -> String,
) -> RunOutput {
    let out = run_with_timeout(cmd, timeout)
        .unwrap_or_else(|e| panic!("cannot run the {what} client: {e}"));
    let report = || {
        let extra = context();
        if extra.is_empty() {
            out.dump()
        } else {
            format!("{}\n{}", out.dump(), extra.trim_end())
        }
    };
    let Some(status) = out.status else {
        panic!(
            "the {what} client did not finish within {timeout:?} and was killed:\n{}",
            report()
        );
    };
    let counts = summary(&out.stdout);
    let failures: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    assert!(
        status.success()
            && failures.is_empty()
            && counts.is_some_and(|(passed, failed)| passed > 0 && failed == 0),
        "the {what} client reported failures ({status}, summary {counts:?}, {} FAIL line(s)):\n{}",
        failures.len(),
        report()
    );
    println!("{what}: ok in {:?}\n{}", out.elapsed, out.stdout.trim_end());
    out
}
