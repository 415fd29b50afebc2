//! The official conformance suite, shared by the tests that run it: provisioning (Node 22 and
//! the pinned suite versions) and one bounded run.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `(node, suite 0.1.16, suite 0.2.0-alpha.12)`, provisioned by `.ci/conformance-suite`.
pub(crate) fn provision() -> (String, String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/conformance-suite");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run .ci/conformance-suite");
    assert!(
        out.status.success(),
        "provisioning the conformance suite failed (see stderr above)"
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

/// One run's totals, exit status and full output.
#[allow(dead_code)] // `success` and `output` are read by some of the tests only
pub(crate) struct Run {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) success: bool,
    pub(crate) output: String,
}

/// Runs the suite against `url`, killed after 10 minutes at the latest.
pub(crate) fn run(node: &str, suite: &str, url: &str, args: &[&str], label: &str) -> Run {
    let start = Instant::now();
    let child = Command::new(node)
        .arg(suite)
        .args(["server", "--url", url])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the conformance suite");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
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
    eprintln!(
        "{label} {args:?}: {total} in {:.1?} (exit {:?})",
        start.elapsed(),
        out.status.code()
    );
    Run {
        passed: nums[0],
        failed: nums[1],
        success: out.status.success(),
        output,
    }
}

/// Failing scenarios in the SUMMARY, the unscored ones included.
#[allow(dead_code)]
pub(crate) fn failures(output: &str) -> Vec<String> {
    let summary = output.split("=== SUMMARY ===").nth(1).unwrap_or("");
    summary
        .lines()
        .filter_map(|l| l.trim().strip_prefix("✗ "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_owned)
        .collect()
}

/// Failing scenarios in the SUMMARY that the suite does not list as "not scored".
#[allow(dead_code)]
pub(crate) fn scored_failures(output: &str) -> Vec<String> {
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

/// What the 2026-07-28 run must show, besides at least `min` passed checks.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // each test binary uses one of them
pub(crate) enum ModernBar {
    /// No failure at all: the tasks extension, which the suite does not score, included.
    NoFailure { min: u64 },
    /// No failure among the scenarios the suite scores.
    NoScoredFailure { min: u64 },
}

/// Provisions the suite and makes the three pinned runs against `url` with the checks every
/// conformance test shares: 0.1.16 `--suite all` (at least 45 checks) and 0.2.0-alpha.12
/// `--requirements 2025-11-25` (at least 81) without a failure, then `--requirements
/// 2026-07-28` as `modern` says. `context` is added to a failure's message (server logs).
#[allow(dead_code)] // not every test binary that includes this module calls it
pub(crate) fn run_pinned(
    url: &str,
    label: &str,
    modern: ModernBar,
    context: &dyn Fn() -> String,
) -> [Run; 3] {
    let (node, suite_old, suite_new) = provision();
    let all = run(&node, &suite_old, url, &["--suite", "all"], label);
    assert_eq!(
        all.failed,
        0,
        "{label}: 0.1.16 --suite all:\n{}\n{}",
        all.output,
        context()
    );
    assert!(
        all.passed >= 45,
        "{label}: 0.1.16 ran fewer checks than expected: {}",
        all.passed
    );
    let handshake = run(
        &node,
        &suite_new,
        url,
        &["--requirements", "2025-11-25"],
        label,
    );
    assert_eq!(
        handshake.failed,
        0,
        "{label}: --requirements 2025-11-25:\n{}\n{}",
        handshake.output,
        context()
    );
    assert!(
        handshake.passed >= 81,
        "{label}: 2025-11-25 ran fewer checks than expected: {}",
        handshake.passed
    );
    let latest = run(
        &node,
        &suite_new,
        url,
        &["--requirements", "2026-07-28"],
        label,
    );
    let (failed, ok, min) = match modern {
        ModernBar::NoFailure { min } => {
            let failed = failures(&latest.output);
            let ok = failed.is_empty() && latest.failed == 0;
            (failed, ok, min)
        }
        ModernBar::NoScoredFailure { min } => {
            let failed = scored_failures(&latest.output);
            let ok = failed.is_empty();
            (failed, ok, min)
        }
    };
    assert!(
        ok,
        "{label}: 2026-07-28 scenarios failed: {failed:?}\n{}\n{}",
        latest.output,
        context()
    );
    assert!(
        latest.passed >= min,
        "{label}: 2026-07-28 ran fewer checks than expected: {}",
        latest.passed
    );
    [all, handshake, latest]
}
