use mcp_core::server;

trait Named {
    fn name(&self) -> String;
}

struct S;

#[server]
impl Named for S {
    fn name(&self) -> String {
        String::new()
    }
}

fn main() {}
