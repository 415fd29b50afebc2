use mcp_core::tool;

/// Searches.
#[tool(name = "search docs!")]
async fn search(query: String) -> String {
    query
}

fn main() {}
