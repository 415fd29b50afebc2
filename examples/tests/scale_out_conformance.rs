//! The official MCP conformance suite (all three pinned runs, as in `conformance.rs`) against
//! two `conformance-server` instances sharing Redis, through nginx doing round robin: every
//! scenario's requests alternate between the instances.
//!
//! `.ci/redis-nginx` provisions Redis and nginx, `.ci/conformance-suite` Node 22 and the suite.

mod suite;
#[path = "scale_out/support.rs"]
mod support;

use support::Cluster;

use suite::{run_pinned, ModernBar};

#[test]
fn official_conformance_suite_through_nginx_and_two_instances() {
    let cluster = Cluster::start("conformance", &[]);
    let url = cluster.nginx_url();

    run_pinned(
        &url,
        "conformance through nginx",
        ModernBar::NoScoredFailure { min: 160 },
        &|| cluster.logs(),
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
