//! Scale-out: two `conformance-server` instances sharing a real Redis (`--redis`), behind a
//! real nginx doing round robin, everything provisioned and stopped by `.ci/redis-nginx`
//! (apt-get installs redis-server and nginx when they are missing).
//!
//! - the official Python client (handshake era) runs the whole interop scenario through nginx
//!   although its requests alternate between the instances; Redis keys are namespaced and
//!   expire;
//! - an elicitation asked on A is answered through B; a cancellation sent to B stops the call
//!   on A;
//! - a stream dropped on A resumes on B with nothing lost or repeated;
//! - a task started on A is read, awaited and cancelled on B (both eras);
//! - a rate limit of 10/s per client holds across both instances together;
//! - killing Redis: fast 503s (never a hang), stateless 2026-07-28 traffic still served,
//!   automatic recovery once Redis is back.
//!
//! Nothing is skipped: if a service cannot be provisioned, the test fails with the reason.

#[path = "scale_out/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{answer, modern, open_session, post, request, Cluster, LEGACY, STEP};

/// Runs `f` on a thread and fails the test if it takes longer than `limit`.
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        // It panicked: surface the panic.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => panic!("{what}: ended without a result"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: did not finish within {limit:?}")
        }
    }
}

fn python() -> PathBuf {
    let target = Path::new(support::SERVER)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(support::MANIFEST_DIR).join("../target"));
    let script = Path::new(support::MANIFEST_DIR).join("../.ci/python-client");
    let out = Command::new("bash")
        .arg(&script)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run .ci/python-client");
    assert!(
        out.status.success(),
        ".ci/python-client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("a path").trim())
}

#[test]
fn python_client_runs_the_interop_scenario_across_instances() {
    within(Duration::from_secs(900), "python interop", || {
        let python = python();
        let cluster = Cluster::start("python", &[]);
        let started = Instant::now();
        let out = Command::new(&python)
            .arg("-u")
            .arg(Path::new(support::MANIFEST_DIR).join("tests/interop/python_http_client.py"))
            .args(["--mode", "legacy", "--url", &cluster.nginx_url()])
            .args(["--timeout", "30", "--overall-timeout", "100"])
            .env("PYTHONUNBUFFERED", "1")
            .output()
            .expect("run the Python client");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        assert!(
            out.status.success()
                && summary.ends_with(" passed, 0 failed")
                && !summary.starts_with("0 "),
            "the Python client failed through nginx ({summary:?}):\n{stdout}\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            cluster.logs()
        );
        // Consecutive requests really landed on different instances.
        let served = cluster.upstreams();
        let on_a = served
            .iter()
            .filter(|u| **u == cluster.a.addr.to_string())
            .count();
        let on_b = served
            .iter()
            .filter(|u| **u == cluster.b.addr.to_string())
            .count();
        let switches = served.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(
            on_a >= 5 && on_b >= 5 && switches >= 8,
            "nginx did not spread the session: {served:?}"
        );
        println!(
            "python legacy mode through nginx: {summary} in {:.1?}; {on_a} requests on A, {on_b} on B, {switches} switches",
            started.elapsed()
        );
        // Every key left is in the test's namespace and expires.
        let n = cluster.check_keys();
        println!("{n} Redis keys left, all namespaced and expiring");
    });
}

#[test]
fn an_elicitation_asked_on_a_is_answered_through_b() {
    within(Duration::from_secs(300), "relay", || {
        let cluster = Cluster::start("relay", &[]);
        let (a, b) = (cluster.a.addr, cluster.b.addr);
        let sid = open_session(a);
        let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "test_elicitation", "arguments": {"message": "Who are you?"}}});
        let mut stream = post(a, Some(&sid), &call);
        assert_eq!(stream.status, 200);
        let ask = loop {
            let e = stream.next_event(STEP).expect("the elicitation request");
            let v = e.json();
            if v["method"] == "elicitation/create" {
                break v;
            }
        };
        let started = Instant::now();
        let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {
            "action": "accept", "content": {"username": "grace", "email": "grace@example.com"}}});
        let r = post(b, Some(&sid), &reply);
        assert_eq!(r.status, 202, "B takes the answer");
        let result = loop {
            let e = stream
                .next_event(STEP)
                .unwrap_or_else(|| panic!("no result on A's stream\n{}", cluster.logs()));
            let v = e.json();
            if v["id"] == 7 {
                break v;
            }
        };
        let text = result["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("grace"), "{result}");
        println!("answer relayed from B to A in {:?}", started.elapsed());

        // notifications/cancelled sent to B stops the call running on A.
        let slow = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {
            "name": "slow_compute", "arguments": {"seconds": 30},
            "_meta": {"progressToken": "p"}}});
        let mut stream = post(a, Some(&sid), &slow);
        stream.next_event(STEP).expect("an event");
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 8, "reason": "changed my mind"}});
        let sent = Instant::now();
        assert_eq!(post(b, Some(&sid), &cancel).status, 202);
        while let Some(e) = stream.next_event(Duration::from_secs(10)) {
            assert!(
                e.json()["id"] != 8,
                "the cancelled call answered: {}",
                e.data
            );
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "A's stream went on for {:?} after the cancellation",
            sent.elapsed()
        );
        println!(
            "cancellation relayed from B to A; A's stream ended {:?} later",
            sent.elapsed()
        );
    });
}

#[test]
fn a_stream_dropped_on_a_resumes_on_b_without_loss_or_duplicates() {
    within(Duration::from_secs(300), "resumption", || {
        let cluster = Cluster::start("resume", &[]);
        let (a, b) = (cluster.a.addr, cluster.b.addr);
        let sid = open_session(a);
        // 2 s of work, 20 progress notifications, then the result.
        let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "slow_compute", "arguments": {"seconds": 2, "label": "resumed"},
            "_meta": {"progressToken": "tok"}}});
        let mut stream = post(a, Some(&sid), &call);
        assert_eq!(stream.status, 200);
        let mut seen = Vec::new();
        while seen.len() < 4 {
            let e = stream.next_event(STEP).expect("an event");
            seen.push(e);
        }
        drop(stream); // the connection to A is gone; A keeps producing into Redis
        let last = seen.last().and_then(|e| e.id.clone()).expect("an event id");
        let resumed_at = Instant::now();
        let mut h = vec![
            ("Accept", "text/event-stream"),
            ("MCP-Protocol-Version", LEGACY),
            ("Mcp-Session-Id", sid.as_str()),
        ];
        h.push(("Last-Event-ID", last.as_str()));
        let mut resumed = request(b, "GET", &h, "");
        assert_eq!(resumed.status, 200, "GET with Last-Event-ID on B");
        let mut rest = Vec::new();
        while let Some(e) = resumed.next_event(STEP) {
            let done = e.json()["id"] == 3;
            rest.push(e);
            if done {
                break;
            }
        }
        let all: Vec<_> = seen
            .iter()
            .chain(&rest)
            .filter(|e| !e.data.is_empty())
            .collect();
        let seqs: Vec<u64> = all.iter().filter_map(|e| e.seq()).collect();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(
            seqs, expected,
            "event sequence numbers have a gap or a repeat"
        );
        let progress: Vec<f64> = all
            .iter()
            .filter_map(|e| e.json()["params"]["progress"].as_f64())
            .collect();
        assert_eq!(
            progress,
            (1..=20).map(f64::from).collect::<Vec<_>>(),
            "progress lost or repeated"
        );
        let result = all.last().map(|e| e.json()).unwrap_or_default();
        assert_eq!(result["id"], 3, "the stream ends with the result: {result}");
        assert!(result["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("resumed")));
        println!(
            "resumed on B after event {last}: {} more events in {:?}, sequence 1..={} intact",
            rest.len(),
            resumed_at.elapsed(),
            seqs.len()
        );
        let n = cluster.check_keys();
        assert!(n >= 3, "the session and its streams are in Redis: {n} keys");
        println!("{n} Redis keys (session, streams, index), all namespaced and expiring");
        // Replaying the finished stream from its priming event, on either instance.
        let prime = seen[0].id.clone().expect("priming id");
        for (name, addr) in [("A", a), ("B", b)] {
            let mut h = h.clone();
            h.pop();
            h.push(("Last-Event-ID", prime.as_str()));
            let mut replay = request(addr, "GET", &h, "");
            assert_eq!(replay.status, 200);
            let mut n = 0;
            let mut last = Value::Null;
            while let Some(e) = replay.next_event(STEP) {
                n += 1;
                last = e.json();
                if last["id"] == 3 {
                    break;
                }
            }
            assert_eq!(n, seqs.len(), "replay on {name}");
            assert_eq!(last["id"], 3);
        }
    });
}

fn task_status(addr: std::net::SocketAddr, sid: &str, id: u64, task: &str) -> Value {
    let get =
        json!({"jsonrpc": "2.0", "id": id, "method": "tasks/get", "params": {"taskId": task}});
    answer(post(addr, Some(sid), &get), id)
}

#[test]
fn a_task_started_on_a_is_read_and_cancelled_on_b() {
    within(Duration::from_secs(300), "tasks", || {
        let cluster = Cluster::start("tasks", &[]);
        let (a, b) = (cluster.a.addr, cluster.b.addr);
        // Handshake era (2025-11-25 core tasks), one session.
        let sid = open_session(a);
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "slow_compute", "arguments": {"seconds": 1, "label": "on A"}, "task": {"ttl": 60000}}});
        let created = answer(post(a, Some(&sid), &call), 1);
        let task = created["result"]["task"]["taskId"]
            .as_str()
            .unwrap_or_else(|| panic!("no task: {created}\n{}", cluster.logs()))
            .to_owned();
        let status = task_status(b, &sid, 2, &task);
        assert_eq!(
            status["result"]["status"], "working",
            "B reads the task: {status}"
        );
        let result = answer(
            post(
                b,
                Some(&sid),
                &json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/result",
                "params": {"taskId": task}}),
            ),
            3,
        );
        let text = result["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("on A"), "tasks/result on B: {result}");
        assert_eq!(
            task_status(b, &sid, 4, &task)["result"]["status"],
            "completed"
        );

        // Cancelled on B while it runs on A.
        let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
            "name": "slow_compute", "arguments": {"seconds": 3}, "task": {}}});
        let created = answer(post(a, Some(&sid), &call), 5);
        let task = created["result"]["task"]["taskId"]
            .as_str()
            .expect("task id")
            .to_owned();
        let cancel = json!({"jsonrpc": "2.0", "id": 6, "method": "tasks/cancel", "params": {"taskId": task}});
        let cancelled = answer(post(b, Some(&sid), &cancel), 6);
        assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
        // A sees it cancelled, and it stays cancelled after the handler's time is up.
        std::thread::sleep(Duration::from_millis(3500));
        assert_eq!(
            task_status(a, &sid, 7, &task)["result"]["status"],
            "cancelled"
        );

        // 2026-07-28 (the tasks extension): created on A, completed and read on B.
        let created = modern(
            a,
            10,
            "tools/call",
            json!({"name": "slow_compute",
            "arguments": {"seconds": 0.5, "label": "modern"}}),
        )
        .json();
        assert_eq!(created["result"]["resultType"], "task", "{created}");
        let task = created["result"]["taskId"]
            .as_str()
            .expect("task id")
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        let done = loop {
            let r = modern(b, 11, "tasks/get", json!({"taskId": task})).json();
            if r["result"]["status"] == "completed" {
                break r;
            }
            assert!(
                Instant::now() < deadline,
                "the task never completed on B: {r}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(done["result"]["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("modern")));
    });
}

#[test]
fn a_rate_limit_holds_across_both_instances() {
    within(Duration::from_secs(300), "rate limit", || {
        let cluster = Cluster::start("ratelimit", &["--rate-limit", "10"]);
        // Let the buckets fill after the start-up probes.
        std::thread::sleep(Duration::from_millis(1200));
        let started = Instant::now();
        let (mut allowed, mut limited) = (0u32, 0u32);
        for i in 0..40 {
            let v = modern(
                cluster.nginx,
                i,
                "tools/call",
                json!({"name": "test_simple_text"}),
            )
            .json();
            if v.get("result").is_some() {
                allowed += 1;
            } else if v["error"]["code"] == -31429 {
                limited += 1;
            } else {
                panic!("unexpected answer: {v}");
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        // A burst of 10, then one more every 100 ms: per instance it would be twice that.
        let ceiling = 10.0 + (elapsed * 10.0).ceil() + 1.0;
        println!("40 requests in {elapsed:.2} s through both instances: {allowed} allowed, {limited} limited (ceiling {ceiling})");
        assert!(allowed >= 10, "the burst was not honoured: {allowed}");
        assert!(
            f64::from(allowed) <= ceiling,
            "{allowed} requests went through in {elapsed:.2} s: the limit is per instance, not shared"
        );
        let served = cluster.upstreams();
        assert!(
            served.iter().any(|u| *u == cluster.a.addr.to_string())
                && served.iter().any(|u| *u == cluster.b.addr.to_string()),
            "both instances served: {served:?}"
        );
    });
}

#[test]
fn killing_redis_fails_fast_and_recovers_on_its_own() {
    within(Duration::from_secs(300), "redis outage", || {
        let cluster = Cluster::start("outage", &["--rate-limit", "1000"]);
        let (a, b) = (cluster.a.addr, cluster.b.addr);
        let sid = open_session(a);
        cluster.kill_redis();
        let mut worst = Duration::ZERO;
        let mut timed = |what: &str, f: &mut dyn FnMut() -> u16, want: u16| {
            let t = Instant::now();
            let status = f();
            let took = t.elapsed();
            worst = worst.max(took);
            println!("redis down: {what} -> {status} in {took:?}");
            assert_eq!(status, want, "{what}\n{}", cluster.logs());
            assert!(took < Duration::from_millis(1500), "{what} took {took:?}");
        };
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        for _ in 0..3 {
            // A session B does not hold needs Redis: 503 with Retry-After.
            timed(
                "session request on B",
                &mut || {
                    let r = post(b, Some(&sid), &list);
                    assert!(r.header("retry-after").is_some(), "503 without Retry-After");
                    r.status
                },
                503,
            );
            // A new session cannot be saved: 503.
            timed(
                "initialize",
                &mut || {
                    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": LEGACY, "capabilities": {},
                    "clientInfo": {"name": "outage", "version": "0"}}});
                    post(cluster.nginx, None, &init).status
                },
                503,
            );
            // Stateless 2026-07-28 traffic never needs Redis (the rate limit fails open).
            timed(
                "2026-07-28 tools/call",
                &mut || {
                    let r = modern(
                        cluster.nginx,
                        2,
                        "tools/call",
                        json!({"name": "test_simple_text"}),
                    );
                    let status = r.status;
                    let v = r.json();
                    assert!(v.get("result").is_some(), "{v}");
                    status
                },
                200,
            );
            // The instance holding the session still serves it.
            timed(
                "session request on A",
                &mut || post(a, Some(&sid), &list).status,
                200,
            );
        }
        println!("worst latency while Redis was down: {worst:?}");

        cluster.restart_redis();
        let back = Instant::now();
        let new_sid = loop {
            let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": LEGACY, "capabilities": {"elicitation": {}},
                "clientInfo": {"name": "after", "version": "0"}}});
            let r = post(a, None, &init);
            if r.status == 200 {
                break r.header("mcp-session-id").expect("session").to_owned();
            }
            assert!(
                back.elapsed() < Duration::from_secs(10),
                "no recovery within 10 s\n{}",
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        println!("recovered {:?} after Redis restarted", back.elapsed());
        // The new session works on B, and the relay is back: an elicitation on A answered via B.
        let r = answer(post(b, Some(&new_sid), &list), 1);
        assert!(r["result"]["tools"].is_array(), "{r}");
        let relay_back = Instant::now();
        loop {
            let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
                "name": "test_elicitation", "arguments": {"message": "again?"}}});
            let mut stream = post(a, Some(&new_sid), &call);
            let ask = loop {
                let v = stream.next_event(STEP).expect("elicitation").json();
                if v["method"] == "elicitation/create" {
                    break v;
                }
            };
            let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {
                "action": "accept", "content": {"username": "back", "email": "b@example.com"}}});
            assert_eq!(post(b, Some(&new_sid), &reply).status, 202);
            match stream.next_event(Duration::from_secs(3)) {
                Some(e) if e.json()["id"] == 9 => break,
                _ => {
                    // The relay subscription may still be reconnecting; the unanswered call
                    // times out on its own. Try again.
                    assert!(
                        relay_back.elapsed() < Duration::from_secs(15),
                        "the relay did not recover\n{}",
                        cluster.logs()
                    );
                }
            }
        }
        println!("relay recovered {:?} after Redis restarted", back.elapsed());
    });
}
