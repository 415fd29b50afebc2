use mcp_core::tool;

struct Calc;

impl Calc {
    /// Adds.
    #[tool]
    async fn add(&self, a: i64, b: i64) -> String {
        (a + b).to_string()
    }
}

fn main() {
    let _ = Calc;
}
