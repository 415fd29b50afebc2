use std::sync::Arc;

use mcp_core::extract::{FromRequest, Rejection, RequestParts, State};
use mcp_core::{tool, Context, Json, Router};

#[derive(Clone, Default)]
struct Db {
    rows: Arc<Vec<String>>,
}

/// A custom extractor, marked with `#[extract]`.
struct ClientName(Option<String>);

impl<S> FromRequest<S> for ClientName {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        Ok(ClientName(parts.context.client_info().map(|i| i.name.clone())))
    }
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Hits {
    rows: Vec<String>,
}

/// Searches the rows.
#[tool(scopes = ["db:read"], timeout = "500ms", icons = ["https://example.com/db.svg"])]
async fn search(
    State(db): State<Db>,
    ctx: Context,
    /// What to look for.
    query: String,
    #[extract] who: ClientName,
    /// At most this many rows.
    #[serde(default)]
    limit: Option<usize>,
) -> Json<Hits> {
    let _ = (ctx, who.0);
    let rows = db
        .rows
        .iter()
        .filter(|r| r.contains(&query))
        .take(limit.unwrap_or(10))
        .cloned()
        .collect();
    Json(Hits { rows })
}

fn main() {
    let router: Router = Router::new()
        .tool(search::tool())
        .with_state(Db::default());
    assert_eq!(router.tool_names().collect::<Vec<_>>(), ["search"]);
    let def = search::tool::<Db>();
    assert!(def.tool().output_schema.is_some());
    assert_eq!(def.tool().input_schema["required"], serde_json::json!(["query"]));
}
