extern crate mcp_core as mcp;

/// Uses the crate under another name.
#[mcp::tool(crate = "mcp")]
async fn echo(text: String) -> String {
    text
}

/// The same, through a module re-export.
mod sdk {
    pub use mcp::*;
}

/// Pings.
#[sdk::tool(crate = "crate::sdk")]
async fn ping() -> &'static str {
    "pong"
}

fn main() {
    let _: mcp::Router = mcp::router![crate = "mcp"; echo, ping];
}
