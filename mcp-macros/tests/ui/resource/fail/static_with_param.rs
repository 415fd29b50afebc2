use mcp_core::resource;

/// The README.
#[resource("docs://readme")]
async fn readme(section: String) -> String {
    section
}

fn main() {}
