//! stdio robustness: the `hello` server must survive hostile or malformed
//! input on stdin, keep stdout pure JSON-RPC, and shut down cleanly on EOF.
//!
//! Every bad input is followed by a valid request that must be answered.

mod common;

use std::time::Duration;

use common::{error_code, is_notification, tool_text, Read1, StdioServer, STEP};
use serde_json::{json, Value};

const HELLO: &str = env!("CARGO_BIN_EXE_hello");
const VERSION: &str = "2025-11-25";

/// A fresh `hello` over stdio, past the 2025-11-25 handshake.
fn hello() -> StdioServer {
    let mut server = StdioServer::spawn(HELLO, &[]);
    server.initialize(VERSION);
    server
}

/// After a line the server cannot parse, accept either silence or a
/// `-32700` parse error with `id: null`; then `ping` (`id`) must be answered.
fn unparsable_then_ping(server: &mut StdioServer, id: i64, what: &str) {
    let want = json!(id);
    server.send(&json!({"jsonrpc": "2.0", "id": want, "method": "ping"}));
    let first = server.next_line(STEP, &format!("a reply after {what}"));
    let pong = if first.get("id") == Some(&want) {
        first
    } else if first.get("id") == Some(&Value::Null) && error_code(&first) == Some(-32700) {
        server.next_line(STEP, &format!("the ping after {what}"))
    } else {
        server.fail(&format!(
            "after {what}: expected a -32700 parse error with id null (or no reply) and then the ping \
             response, got {first}"
        ));
    };
    if pong.get("id") != Some(&want) || pong.get("result") != Some(&json!({})) {
        server.fail(&format!(
            "after {what}: the ping (id {id}) should answer {{}}, got {pong}"
        ));
    }
}

#[test]
fn oversized_line_is_dropped_and_serving_continues() {
    const MIB: usize = 1 << 20;
    let mut server = hello();
    // A syntactically valid request, 100 MiB long, written in 1 MiB chunks.
    let prefix = br#"{"jsonrpc":"2.0","id":"oversized","method":"tools/call","params":{"name":"echo","arguments":{"text":""#;
    let chunk = vec![b'x'; MIB];
    server.send_stream(prefix, &chunk, 100, b"\"}}}\n", Duration::from_secs(180));

    // Dropped silently, or answered with an error; never served.
    let id = json!(2);
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
    loop {
        let msg = server.next_line(Duration::from_secs(60), "the ping after the 100 MiB line");
        if msg.get("id") == Some(&id) {
            if msg.get("result") != Some(&json!({})) {
                server.fail(&format!("ping after the 100 MiB line answered {msg}"));
            }
            break;
        }
        if is_notification(&msg) {
            continue;
        }
        if msg.get("result").is_some() {
            server.fail("the server processed a 100 MiB line; lines over the cap must be dropped");
        }
        // An error reply (id null or "oversized") is tolerated.
    }
    server.echo_roundtrip(3, "still serving");
    server.finish();
}

#[test]
fn not_json_then_serving_continues() {
    let mut server = hello();
    server.send_raw(b"not json\n");
    unparsable_then_ping(&mut server, 2, "the line `not json`");
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"\n");
    unparsable_then_ping(&mut server, 4, "a truncated JSON object");
    server.echo_roundtrip(5, "after garbage");
    server.finish();
}

#[test]
fn invalid_utf8_then_serving_continues() {
    let mut server = hello();
    server.send_raw(b"\xff\xfe\x80\x81 not utf-8 \xc3\x28\n");
    unparsable_then_ping(&mut server, 2, "a line of invalid UTF-8 bytes");

    // Invalid UTF-8 inside an otherwise well-formed request: an error (parse
    // error with id null, or an error for id "bad-utf8") or silence; never a result.
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":\"bad-utf8\",\"method\":\"ping\",\"params\":{\"s\":\"\xc3\x28\"}}\n");
    let id = json!(3);
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
    loop {
        let msg = server.next_line(STEP, "the ping after a request with invalid UTF-8");
        if msg.get("id") == Some(&id) {
            if msg.get("result") != Some(&json!({})) {
                server.fail(&format!("ping answered {msg}"));
            }
            break;
        }
        if msg.get("result").is_some() {
            server.fail(&format!(
                "a request containing invalid UTF-8 was served: {msg}"
            ));
        }
        if error_code(&msg).is_none() {
            server.fail(&format!("unexpected line: {msg}"));
        }
    }
    server.echo_roundtrip(4, "after invalid utf-8");
    server.finish();
}

#[test]
fn bom_prefixed_request_is_served() {
    let mut server = hello();
    server.send_raw(b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n");
    let resp = server.very_next_response(&json!(7));
    if resp.get("result") != Some(&json!({})) {
        server.fail(&format!(
            "a ping behind a UTF-8 BOM should be served with {{}}, got {resp}"
        ));
    }
    server.send_raw(
        b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"bom\"}}}\n",
    );
    let resp = server.very_next_response(&json!(8));
    if resp.get("result").and_then(tool_text).as_deref() != Some("bom") {
        server.fail(&format!(
            "echo behind a BOM should return \"bom\", got {resp}"
        ));
    }
    server.ping_is_next(9);
    server.finish();
}

#[test]
fn object_id_is_invalid_request() {
    let mut server = hello();
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}\n");
    let resp = server.next_line(STEP, "the -32600 reply to a request whose id is an object");
    if error_code(&resp) != Some(-32600) || resp.get("id") != Some(&Value::Null) {
        server.fail(&format!(
            "a request with id {{}} must get -32600 with id null (the id is unusable), got {resp}"
        ));
    }
    server.ping_is_next(2);
    server.echo_roundtrip(3, "after object id");
    server.finish();
}

#[test]
fn duplicate_method_keys_are_invalid_request() {
    let mut server = hello();
    server.send_raw(
        b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"method\":\"tools/list\"}\n",
    );
    let resp = server.next_line(STEP, "the -32600 reply to duplicate \"method\" keys");
    let id_ok = matches!(resp.get("id"), Some(id) if *id == json!(9) || id.is_null());
    if error_code(&resp) != Some(-32600) || !id_ok {
        server.fail(&format!(
            "an object with two \"method\" keys must get -32600 (id 9, or null), got {resp}"
        ));
    }
    server.ping_is_next(10);
    server.finish();
}

#[test]
fn unknown_notification_gets_no_reply() {
    let mut server = hello();
    server.send(
        &json!({"jsonrpc": "2.0", "method": "notifications/does_not_exist", "params": {"x": 1}}),
    );
    server.send(&json!({"jsonrpc": "2.0", "method": "vendor/unknown_notification"}));
    // Nothing may be written for them: the very next line is the ping's.
    server.ping_is_next(2);
    server.echo_roundtrip(3, "after unknown notifications");
    server.finish();
}

#[test]
fn eof_with_calls_in_flight_answers_them_and_exits_zero() {
    let mut server = hello();
    let texts = ["one", "two", "three", "four", "five"];
    for (i, text) in (10_i64..).zip(texts) {
        server.send(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": text}}}));
    }
    server.send(&json!({"jsonrpc": "2.0", "id": 20, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}));
    // EOF right behind the requests, before any answer was read.
    server.close_stdin();

    let mut expected: Vec<(Value, String)> = (10_i64..)
        .zip(texts)
        .map(|(i, t)| (json!(i), t.to_owned()))
        .collect();
    expected.push((json!(20), "5".to_owned()));
    let mut seen = Vec::new();
    loop {
        match server.read(STEP) {
            Read1::Line(msg) if is_notification(&msg) => {}
            Read1::Line(msg) => {
                let Some(id) = msg.get("id").cloned() else {
                    server.fail(&format!("unexpected line: {msg}"));
                };
                let Some(pos) = expected.iter().position(|(want, _)| *want == id) else {
                    server.fail(&format!(
                        "response for an unknown or already answered id: {msg}"
                    ));
                };
                let (_, text) = expected.remove(pos);
                let got = msg.get("result").and_then(tool_text);
                if got.as_deref() != Some(text.as_str()) {
                    server.fail(&format!("id {id}: expected text {text:?}, got {msg}"));
                }
                seen.push(id);
            }
            Read1::Timeout => server.fail("stdout still open well after stdin was closed"),
            Read1::Eof => break,
        }
    }
    if !expected.is_empty() {
        let missing: Vec<&Value> = expected.iter().map(|(id, _)| id).collect();
        server.fail(&format!(
            "stdin EOF lost in-flight requests: no response for ids {missing:?} (answered: {seen:?})"
        ));
    }
    let status = server.wait_exit(STEP);
    if !status.success() {
        server.fail(&format!(
            "after stdin EOF the server exited with {status}, expected status 0"
        ));
    }
}

#[test]
fn all_bad_inputs_in_one_session() {
    // The same inputs back to back on one process: no state may leak between them.
    let mut server = hello();
    server.send_raw(b"not json\n");
    unparsable_then_ping(&mut server, 2, "`not json`");
    server.send_raw(b"\xff\xfe\xfd\n");
    unparsable_then_ping(&mut server, 3, "invalid UTF-8");
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}\n");
    let resp = server.next_line(STEP, "the -32600 reply to id {}");
    if error_code(&resp) != Some(-32600) {
        server.fail(&format!("id {{}} must get -32600, got {resp}"));
    }
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\",\"method\":\"ping\"}\n");
    let resp = server.next_line(STEP, "the -32600 reply to duplicate keys");
    if error_code(&resp) != Some(-32600) {
        server.fail(&format!(
            "duplicate \"method\" keys must get -32600, got {resp}"
        ));
    }
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/nope"}));
    server.send_raw(b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\n");
    let resp = server.very_next_response(&json!(5));
    if resp.get("result") != Some(&json!({})) {
        server.fail(&format!("BOM ping should answer {{}}, got {resp}"));
    }
    server.echo_roundtrip(6, "survived");
    let sum = server.request_ok(
        7,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 40, "b": 2}}),
    );
    if tool_text(&sum).as_deref() != Some("42") {
        server.fail(&format!("add 40+2 returned {sum}"));
    }
    server.finish();
}

#[test]
fn eof_during_a_slow_call_still_answers_it() {
    // `test_tool_with_logging` takes ~100 ms (three logs ~50 ms apart), so EOF
    // surely arrives while it runs.
    let mut server = StdioServer::spawn(env!("CARGO_BIN_EXE_conformance-server"), &["--stdio"]);
    server.initialize(VERSION);
    server.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "test_tool_with_logging", "arguments": {}}}));
    server.close_stdin();
    let resp = server.response(&json!(2), STEP);
    if resp.get("result").is_none() {
        server.fail(&format!(
            "the in-flight call should complete after EOF, got {resp}"
        ));
    }
    server.finish();
}
