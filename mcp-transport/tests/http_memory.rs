//! Memory bounds of the Streamable HTTP transport: 1,000 sessions are reaped after the idle
//! timeout with the heap back at its baseline, and a client that never reads its stream cannot
//! make the server buffer without bound.
//!
//! This test binary counts live heap bytes with an instrumented global allocator (exact, unlike
//! the resident set, which glibc does not shrink after frees); the resident set is printed for
//! information. The tests run one at a time, since both measure the whole process.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use http::StatusCode;
use mcp_transport::http::{HttpConfig, InMemoryEventStore, InMemorySessionStore, McpService};
use serde_json::json;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes allocated and not yet freed, process-wide.
fn live_heap() -> usize {
    let s = GLOBAL.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

const TEST: Duration = Duration::from_secs(120);
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// Both tests measure the whole process: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Opens a session, makes one streamed call (so the event store holds its events) and one
/// plain call.
async fn busy_session(svc: &McpService, i: usize) {
    let sid = open_session(svc, LEGACY).await;
    let token = format!("t{i}");
    let msg = rpc(
        1,
        "tools/call",
        call_params("progress", json!({"steps": 3}), Some(&token)),
    );
    let (_, mut events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
    let all = events.rest(STEP).await;
    assert_eq!(all.len(), 5, "priming, 3 progress, answer: {all:?}");
    let msg = rpc(
        2,
        "tools/call",
        call_params("echo", json!({"text": "x".repeat(256)}), None),
    );
    let (status, _, _) = json_of(svc.handle(legacy(&sid, LEGACY, &msg)).await).await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn a_thousand_idle_sessions_are_reaped_and_memory_returns() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // Paused time: the idle timeout passes when the test says so, however slow the machine.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let wall = Instant::now();
    // (Virtual time: the limit covers the sleeps below with room to spare.)
    rt.block_on(within(Duration::from_secs(600), "1,000 sessions", async {
        let events = Arc::new(InMemoryEventStore::default());
        let sessions = Arc::new(InMemorySessionStore::default());
        let idle = Duration::from_secs(10);
        let config = HttpConfig::default()
            .session_idle_timeout(idle)
            .event_store(events.clone())
            .session_store(sessions.clone());
        let (svc, _, _) = service(config);
        // Warm up lazily initialised statics and buffers, then measure.
        for i in 0..20 {
            busy_session(&svc, i).await;
        }
        tokio::time::sleep(idle * 2).await;
        assert_eq!(svc.session_count(), 0);
        let baseline = live_heap();
        let rss_baseline = rss_bytes();

        for i in 0..1000 {
            busy_session(&svc, i).await;
        }
        assert_eq!(svc.session_count(), 1000);
        assert_eq!(sessions.len(), 1000);
        assert!(events.bytes() > 0);
        let peak = live_heap();
        let rss_peak = rss_bytes();
        // Not yet idle long enough: nothing is reaped.
        tokio::time::sleep(idle / 2).await;
        assert_eq!(svc.session_count(), 1000, "reaped before the idle timeout");
        // Past the timeout (plus one reaper period): all gone, stores included.
        tokio::time::sleep(idle).await;
        assert_eq!(svc.session_count(), 0, "idle sessions left open");
        assert_eq!(sessions.len(), 0, "session records left behind");
        assert_eq!(events.bytes(), 0, "events of ended sessions left behind");
        // Let the closed connections' tasks wind down.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        let after = live_heap();
        let grew = peak.saturating_sub(baseline);
        let kept = after.saturating_sub(baseline);
        println!(
            "1,000 sessions: live heap {} KiB at baseline, +{} KiB open ({} B per session), +{} KiB after reaping; RSS {} → {} → {} KiB",
            baseline / KIB,
            grew / KIB,
            grew / 1000,
            kept / KIB,
            rss_baseline / KIB,
            rss_peak / KIB,
            rss_bytes() / KIB
        );
        assert!(grew > 1000 * 512, "1,000 sessions took only {grew} bytes: not measured?");
        assert!(
            kept <= 256 * KIB,
            "{} KiB of the {} KiB that 1,000 sessions took is still allocated",
            kept / KIB,
            grew / KIB
        );
    }));
    println!("(wall time {:?})", wall.elapsed());
}

/// Opens a raw connection with a tiny receive buffer, sends `request`, reads the response head
/// and then never reads again.
async fn stalled_client(
    addr: std::net::SocketAddr,
    request: http::Request<ReqBody>,
) -> tokio::net::TcpStream {
    use http_body_util::BodyExt;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut tcp = socket.connect(addr).await.expect("connect");
    let (parts, body) = request.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    let mut head = format!("POST {} HTTP/1.1\r\n", parts.uri);
    for (k, v) in &parts.headers {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().expect("ascii")));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    tcp.write_all(head.as_bytes()).await.expect("write head");
    tcp.write_all(&body).await.expect("write body");
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    within(STEP, "the response head", async {
        while !got.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut byte).await.expect("read");
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
            got.push(byte[0]);
        }
    })
    .await;
    let head = String::from_utf8_lossy(&got);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    tcp
}

#[test]
fn a_client_that_never_reads_cannot_grow_server_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(within(TEST, "non-reading clients", async {
        let mut config = HttpConfig::default();
        config.stream_queue = 8;
        let (svc, probe, _) = service(config);
        let server = spawn_server(svc.clone()).await;
        // 8,000 log messages of 16 KiB per call: 125 MiB each if nothing pushed back.
        let count = 8_000usize;
        let flood = json!({"count": count, "size": 16 * 1024});
        let baseline = live_heap();

        // 2026-07-28: the handler's stream.
        let params = envelope(call_params("flood", flood.clone(), None), Some("info"));
        let modern_client =
            stalled_client(server.addr, modern_raw(1, "tools/call", params, &[])).await;
        // Handshake era: the resumable stream, through the event store.
        let mut c = Client::connect(server.addr).await;
        let resp = c.send(post_json(&initialize_msg(LEGACY), &[])).await;
        let sid = header(resp.headers(), "mcp-session-id")
            .expect("session")
            .to_owned();
        let msg = rpc(2, "tools/call", call_params("flood", flood, None));
        let legacy_client = stalled_client(server.addr, legacy(&sid, LEGACY, &msg)).await;

        // Both handlers stall once the queues and socket buffers are full.
        // (Three unchanged samples in a row, so a busy machine is not mistaken for a stall.)
        let mut last = usize::MAX;
        let mut same = 0;
        let settled = within(Duration::from_secs(30), "the handlers to stall", async {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let now = probe.emitted.load(Ordering::SeqCst);
                same = if now == last { same + 1 } else { 0 };
                if same == 3 {
                    return now;
                }
                last = now;
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            probe.emitted.load(Ordering::SeqCst),
            settled,
            "still producing"
        );
        let grew = live_heap().saturating_sub(baseline);
        println!(
            "stalled after {settled} of {} messages (16 KiB each); live heap grew {} KiB",
            2 * count,
            grew / KIB
        );
        assert!(
            settled < 2 * 2_000,
            "{settled} messages were produced for two clients that read nothing"
        );
        assert!(grew < 32 * MIB, "the live heap grew {} MiB", grew / MIB);

        // Hanging up cancels the 2026-07-28 call; the handshake-era call goes on (a disconnect
        // is not a cancel there) and its events are kept in the bounded store.
        drop(modern_client);
        drop(legacy_client);
        within(
            Duration::from_secs(60),
            "the handshake-era call to finish",
            async {
                while probe.flooded.load(Ordering::SeqCst) < 1 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            probe.flooded.load(Ordering::SeqCst),
            1,
            "the 2026-07-28 call should have been cancelled by the hang-up"
        );
        // The event store keeps at most 1,000 events of that stream (16 MiB here).
        let grew = live_heap().saturating_sub(baseline);
        println!(
            "after the handshake-era call ran on: live heap grew {} KiB",
            grew / KIB
        );
        assert!(
            grew < 48 * MIB,
            "the live heap grew {} MiB after the call ran on",
            grew / MIB
        );
    }));
}
