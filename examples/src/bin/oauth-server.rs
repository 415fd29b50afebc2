//! An MCP server that is an OAuth 2.1 resource server (`mcp_examples::oauth`).
//!
//! Run with `cargo run -p mcp-examples --bin oauth-server -- --dev-issuer`: a throwaway local
//! issuer starts next to the server and prints sample tokens and `curl` lines on stderr.

use mcp_examples::oauth::{self, Options};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mcp_examples::init_tracing();
    oauth::serve(Options::parse(std::env::args().skip(1))?).await
}
