//! 2026-07-28 header validation: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and
//! `Mcp-Param-{Name}` must agree with the body (rungs 2 and 6 of the validation ladder).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::HeaderMap;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::JsonObject;
use serde_json::Value;

use super::security::single;

fn mismatch(msg: String) -> ErrorObject {
    ErrorObject::new(ErrorCode::HEADER_MISMATCH, msg)
}

/// Decodes a header value: `=?base64?…?=` strictly, otherwise the value with optional
/// surrounding whitespace trimmed.
pub(crate) fn decode(value: &str) -> Result<String, String> {
    let v = value.trim_matches(|c| c == ' ' || c == '\t');
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => {
            let bytes = STANDARD
                .decode(b64)
                .map_err(|e| format!("invalid Base64: {e}"))?;
            String::from_utf8(bytes).map_err(|_| "the Base64 value is not UTF-8".into())
        }
        None => {
            if v.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
                return Err("header values outside printable ASCII must use =?base64?…?=".into());
            }
            Ok(v.to_owned())
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Result<Option<String>, ErrorObject> {
    match single(headers, name) {
        Ok(None) => Ok(None),
        Ok(Some(v)) => decode(v)
            .map(Some)
            .map_err(|e| mismatch(format!("{name} header: {e}"))),
        Err(()) => Err(mismatch(format!(
            "the {name} header must appear once, as visible ASCII"
        ))),
    }
}

/// Rung 2: the standard headers.
pub(crate) fn check_standard(
    headers: &HeaderMap,
    version: &str,
    method: &str,
    params: Option<&Value>,
) -> Result<(), ErrorObject> {
    match single(headers, "mcp-protocol-version") {
        Ok(Some(v)) if v.trim() == version => {}
        Ok(None) => return Err(mismatch("the MCP-Protocol-Version header is required and must equal the request envelope's protocol version".into())),
        _ => return Err(mismatch("mcp-protocol-version header does not match the request envelope's protocol version".into())),
    }
    match header(headers, "mcp-method")? {
        Some(m) if m == method => {}
        Some(m) => {
            return Err(mismatch(format!(
            "Header mismatch: Mcp-Method header value '{m}' does not match body method '{method}'"
        )))
        }
        None => {
            return Err(mismatch(
                "the Mcp-Method header is required and must equal the body's method".into(),
            ))
        }
    }
    let name_source = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    };
    if let Some(field) = name_source {
        let body = params
            .and_then(|p| p.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default();
        match header(headers, "mcp-name")? {
            Some(n) if n == body => {}
            Some(n) => {
                return Err(mismatch(format!(
                "Header mismatch: Mcp-Name header value '{n}' does not match body value '{body}'"
            )))
            }
            None => {
                return Err(mismatch(format!(
                    "the Mcp-Name header is required for {method} and must equal params.{field}"
                )))
            }
        }
    }
    Ok(())
}

/// The `x-mcp-header` properties of a schema: (header name, property path).
fn mirrored(schema: &JsonObject) -> Vec<(String, Vec<String>)> {
    fn walk(props: &JsonObject, path: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
        for (name, prop) in props {
            path.push(name.clone());
            if let Some(h) = prop.get("x-mcp-header").and_then(Value::as_str) {
                out.push((h.to_owned(), path.clone()));
            }
            if let Some(inner) = prop.get("properties").and_then(Value::as_object) {
                walk(inner, path, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        walk(props, &mut Vec::new(), &mut out);
    }
    out
}

/// Rung 6: every `x-mcp-header` argument is mirrored, present iff the argument is present
/// and not null, and equal after decoding (integers compared numerically).
pub(crate) fn check_params(
    headers: &HeaderMap,
    schema: &JsonObject,
    arguments: Option<&Value>,
) -> Result<(), ErrorObject> {
    for (name, path) in mirrored(schema) {
        let header_name = format!("mcp-param-{}", name.to_ascii_lowercase());
        let mut value = arguments;
        for key in &path {
            value = value.and_then(|v| v.get(key));
        }
        let value = value.filter(|v| !v.is_null());
        let got = header(headers, &header_name)?;
        match (value, got) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(mismatch(format!(
                    "Mcp-Param-{name} is present but the argument {} is absent",
                    path.join(".")
                )))
            }
            (Some(_), None) => {
                return Err(mismatch(format!(
                    "the Mcp-Param-{name} header is required because the argument {} is present",
                    path.join(".")
                )))
            }
            (Some(v), Some(h)) => {
                let equal = match v {
                    Value::String(s) => *s == h,
                    Value::Bool(b) => h == b.to_string(),
                    Value::Number(n) => match (n.as_f64(), h.parse::<f64>()) {
                        (Some(a), Ok(b)) => a == b,
                        _ => false,
                    },
                    _ => false,
                };
                if !equal {
                    return Err(mismatch(format!("Header mismatch: Mcp-Param-{name} header value '{h}' does not match body value {v}")));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(decode("  us-west1 ").unwrap(), "us-west1");
        assert_eq!(
            decode("=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(),
            "Hello, 世界"
        );
        assert!(decode("=?base64?not base64!?=").is_err());
    }
}
