//! The macros end to end: what they list, and how calls behave.

// The server under test locks its notes with `Mutex::lock().unwrap()`, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{text, Client};
use mcp_core::extract::{State, Uri};
use mcp_core::protocol::{ContentBlock, PromptMessage, Resource, ResourceContents};
use mcp_core::router::Completing;
use mcp_core::{prompt, resource, router, server, tool, Context, Json, Router, ToolError};
use serde_json::json;

/// Adds two integers.
///
/// Overflow is reported as a tool error.
#[tool(read_only, idempotent, title = "Add")]
async fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<String, ToolError> {
    a.checked_add(b)
        .map(|s| s.to_string())
        .ok_or_else(|| ToolError::new("the sum overflows"))
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Stats {
    count: usize,
    mean: f64,
}

/// Summary statistics of a list of numbers.
#[tool(name = "stats.summary", scopes = ["stats:read"], timeout = "2s", icons = ["https://example.com/s.png"])]
async fn stats(
    /// The numbers.
    values: Vec<f64>,
    /// Round the mean to this many decimals.
    #[serde(default)]
    precision: Option<u32>,
) -> Json<Stats> {
    let count = values.len();
    let mut mean = values.iter().sum::<f64>() / count.max(1) as f64;
    if let Some(p) = precision {
        let f = 10f64.powi(p as i32);
        mean = (mean * f).round() / f;
    }
    Json(Stats { count, mean })
}

/// Greets someone, logging through the context.
#[tool]
#[serde(rename_all = "camelCase")]
async fn greet(
    ctx: Context,
    first_name: String,
    #[serde(default = "default_greeting")] greeting: String,
) -> String {
    ctx.log_info("greeting").await;
    format!("{greeting}, {first_name}!")
}

fn default_greeting() -> String {
    "Hello".into()
}

/// Sleeps longer than its timeout.
#[tool(timeout = "50ms")]
async fn slow() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    "done"
}

/// Counts calls in shared state.
#[tool]
async fn count(State(counter): State<std::sync::Arc<AtomicUsize>>) -> String {
    (counter.fetch_add(1, Ordering::SeqCst) + 1).to_string()
}

/// Reviews code in a language.
#[prompt(name = "code_review", title = "Code review")]
async fn review(
    /// The code to review.
    code: String,
    /// The language it is written in.
    #[complete(languages)]
    language: Option<String>,
    /// How many issues to list at most.
    max_issues: Option<u32>,
) -> Vec<PromptMessage> {
    vec![PromptMessage::user(format!(
        "Review this {} code (at most {} issues):\n{code}",
        language.as_deref().unwrap_or("unknown"),
        max_issues.unwrap_or(3)
    ))]
}

async fn languages(c: Completing) -> Vec<String> {
    ["rust", "ruby", "python"]
        .iter()
        .filter(|l| l.starts_with(&c.value))
        .map(|s| s.to_string())
        .collect()
}

/// The project README.
#[resource("docs://readme", mime_type = "text/markdown", title = "README")]
async fn readme() -> String {
    "# Hello".into()
}

/// One row of a table.
#[resource("db://{table}/rows/{id}", name = "row", mime_type = "application/json", list = sample_rows)]
async fn row(Uri(uri): Uri, table: String, #[complete(tables)] id: u32) -> ResourceContents {
    ResourceContents::text(uri, json!({"table": table, "id": id}).to_string())
}

fn sample_rows() -> Vec<Resource> {
    vec![Resource::new("db://users/rows/1", "first user")]
}

async fn tables(_c: Completing) -> Vec<String> {
    vec!["1".into(), "2".into()]
}

fn free_router() -> Router {
    router![add, stats, greet, slow, review, readme, row]
}

#[tokio::test]
async fn tools_are_listed_with_schemas_and_metadata() {
    let mut c = Client::new(free_router()).await;
    let add = c.tool("add").await;
    assert_eq!(
        add["description"],
        "Adds two integers.\n\nOverflow is reported as a tool error."
    );
    assert_eq!(add["title"], "Add");
    assert_eq!(
        add["annotations"],
        json!({"readOnlyHint": true, "idempotentHint": true})
    );
    let schema = &add["inputSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["a", "b"]));
    assert_eq!(
        schema["properties"]["a"]["description"],
        "The first addend."
    );
    assert!(schema.get("title").is_none(), "no internal title: {schema}");
    assert!(add.get("outputSchema").is_none());

    let stats = c.tool("stats.summary").await;
    assert_eq!(stats["inputSchema"]["required"], json!(["values"]));
    assert_eq!(
        stats["outputSchema"]["properties"]["count"]["type"],
        "integer"
    );
    assert_eq!(
        stats["icons"],
        json!([{"src": "https://example.com/s.png"}])
    );

    let greet = c.tool("greet").await;
    assert_eq!(greet["inputSchema"]["required"], json!(["firstName"]));
    assert_eq!(
        greet["inputSchema"]["properties"]["greeting"]["default"],
        "Hello"
    );
}

#[tokio::test]
async fn calls_deserialize_validate_and_convert() {
    let mut c = Client::new(free_router()).await;
    assert_eq!(text(&c.call("add", json!({"a": 2, "b": 40})).await), "42");
    let overflow = c.call("add", json!({"a": i64::MAX, "b": 1})).await;
    assert_eq!(overflow["isError"], true);

    let bad = c.call("add", json!({"a": 1, "b": "x"})).await;
    assert_eq!(bad["isError"], true);
    assert!(text(&bad).contains("`b`"), "names the field: {bad}");
    let missing = c.call("add", json!({"a": 1})).await;
    assert!(text(&missing).contains("missing field `b`"), "{missing}");

    let s = c
        .call(
            "stats.summary",
            json!({"values": [1.0, 2.0, 2.0], "precision": 2}),
        )
        .await;
    assert_eq!(s["structuredContent"], json!({"count": 3, "mean": 1.67}));
    assert_eq!(text(&s), r#"{"count":3,"mean":1.67}"#);

    let g = c.call("greet", json!({"firstName": "Ada"})).await;
    assert_eq!(text(&g), "Hello, Ada!");

    let slow = c.call("slow", json!({})).await;
    assert_eq!(slow["isError"], true);
    assert!(text(&slow).contains("timed out"), "{slow}");
}

#[tokio::test]
async fn free_functions_stay_callable_and_compose_by_hand() {
    assert_eq!(add(1, 2).await.as_deref(), Ok("3"));
    let counter = std::sync::Arc::new(AtomicUsize::new(0));
    let r: Router = Router::new()
        .tool(count::tool())
        .tool(add::tool().description("overridden"))
        .with_state(counter);
    let mut c = Client::new(r).await;
    assert_eq!(text(&c.call("count", json!({})).await), "1");
    assert_eq!(text(&c.call("count", json!(null)).await), "2");
    assert_eq!(c.tool("add").await["description"], "overridden");
}

#[tokio::test]
async fn prompts_take_typed_arguments_and_completions() {
    let mut c = Client::new(free_router()).await;
    let list = c.result("prompts/list", json!({})).await;
    let p = &list["prompts"][0];
    assert_eq!(p["name"], "code_review");
    assert_eq!(p["title"], "Code review");
    assert_eq!(p["description"], "Reviews code in a language.");
    let args = p["arguments"].as_array().unwrap();
    let code = args.iter().find(|a| a["name"] == "code").unwrap();
    assert_eq!(code["required"], true);
    assert_eq!(code["description"], "The code to review.");
    let lang = args.iter().find(|a| a["name"] == "language").unwrap();
    assert_eq!(lang["required"], false);

    let got = c
        .result(
            "prompts/get",
            json!({"name": "code_review", "arguments": {"code": "fn main() {}", "language": "rust", "max_issues": "5"}}),
        )
        .await;
    let msg = got["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(msg.contains("rust code (at most 5 issues)"), "{msg}");

    let bad = c
        .request(
            "prompts/get",
            json!({"name": "code_review", "arguments": {"code": "x", "max_issues": "many"}}),
        )
        .await;
    assert_eq!(bad["error"]["code"], -32602);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_issues"),
        "{bad}"
    );

    let done = c
        .result(
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "code_review"},
                   "argument": {"name": "language", "value": "r"}}),
        )
        .await;
    assert_eq!(done["completion"]["values"], json!(["rust", "ruby"]));
}

#[tokio::test]
async fn resources_and_templates() {
    let mut c = Client::new(free_router()).await;
    let list = c.result("resources/list", json!({})).await;
    let uris: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, ["docs://readme", "db://users/rows/1"]);
    let readme = c
        .result("resources/read", json!({"uri": "docs://readme"}))
        .await;
    assert_eq!(readme["contents"][0]["text"], "# Hello");

    let templates = c.result("resources/templates/list", json!({})).await;
    let t = &templates["resourceTemplates"][0];
    assert_eq!(t["uriTemplate"], "db://{table}/rows/{id}");
    assert_eq!(t["name"], "row");
    assert_eq!(t["description"], "One row of a table.");
    assert_eq!(t["mimeType"], "application/json");

    let read = c
        .result("resources/read", json!({"uri": "db://orders/rows/7"}))
        .await;
    assert_eq!(
        read["contents"][0]["text"],
        json!({"table": "orders", "id": 7}).to_string()
    );
    let listed = c
        .result("resources/read", json!({"uri": "db://users/rows/1"}))
        .await;
    assert_eq!(
        listed["contents"][0]["text"],
        json!({"table": "users", "id": 1}).to_string()
    );
    let bad = c
        .request("resources/read", json!({"uri": "db://orders/rows/x"}))
        .await;
    assert!(
        bad["error"]["message"].as_str().unwrap().contains("id"),
        "{bad}"
    );
    let escape = c
        .request(
            "resources/read",
            json!({"uri": "db://..%2F..%2Fetc/rows/1"}),
        )
        .await;
    assert_eq!(escape["error"]["code"], -32002);

    let done = c
        .result(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "db://{table}/rows/{id}"},
                   "argument": {"name": "id", "value": ""}}),
        )
        .await;
    assert_eq!(done["completion"]["values"], json!(["1", "2"]));
}

/// A notes server.
#[derive(Default)]
struct Notes {
    notes: std::sync::Mutex<Vec<String>>,
}

#[server(name = "notes", version = "9.9.9", instructions = "Keep notes")]
impl Notes {
    /// Adds a note.
    #[tool(destructive = false)]
    async fn add_note(&self, ctx: Context, text: String) -> String {
        let _ = ctx;
        let mut notes = self.notes.lock().unwrap();
        notes.push(text);
        format!("{} notes", notes.len())
    }

    /// Lists the notes.
    #[tool(read_only)]
    async fn list_notes(&self) -> Json<Vec<String>> {
        Json(self.notes.lock().unwrap().clone())
    }

    /// A tool without `self`.
    #[tool]
    async fn version() -> &'static str {
        "1"
    }

    /// A note by index.
    #[resource("notes://{index}", list = listed)]
    async fn note(
        &self,
        #[complete(indexes)] index: usize,
    ) -> Result<String, mcp_core::response::McpError> {
        self.notes
            .lock()
            .unwrap()
            .get(index)
            .cloned()
            .ok_or_else(|| mcp_core::response::McpError::invalid_params("no such note"))
    }

    /// Summarize the notes.
    #[prompt]
    async fn summarize(
        &self,
        /** The tone. */
        tone: String,
    ) -> String {
        format!(
            "Summarize {} notes in a {tone} tone",
            self.notes.lock().unwrap().len()
        )
    }

    fn listed(&self) -> Vec<Resource> {
        vec![Resource::new("notes://0", "first note")]
    }

    async fn indexes(&self, c: Completing) -> Vec<String> {
        let n = self.notes.lock().unwrap().len();
        (0..n)
            .map(|i| i.to_string())
            .filter(|i| i.starts_with(&c.value))
            .collect()
    }

    /// Not a tool.
    fn helper(&self) -> usize {
        1
    }
}

#[tokio::test]
async fn server_collects_an_impl_block() {
    let notes = Notes::default();
    assert_eq!(notes.helper(), 1);
    let mut c = Client::new(notes.router()).await;
    assert_eq!(
        text(&c.call("add_note", json!({"text": "milk"})).await),
        "1 notes"
    );
    assert_eq!(
        text(&c.call("add_note", json!({"text": "eggs"})).await),
        "2 notes"
    );
    let listed = c.call("list_notes", json!({})).await;
    assert_eq!(listed["structuredContent"], json!(["milk", "eggs"]));
    assert_eq!(text(&c.call("version", json!({})).await), "1");
    let note = c
        .result("resources/read", json!({"uri": "notes://1"}))
        .await;
    assert_eq!(note["contents"][0]["text"], "eggs");
    let p = c
        .result(
            "prompts/get",
            json!({"name": "summarize", "arguments": {"tone": "dry"}}),
        )
        .await;
    assert_eq!(
        p["messages"][0]["content"]["text"],
        "Summarize 2 notes in a dry tone"
    );
    let done = c
        .result(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "notes://{index}"},
                   "argument": {"name": "index", "value": ""}}),
        )
        .await;
    assert_eq!(done["completion"]["values"], json!(["0", "1"]));
    let add_note = c.tool("add_note").await;
    assert_eq!(add_note["annotations"], json!({"destructiveHint": false}));
}

#[tokio::test]
async fn server_info_defaults_to_the_crate() {
    let mut c = Client::new(router![add]).await;
    let _ = c.result("tools/list", json!({})).await;
    let server = mcp_core::Server::new(router![add]);
    assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
    assert_eq!(server.info().version, env!("CARGO_PKG_VERSION"));
    let notes = mcp_core::Server::new(Notes::default().router());
    assert_eq!(notes.info().name, "notes");
    assert_eq!(notes.info().version, "9.9.9");
}

#[tokio::test]
async fn content_results_convert() {
    /// An image.
    #[tool]
    async fn picture() -> ContentBlock {
        ContentBlock::image("iVBORw0KGgo=", "image/png")
    }
    let mut c = Client::new(router![picture]).await;
    let r = c.call("picture", json!({})).await;
    assert_eq!(r["content"][0]["type"], "image");
}
