use mcp_core::extract::Uri;
use mcp_core::protocol::{Resource, ResourceContents};
use mcp_core::router::Completing;
use mcp_core::{resource, Router};

/// The README.
#[resource("docs://readme", mime_type = "text/markdown", title = "README")]
async fn readme() -> String {
    "# Hello".into()
}

/// A file under the root (level 2 `{+path}`), with a query (level 3 `{?rev}`).
#[resource("file:///{+path}{?rev}", name = "file", list = files)]
async fn file(Uri(uri): Uri, #[complete(paths)] path: String, rev: Option<u32>) -> ResourceContents {
    ResourceContents::text(uri, format!("{path} at {rev:?}"))
}

fn files() -> Vec<Resource> {
    vec![Resource::new("file:///a.txt", "a.txt")]
}

async fn paths(c: Completing) -> Vec<String> {
    vec![c.value]
}

fn main() {
    let _: Router = Router::new()
        .resource(readme::resource())
        .resource_template(file::template());
    let _: Router = mcp_core::router![readme, file];
}
