//! Replays captured wire transcripts (`tests/data/transcripts/*.jsonl`) through the strict
//! JSON-RPC parser and the typed protocol structs of both eras.
//!
//! # What a transcript line is
//!
//! * stdio captures (`modern`, `handshake`, `fallback`, `errors`): one message per line,
//!   `{"dir":"c2s"|"s2c", "msg": <JSON-RPC message>, "scenario"?: <name>}`. A file may hold
//!   several independent scenarios (`errors.jsonl`); each is its own conversation.
//! * HTTP captures (`http_*`): one exchange per line, `{"seq", "request":{method, path, headers,
//!   body}, "response":{status, headers, body}}`. The request body is a client→server message
//!   (or `""` for GET/DELETE); the response body is a server→client message
//!   (`application/json`), an SSE stream of messages (`text/event-stream`), or `""` (202, 405,
//!   406, …). Lines are listed in completion order, so a file is replayed in `seq` order (the
//!   order requests were sent): that is what puts a server→client request delivered on one SSE
//!   stream before the client's reply POSTed later.
//!
//! # What is checked, for every message of every line
//!
//! 1. `Message::parse` accepts the exact message text, and serializing the parsed `Message`
//!    gives back an equal `serde_json::Value`.
//! 2. Typed round trip: `params` of a request or notification is deserialized into the protocol
//!    type of its method; `result` of a response into the result type of the method of the
//!    request with the same id sent earlier, in the other direction, in the same scenario;
//!    `error` into [`ErrorObject`]. The typed value is serialized again and compared with the
//!    original as a `serde_json::Value`, so a member a type drops fails the test.
//!
//! Result envelope: the runtime adds the 2026-07-28 result members `resultType`, `ttlMs`,
//! `cacheScope`, `_meta`, `inputRequests` and `requestState` outside the typed result structs.
//! Before comparing a result, exactly those keys are removed from the original **when the typed
//! struct does not carry them** (a struct that does have `_meta`, such as `CallToolResult`, must
//! reproduce it). Every other member must survive. An `input_required` result has no typed body
//! of its own: its residue must be empty, and each `inputRequests` entry (`{method, params}`)
//! is round-tripped as a request of that method; the retry's `inputResponses` are round-tripped
//! as results of the method that asked for them.
//!
//! Every line is counted, and the count must equal the number of lines in the files.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use mcp_core::jsonrpc::{ErrorObject, Message, RequestId, ResponsePayload};
use mcp_core::protocol::{
    CallToolParams, CallToolResult, CancelledParams, CompleteParams, CompleteResult,
    CreateMessageParams, CreateMessageResult, DiscoverResult, ElicitRequest, ElicitResult,
    EmptyResult, GetPromptParams, GetPromptResult, InitializeParams, InitializeResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListRootsResult,
    ListToolsResult, ListenParams, LoggingMessageParams, NotificationParams, PaginatedParams,
    ProgressParams, ReadResourceParams, ReadResourceResult, RequestParams, ResourceUpdatedParams,
    SetLevelParams, SubscriptionsAcknowledgedParams,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The transcripts this test expects to find (more may be added; none may go missing).
const EXPECTED_FILES: [&str; 7] = [
    "errors.jsonl",
    "fallback.jsonl",
    "handshake.jsonl",
    "http_errors.jsonl",
    "http_handshake.jsonl",
    "http_modern.jsonl",
    "modern.jsonl",
];

/// Result members the runtime adds outside the typed result structs (2026-07-28 envelope).
const RESULT_ENVELOPE_KEYS: [&str; 6] = [
    "resultType",
    "ttlMs",
    "cacheScope",
    "_meta",
    "inputRequests",
    "requestState",
];

/// Methods the captures call on purpose to provoke "method not found"; they have no protocol
/// type, so their params are checked as bare request params (the `_meta` envelope).
const PROBE_METHODS: [&str; 1] = ["unknown/method"];

/// Methods whose result may be `input_required` (2026-07-28 multi round-trip).
const IRR_METHODS: [&str; 3] = ["tools/call", "prompts/get", "resources/read"];

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dir {
    C2s,
    S2c,
}

impl Dir {
    fn parse(s: &str) -> Dir {
        match s {
            "c2s" => Dir::C2s,
            "s2c" => Dir::S2c,
            other => panic!("unknown dir {other:?}"),
        }
    }

    fn peer(self) -> Dir {
        match self {
            Dir::C2s => Dir::S2c,
            Dir::S2c => Dir::C2s,
        }
    }
}

/// Where a message came from, for failure messages.
#[derive(Debug, Clone)]
struct Origin {
    file: String,
    line: usize,
    part: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} ({})", self.file, self.line, self.part)
    }
}

/// One JSON-RPC message as captured: its exact text and its sender.
#[derive(Debug)]
struct WireMessage {
    dir: Dir,
    text: String,
    origin: Origin,
}

/// One transcript line, with the messages it carries (zero or more).
#[derive(Debug)]
struct Line {
    file: String,
    number: usize,
    /// The conversation this line belongs to: the file, plus the `scenario` when there is one.
    scenario: String,
    /// HTTP exchange order; `None` on stdio lines (file order is send order there).
    seq: Option<u64>,
    messages: Vec<WireMessage>,
}

fn transcript_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/transcripts")
}

/// Every `*.jsonl` transcript, sorted by name, with its text.
fn transcript_files() -> Vec<(String, String)> {
    let dir = transcript_dir();
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .map(|p| {
            let name = p
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            (name, text)
        })
        .collect();
    files.sort();
    for expected in EXPECTED_FILES {
        assert!(
            files.iter().any(|(name, _)| name == expected),
            "transcript {expected} is missing from {}",
            dir.display()
        );
    }
    files
}

/// The number of lines in all transcripts, counted independently of the parsing below.
fn total_lines() -> usize {
    transcript_files()
        .iter()
        .map(|(_, text)| text.lines().count())
        .sum()
}

/// A JSON object's members as raw text, so message bodies keep their exact bytes.
type RawObject = HashMap<String, Box<RawValue>>;

fn raw_object(text: &str, what: &str) -> RawObject {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not a JSON object: {e}"))
}

fn raw_str(raw: &RawValue, what: &str) -> String {
    serde_json::from_str(raw.get()).unwrap_or_else(|e| panic!("{what}: not a string: {e}"))
}

fn header<'a>(headers: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// The `data` of each event of a `text/event-stream` body.
fn sse_data(body: &str, what: &str) -> Vec<String> {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = Vec::new();
    for event in body.split("\n\n") {
        let mut data: Vec<&str> = Vec::new();
        let mut kind = "message";
        for field in event.lines() {
            if field.is_empty() || field.starts_with(':') {
                continue;
            }
            let (name, value) = field.split_once(':').unwrap_or((field, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match name {
                "data" => data.push(value),
                "event" => kind = value,
                "id" | "retry" => {}
                other => panic!("{what}: unexpected SSE field {other:?}"),
            }
        }
        if data.is_empty() {
            continue;
        }
        assert_eq!(kind, "message", "{what}: unexpected SSE event type");
        out.push(data.join("\n"));
    }
    out
}

fn parse_stdio_line(file: &str, number: usize, text: &str) -> Line {
    let what = format!("{file}:{number}");
    let members = raw_object(text, &what);
    for key in members.keys() {
        assert!(
            matches!(key.as_str(), "dir" | "msg" | "scenario"),
            "{what}: unexpected member {key:?}"
        );
    }
    let dir = Dir::parse(&raw_str(&members["dir"], &what));
    let scenario = match members.get("scenario") {
        Some(s) => format!("{file}#{}", raw_str(s, &what)),
        None => file.to_owned(),
    };
    let msg = members
        .get("msg")
        .unwrap_or_else(|| panic!("{what}: no msg"));
    Line {
        file: file.to_owned(),
        number,
        scenario,
        seq: None,
        messages: vec![WireMessage {
            dir,
            text: msg.get().to_owned(),
            origin: Origin {
                file: file.to_owned(),
                line: number,
                part: "msg".into(),
            },
        }],
    }
}

fn parse_http_line(file: &str, number: usize, text: &str) -> Line {
    let what = format!("{file}:{number}");
    let members = raw_object(text, &what);
    let seq: u64 = serde_json::from_str(members["seq"].get()).expect("seq is an integer");
    let request = raw_object(members["request"].get(), &what);
    let response = raw_object(members["response"].get(), &what);
    let http_method = raw_str(&request["method"], &what);
    let request_headers: Map<String, Value> =
        serde_json::from_str(request["headers"].get()).expect("request headers");
    let response_headers: Map<String, Value> =
        serde_json::from_str(response["headers"].get()).expect("response headers");
    let status: u16 = serde_json::from_str(response["status"].get()).expect("status");
    let origin = |part: String| Origin {
        file: file.to_owned(),
        line: number,
        part,
    };
    let mut messages = Vec::new();

    let body = request["body"].get();
    if body.trim_start().starts_with('{') {
        assert_eq!(http_method, "POST", "{what}: only POST carries a message");
        messages.push(WireMessage {
            dir: Dir::C2s,
            text: body.to_owned(),
            origin: origin("request.body".into()),
        });
        // An accepted request must agree with its routing headers.
        if (200..300).contains(&status) {
            let v: Value = serde_json::from_str(body).expect("request body");
            if let Some(m) = header(&request_headers, "mcp-method") {
                assert_eq!(Some(m), v["method"].as_str(), "{what}: Mcp-Method header");
            }
            if let Some(version) = header(&request_headers, "mcp-protocol-version") {
                if let Some(claimed) =
                    v["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"].as_str()
                {
                    assert_eq!(version, claimed, "{what}: MCP-Protocol-Version header");
                }
            }
        }
    } else {
        assert_eq!(
            raw_str(&request["body"], &what),
            "",
            "{what}: a request body is a JSON-RPC object or empty"
        );
        assert_ne!(http_method, "POST", "{what}: a POST without a body");
    }

    let body = response["body"].get();
    let content_type = header(&response_headers, "content-type").unwrap_or("");
    if body.trim_start().starts_with('{') {
        assert!(
            content_type.starts_with("application/json"),
            "{what}: a JSON body with content-type {content_type:?}"
        );
        messages.push(WireMessage {
            dir: Dir::S2c,
            text: body.to_owned(),
            origin: origin("response.body".into()),
        });
    } else {
        let body = raw_str(&response["body"], &what);
        if body.is_empty() {
            assert!(
                status == 202 || status >= 300 || http_method != "POST",
                "{what}: an empty body with status {status}"
            );
        } else {
            assert!(
                content_type.starts_with("text/event-stream"),
                "{what}: a text body with content-type {content_type:?}"
            );
            for (i, data) in sse_data(&body, &what).into_iter().enumerate() {
                messages.push(WireMessage {
                    dir: Dir::S2c,
                    text: data,
                    origin: origin(format!("response SSE event {}", i + 1)),
                });
            }
        }
    }
    Line {
        file: file.to_owned(),
        number,
        scenario: file.to_owned(),
        seq: Some(seq),
        messages,
    }
}

/// Every line of every transcript, grouped by scenario, each scenario in send order.
fn load() -> BTreeMap<String, Vec<Line>> {
    let mut scenarios: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    for (file, text) in transcript_files() {
        let http = file.starts_with("http_");
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            assert!(!raw.trim().is_empty(), "{file}:{number}: blank line");
            let line = if http {
                parse_http_line(&file, number, raw)
            } else {
                parse_stdio_line(&file, number, raw)
            };
            scenarios
                .entry(line.scenario.clone())
                .or_default()
                .push(line);
        }
    }
    for lines in scenarios.values_mut() {
        // Stable: stdio lines (no seq) keep file order.
        lines.sort_by_key(|l| l.seq);
        let seqs: Vec<_> = lines.iter().filter_map(|l| l.seq).collect();
        let mut unique = seqs.clone();
        unique.dedup();
        assert_eq!(seqs, unique, "{}: duplicate seq", lines[0].file);
    }
    scenarios
}

/// Deserializes `value` into `T` and serializes it back.
fn typed<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let parsed: T = serde_path_to_error::deserialize(value.clone())
        .map_err(|e| format!("into {}: {e}", std::any::type_name::<T>()))?;
    serde_json::to_value(&parsed).map_err(|e| format!("serializing: {e}"))
}

/// A typed round trip: deserialize, serialize, return the re-serialized value.
type RoundTrip = fn(&Value) -> Result<Value, String>;

/// The params type of a method, and whether `params` may be absent.
fn params_type(method: &str) -> Option<(RoundTrip, bool)> {
    let required = false;
    let optional = true;
    Some(match method {
        "initialize" => (typed::<InitializeParams>, required),
        "ping" | "server/discover" | "roots/list" => (typed::<RequestParams>, optional),
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
            (typed::<PaginatedParams>, optional)
        }
        "tools/call" => (typed::<CallToolParams>, required),
        "prompts/get" => (typed::<GetPromptParams>, required),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            (typed::<ReadResourceParams>, required)
        }
        "completion/complete" => (typed::<CompleteParams>, required),
        "logging/setLevel" => (typed::<SetLevelParams>, required),
        "subscriptions/listen" => (typed::<ListenParams>, required),
        "sampling/createMessage" => (typed::<CreateMessageParams>, required),
        "elicitation/create" => (typed::<ElicitRequest>, required),
        "notifications/initialized"
        | "notifications/tools/list_changed"
        | "notifications/prompts/list_changed"
        | "notifications/resources/list_changed"
        | "notifications/roots/list_changed" => (typed::<NotificationParams>, optional),
        "notifications/progress" => (typed::<ProgressParams>, required),
        "notifications/message" => (typed::<LoggingMessageParams>, required),
        "notifications/cancelled" => (typed::<CancelledParams>, required),
        "notifications/resources/updated" => (typed::<ResourceUpdatedParams>, required),
        "notifications/subscriptions/acknowledged" => {
            (typed::<SubscriptionsAcknowledgedParams>, required)
        }
        m if PROBE_METHODS.contains(&m) => (typed::<RequestParams>, optional),
        _ => return None,
    })
}

/// The result type of a method.
fn result_type(method: &str) -> Option<RoundTrip> {
    Some(match method {
        "initialize" => typed::<InitializeResult>,
        "server/discover" => typed::<DiscoverResult>,
        "tools/list" => typed::<ListToolsResult>,
        "prompts/list" => typed::<ListPromptsResult>,
        "resources/list" => typed::<ListResourcesResult>,
        "resources/templates/list" => typed::<ListResourceTemplatesResult>,
        "tools/call" => typed::<CallToolResult>,
        "prompts/get" => typed::<GetPromptResult>,
        "resources/read" => typed::<ReadResourceResult>,
        "completion/complete" => typed::<CompleteResult>,
        "ping"
        | "logging/setLevel"
        | "resources/subscribe"
        | "resources/unsubscribe"
        | "subscriptions/listen" => typed::<EmptyResult>,
        "sampling/createMessage" => typed::<CreateMessageResult>,
        "elicitation/create" => typed::<ElicitResult>,
        "roots/list" => typed::<ListRootsResult>,
        _ => return None,
    })
}

/// Where two JSON values first differ, as a JSON pointer with both sides.
fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let here = format!("{path}/{key}");
                match a.get(key) {
                    None => return Some(format!("{here}: dropped (was {ev})")),
                    Some(av) => {
                        if let Some(d) = first_difference(&here, ev, av) {
                            return Some(d);
                        }
                    }
                }
            }
            a.iter()
                .find(|(key, _)| !e.contains_key(*key))
                .map(|(key, av)| format!("{path}/{key}: added ({av})"))
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| first_difference(&format!("{path}/{i}"), ev, av)),
        _ if expected == actual => None,
        _ => Some(format!("{path}: {expected} became {actual}")),
    }
}

fn assert_same(origin: &Origin, what: &str, expected: &Value, actual: &Value) {
    if let Some(difference) = first_difference("", expected, actual) {
        panic!(
            "{origin}: {what} did not survive the typed round trip at {difference}\n  original: {expected}\n  typed:    {actual}"
        );
    }
}

/// What one conversation has seen so far.
#[derive(Default)]
struct Conversation {
    /// Requests awaiting a response, by (sender, id).
    pending: HashMap<(Dir, RequestId), String>,
    /// `inputRequests` keys of the latest `input_required` results, with their methods.
    input_requests: HashMap<String, String>,
}

/// Counts of what was checked, for the coverage assertions.
#[derive(Default, Debug)]
struct Tally {
    lines: usize,
    messages: usize,
    requests: usize,
    notifications: usize,
    results: usize,
    errors: usize,
    input_required: usize,
    input_responses: usize,
    by_method: BTreeMap<String, usize>,
}

fn check_params(origin: &Origin, method: &str, params: Option<&Value>) {
    let (round_trip, optional) = params_type(method)
        .unwrap_or_else(|| panic!("{origin}: no protocol params type is mapped for {method}"));
    match params {
        None => assert!(optional, "{origin}: {method} without params"),
        Some(p) => {
            let back = round_trip(p).unwrap_or_else(|e| panic!("{origin}: {method} params {e}"));
            assert_same(origin, &format!("{method} params"), p, &back);
        }
    }
}

/// Compares a typed result with the original, less the envelope keys the type lacks.
fn check_result_body(origin: &Origin, method: &str, round_trip: RoundTrip, result: &Value) {
    let back =
        round_trip(result).unwrap_or_else(|e| panic!("{origin}: {method} result {e}: {result}"));
    let mut expected = result.clone();
    if let (Some(exp), Some(got)) = (expected.as_object_mut(), back.as_object()) {
        for key in RESULT_ENVELOPE_KEYS {
            if !got.contains_key(key) {
                exp.remove(key);
            }
        }
    }
    assert_same(origin, &format!("{method} result"), &expected, &back);
}

fn check_result(
    origin: &Origin,
    method: &str,
    result: &Value,
    conv: &mut Conversation,
    tally: &mut Tally,
) {
    let object = result
        .as_object()
        .unwrap_or_else(|| panic!("{origin}: a result must be an object"));
    if let Some(kind) = object.get("resultType") {
        assert!(kind.is_string(), "{origin}: resultType must be a string");
    }
    if object.get("resultType").and_then(Value::as_str) == Some("input_required") {
        assert!(
            IRR_METHODS.contains(&method),
            "{origin}: {method} may not answer input_required"
        );
        tally.input_required += 1;
        let requests = object.get("inputRequests");
        let state = object.get("requestState");
        assert!(
            requests.is_some() || state.is_some(),
            "{origin}: input_required needs inputRequests or requestState"
        );
        if let Some(s) = state {
            assert!(s.is_string(), "{origin}: requestState must be a string");
        }
        conv.input_requests.clear();
        for (key, entry) in requests
            .map(|r| {
                r.as_object()
                    .unwrap_or_else(|| panic!("{origin}: inputRequests must be an object"))
            })
            .into_iter()
            .flatten()
        {
            let entry = entry
                .as_object()
                .unwrap_or_else(|| panic!("{origin}: inputRequests[{key}] is not an object"));
            for member in entry.keys() {
                assert!(
                    matches!(member.as_str(), "method" | "params"),
                    "{origin}: inputRequests[{key}] has {member:?} (no jsonrpc/id allowed)"
                );
            }
            let inner = entry
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{origin}: inputRequests[{key}] has no method"));
            assert!(
                matches!(
                    inner,
                    "elicitation/create" | "sampling/createMessage" | "roots/list"
                ),
                "{origin}: inputRequests[{key}] asks for {inner}"
            );
            let inner_origin = Origin {
                part: format!("{} inputRequests[{key}]", origin.part),
                ..origin.clone()
            };
            check_params(&inner_origin, inner, entry.get("params"));
            conv.input_requests.insert(key.clone(), inner.to_owned());
        }
        // No typed body of its own: nothing may remain once the envelope is removed.
        check_result_body(origin, method, typed::<EmptyResult>, result);
        return;
    }
    let round_trip = result_type(method)
        .unwrap_or_else(|| panic!("{origin}: no protocol result type is mapped for {method}"));
    check_result_body(origin, method, round_trip, result);
}

/// The retry of an `input_required` result: each answer is a result of the method that asked.
fn check_input_responses(
    origin: &Origin,
    params: Option<&Value>,
    conv: &Conversation,
    tally: &mut Tally,
) {
    let Some(responses) = params.and_then(|p| p.get("inputResponses")) else {
        return;
    };
    let responses = responses
        .as_object()
        .unwrap_or_else(|| panic!("{origin}: inputResponses must be an object"));
    for (key, answer) in responses {
        let inner = conv.input_requests.get(key).unwrap_or_else(|| {
            panic!("{origin}: inputResponses[{key}] answers no earlier inputRequests entry")
        });
        let round_trip = result_type(inner).expect("input request methods have result types");
        let inner_origin = Origin {
            part: format!("{} inputResponses[{key}]", origin.part),
            ..origin.clone()
        };
        check_result_body(&inner_origin, inner, round_trip, answer);
        tally.input_responses += 1;
    }
}

/// Check 1: the exact text parses, and the parsed message serializes back to the same JSON.
fn parse_and_reserialize(wire: &WireMessage) -> (Message, Value) {
    let origin = &wire.origin;
    let msg = Message::parse(wire.text.as_bytes())
        .unwrap_or_else(|e| panic!("{origin}: Message::parse failed: {e}\n  {}", wire.text));
    let original: Value = serde_json::from_str(&wire.text).expect("transcript JSON");
    let again = serde_json::to_string(&msg).expect("serializing a Message");
    let again: Value = serde_json::from_str(&again).expect("a serialized Message is JSON");
    assert_eq!(again, original, "{origin}: Message round trip changed it");
    // The value form parses too (what a transport holding a `Value` would do).
    Message::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{origin}: Message::from_value failed: {e}"));
    (msg, original)
}

fn raw_to_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).expect("raw JSON")
}

/// Checks 1 and 2 for one message.
fn check_message(wire: &WireMessage, conv: &mut Conversation, tally: &mut Tally) {
    let origin = &wire.origin;
    let (msg, original) = parse_and_reserialize(wire);
    match &msg {
        Message::Request(req) => {
            assert_eq!(original["id"], serde_json::to_value(&req.id).expect("id"));
            let params = req.params.as_deref().map(raw_to_value);
            check_params(origin, &req.method, params.as_ref());
            if IRR_METHODS.contains(&req.method.as_str()) {
                check_input_responses(origin, params.as_ref(), conv, tally);
            }
            let previous = conv
                .pending
                .insert((wire.dir, req.id.clone()), req.method.clone());
            assert!(
                previous.is_none(),
                "{origin}: id {} reused while still pending",
                req.id
            );
            tally.requests += 1;
            *tally.by_method.entry(req.method.clone()).or_default() += 1;
        }
        Message::Notification(note) => {
            let params = note.params.as_deref().map(raw_to_value);
            check_params(origin, &note.method, params.as_ref());
            tally.notifications += 1;
            *tally.by_method.entry(note.method.clone()).or_default() += 1;
        }
        Message::Response(resp) => {
            // The request it answers came from the other side.
            let method = resp.id.as_ref().map(|id| {
                conv.pending
                    .remove(&(wire.dir.peer(), id.clone()))
                    .unwrap_or_else(|| {
                        panic!("{origin}: response to id {id}, which no earlier request used")
                    })
            });
            match &resp.payload {
                ResponsePayload::Result(raw) => {
                    let method =
                        method.unwrap_or_else(|| panic!("{origin}: a result with a null id"));
                    check_result(origin, &method, &raw_to_value(raw), conv, tally);
                    tally.results += 1;
                }
                ResponsePayload::Error(parsed) => {
                    let error = original["error"].clone();
                    let typed: ErrorObject = serde_json::from_value(error.clone())
                        .unwrap_or_else(|e| panic!("{origin}: error object: {e}"));
                    assert_eq!(&typed, parsed, "{origin}: error object differs from parse");
                    let back = serde_json::to_value(&typed).expect("serializing an error");
                    assert_same(origin, "error", &error, &back);
                    tally.errors += 1;
                }
            }
        }
    }
    tally.messages += 1;
}

#[test]
fn every_line_round_trips_through_jsonrpc_and_protocol_types() {
    let scenarios = load();
    let mut tally = Tally::default();
    for lines in scenarios.values() {
        let mut conv = Conversation::default();
        for line in lines {
            for wire in &line.messages {
                check_message(wire, &mut conv, &mut tally);
            }
            tally.lines += 1;
        }
    }
    println!("{tally:#?}");
    assert_eq!(
        tally.lines,
        total_lines(),
        "every transcript line must be checked"
    );
    // The transcripts exercise both eras, both directions and the multi round-trip.
    assert!(tally.results > 0 && tally.errors > 0 && tally.notifications > 0);
    assert!(
        tally.input_required > 0,
        "no input_required result was checked"
    );
    assert!(tally.input_responses > 0, "no inputResponses were checked");
    for method in [
        "initialize",
        "server/discover",
        "tools/list",
        "tools/call",
        "elicitation/create",
        "subscriptions/listen",
        "notifications/progress",
        "notifications/message",
        "notifications/cancelled",
        "notifications/subscriptions/acknowledged",
    ] {
        assert!(
            tally.by_method.contains_key(method),
            "no {method} message was checked"
        );
    }
}

#[test]
fn every_message_text_parses() {
    let mut lines = 0;
    let mut messages = 0;
    for lines_of_scenario in load().values() {
        for line in lines_of_scenario {
            for wire in &line.messages {
                if let Err(e) = Message::parse(wire.text.as_bytes()) {
                    panic!(
                        "{}: Message::parse failed: {e}\n  {}",
                        wire.origin, wire.text
                    );
                }
                messages += 1;
            }
            lines += 1;
        }
    }
    assert_eq!(lines, total_lines(), "every transcript line must be parsed");
    assert!(messages > 0, "no message was parsed");
}

#[test]
fn http_exchanges_keep_every_message() {
    // Every message-carrying HTTP body shows up as a message: a JSON body once, an SSE body
    // once per `data:` event. Guards the extraction the other tests rely on.
    let files: HashMap<String, String> = transcript_files().into_iter().collect();
    let mut exchanges = 0;
    for line in load().values().flatten().filter(|l| l.seq.is_some()) {
        let text = files[&line.file]
            .lines()
            .nth(line.number - 1)
            .expect("the line exists");
        let original: Value = serde_json::from_str(text).expect("line JSON");
        let mut expected = usize::from(original["request"]["body"].is_object());
        expected += match &original["response"]["body"] {
            Value::Object(_) => 1,
            Value::String(s) => s.matches("\ndata:").count() + usize::from(s.starts_with("data:")),
            other => panic!("{}:{}: response body {other}", line.file, line.number),
        };
        assert_eq!(
            line.messages.len(),
            expected,
            "{}:{}: messages extracted",
            line.file,
            line.number
        );
        exchanges += 1;
    }
    assert!(exchanges > 0, "no HTTP exchange was checked");
}
