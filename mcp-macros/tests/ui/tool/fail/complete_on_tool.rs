use mcp_core::router::Completing;
use mcp_core::tool;

async fn cities(_c: Completing) -> Vec<String> {
    Vec::new()
}

/// Weather.
#[tool]
async fn weather(#[complete(cities)] city: String) -> String {
    city
}

fn main() {}
