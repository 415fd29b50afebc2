use mcp_core::server;

struct S;

#[server(title = "My server")]
impl S {
    /// Pings.
    #[tool]
    async fn ping(&self) -> String {
        String::new()
    }
}

fn main() {
    let _ = S.router();
}
