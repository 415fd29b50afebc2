use mcp_core::resource;

/// A user.
#[resource("users://{id}")]
async fn user(id: u64, verbose: bool) -> String {
    format!("{id} {verbose}")
}

fn main() {}
