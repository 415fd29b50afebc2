//! Dispatch: an in-process `Connection` serving `tools/call` for `echo` end to end — parse the
//! line, `receive`, run the handler, build the answer, receive it on the sink — in both eras and
//! in the shapes the transports use it.
//!
//! * `handshake/*`: one initialized connection and one shared sink, as on stdio;
//! * `handshake/*_sink_per_request`: a fresh answer channel per request, as HTTP does per POST;
//! * `stateless/connection_per_request`: a fresh handshake-era connection per request, as
//!   stateless HTTP does;
//! * `modern/*`: one 2026-07-28 connection driven with `receive_inline`, as HTTP does.
//!
//! `cargo bench -p mcp-core --bench dispatch`
#![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`

mod support;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mcp_core::protocol::{ClientCapabilities, ProtocolVersion};
use mcp_core::{Connection, Server};
use support::{parse, runtime, Session, CALL, CALL_MODERN, PING};
use tokio::sync::mpsc;

/// The transports' answer-channel capacity (`HttpConfig::stream_queue`).
const STREAM_QUEUE: usize = 256;

fn handshake(c: &mut Criterion) {
    let rt = runtime();
    let server = Server::new(support::router(0));
    let mut session = Session::open(&rt, &server);
    let answer = rt.block_on(session.round_trip(CALL));
    assert!(answer.json.contains(r#""text":"hello""#), "{}", answer.json);

    let mut g = c.benchmark_group("dispatch/handshake");
    g.throughput(Throughput::Elements(1));
    g.bench_function("ping", |b| {
        b.iter(|| rt.block_on(session.round_trip(black_box(PING))))
    });
    g.bench_function("tools_call_echo", |b| {
        b.iter(|| rt.block_on(session.round_trip(black_box(CALL))))
    });
    g.bench_function("tools_call_echo_sink_per_request", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel(STREAM_QUEUE);
                session.conn.receive(parse(black_box(CALL)), tx);
                rx.recv().await.expect("an answer")
            })
        })
    });
    // 32 in flight on one connection (stdio with -k 32).
    let lines: Vec<String> = (0..32)
        .map(|i| CALL.replace(r#""id":42"#, &format!(r#""id":{}"#, 1000 + i)))
        .collect();
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("tools_call_echo_32_in_flight", |b| {
        b.iter(|| {
            rt.block_on(async {
                for line in &lines {
                    session.conn.receive(parse(line), session.tx.clone());
                }
                for _ in &lines {
                    black_box(session.rx.recv().await.expect("an answer"));
                }
            })
        })
    });
    g.finish();
}

fn stateless(c: &mut Criterion) {
    let rt = runtime();
    let server = Server::new(support::router(0));
    let mut g = c.benchmark_group("dispatch/stateless");
    g.throughput(Throughput::Elements(1));
    g.bench_function("connection_per_request", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (utx, _urx) = mpsc::channel(1);
                let conn = Connection::new_handshake(
                    &server,
                    ProtocolVersion::V2025_03_26,
                    ClientCapabilities::default(),
                    utx,
                );
                let (tx, mut rx) = mpsc::channel(STREAM_QUEUE);
                conn.receive(parse(black_box(CALL)), tx);
                rx.recv().await.expect("an answer")
            })
        })
    });
    g.finish();
}

fn modern(c: &mut Criterion) {
    let rt = runtime();
    let server = Server::new(support::router(0));
    let conn = rt.block_on(async { Connection::new_modern(&server) });
    let (tx, mut rx) = mpsc::channel(STREAM_QUEUE);
    let first = rt.block_on(async {
        let fut = conn.receive_inline(parse(CALL_MODERN), tx.clone());
        fut.expect("a request is returned to drive").await;
        rx.recv().await.expect("an answer")
    });
    assert!(first.json.contains(r#""text":"hello""#), "{}", first.json);

    let mut g = c.benchmark_group("dispatch/modern");
    g.throughput(Throughput::Elements(1));
    g.bench_function("tools_call_echo_inline", |b| {
        b.iter(|| {
            rt.block_on(async {
                let fut = conn.receive_inline(parse(black_box(CALL_MODERN)), tx.clone());
                fut.expect("a request").await;
                rx.recv().await.expect("an answer")
            })
        })
    });
    g.finish();
}

criterion_group!(benches, handshake, stateless, modern);
criterion_main!(benches);
