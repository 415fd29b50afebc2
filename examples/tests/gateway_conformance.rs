//! The official MCP conformance suite through the gateway: `gateway --http` fronting
//! `conformance-server` (a stdio child, no prefix), all three pinned runs.
//!
//! Pass-through of tools, resources, prompts, completions, logging, progress, elicitation and
//! sampling (server→client requests in 2025, `input_required` in 2026-07-28), list changes
//! and tasks is what this checks: every run must pass without a single failure, the
//! 2026-07-28 tasks extension (which the suite does not score) included.

mod gateway_support;
mod suite;

use gateway_support::*;

use suite::{run_pinned, ModernBar};

#[test]
fn conformance_suite_through_the_gateway() {
    let dir = scratch("conformance");
    let config = write_config(
        &dir,
        &format!(
            "[[backends]]\nname = \"conformance\"\ncommand = [{}, \"--stdio\"]\ntimeout_ms = 30000\n",
            toml_str(CONFORMANCE)
        ),
    );
    let config = config.to_string_lossy().into_owned();
    let (gateway, url) = spawn_http(
        GATEWAY,
        &["--config", &config, "--http", "127.0.0.1:0"],
        &[("RUST_LOG", "warn")],
    );

    run_pinned(
        &url,
        "gateway conformance",
        ModernBar::NoFailure { min: 196 },
        &|| gateway.stderr(),
    );
}
