struct NotATool;

async fn plain() -> String {
    String::new()
}

fn main() {
    let _: mcp_core::Router = mcp_core::router![NotATool];
    let _ = plain;
}
