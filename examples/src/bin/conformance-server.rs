//! The server the official MCP conformance suite tests against: every fixture it calls, in both
//! protocol eras (`mcp_examples::conformance`).
//!
//! Run with `cargo run -p mcp-examples --bin conformance-server` (stdio) or
//! `--http 127.0.0.1:3000` (Streamable HTTP at `/mcp`).

fn main() -> std::io::Result<()> {
    mcp_examples::run(mcp_examples::conformance::router())
}
