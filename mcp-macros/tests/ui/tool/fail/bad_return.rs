use mcp_core::tool;

struct Report {
    lines: usize,
}

/// Counts lines.
#[tool]
async fn count(text: String) -> Report {
    Report { lines: text.lines().count() }
}

fn main() {
    let _ = mcp_core::Router::<()>::new().tool(count::tool());
}
