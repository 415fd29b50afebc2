use mcp_core::tool;

/// Reads.
#[tool(readonly, descripton = "typo")]
async fn read() -> String {
    String::new()
}

fn main() {
    let _ = mcp_core::Router::<()>::new().tool(read::tool());
}
