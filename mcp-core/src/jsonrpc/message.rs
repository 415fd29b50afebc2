use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{ErrorObject, ParseError};

/// The only `jsonrpc` version string there is.
///
/// # Examples
/// ```
/// use mcp_core::jsonrpc::JSONRPC_VERSION;
/// let line = format!(r#"{{"jsonrpc":"{JSONRPC_VERSION}","method":"notifications/initialized"}}"#);
/// assert!(mcp_core::jsonrpc::Message::parse(line.as_bytes()).is_ok());
/// ```
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: a string or an integer, never `null`, a fraction, an object or an array.
///
/// ```
/// use mcp_core::jsonrpc::RequestId;
/// let id: RequestId = serde_json::from_str("\"abc\"").unwrap();
/// assert_eq!(id, RequestId::from("abc"));
/// assert!(serde_json::from_str::<RequestId>("1.5").is_err());
/// assert!(serde_json::from_str::<RequestId>("null").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(Arc<str>),
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.into())
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        RequestId::String(s.into())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => n.fmt(f),
            RequestId::String(s) => s.fmt(f),
        }
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => s.serialize_i64(*n),
            RequestId::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer request id")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Number)
                    .map_err(|_| E::custom("request id is out of the 64-bit integer range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.into()))
            }
        }
        d.deserialize_any(V)
    }
}

impl RequestId {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::String(s) => Ok(RequestId::String(s.as_str().into())),
            Value::Number(n) => n
                .as_i64()
                .map(RequestId::Number)
                .ok_or("`id` must be a string or an integer"),
            Value::Null => Err("`id` must not be null"),
            _ => Err("`id` must be a string or an integer"),
        }
    }
}

/// A request: it has an `id` and expects exactly one response.
///
/// `params` stays as raw JSON text until a handler deserializes it into its own typed
/// parameters, so strictness (duplicate keys, unknown fields) carries through to them.
///
/// See [`Message`] for an example.
#[derive(Debug, Clone)]
pub struct Request {
    /// The id to answer with.
    pub id: RequestId,
    /// The method name, for example `tools/call`.
    pub method: String,
    /// The raw parameters, an object or an array when present.
    pub params: Option<Box<RawValue>>,
}

/// A notification: no `id`, never answered.
///
/// See [`Message`] for an example.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The method name, for example `notifications/cancelled`.
    pub method: String,
    /// The raw parameters, when present.
    pub params: Option<Box<RawValue>>,
}

/// A response to a request this side sent.
///
/// See [`Message`] for an example.
#[derive(Debug, Clone)]
pub struct Response {
    /// The id of the request it answers; `None` for a `null` id (answers to unparsable input).
    pub id: Option<RequestId>,
    /// The result or the error.
    pub payload: ResponsePayload,
}

/// Either half of a response.
///
/// See [`Message`] for an example.
#[derive(Debug, Clone)]
pub enum ResponsePayload {
    /// A successful result, as raw JSON.
    Result(Box<RawValue>),
    /// An error.
    Error(ErrorObject),
}

/// One JSON-RPC 2.0 message.
///
/// # Examples
/// ```
/// use mcp_core::jsonrpc::{Message, RequestId, ResponsePayload};
///
/// let msg = Message::parse(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#).unwrap();
/// match &msg {
///     Message::Request(req) => {
///         assert_eq!(req.id, RequestId::Number(7));
///         assert_eq!(req.params.as_ref().unwrap().get(), "{}");
///     }
///     other => panic!("expected a request, got {other:?}"),
/// }
/// assert_eq!(msg.method(), Some("tools/list"));
///
/// let msg = Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
/// assert!(matches!(msg, Message::Notification(ref n) if n.params.is_none()));
///
/// let msg = Message::parse(br#"{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"nope"}}"#).unwrap();
/// let Message::Response(resp) = msg else { panic!("expected a response") };
/// assert!(matches!(resp.payload, ResponsePayload::Error(ref e) if e.code.0 == -32601));
/// ```
#[derive(Debug, Clone)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response (result or error).
    Response(Response),
}

/// Distinguishes an absent `id` from `"id": null`.
#[derive(Default)]
enum MaybeId {
    #[default]
    Absent,
    Present(Value),
}

impl<'de> Deserialize<'de> for MaybeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(MaybeId::Present)
    }
}

/// The wire shape. `deny_unknown_fields` turns `"Method"` or `"ID"` into an error, and the
/// derived visitor rejects a member given twice.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    jsonrpc: Option<String>,
    #[serde(default)]
    id: MaybeId,
    method: Option<String>,
    params: Option<Box<RawValue>>,
    result: Option<Box<RawValue>>,
    error: Option<ErrorObject>,
}

impl Message {
    /// Parses one message strictly.
    ///
    /// A leading UTF-8 byte order mark is ignored. Arrays (batches) are refused with
    /// [`ParseError::Batch`]; callers that accept batches (2025-03-26) split them first.
    ///
    /// ```
    /// use mcp_core::jsonrpc::Message;
    /// assert!(Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).is_ok());
    /// // the same member twice is refused, never resolved silently
    /// assert!(Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"x"}"#).is_err());
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ParseError::NotJson(format!("input is not valid UTF-8: {e}")))?;
        let first = text.trim_start().as_bytes().first().copied();
        match first {
            Some(b'{') => {}
            Some(b'[') => {
                // A batch must still be JSON to be called one.
                return match serde_json::from_str::<de::IgnoredAny>(text) {
                    Ok(_) => Err(ParseError::Batch),
                    Err(e) => Err(ParseError::NotJson(e.to_string())),
                };
            }
            _ => {
                return Err(match serde_json::from_str::<de::IgnoredAny>(text) {
                    Ok(_) => ParseError::Invalid {
                        reason: "a JSON-RPC message must be a JSON object".into(),
                        id: None,
                    },
                    Err(e) => ParseError::NotJson(e.to_string()),
                })
            }
        }
        match serde_json::from_str::<Wire>(text) {
            Ok(wire) => wire.into_message(),
            Err(e) if e.is_syntax() || e.is_eof() => Err(ParseError::NotJson(e.to_string())),
            Err(e) => Err(ParseError::Invalid {
                reason: e.to_string(),
                id: recover_id(text),
            }),
        }
    }

    /// Parses a JSON value already in memory (used by batch splitting and tests).
    ///
    /// ```
    /// use mcp_core::jsonrpc::Message;
    /// let m = Message::from_value(serde_json::json!({"jsonrpc":"2.0","id":"a","result":{}})).unwrap();
    /// assert!(matches!(m, Message::Response(_)));
    /// ```
    pub fn from_value(value: Value) -> Result<Message, ParseError> {
        let text = value.to_string();
        Message::parse(text.as_bytes())
    }

    /// The method, for requests and notifications.
    ///
    /// ```
    /// # use mcp_core::jsonrpc::Message;
    /// let m = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap();
    /// assert_eq!(m.method(), Some("tools/list"));
    /// ```
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(r) => Some(&r.method),
            Message::Notification(n) => Some(&n.method),
            Message::Response(_) => None,
        }
    }
}

/// Best effort: read a usable `id` out of a message that failed strict parsing.
fn recover_id(text: &str) -> Option<RequestId> {
    let v: Value = serde_json::from_str(text).ok()?;
    RequestId::from_value(v.get("id")?).ok()
}

fn invalid(reason: impl Into<String>, id: Option<RequestId>) -> ParseError {
    ParseError::Invalid {
        reason: reason.into(),
        id,
    }
}

fn check_params(params: &Option<Box<RawValue>>, id: &Option<RequestId>) -> Result<(), ParseError> {
    if let Some(p) = params {
        let first = p.get().trim_start().as_bytes().first().copied();
        if !matches!(first, Some(b'{') | Some(b'[')) {
            return Err(invalid(
                "`params` must be an object or an array",
                id.clone(),
            ));
        }
    }
    Ok(())
}

impl Wire {
    fn into_message(self) -> Result<Message, ParseError> {
        let id = match &self.id {
            MaybeId::Absent => None,
            MaybeId::Present(v) => Some(RequestId::from_value(v)),
        };
        let readable_id = id.as_ref().and_then(|r| r.as_ref().ok().cloned());
        match self.jsonrpc.as_deref() {
            Some(JSONRPC_VERSION) => {}
            Some(other) => {
                return Err(invalid(
                    format!("`jsonrpc` must be \"2.0\", got {other:?}"),
                    readable_id,
                ))
            }
            None => return Err(invalid("missing `jsonrpc: \"2.0\"`", readable_id)),
        }
        if let Some(method) = self.method {
            if self.result.is_some() || self.error.is_some() {
                return Err(invalid(
                    "a message cannot carry both `method` and `result`/`error`",
                    readable_id,
                ));
            }
            check_params(&self.params, &readable_id)?;
            return match id {
                None => Ok(Message::Notification(Notification {
                    method,
                    params: self.params,
                })),
                Some(Ok(id)) => Ok(Message::Request(Request {
                    id,
                    method,
                    params: self.params,
                })),
                Some(Err(reason)) => Err(invalid(reason, None)),
            };
        }
        if self.params.is_some() {
            return Err(invalid("a response cannot carry `params`", readable_id));
        }
        let id = match (&self.id, id) {
            (MaybeId::Absent, _) => return Err(invalid("a response needs an `id`", None)),
            (MaybeId::Present(Value::Null), _) => None,
            (_, Some(Ok(id))) => Some(id),
            (_, _) => return Err(invalid("`id` must be a string or an integer", None)),
        };
        let payload = match (self.result, self.error) {
            (Some(r), None) => ResponsePayload::Result(r),
            (None, Some(e)) => ResponsePayload::Error(e),
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "a response cannot carry both `result` and `error`",
                    id,
                ))
            }
            (None, None) => return Err(invalid(
                "a message needs `method` (request or notification) or `result`/`error` (response)",
                id,
            )),
        };
        Ok(Message::Response(Response { id, payload }))
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        match self {
            Message::Request(r) => {
                map.serialize_entry("id", &r.id)?;
                map.serialize_entry("method", &r.method)?;
                if let Some(p) = &r.params {
                    map.serialize_entry("params", p)?;
                }
            }
            Message::Notification(n) => {
                map.serialize_entry("method", &n.method)?;
                if let Some(p) = &n.params {
                    map.serialize_entry("params", p)?;
                }
            }
            Message::Response(r) => {
                map.serialize_entry("id", &r.id)?;
                match &r.payload {
                    ResponsePayload::Result(v) => map.serialize_entry("result", v)?,
                    ResponsePayload::Error(e) => map.serialize_entry("error", e)?,
                }
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::ErrorCode;

    fn code(input: &str) -> ErrorCode {
        Message::parse(input.as_bytes()).expect_err(input).code()
    }

    #[test]
    fn refuses_what_the_spec_refuses() {
        assert_eq!(code("not json"), ErrorCode::PARSE_ERROR);
        assert_eq!(code("{\"jsonrpc\":\"2.0\""), ErrorCode::PARSE_ERROR);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"id":1,"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"Method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"JSONRPC":"2.0","id":1,"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"x","result":{}}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1}"#),
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(code("[]"), ErrorCode::INVALID_REQUEST);
        assert_eq!(code("42"), ErrorCode::INVALID_REQUEST);
        assert_eq!(code("\u{FEFF}"), ErrorCode::PARSE_ERROR);
    }

    #[test]
    fn recovers_the_id_of_an_invalid_request() {
        let err = Message::parse(br#"{"jsonrpc":"2.0","id":"x","Method":"ping"}"#).unwrap_err();
        assert_eq!(err.id(), Some(&RequestId::from("x")));
    }

    #[test]
    fn accepts_a_bom_and_round_trips() {
        let line =
            "\u{FEFF}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"a\":1}}";
        let msg = Message::parse(line.as_bytes()).unwrap();
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":1}}"#
        );
        let err =
            Message::parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#)
                .unwrap();
        assert!(matches!(err, Message::Response(Response { id: None, .. })));
    }

    #[test]
    fn invalid_utf8_is_a_parse_error() {
        assert_eq!(
            Message::parse(b"{\"a\":\"\xff\"}").unwrap_err().code(),
            ErrorCode::PARSE_ERROR
        );
    }
}
