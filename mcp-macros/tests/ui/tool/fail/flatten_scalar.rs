use mcp_core::tool;

/// Flattens a number, which is not an object.
#[tool]
async fn flat(#[serde(flatten)] n: u32) -> String {
    n.to_string()
}

fn main() {}
