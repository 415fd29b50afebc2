use mcp_core::tool;

/// Waits.
#[tool(timeout = "30 seconds")]
async fn wait() -> String {
    String::new()
}

fn main() {}
