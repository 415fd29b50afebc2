//! The official MCP conformance suite (all three pinned runs, as in `conformance.rs`) against
//! two `conformance-server` instances sharing Redis, through nginx doing round robin: every
//! scenario's requests alternate between the instances.
//!
//! `.ci/redis-nginx` provisions Redis and nginx, `.ci/conformance-suite` Node 22 and the suite.

mod suite;
#[path = "scale_out/support.rs"]
mod support;

use support::Cluster;

use suite::{provision as provision_suite, scored_failures};

fn run_suite(node: &str, suite: &str, url: &str, args: &[&str]) -> (u64, u64, String) {
    let r = suite::run(node, suite, url, args, "conformance through nginx");
    (r.passed, r.failed, r.output)
}

#[test]
fn official_conformance_suite_through_nginx_and_two_instances() {
    let (node, suite_old, suite_new) = provision_suite();
    let cluster = Cluster::start("conformance", &[]);
    let url = cluster.nginx_url();

    let (passed, failed, output) = run_suite(&node, &suite_old, &url, &["--suite", "all"]);
    assert_eq!(
        failed,
        0,
        "0.1.16 --suite all:\n{output}\n{}",
        cluster.logs()
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
        "--requirements 2025-11-25:\n{output}\n{}",
        cluster.logs()
    );
    assert!(
        passed >= 81,
        "2025-11-25 ran fewer checks than expected: {passed}"
    );

    let (passed, _, output) = run_suite(&node, &suite_new, &url, &["--requirements", "2026-07-28"]);
    let scored = scored_failures(&output);
    assert!(
        scored.is_empty(),
        "scored 2026-07-28 scenarios failed through nginx: {scored:?}\n{output}\n{}",
        cluster.logs()
    );
    assert!(
        passed >= 160,
        "2026-07-28 ran fewer checks than expected: {passed}"
    );

    let served = cluster.upstreams();
    let on_a = served
        .iter()
        .filter(|u| **u == cluster.a.addr.to_string())
        .count();
    let on_b = served
        .iter()
        .filter(|u| **u == cluster.b.addr.to_string())
        .count();
    println!(
        "nginx spread {} requests: {on_a} on A, {on_b} on B",
        served.len()
    );
    assert!(on_a > 50 && on_b > 50, "both instances served the suite");
}
