//! The Streamable HTTP transport on real sockets (`serve_with` on 127.0.0.1): slow-client
//! deadlines, the body limit on the wire, TCP_NODELAY, graceful shutdown, resumption after a
//! dropped connection, and cancellation when a 2026-07-28 client hangs up.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use http::StatusCode;
use mcp_transport::http::HttpConfig;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TEST: Duration = Duration::from_secs(60);
const DEADLINE: Duration = Duration::from_millis(500);

fn slow_client_config() -> HttpConfig {
    let mut c = HttpConfig::default();
    c.header_read_timeout = DEADLINE;
    c.body_read_timeout = DEADLINE;
    c
}

/// Writes `bytes`, then reads until the server closes the connection (or `limit` passes).
/// Returns what was read and how long after the write the connection closed.
async fn write_then_read_to_close(
    addr: std::net::SocketAddr,
    bytes: &[u8],
    limit: Duration,
) -> (String, Duration) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(bytes).await.expect("write");
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), tcp.read(&mut buf)).await
        {
            Err(_) => panic!(
                "the server kept the connection open for {limit:?}; read so far: {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    within(TEST, "header read timeout", async {
        let (svc, _, _) = service(slow_client_config());
        let server = spawn_server(svc).await;
        let cases: [(&str, &[u8]); 3] = [
            (
                "half a request head",
                b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: appl",
            ),
            ("nothing at all", b""),
            ("a byte of an HTTP/2 preface", b"P"),
        ];
        for (what, bytes) in cases {
            let (got, after) = write_then_read_to_close(server.addr, bytes, DEADLINE * 8).await;
            assert!(
                after >= DEADLINE / 2,
                "{what}: closed after {after:?}, before the deadline"
            );
            assert!(
                got.is_empty() || got.starts_with("HTTP/1.1 408"),
                "{what}: unexpected answer {got:?}"
            );
            println!("{what}: closed after {after:?}");
        }
        // A request that does arrive in time is served as usual.
        let mut c = Client::connect(server.addr).await;
        let resp = c.send(post_json(&initialize_msg(LEGACY), &[])).await;
        assert_eq!(resp.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn slow_bodies_get_408() {
    within(TEST, "body read deadline", async {
        let (svc, _, _) = service(slow_client_config());
        let server = spawn_server(svc).await;
        let head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"jsonrpc\":";
        let (got, after) =
            write_then_read_to_close(server.addr, head.as_bytes(), DEADLINE * 8).await;
        assert!(got.starts_with("HTTP/1.1 408"), "expected 408, got {got:?}");
        assert!(got.contains("-32600"), "a JSON-RPC error body: {got:?}");
        assert!(after >= DEADLINE / 2 && after < DEADLINE * 6, "after {after:?}");
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_arrive() {
    within(TEST, "413 on the wire", async {
        let (svc, _, _) = service(HttpConfig::default());
        let server = spawn_server(svc).await;
        // 100 MiB announced, 16 bytes sent: the answer comes at once, nothing more is awaited.
        let head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{\"jsonrpc\":\"2.0\"";
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(head.as_bytes()).await.expect("write");
        let mut buf = vec![0u8; 4096];
        let n = within(Duration::from_secs(2), "the 413", tcp.read(&mut buf))
            .await
            .expect("read");
        let got = String::from_utf8_lossy(&buf[..n]);
        assert!(got.starts_with("HTTP/1.1 413"), "{got:?}");
        // Chunked, no length: the server stops reading at 4 MiB and answers 413.
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        let head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        tcp.write_all(head.as_bytes()).await.expect("write");
        let (mut rd, mut wr) = tcp.into_split();
        let writer = tokio::spawn(async move {
            let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
            let mut sent = 0usize;
            // Up to 64 MiB; the server hangs up long before.
            for _ in 0..1024 {
                if wr.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
                sent += 0x10000;
            }
            sent
        });
        let mut got = Vec::new();
        within(Duration::from_secs(10), "the chunked 413", async {
            loop {
                let n = rd.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        })
        .await;
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 413"), "{got:?}");
        drop(rd);
        let sent = within(Duration::from_secs(10), "the writer to stop", writer)
            .await
            .expect("writer");
        assert!(sent < 64 * 1024 * 1024, "the server read all {sent} bytes");
    })
    .await;
}

/// The inode of the server-side socket of the connection from `client` to `server`, from
/// `/proc/net/tcp` (IPv4 loopback).
fn server_socket_inode(server: std::net::SocketAddr, client: std::net::SocketAddr) -> u64 {
    let hex = |a: std::net::SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) => {
            format!("{:08X}:{:04X}", u32::from_le_bytes(ip.octets()), a.port())
        }
        std::net::IpAddr::V6(_) => unreachable!("the tests bind IPv4 loopback"),
    };
    let (local, remote) = (hex(server), hex(client));
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 9 && f[1] == local && f[2] == remote {
            return f[9].parse().expect("inode");
        }
    }
    panic!("no server-side socket {local} ← {remote} in /proc/net/tcp");
}

/// This process's descriptor for the socket with `inode`.
fn fd_of_inode(inode: u64) -> i32 {
    let want = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let entry = entry.expect("entry");
        if std::fs::read_link(entry.path()).is_ok_and(|l| l.to_string_lossy() == want) {
            return entry
                .file_name()
                .to_string_lossy()
                .parse()
                .expect("fd number");
        }
    }
    panic!("no descriptor for {want}");
}

#[tokio::test]
async fn accepted_sockets_have_tcp_nodelay() {
    within(TEST, "TCP_NODELAY", async {
        let (svc, _, _) = service(HttpConfig::default());
        let server = spawn_server(svc).await;
        let mut c = Client::connect(server.addr).await;
        // One exchange, so the server has surely accepted and configured the socket.
        let resp = c.send(post_json(&initialize_msg(LEGACY), &[])).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let fd = fd_of_inode(server_socket_inode(server.addr, c.local));
        // A duplicate of our own descriptor, obtained without unsafe code.
        let me = rustix::process::pidfd_open(
            rustix::process::getpid(),
            rustix::process::PidfdFlags::empty(),
        )
        .expect("pidfd_open");
        let dup = rustix::process::pidfd_getfd(&me, fd, rustix::process::PidfdGetfdFlags::empty())
            .expect("pidfd_getfd");
        assert!(
            rustix::net::sockopt::tcp_nodelay(&dup).expect("getsockopt"),
            "the server's accepted socket must have TCP_NODELAY"
        );
        // The check is not vacuous: a fresh client socket has it off.
        let plain = TcpStream::connect(server.addr).await.expect("connect");
        assert!(!plain.nodelay().expect("nodelay"));
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_five_calls_in_flight() {
    within(TEST, "graceful shutdown", async {
        let mut config = HttpConfig::default();
        config.shutdown_grace = Duration::from_secs(20);
        let (svc, probe, _) = service(config);
        let mut server = spawn_server(svc.clone()).await;
        // Three handshake-era calls on one session, two 2026-07-28 calls; one connection each.
        let mut setup = Client::connect(server.addr).await;
        let resp = setup.send(post_json(&initialize_msg(LEGACY), &[])).await;
        let sid = header(resp.headers(), "mcp-session-id")
            .expect("session")
            .to_owned();
        // An idle GET stream, which shutdown must end at once.
        let mut get_client = Client::connect(server.addr).await;
        let req = http::Request::get("/mcp")
            .header("host", "127.0.0.1")
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("request");
        let (_, mut get_stream) = sse(get_client.send(req).await);
        get_stream.next(STEP).await.expect("priming event");

        let sleep = |id: i64| {
            rpc(
                id,
                "tools/call",
                call_params("sleep", json!({"ms": 1500}), None),
            )
        };
        let mut calls = Vec::new();
        for id in 1..=5i64 {
            let req = if id <= 3 {
                legacy(&sid, LEGACY, &sleep(id))
            } else {
                modern(
                    id,
                    "tools/call",
                    call_params("sleep", json!({"ms": 1500}), None),
                    &[],
                )
            };
            let addr = server.addr;
            calls.push(tokio::spawn(async move {
                let mut c = Client::connect(addr).await;
                let resp = c.send(req).await;
                let (status, _, v) = json_of(resp).await;
                (id, status, v)
            }));
        }
        within(STEP, "all five calls to start", async {
            while probe.started.load(Ordering::SeqCst) < 5 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let stopped_at = Instant::now();
        server.stop();
        // Idle streams end at once.
        let rest = get_stream.rest(Duration::from_secs(2)).await;
        assert!(rest.iter().all(|e| e.data.is_empty()), "{rest:?}");
        let get_ended = stopped_at.elapsed();
        // New connections are refused.
        within(Duration::from_secs(2), "the listener to close", async {
            while TcpStream::connect(server.addr).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(svc.is_shutting_down());
        // Every call finishes with its answer.
        for call in calls {
            let (id, status, v) = within(STEP, "a call to finish", call).await.expect("task");
            assert_eq!(status, StatusCode::OK, "call {id}: {v}");
            assert_eq!(v["id"], id, "{v}");
            assert_eq!(
                v["result"]["content"][0]["text"], "slept 1500",
                "call {id}: {v}"
            );
        }
        assert_eq!(probe.finished.load(Ordering::SeqCst), 5);
        assert_eq!(
            probe.dropped.load(Ordering::SeqCst),
            0,
            "no call was cut short"
        );
        let done = server.done.take().expect("join handle");
        within(Duration::from_secs(5), "serve_with to return", done)
            .await
            .expect("task")
            .expect("serve_with");
        let total = stopped_at.elapsed();
        assert!(total < Duration::from_secs(10), "shutdown took {total:?}");
        assert_eq!(svc.session_count(), 0, "sessions are closed at the end");
        println!("GET stream ended after {get_ended:?}; shutdown complete after {total:?}");
    })
    .await;
}

#[tokio::test]
async fn shutdown_grace_bounds_the_wait() {
    within(TEST, "grace period", async {
        let mut config = HttpConfig::default();
        config.shutdown_grace = Duration::from_millis(300);
        let (svc, probe, _) = service(config);
        let mut server = spawn_server(svc).await;
        let addr = server.addr;
        let call = tokio::spawn(async move {
            let mut c = Client::connect(addr).await;
            let req = modern(
                1,
                "tools/call",
                call_params("sleep", json!({"ms": 30_000}), None),
                &[],
            );
            let _ = c.send_unbounded(req).await;
        });
        within(STEP, "the call to start", async {
            while probe.started.load(Ordering::SeqCst) < 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let t = Instant::now();
        server.stop();
        let done = server.done.take().expect("join handle");
        within(Duration::from_secs(5), "serve_with to give up", done)
            .await
            .expect("task")
            .expect("serve_with");
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(3),
            "returned after {took:?} with a grace of 300 ms"
        );
        call.abort();
    })
    .await;
}

#[tokio::test]
async fn resume_after_the_connection_drops() {
    within(TEST, "resumption over TCP", async {
        let (svc, _, _) = service(HttpConfig::default());
        let server = spawn_server(svc).await;
        let mut c = Client::connect(server.addr).await;
        let resp = c.send(post_json(&initialize_msg(LEGACY), &[])).await;
        let sid = header(resp.headers(), "mcp-session-id")
            .expect("session")
            .to_owned();
        let steps = 8u64;
        let msg = rpc(
            1,
            "tools/call",
            call_params(
                "progress",
                json!({"steps": steps, "delay_ms": 60}),
                Some("tcp"),
            ),
        );
        let mut a = Client::connect(server.addr).await;
        let (_, mut events) = sse(a.send(legacy(&sid, LEGACY, &msg)).await);
        let mut first = Vec::new();
        for _ in 0..3 {
            first.push(events.next(STEP).await.expect("event"));
        }
        // The network drops: the socket goes away mid-stream.
        drop(events);
        drop(a);
        let last = first.last().and_then(|e| e.id.clone()).expect("id");
        let mut b = Client::connect(server.addr).await;
        let req = http::Request::get("/mcp")
            .header("host", "127.0.0.1")
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", LEGACY)
            .header("last-event-id", &last)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("request");
        let (_, mut events) = sse(b.send(req).await);
        let resumed = events.rest(STEP).await;
        let mut seen: Vec<String> = first
            .iter()
            .chain(&resumed)
            .filter(|e| !e.data.is_empty())
            .map(|e| {
                let v = e.json();
                match v.get("method") {
                    Some(_) => format!("p{}", v["params"]["progress"].as_f64().unwrap_or(-1.0)),
                    None => "answer".into(),
                }
            })
            .collect();
        let mut expected: Vec<String> = (1..=steps).map(|i| format!("p{}", i as f64)).collect();
        expected.push("answer".into());
        seen.sort();
        expected.sort();
        assert_eq!(seen, expected, "every event exactly once");
    })
    .await;
}

#[tokio::test]
async fn hanging_up_cancels_a_modern_call() {
    within(TEST, "cancel on hang-up", async {
        let (svc, probe, _) = service(HttpConfig::default());
        let server = spawn_server(svc).await;
        // Before any byte of the answer.
        let mut c = Client::connect(server.addr).await;
        let req = modern(
            1,
            "tools/call",
            call_params("sleep", json!({"ms": 60_000}), None),
            &[],
        );
        let pending = tokio::spawn(async move {
            let _ = c.send_unbounded(req).await;
        });
        within(STEP, "the call to start", async {
            while probe.started.load(Ordering::SeqCst) < 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        pending.abort();
        within(Duration::from_secs(5), "the call to be cancelled", async {
            while probe.dropped.load(Ordering::SeqCst) < 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert_eq!(probe.finished.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[tokio::test]
async fn other_paths_are_404() {
    within(TEST, "paths", async {
        let (svc, _, _) = service(HttpConfig::default().path("/custom"));
        let server = spawn_server(svc).await;
        let mut c = Client::connect(server.addr).await;
        let mut req = post_json(&initialize_msg(LEGACY), &[]);
        *req.uri_mut() = "/mcp".parse().expect("uri");
        expect_error(c.send(req).await, StatusCode::NOT_FOUND, -32600).await;
        let mut req = post_json(&initialize_msg(LEGACY), &[]);
        *req.uri_mut() = "/custom".parse().expect("uri");
        assert_eq!(c.send(req).await.status(), StatusCode::OK);
    })
    .await;
}
