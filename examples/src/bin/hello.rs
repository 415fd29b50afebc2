//! The smallest useful MCP server: `echo` and `add`.
//!
//! Run with `cargo run -p mcp-examples --bin hello` (stdio; add `--http 127.0.0.1:8080` once the
//! HTTP transport is enabled).
use mcp_core::{Args, Router, ToolDef};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to send back.
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

async fn echo(Args(e): Args<Echo>) -> String {
    e.text
}

async fn add(Args(Add { a, b }): Args<Add>) -> Result<String, mcp_core::ToolError> {
    let sum = a
        .checked_add(b)
        .ok_or_else(|| mcp_core::ToolError::new("the sum overflows a 64-bit integer"))?;
    Ok(sum.to_string())
}

fn router() -> Router {
    Router::new()
        .tool(
            ToolDef::new("echo", echo)
                .description("Sends the text back unchanged")
                .read_only(true),
        )
        .tool(
            ToolDef::new("add", add)
                .description("Adds two integers")
                .read_only(true),
        )
        .server_info(mcp_core::crate_info!())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mcp_examples::init_tracing();
    match mcp_examples::Cli::parse()? {
        mcp_examples::Cli::Stdio => mcp_transport::stdio::serve(router()).await,
        mcp_examples::Cli::Http(addr) => mcp_examples::serve_http(router(), addr).await,
    }
}
