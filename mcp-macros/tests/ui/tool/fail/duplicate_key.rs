use mcp_core::tool;

/// Reads.
#[tool(name = "read", title = "Read", name = "read_file")]
async fn read() -> String {
    String::new()
}

fn main() {}
