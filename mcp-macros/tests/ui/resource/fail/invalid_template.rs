use mcp_core::resource;

/// A file.
#[resource("file:///{path")]
async fn file(path: String) -> String {
    path
}

/// Two variables with nothing between them.
#[resource("file:///{dir}{name}")]
async fn joined(dir: String, name: String) -> String {
    dir + &name
}

fn main() {}
