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
#[allow(dead_code)] // `success` is read by conformance.rs only
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
