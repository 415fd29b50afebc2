//! Schema work on the request path: `tools/list` (the registered tools and their JSON Schemas
//! serialized per request) and argument deserialization through `Args<T>` (today: params text →
//! `JsonObject` → `T`), next to the direct typed parse from the params text it could be.
//! `schema_for` is registration-time work, measured for scale only.
//!
//! `cargo bench -p mcp-core --bench schema`
#![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`

mod support;

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mcp_core::extract::{FromRequest, RequestParts};
use mcp_core::protocol::{JsonObject, Tool};
use mcp_core::{Args, Context, Server, ToolDef};
use support::{runtime, Echo, Session, LIST};

/// A larger argument struct, for scale.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Search {
    /// Query.
    query: String,
    /// Result limit.
    limit: u32,
    /// Offset.
    offset: u32,
    /// Case sensitive.
    exact: bool,
    /// Languages.
    languages: Vec<String>,
    /// Filters.
    filter: Option<Filter>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Filter {
    /// Path prefix.
    path: String,
    /// Minimum score.
    min_score: f64,
}

const ECHO_ARGS: &str = r#"{"text":"hello"}"#;
const SEARCH_ARGS: &str = r#"{"query":"connection pool timeout","limit":20,"offset":40,"exact":false,"languages":["rust","go","python"],"filter":{"path":"src/","min_score":0.25}}"#;

static CONTEXT: OnceLock<Context> = OnceLock::new();

/// A tool that keeps the `Context` it was given, so extractors can be run outside a call.
async fn capture(ctx: Context) -> String {
    let _ = CONTEXT.set(ctx);
    String::new()
}

/// A real request `Context`, taken from a served call.
fn context() -> Context {
    let rt = runtime();
    let server = Server::new(support::router(0).tool(ToolDef::new("capture", capture)));
    let mut session = Session::open(&rt, &server);
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"capture"}}"#;
    rt.block_on(session.round_trip(call));
    CONTEXT.get().expect("the capture tool ran").clone()
}

fn object(json: &str) -> JsonObject {
    serde_json::from_str(json).expect("an object")
}

fn tools_list(c: &mut Criterion) {
    let mut g = c.benchmark_group("schema/tools_list");
    for extra in [0usize, 19] {
        let tools = extra + 1;
        let server = Server::new(support::router(extra));
        let rt = runtime();
        let mut session = Session::open(&rt, &server);
        let answer = rt.block_on(session.round_trip(LIST));
        g.throughput(Throughput::Bytes(answer.json.len() as u64));
        // End to end through a connection, as a client sees it.
        g.bench_function(format!("request/{tools}_tools"), |b| {
            b.iter(|| rt.block_on(session.round_trip(black_box(LIST))))
        });
        // The same tools, serialized straight to text (no `Value` tree in between).
        let defs: Vec<Tool> = (std::iter::once("echo".to_owned()))
            .chain((0..extra).map(|i| format!("tool_{i}")))
            .map(|n| server.tool(&n).expect("registered"))
            .collect();
        g.bench_function(format!("to_string/{tools}_tools"), |b| {
            b.iter(|| serde_json::to_string(black_box(&defs)).expect("serializable"))
        });
        // Through a `serde_json::Value` first, as the list handler does.
        g.bench_function(format!("via_value/{tools}_tools"), |b| {
            b.iter(|| {
                let v = serde_json::to_value(black_box(&defs)).expect("serializable");
                v.to_string()
            })
        });
        // A list serialized once and copied into each answer.
        let pre = serde_json::to_string(&defs).expect("serializable");
        g.bench_function(format!("pre_serialized_copy/{tools}_tools"), |b| {
            b.iter(|| black_box(&pre).clone())
        });
    }
    g.finish();
}

fn arguments(c: &mut Criterion) {
    let ctx = context();
    let mut g = c.benchmark_group("schema/args");
    g.throughput(Throughput::Elements(1));
    let parts = |json: &str| {
        let arguments = object(json);
        let ctx = ctx.clone();
        move || RequestParts {
            arguments: arguments.clone(),
            uri: None,
            context: ctx.clone(),
        }
    };
    // `Args<T>` as handlers get it: from the `JsonObject` the dispatcher parsed.
    g.bench_function("echo/args_from_object", |b| {
        b.iter_batched(
            parts(ECHO_ARGS),
            |mut p| <Args<Echo> as FromRequest<()>>::from_request(&mut p, &()).expect("valid"),
            BatchSize::SmallInput,
        )
    });
    // What the path costs from the text: the object first, then `Args<T>`.
    g.bench_function("echo/text_to_object_to_args", |b| {
        let ctx = ctx.clone();
        b.iter(|| {
            let mut p = RequestParts {
                arguments: object(black_box(ECHO_ARGS)),
                uri: None,
                context: ctx.clone(),
            };
            <Args<Echo> as FromRequest<()>>::from_request(&mut p, &()).expect("valid")
        })
    });
    // The direct typed parse from the params text.
    g.bench_function("echo/typed_from_text", |b| {
        b.iter(|| serde_json::from_str::<Echo>(black_box(ECHO_ARGS)).expect("valid"))
    });
    g.bench_function("search/args_from_object", |b| {
        b.iter_batched(
            parts(SEARCH_ARGS),
            |mut p| <Args<Search> as FromRequest<()>>::from_request(&mut p, &()).expect("valid"),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("search/text_to_object_to_args", |b| {
        let ctx = ctx.clone();
        b.iter(|| {
            let mut p = RequestParts {
                arguments: object(black_box(SEARCH_ARGS)),
                uri: None,
                context: ctx.clone(),
            };
            <Args<Search> as FromRequest<()>>::from_request(&mut p, &()).expect("valid")
        })
    });
    g.bench_function("search/typed_from_text", |b| {
        b.iter(|| serde_json::from_str::<Search>(black_box(SEARCH_ARGS)).expect("valid"))
    });
    g.finish();
}

fn schema_generation(c: &mut Criterion) {
    // Registration-time work (`ToolDef::new`); shown for scale: it is not on the request path.
    let mut g = c.benchmark_group("schema/generate");
    g.bench_function("schema_for/Echo", |b| {
        b.iter(mcp_core::schema::schema_for::<Echo>)
    });
    g.bench_function("schema_for/Search", |b| {
        b.iter(mcp_core::schema::schema_for::<Search>)
    });
    g.finish();
}

criterion_group!(benches, tools_list, arguments, schema_generation);
criterion_main!(benches);
