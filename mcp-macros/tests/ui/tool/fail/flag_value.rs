use mcp_core::tool;

/// Deletes.
#[tool(destructive = "yes", scopes = "admin")]
async fn delete(id: u64) -> String {
    id.to_string()
}

fn main() {}
