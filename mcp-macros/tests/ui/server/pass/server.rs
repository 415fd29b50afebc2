use std::sync::Mutex;

use mcp_core::protocol::Resource;
use mcp_core::router::Completing;
use mcp_core::{server, Context, Json};

#[derive(Default)]
struct Notes {
    notes: Mutex<Vec<String>>,
}

#[server(instructions = "A notebook")]
impl Notes {
    /// Adds a note.
    #[tool]
    async fn add(&self, ctx: Context, text: String) -> String {
        let _ = ctx;
        let mut n = self.notes.lock().unwrap();
        n.push(text);
        n.len().to_string()
    }

    /// All notes.
    #[tool(read_only)]
    async fn all(&self) -> Json<Vec<String>> {
        Json(self.notes.lock().unwrap().clone())
    }

    /// A note.
    #[resource("notes://{index}", mime_type = "text/plain", list = listed)]
    async fn note(&self, #[complete(indexes)] index: usize) -> String {
        self.notes.lock().unwrap().get(index).cloned().unwrap_or_default()
    }

    /// The count, as a static resource.
    #[mcp_core::resource("notes://count")]
    async fn count(&self) -> String {
        self.notes.lock().unwrap().len().to_string()
    }

    /// Summarizes.
    #[prompt(title = "Summarize")]
    async fn summarize(&self, #[complete(Self::styles)] style: Option<String>) -> String {
        format!("Summarize in {} style", style.unwrap_or_default())
    }

    fn listed(&self) -> Vec<Resource> {
        vec![Resource::new("notes://0", "first")]
    }

    async fn indexes(&self, c: Completing) -> Vec<String> {
        vec![c.value]
    }

    async fn styles(c: Completing) -> Vec<String> {
        vec![c.value]
    }
}

fn main() {
    let server = mcp_core::Server::new(Notes::default().router());
    assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
    assert_eq!(server.handle().tool_names(), ["add", "all"]);
}
