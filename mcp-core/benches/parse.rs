//! Message parsing: `Message::parse` of a `tools/call` line, and the params work the request
//! path does on top of it (the same params text parsed into a `serde_json::Value`, into
//! `CallToolParams`), against the floor of merely scanning the JSON.
//!
//! `cargo bench -p mcp-core --bench parse`
#![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`

mod support;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mcp_core::jsonrpc::Message;
use mcp_core::protocol::CallToolParams;
use serde_json::Value;
use support::{CALL, CALL_MODERN};

fn params_of(line: &str) -> String {
    match support::parse(line) {
        Message::Request(r) => r.params.expect("params").get().to_owned(),
        _ => unreachable!("a request"),
    }
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (era, line) in [("handshake", CALL), ("modern", CALL_MODERN)] {
        g.throughput(Throughput::Bytes(line.len() as u64));
        g.bench_function(format!("message/tools_call_{era}"), |b| {
            b.iter(|| Message::parse(black_box(line.as_bytes())).expect("valid"))
        });
        // The floor: validating the same bytes as JSON without building anything.
        g.bench_function(format!("ignored_any/tools_call_{era}"), |b| {
            b.iter(|| {
                serde_json::from_str::<serde::de::IgnoredAny>(black_box(line)).expect("valid")
            })
        });
        let params = params_of(line);
        g.throughput(Throughput::Bytes(params.len() as u64));
        // Done up to three times per request today (era check, McpRequest, serve).
        g.bench_function(format!("params_to_value/{era}"), |b| {
            b.iter(|| serde_json::from_str::<Value>(black_box(&params)).expect("valid"))
        });
        // The typed parse `tools/call` needs.
        g.bench_function(format!("call_tool_params/{era}"), |b| {
            b.iter(|| serde_json::from_str::<CallToolParams>(black_box(&params)).expect("valid"))
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
