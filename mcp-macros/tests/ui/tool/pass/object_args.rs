use std::collections::BTreeMap;

use mcp_core::extract::Args;
use mcp_core::{tool, ObjectArgs};

#[derive(serde::Deserialize, schemars::JsonSchema, ObjectArgs)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(serde::Deserialize, schemars::JsonSchema, ObjectArgs)]
#[serde(transparent)]
struct Wrapped {
    inner: Add,
}

/// Adds, with a hand-written argument struct.
#[tool]
async fn add(Args(Add { a, b }): Args<Add>) -> String {
    (a + b).to_string()
}

/// Adds, through a transparent wrapper.
#[tool]
async fn add_wrapped(Args(w): Args<Wrapped>) -> String {
    (w.inner.a + w.inner.b).to_string()
}

/// Counts the keys of a map.
#[tool]
async fn keys(Args(m): Args<BTreeMap<String, serde_json::Value>>) -> String {
    m.len().to_string()
}

/// A flattened struct beside plain parameters.
#[tool]
async fn add_more(#[serde(flatten)] pair: Add, c: i64) -> String {
    (pair.a + pair.b + c).to_string()
}

fn main() {
    let _: mcp_core::Router = mcp_core::router![add, add_wrapped, keys, add_more];
}
