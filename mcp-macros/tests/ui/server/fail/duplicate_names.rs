use mcp_core::server;

struct Files;

#[server]
impl Files {
    /// Reads a file.
    #[tool(name = "read")]
    async fn read_file(&self, path: String) -> String {
        path
    }

    /// Reads a directory.
    #[tool(name = "read")]
    async fn read_dir(&self, path: String) -> String {
        path
    }

    /// A prompt.
    #[prompt]
    async fn explain(&self) -> String {
        String::new()
    }

    /// The same prompt name again.
    #[prompt(name = "explain")]
    async fn explain_again(&self) -> String {
        String::new()
    }
}

fn main() {
    let _ = Files.router();
}
