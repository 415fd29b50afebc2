use mcp_core::server;

struct Counter {
    n: u64,
}

#[server]
impl Counter {
    /// Increments.
    #[tool]
    async fn increment(&mut self) -> String {
        self.n += 1;
        self.n.to_string()
    }
}

fn main() {
    let _ = Counter { n: 0 }.router();
}
