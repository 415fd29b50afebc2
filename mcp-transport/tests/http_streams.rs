//! Streamable HTTP behaviour in both eras, driven in process through `McpService::handle`:
//! JSON versus SSE answers, JSON-only and stateless modes, event ids and the priming event,
//! resumption with `Last-Event-ID`, the GET stream, server→client requests, 2026-07-28 header
//! validation, cancellation by closing the stream, and `subscriptions/listen`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Request, StatusCode};
use http_body_util::Full;
use mcp_core::ToolDef;
use mcp_transport::http::HttpConfig;
use serde_json::{json, Value};

const TEST: Duration = Duration::from_secs(30);

/// Arguments, `Mcp-Param-*` headers, and whether the pair is valid.
type ParamCase<'a> = (Value, Vec<(&'a str, &'a str)>, bool);

fn get(session: &str, last_event_id: Option<&str>) -> Request<ReqBody> {
    let mut b = Request::get("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", LEGACY);
    if let Some(id) = last_event_id {
        b = b.header("last-event-id", id);
    }
    b.body(Full::new(Bytes::new())).expect("request")
}

#[tokio::test]
async fn plain_json_unless_the_call_emits_messages() {
    within(TEST, "json vs sse", async {
        let (svc, _, _) = service(HttpConfig::default());
        let sid = open_session(&svc, LEGACY).await;
        // Nothing but the answer: plain JSON.
        let msg = rpc(
            1,
            "tools/call",
            call_params("echo", json!({"text": "hi"}), None),
        );
        let (status, headers, v) = json_of(svc.handle(legacy(&sid, LEGACY, &msg)).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(header(&headers, "mcp-session-id"), Some(sid.as_str()));
        assert_eq!(v["result"]["content"][0]["text"], "hi");
        // Progress without a token is not sent, so still JSON.
        let msg = rpc(
            2,
            "tools/call",
            call_params("progress", json!({"steps": 3}), None),
        );
        let (_, headers, v) = json_of(svc.handle(legacy(&sid, LEGACY, &msg)).await).await;
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(v["result"]["content"][0]["text"], "done 3");
        // With a token: SSE, a priming event first, then the notifications, then the answer.
        let msg = rpc(
            3,
            "tools/call",
            call_params("progress", json!({"steps": 3}), Some("tok")),
        );
        let (headers, mut events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        assert_eq!(header(&headers, "mcp-session-id"), Some(sid.as_str()));
        assert_eq!(
            header(&headers, "cache-control"),
            Some("no-cache, no-transform")
        );
        let all = events.rest(STEP).await;
        let prime = &all[0];
        assert!(
            prime.data.is_empty(),
            "the priming event has empty data: {prime:?}"
        );
        assert_eq!(prime.retry, Some(1000), "the priming event carries retry");
        let stream = prime
            .id
            .as_deref()
            .and_then(|id| id.rsplit_once(':'))
            .map(|(s, _)| s.to_owned())
            .expect("the priming event has an id");
        assert!(
            stream.starts_with(&sid),
            "event ids encode session and stream"
        );
        let rest = &all[1..];
        assert_eq!(rest.len(), 4, "{all:?}");
        let mut seqs = Vec::new();
        for (i, e) in rest.iter().enumerate() {
            let id = e.id.as_deref().expect("every event has an id");
            let (s, n) = id.rsplit_once(':').expect("stream:seq");
            assert_eq!(s, stream);
            seqs.push(n.parse::<u64>().expect("seq"));
            let v = e.json();
            if i < 3 {
                assert_eq!(v["method"], "notifications/progress");
                assert_eq!(v["params"]["progressToken"], "tok");
                assert_eq!(v["params"]["progress"], f64::from(i as u32 + 1));
            } else {
                assert_eq!(v["id"], 3);
                assert_eq!(v["result"]["content"][0]["text"], "done 3");
            }
        }
        assert_eq!(seqs, [1, 2, 3, 4]);
        // A second stream on the same session has a different stream id.
        let msg = rpc(
            4,
            "tools/call",
            call_params("progress", json!({"steps": 1}), Some("t2")),
        );
        let (_, mut events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let first = events.next(STEP).await.expect("priming");
        assert!(!first.id.expect("id").starts_with(&format!("{stream}:")));
        // 2025-06-18 clients get no priming event (it arrived with 2025-11-25).
        let old = open_session(&svc, "2025-06-18").await;
        let msg = rpc(
            5,
            "tools/call",
            call_params("progress", json!({"steps": 1}), Some("t")),
        );
        let (_, mut events) = sse(svc.handle(legacy(&old, "2025-06-18", &msg)).await);
        let first = events.next(STEP).await.expect("an event");
        assert_eq!(first.json()["method"], "notifications/progress");
    })
    .await;
}

#[tokio::test]
async fn json_only_mode_never_streams() {
    within(TEST, "json only", async {
        let (svc, _, _) = service(HttpConfig::default().json_response(true));
        let sid = open_session(&svc, LEGACY).await;
        let msg = rpc(
            1,
            "tools/call",
            call_params("progress", json!({"steps": 3}), Some("t")),
        );
        let (status, headers, v) = json_of(svc.handle(legacy(&sid, LEGACY, &msg)).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(v["result"]["content"][0]["text"], "done 3");
        // 2026-07-28 too.
        let params = call_params("progress", json!({"steps": 2}), Some("m"));
        let (_, headers, v) = json_of(svc.handle(modern(2, "tools/call", params, &[])).await).await;
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(v["result"]["resultType"], "complete", "{v}");
    })
    .await;
}

#[tokio::test]
async fn stateless_mode_mints_no_sessions() {
    within(TEST, "stateless", async {
        let (svc, _, _) = service(HttpConfig::default().stateless(true));
        let (status, headers, v) =
            json_of(svc.handle(post_json(&initialize_msg(LEGACY), &[])).await).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(
            header(&headers, "mcp-session-id").is_none(),
            "no session minted"
        );
        assert_eq!(svc.session_count(), 0);
        let msg = rpc(
            1,
            "tools/call",
            call_params("echo", json!({"text": "x"}), None),
        );
        let (status, _, v) = json_of(
            svc.handle(post_json(&msg, &[("mcp-protocol-version", LEGACY)]))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["result"]["content"][0]["text"], "x");
        // Notifications are still streamed, without event ids (nothing to resume).
        let msg = rpc(
            2,
            "tools/call",
            call_params("progress", json!({"steps": 2}), Some("t")),
        );
        let (headers, mut events) = sse(svc
            .handle(post_json(&msg, &[("mcp-protocol-version", LEGACY)]))
            .await);
        assert!(header(&headers, "mcp-session-id").is_none());
        let all = events.rest(STEP).await;
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all.iter().all(|e| e.id.is_none()));
        // No session, no GET stream.
        let req = Request::get("/mcp")
            .header("host", "localhost")
            .header("accept", "text/event-stream")
            .body(Full::new(Bytes::new()))
            .expect("request");
        assert_eq!(
            svc.handle(req).await.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(svc.session_count(), 0);
    })
    .await;
}

/// Reads `n` events from a call's stream, drops it, and returns what was read.
async fn read_then_drop<B>(mut events: Sse<B>, n: usize) -> Vec<Event>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(events.next(STEP).await.expect("an event before the drop"));
    }
    drop(events);
    seen
}

/// Asserts that `first` then `resumed` hold every progress step and the answer exactly once.
fn assert_exactly_once(first: &[Event], resumed: &[Event], steps: u64, id: i64) {
    let mut count: HashMap<String, usize> = HashMap::new();
    let mut ids = Vec::new();
    for e in first.iter().chain(resumed).filter(|e| !e.data.is_empty()) {
        let v = e.json();
        let key = if v.get("method").is_some() {
            format!(
                "progress {}",
                v["params"]["progress"].as_f64().unwrap_or(-1.0)
            )
        } else {
            assert_eq!(v["id"], id, "{v}");
            "answer".to_owned()
        };
        *count.entry(key).or_default() += 1;
        ids.push(e.id.clone().expect("resumable events have ids"));
    }
    for step in 1..=steps {
        let key = format!("progress {}", step as f64);
        // (both sides format the same f64)
        assert_eq!(
            count.get(&key),
            Some(&1),
            "{key} seen {:?} times",
            count.get(&key)
        );
    }
    assert_eq!(
        count.get("answer"),
        Some(&1),
        "the answer arrives exactly once"
    );
    assert_eq!(
        count.values().sum::<usize>(),
        steps as usize + 1,
        "{count:?}"
    );
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(sorted, ids, "event ids are unique and in order");
}

#[tokio::test]
async fn resumption_replays_missed_events_exactly_once() {
    within(TEST, "resumption", async {
        let (svc, _, _) = service(HttpConfig::default());
        let sid = open_session(&svc, LEGACY).await;
        let steps = 10;

        // 1. Drop mid-call, resume while the call is still running.
        let msg = rpc(
            1,
            "tools/call",
            call_params(
                "progress",
                json!({"steps": steps, "delay_ms": 40}),
                Some("a"),
            ),
        );
        let (_, events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let first = read_then_drop(events, 4).await; // priming + 3 steps
        let last = first.last().and_then(|e| e.id.clone()).expect("an id");
        let (_, mut events) = sse(svc.handle(get(&sid, Some(&last))).await);
        let resumed = events.rest(STEP).await;
        assert!(
            resumed.iter().any(|e| e.is_response()),
            "the resumed stream carries the answer"
        );
        assert_exactly_once(&first, &resumed, steps, 1);

        // 2. Drop right after the priming event, resume after the call has finished.
        let msg = rpc(
            2,
            "tools/call",
            call_params(
                "progress",
                json!({"steps": steps, "delay_ms": 5}),
                Some("b"),
            ),
        );
        let (_, events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let first = read_then_drop(events, 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let prime = first[0].id.clone().expect("priming id");
        let (_, mut events) = sse(svc.handle(get(&sid, Some(&prime))).await);
        let resumed = events.rest(STEP).await;
        assert_exactly_once(&first, &resumed, steps, 2);

        // 3. Resume at once from the priming event, before anything was produced.
        let msg = rpc(
            3,
            "tools/call",
            call_params("progress", json!({"steps": 3, "delay_ms": 150}), Some("c")),
        );
        let (_, events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let first = read_then_drop(events, 1).await;
        let prime = first[0].id.clone().expect("priming id");
        let (_, mut events) = sse(svc.handle(get(&sid, Some(&prime))).await);
        let resumed = events.rest(STEP).await;
        assert_exactly_once(&first, &resumed, 3, 3);

        // 4. Resuming twice from the same point replays the same events again (the client
        // asked for them), and nothing of other streams.
        let (_, mut again) = sse(svc.handle(get(&sid, Some(&prime))).await);
        let replay = again.rest(STEP).await;
        assert_eq!(
            replay.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            resumed.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
        );

        // Another session's event id, or a malformed one, is refused.
        let other = open_session(&svc, LEGACY).await;
        expect_error(
            svc.handle(get(&other, Some(&prime))).await,
            StatusCode::NOT_FOUND,
            -32600,
        )
        .await;
        expect_error(
            svc.handle(get(&sid, Some("garbage"))).await,
            StatusCode::BAD_REQUEST,
            -32600,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn server_to_client_requests_ride_the_post_stream() {
    within(TEST, "elicitation", async {
        let (svc, _, _) = service(HttpConfig::default());
        let sid = open_session(&svc, LEGACY).await;
        let msg = rpc(9, "tools/call", call_params("elicit", json!({}), None));
        let (_, mut events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let mut request = None;
        while let Some(e) = events.next(STEP).await {
            if e.data.is_empty() {
                continue;
            }
            request = Some(e.json());
            break;
        }
        let request = request.expect("the elicitation request");
        assert_eq!(request["method"], "elicitation/create", "{request}");
        let answer = json!({"jsonrpc": "2.0", "id": request["id"],
            "result": {"action": "accept", "content": {"name": "Ada"}}});
        let resp = svc.handle(legacy(&sid, LEGACY, &answer)).await;
        assert_eq!(
            resp.status(),
            StatusCode::ACCEPTED,
            "the answer POST gets 202"
        );
        let rest = events.rest(STEP).await;
        let last = rest.last().expect("the tool's answer").json();
        assert_eq!(last["id"], 9);
        assert_eq!(last["result"]["content"][0]["text"], "hello Ada", "{last}");
    })
    .await;
}

#[tokio::test]
async fn get_stream_carries_unsolicited_messages() {
    within(TEST, "GET stream", async {
        let (svc, _, server) = service(HttpConfig::default());
        let sid = open_session(&svc, LEGACY).await;
        let (headers, mut events) = sse(svc.handle(get(&sid, None)).await);
        assert_eq!(header(&headers, "mcp-session-id"), Some(sid.as_str()));
        let prime = events.next(STEP).await.expect("priming");
        assert!(prime.data.is_empty() && prime.retry.is_some(), "{prime:?}");
        // One GET stream per session.
        let second = svc.handle(get(&sid, None)).await;
        expect_error(second, StatusCode::CONFLICT, -32600).await;
        // A catalogue change reaches the GET stream, never a POST stream.
        server
            .handle()
            .add_tool(ToolDef::new("late", || async { "late" }).description("Added later"));
        let e = events.next(STEP).await.expect("list_changed");
        assert_eq!(e.json()["method"], "notifications/tools/list_changed");
        let id = e.id.clone().expect("GET events have ids");
        assert!(id.starts_with(&format!("{sid}.0:")), "{id}");
        // Dropped and resumed: what came meanwhile is delivered.
        drop(events);
        server
            .handle()
            .add_tool(ToolDef::new("later", || async { "later" }).description("Added later"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (_, mut events) = sse(svc.handle(get(&sid, Some(&id))).await);
        let mut e = events.next(STEP).await.expect("an event");
        if e.data.is_empty() {
            e = events
                .next(STEP)
                .await
                .expect("the change made while disconnected");
        }
        assert_eq!(e.json()["method"], "notifications/tools/list_changed");
        assert_ne!(e.id.as_deref(), Some(id.as_str()));
    })
    .await;
}

#[tokio::test]
async fn modern_requests_are_stateless_and_validated() {
    within(TEST, "2026-07-28 ladder", async {
        let (svc, _, _) = service(HttpConfig::default());
        let ok = |v: &Value| v["result"]["resultType"] == "complete";
        // A valid call: JSON, no session minted, Mcp-Session-Id ignored.
        let call = call_params("echo", json!({"text": "m"}), None);
        let (status, headers, v) = json_of(
            svc.handle(modern(
                1,
                "tools/call",
                call.clone(),
                &[("mcp-session-id", "bogus")],
            ))
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(ok(&v), "{v}");
        assert!(header(&headers, "mcp-session-id").is_none());
        assert_eq!(svc.session_count(), 0);
        // Rung 1: envelope without clientCapabilities → 400 -32602.
        let params = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}});
        let resp = svc.handle(modern_raw(2, "tools/list", params, &[])).await;
        expect_error(resp, StatusCode::BAD_REQUEST, -32602).await;
        // An unclaimed request with a modern header fails rung 1 too.
        let resp = svc
            .handle(post_json(
                &rpc(3, "tools/list", json!({})),
                &[
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/list"),
                ],
            ))
            .await;
        expect_error(resp, StatusCode::BAD_REQUEST, -32602).await;
        // Rung 2: the headers must agree with the body.
        let mismatches: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("missing Mcp-Method", vec![("mcp-protocol-version", MODERN)]),
            (
                "Mcp-Method differs",
                vec![
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/list"),
                    ("mcp-name", "echo"),
                ],
            ),
            (
                "Mcp-Name differs",
                vec![
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "other"),
                ],
            ),
            (
                "Mcp-Name missing",
                vec![
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/call"),
                ],
            ),
            (
                "version header missing",
                vec![("mcp-method", "tools/call"), ("mcp-name", "echo")],
            ),
            (
                "version header differs",
                vec![
                    ("mcp-protocol-version", "2025-11-25"),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "echo"),
                ],
            ),
            (
                "Mcp-Method twice",
                vec![
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/call"),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "echo"),
                ],
            ),
            (
                "values are case-sensitive",
                vec![
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "Tools/Call"),
                    ("mcp-name", "echo"),
                ],
            ),
        ];
        for (what, headers) in mismatches {
            let req = post_json(
                &rpc(4, "tools/call", envelope(call.clone(), None)),
                &headers,
            );
            let v = expect_error(svc.handle(req).await, StatusCode::BAD_REQUEST, -32020).await;
            assert_eq!(v["id"], 4, "{what}: the id is echoed: {v}");
        }
        // Header names are case-insensitive, values may carry surrounding whitespace or Base64.
        let req = post_json(
            &rpc(5, "tools/call", envelope(call.clone(), None)),
            &[
                ("MCP-Protocol-Version", MODERN),
                ("MCP-METHOD", " tools/call "),
                ("mcp-name", "=?base64?ZWNobw==?="),
            ],
        );
        let (status, _, v) = json_of(svc.handle(req).await).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        // Rung 3: unsupported version in the body → -32022 with the supported list.
        let params = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01",
            "io.modelcontextprotocol/clientCapabilities": {}}});
        let req = post_json(
            &rpc(6, "tools/list", params),
            &[
                ("mcp-protocol-version", "2099-01-01"),
                ("mcp-method", "tools/list"),
            ],
        );
        let v = expect_error(svc.handle(req).await, StatusCode::BAD_REQUEST, -32022).await;
        assert!(
            v["error"]["data"]["supported"]
                .as_array()
                .is_some_and(|s| s.contains(&json!(MODERN))),
            "{v}"
        );
        // Rung 4: removed or unknown methods → 404 -32601.
        for method in ["initialize", "ping", "logging/setLevel", "no/such"] {
            let resp = svc.handle(modern(7, method, json!({}), &[])).await;
            expect_error(resp, StatusCode::NOT_FOUND, -32601).await;
        }
        // Rung 6: x-mcp-header arguments are mirrored in Mcp-Param-*.
        let region = |v: Value| call_params("region", v, None);
        let cases: Vec<ParamCase<'_>> = vec![
            (
                json!({"region": "eu-west"}),
                vec![("mcp-param-region", "eu-west")],
                true,
            ),
            (
                json!({"region": "eu-west"}),
                vec![("Mcp-Param-Region", "=?base64?ZXUtd2VzdA==?=")],
                true,
            ),
            (json!({}), vec![], true),
            (json!({"region": null}), vec![], true),
            (json!({"region": "eu-west"}), vec![], false),
            (json!({}), vec![("mcp-param-region", "eu-west")], false),
            (
                json!({"region": "eu-west"}),
                vec![("mcp-param-region", "us-east")],
                false,
            ),
            (
                json!({"region": "eu-west"}),
                vec![("mcp-param-region", "=?base64?not base64!?=")],
                false,
            ),
        ];
        for (args, headers, good) in cases {
            let resp = svc
                .handle(modern(8, "tools/call", region(args.clone()), &headers))
                .await;
            if good {
                let (status, _, v) = json_of(resp).await;
                assert_eq!(status, StatusCode::OK, "{args} {headers:?}: {v}");
            } else {
                expect_error(resp, StatusCode::BAD_REQUEST, -32020).await;
            }
        }
        // Handler errors travel with 200: an unknown tool is -32602.
        let resp = svc
            .handle(modern(
                9,
                "tools/call",
                call_params("nope", json!({}), None),
                &[],
            ))
            .await;
        expect_error(resp, StatusCode::OK, -32602).await;
        // GET and DELETE are not part of 2026-07-28.
        let req = Request::get("/mcp")
            .header("host", "localhost")
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", MODERN)
            .body(Full::new(Bytes::new()))
            .expect("request");
        assert_eq!(
            svc.handle(req).await.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        // Notifications are accepted with 202.
        let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": envelope(json!({"requestId": 1}), None)});
        let req = post_json(
            &note,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "notifications/cancelled"),
            ],
        );
        assert_eq!(svc.handle(req).await.status(), StatusCode::ACCEPTED);
        assert_eq!(svc.session_count(), 0, "2026-07-28 never mints sessions");
    })
    .await;
}

#[tokio::test]
async fn modern_notifications_stream_and_logs_need_a_level() {
    within(TEST, "modern sse", async {
        let (svc, _, _) = service(HttpConfig::default());
        let params = call_params("progress", json!({"steps": 3}), Some("p"));
        let (headers, mut events) = sse(svc.handle(modern(1, "tools/call", params, &[])).await);
        assert!(header(&headers, "mcp-session-id").is_none());
        let all = events.rest(STEP).await;
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(
            all.iter().all(|e| e.id.is_none()),
            "2026-07-28 streams have no event ids"
        );
        assert_eq!(all[3].json()["result"]["resultType"], "complete");
        // Logs only with a logLevel in the envelope.
        let flood = call_params("flood", json!({"count": 2, "size": 3}), None);
        let (_, headers, _) = json_of(
            svc.handle(modern(2, "tools/call", flood.clone(), &[]))
                .await,
        )
        .await;
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        let with_level = envelope(flood, Some("info"));
        let (_, mut events) = sse(svc
            .handle(modern_raw(3, "tools/call", with_level, &[]))
            .await);
        let all = events.rest(STEP).await;
        assert_eq!(
            all.iter()
                .filter(|e| e.json()["method"] == "notifications/message")
                .count(),
            2,
            "{all:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn closing_a_modern_stream_cancels_the_call() {
    within(TEST, "cancel by close", async {
        let (svc, probe, _) = service(HttpConfig::default());
        // Closed before the first byte: the handler's future is dropped with the request.
        let fut = svc.handle(modern(
            1,
            "tools/call",
            call_params("sleep", json!({"ms": 60_000}), None),
            &[],
        ));
        let _ = tokio::time::timeout(Duration::from_millis(200), fut).await;
        assert_eq!(probe.started.load(Ordering::SeqCst), 1);
        assert_eq!(
            probe.dropped.load(Ordering::SeqCst),
            1,
            "the call was cancelled"
        );
        // Closed mid-stream: dropping the SSE body cancels the call.
        let params = call_params("progress", json!({"steps": 100, "delay_ms": 20}), Some("p"));
        let (_, mut events) = sse(svc.handle(modern(2, "tools/call", params, &[])).await);
        let e = events.next(STEP).await.expect("progress");
        assert_eq!(e.json()["method"], "notifications/progress");
        drop(events);
        assert_eq!(probe.finished.load(Ordering::SeqCst), 0);
        // Handshake era: a disconnect is not a cancel; the call runs to the end.
        let sid = open_session(&svc, LEGACY).await;
        let fut = svc.handle(legacy(
            &sid,
            LEGACY,
            &rpc(
                3,
                "tools/call",
                call_params("sleep", json!({"ms": 100}), None),
            ),
        ));
        let _ = tokio::time::timeout(Duration::from_millis(20), fut).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            probe.finished.load(Ordering::SeqCst),
            1,
            "the legacy call finished"
        );
    })
    .await;
}

#[tokio::test]
async fn listen_streams_are_acknowledged_and_tagged() {
    within(TEST, "subscriptions/listen", async {
        let (svc, _, server) = service(HttpConfig::default());
        let params =
            json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true}});
        let (headers, mut events) = sse(svc
            .handle(modern(77, "subscriptions/listen", params, &[]))
            .await);
        assert_eq!(header(&headers, "x-accel-buffering"), Some("no"));
        let ack = events.next(STEP).await.expect("acknowledgement").json();
        assert_eq!(
            ack["method"], "notifications/subscriptions/acknowledged",
            "{ack}"
        );
        assert_eq!(
            ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            77
        );
        // No prompts here, so only the tools subscription is honoured.
        assert_eq!(
            ack["params"]["notifications"]["toolsListChanged"], true,
            "{ack}"
        );
        assert_ne!(
            ack["params"]["notifications"]["promptsListChanged"], true,
            "{ack}"
        );
        server
            .handle()
            .add_tool(ToolDef::new("new_tool", || async { "x" }).description("New"));
        let change = events.next(STEP).await.expect("list_changed").json();
        assert_eq!(change["method"], "notifications/tools/list_changed");
        assert_eq!(
            change["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            77
        );
        // Shutdown ends idle listen streams with a final complete result.
        svc.shutdown();
        let end = events.rest(STEP).await;
        let last = end.last().expect("a final answer").json();
        assert_eq!(last["id"], 77);
        assert_eq!(last["result"]["resultType"], "complete");
        assert_eq!(
            last["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            77
        );
        // New requests after shutdown get 503.
        let resp = svc.handle(modern(78, "tools/list", json!({}), &[])).await;
        assert_eq!(header(resp.headers(), "retry-after"), Some("5"));
        expect_error(resp, StatusCode::SERVICE_UNAVAILABLE, -32603).await;
    })
    .await;
}

#[tokio::test]
async fn busy_sessions_are_not_reaped() {
    within(TEST, "busy sessions", async {
        let config = HttpConfig::default().session_idle_timeout(Duration::from_millis(150));
        let (svc, _, _) = service(config);
        let sid = open_session(&svc, LEGACY).await;
        // A call answered with plain JSON that outlasts the idle timeout several times.
        let msg = rpc(
            1,
            "tools/call",
            call_params("sleep", json!({"ms": 800}), None),
        );
        let (status, _, v) = json_of(svc.handle(legacy(&sid, LEGACY, &msg)).await).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["result"]["content"][0]["text"], "slept 800");
        // A streamed call whose client went away: the session waits for the client to resume.
        let msg = rpc(
            2,
            "tools/call",
            call_params("progress", json!({"steps": 8, "delay_ms": 100}), Some("b")),
        );
        let (_, events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let first = read_then_drop(events, 2).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let last = first.last().and_then(|e| e.id.clone()).expect("id");
        let (_, mut events) = sse(svc.handle(get(&sid, Some(&last))).await);
        let resumed = events.rest(STEP).await;
        assert_exactly_once(&first, &resumed, 8, 2);
        drop(events); // as the HTTP server does with a finished body
                      // Once nothing runs, the idle timeout applies again.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let resp = svc
            .handle(legacy(&sid, LEGACY, &rpc(3, "tools/list", json!({}))))
            .await;
        expect_error(resp, StatusCode::NOT_FOUND, -32600).await;
    })
    .await;
}

#[tokio::test]
async fn json_only_mode_sends_server_requests_on_the_get_stream() {
    within(TEST, "json-only elicitation", async {
        let (svc, _, _) = service(HttpConfig::default().json_response(true));
        let sid = open_session(&svc, LEGACY).await;
        let (_, mut stream) = sse(svc.handle(get(&sid, None)).await);
        let msg = rpc(4, "tools/call", call_params("elicit", json!({}), None));
        let pending = tokio::spawn({
            let svc = svc.clone();
            let sid = sid.clone();
            async move { json_of(svc.handle(legacy(&sid, LEGACY, &msg)).await).await }
        });
        let mut request = None;
        while let Some(e) = stream.next(STEP).await {
            if !e.data.is_empty() {
                request = Some(e.json());
                break;
            }
        }
        let request = request.expect("the elicitation request on the GET stream");
        assert_eq!(request["method"], "elicitation/create", "{request}");
        let answer = json!({"jsonrpc": "2.0", "id": request["id"],
            "result": {"action": "accept", "content": {"name": "Grace"}}});
        let resp = svc.handle(legacy(&sid, LEGACY, &answer)).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        let (status, headers, v) = pending.await.expect("task");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(v["result"]["content"][0]["text"], "hello Grace", "{v}");
    })
    .await;
}

#[tokio::test]
async fn evicted_events_are_never_skipped_silently() {
    within(TEST, "eviction", async {
        let store = std::sync::Arc::new(mcp_transport::http::InMemoryEventStore::new(100, 2));
        let (svc, _, _) = service(HttpConfig::default().event_store(store));
        let sid = open_session(&svc, LEGACY).await;
        let msg = rpc(
            1,
            "tools/call",
            call_params("progress", json!({"steps": 5}), Some("e")),
        );
        let (_, mut events) = sse(svc.handle(legacy(&sid, LEGACY, &msg)).await);
        let all = events.rest(STEP).await;
        let prime = all[0].id.clone().expect("priming id");
        // Only the last two events are kept: resuming from the start cannot be honoured.
        let resp = svc.handle(get(&sid, Some(&prime))).await;
        expect_error(resp, StatusCode::NOT_FOUND, -32600).await;
        // Resuming from the fourth event still works: exactly the two kept ones follow.
        let fourth = all[4].id.clone().expect("id");
        let (_, mut events) = sse(svc.handle(get(&sid, Some(&fourth))).await);
        let rest = events.rest(STEP).await;
        assert_eq!(rest.len(), 2, "{rest:?}");
        assert_eq!(rest[1].json()["id"], 1);
    })
    .await;
}

#[tokio::test]
async fn another_instance_serves_a_session_from_the_shared_store() {
    within(TEST, "scale-out", async {
        let sessions = std::sync::Arc::new(mcp_transport::http::InMemorySessionStore::default());
        let events = std::sync::Arc::new(mcp_transport::http::InMemoryEventStore::default());
        let config = HttpConfig::default()
            .session_store(sessions.clone())
            .event_store(events.clone());
        let (a, _, _) = service(config.clone());
        let (b, _, _) = service(config);
        // initialize on A, declaring elicitation.
        let sid = open_session(&a, LEGACY).await;
        assert_eq!(b.session_count(), 0);
        // B has never seen the session; it revives it from the record, capabilities included.
        let msg = rpc(1, "tools/call", call_params("elicit", json!({}), None));
        let (_, mut stream) = sse(b.handle(legacy(&sid, LEGACY, &msg)).await);
        let mut request = None;
        while let Some(e) = stream.next(STEP).await {
            if !e.data.is_empty() {
                request = Some(e.json());
                break;
            }
        }
        let request = request.expect("an event");
        assert_eq!(
            request["method"], "elicitation/create",
            "the revived session lost the client's capabilities: {request}"
        );
        assert_eq!(b.session_count(), 1);
        // Deleting on A removes the record: B then refuses the session... once it forgets it.
        let del = Request::delete("/mcp")
            .header("host", "localhost")
            .header("mcp-session-id", &sid)
            .body(Full::new(Bytes::new()))
            .expect("request");
        assert_eq!(a.handle(del).await.status(), StatusCode::OK);
        assert!(sessions.is_empty());
        let (c, _, _) = service(
            HttpConfig::default()
                .session_store(sessions.clone())
                .event_store(events),
        );
        let resp = c
            .handle(legacy(&sid, LEGACY, &rpc(2, "tools/list", json!({}))))
            .await;
        expect_error(resp, StatusCode::NOT_FOUND, -32600).await;
    })
    .await;
}

#[test]
fn a_service_built_outside_a_runtime_still_reaps() {
    // Built before any runtime exists: the reaper starts with the first request.
    let (svc, _, _) =
        service(HttpConfig::default().session_idle_timeout(Duration::from_millis(100)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(within(TEST, "reaping", async {
        let sid = open_session(&svc, LEGACY).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let resp = svc
            .handle(legacy(&sid, LEGACY, &rpc(1, "tools/list", json!({}))))
            .await;
        expect_error(resp, StatusCode::NOT_FOUND, -32600).await;
        assert_eq!(svc.session_count(), 0);
    }));
}
