//! One request and its response, kept together so an assertion can show both.

use std::fmt::Write as _;

use mcp_core::era::Era;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::CallToolResult;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::client::{decode, tool_params};
use crate::{CallToolResultExt, RequestOptions, TestClient, TestError};

/// A request and what came back, for asserting on: each `expect_*` method returns the part a
/// test wants next, or panics with a message that shows the request, the response and what
/// was expected.
///
/// Made by [`TestClient::call`], [`TestClient::call_with`] and [`TestClient::exchange`].
///
/// ```
/// use mcp_core::jsonrpc::ErrorCode;
/// use mcp_core::{Args, Router, ToolDef, ToolError};
/// use mcp_testing::{TestClient, ERAS};
/// use serde_json::json;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Div { a: i64, b: i64 }
///
/// async fn div(Args(Div { a, b }): Args<Div>) -> Result<String, ToolError> {
///     a.checked_div(b).map(|q| q.to_string()).ok_or_else(|| ToolError::new("division by zero"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// for era in ERAS {
///     let client = TestClient::builder(Router::new().tool(ToolDef::new("div", div)))
///         .era(era)
///         .connect()
///         .await?;
///     client.call("div", json!({"a": 7, "b": 2})).await.expect_text("3");
///     client.call("div", json!({"a": 7, "b": 0})).await.expect_is_error();
///     client.call("mul", json!({})).await.expect_error_code(ErrorCode::INVALID_PARAMS);
/// }
/// # Ok(()) }
/// ```
///
/// A failing expectation reads like this:
///
/// ```text
/// tools/call "div": expected the text "4"
///   but the text was "3"
///   era: 2025-11-25
///   request:
///     {
///       "method": "tools/call",
///       "params": { … }
///     }
///   response:
///     {
///       "content": [ … ]
///     }
/// ```
#[derive(Debug, Clone)]
#[must_use = "an exchange asserts nothing until an expect_* method is called"]
pub struct Exchange {
    era: Era,
    method: String,
    request: Value,
    response: Result<Value, TestError>,
}

impl Exchange {
    /// The era the request was made in.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::TestClient;
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new()).await?;
    /// let exchange = client.exchange("tools/list", json!({})).await;
    /// assert_eq!(exchange.era(), client.era());
    /// assert_eq!(exchange.request()["method"], "tools/list");
    /// assert_eq!(exchange.response().unwrap()["tools"], json!([]));
    /// assert_eq!(exchange.expect_ok()["tools"], json!([]));
    /// assert!(exchange.into_response().is_ok());
    /// # Ok(()) }
    /// ```
    pub fn era(&self) -> Era {
        self.era
    }

    /// The request as the test asked for it: `{"method", "params"}` without the 2026-07-28
    /// `_meta` envelope the client adds.
    ///
    /// See [`Exchange::era`] for an example.
    pub fn request(&self) -> &Value {
        &self.request
    }

    /// The raw result, or why there was none.
    ///
    /// See [`Exchange::era`] for an example.
    pub fn response(&self) -> Result<&Value, &TestError> {
        self.response.as_ref()
    }

    /// The raw result, or why there was none, by value.
    ///
    /// See [`Exchange::era`] for an example.
    pub fn into_response(self) -> Result<Value, TestError> {
        self.response
    }

    /// Expects a result (not a JSON-RPC error) and returns it.
    ///
    /// See [`Exchange::era`] for an example.
    #[track_caller]
    pub fn expect_ok(&self) -> Value {
        match &self.response {
            Ok(value) => value.clone(),
            Err(_) => self.fail("expected a result", "but there was none"),
        }
    }

    /// Expects a JSON-RPC error with `code` and returns it (its `data` holds the details, such
    /// as `requiredScopes` for [`ErrorCode::FORBIDDEN`]).
    ///
    /// See [`Exchange`] for an example.
    #[track_caller]
    pub fn expect_error_code(&self, code: ErrorCode) -> ErrorObject {
        let expected = format!("expected a JSON-RPC error with code {code}");
        match &self.response {
            Err(TestError::Rpc(e)) if e.code == code => e.clone(),
            Err(TestError::Rpc(e)) => self.fail(&expected, &format!("but the code was {}", e.code)),
            Err(_) => self.fail(&expected, "but the exchange itself failed"),
            Ok(_) => self.fail(&expected, "but the server answered with a result"),
        }
    }

    /// Expects a tool result (successful or not) and returns it.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Router, ToolError};
    /// use mcp_testing::TestClient;
    ///
    /// async fn flaky() -> Result<String, ToolError> { Err(ToolError::new("try again later")) }
    /// async fn hello() -> &'static str { "hello, world" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("flaky", flaky).tool_fn("hello", hello)).await?;
    /// let result = client.call("flaky", ()).await.expect_tool_result();
    /// assert!(result.is_error());
    /// client.call("hello", ()).await.expect_success();
    /// client.call("hello", ()).await.expect_text_contains("world");
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn expect_tool_result(&self) -> CallToolResult {
        self.tool_result("expected a tool result")
    }

    /// Expects a successful tool result (no `isError`) and returns it.
    ///
    /// See [`Exchange::expect_tool_result`] for an example.
    #[track_caller]
    pub fn expect_success(&self) -> CallToolResult {
        let result = self.tool_result("expected a successful tool result");
        if result.is_error() {
            self.fail(
                "expected a successful tool result",
                "but it had isError: true",
            );
        }
        result
    }

    /// Expects a successful tool result whose text blocks, joined with newlines, are exactly
    /// `expected`.
    ///
    /// See [`Exchange`] for an example.
    #[track_caller]
    pub fn expect_text(&self, expected: &str) -> CallToolResult {
        let what = format!("expected the text {expected:?}");
        let result = self.tool_result(&what);
        let text = result.text_content();
        if result.is_error() {
            self.fail(&what, &format!("but the tool failed with {text:?}"));
        }
        if text != expected {
            self.fail(&what, &format!("but the text was {text:?}"));
        }
        result
    }

    /// Expects a successful tool result whose text contains `part`.
    ///
    /// See [`Exchange::expect_tool_result`] for an example.
    #[track_caller]
    pub fn expect_text_contains(&self, part: &str) -> CallToolResult {
        let what = format!("expected a text containing {part:?}");
        let result = self.tool_result(&what);
        let text = result.text_content();
        if result.is_error() {
            self.fail(&what, &format!("but the tool failed with {text:?}"));
        }
        if !text.contains(part) {
            self.fail(&what, &format!("but the text was {text:?}"));
        }
        result
    }

    /// Expects a tool result with `isError: true` (a tool's own failure, or arguments that do
    /// not fit its schema) and returns it.
    ///
    /// See [`Exchange`] for an example.
    #[track_caller]
    pub fn expect_is_error(&self) -> CallToolResult {
        let what = "expected a tool result with isError: true";
        let result = self.tool_result(what);
        if !result.is_error() {
            self.fail(what, "but the call succeeded");
        }
        result
    }

    /// Expects a successful tool result whose `structuredContent` deserializes into `T`.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Json, Router, ToolDef};
    /// use mcp_testing::TestClient;
    /// use serde_json::json;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, PartialEq, Debug)]
    /// struct Sum { total: i64 }
    /// async fn sum() -> Json<Sum> { Json(Sum { total: 5 }) }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool(ToolDef::new("sum", sum))).await?;
    /// let sum: Sum = client.call("sum", ()).await.expect_json();
    /// assert_eq!(sum, Sum { total: 5 });
    /// client.call("sum", ()).await.expect_structured(json!({"total": 5}));
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn expect_json<T: DeserializeOwned>(&self) -> T {
        let what = format!(
            "expected structuredContent that deserializes into {}",
            std::any::type_name::<T>()
        );
        let result = self.tool_result(&what);
        if result.is_error() {
            self.fail(&what, "but the tool failed");
        }
        let Some(structured) = result.structured_content else {
            self.fail(&what, "but there was no structuredContent");
        };
        match serde_json::from_value(structured) {
            Ok(value) => value,
            Err(e) => self.fail(&what, &format!("but it does not: {e}")),
        }
    }

    /// Expects a successful tool result whose `structuredContent` equals `expected`.
    ///
    /// See [`Exchange::expect_json`] for an example.
    #[track_caller]
    pub fn expect_structured(&self, expected: impl Serialize) -> CallToolResult {
        let expected = serde_json::to_value(expected).unwrap_or(Value::Null);
        let what = format!("expected the structuredContent {expected}");
        let result = self.tool_result(&what);
        if result.is_error() {
            self.fail(&what, "but the tool failed");
        }
        match &result.structured_content {
            Some(actual) if *actual == expected => result,
            Some(actual) => self.fail(&what, &format!("but it was {actual}")),
            None => self.fail(&what, "but there was no structuredContent"),
        }
    }

    #[track_caller]
    fn tool_result(&self, what: &str) -> CallToolResult {
        let value = match &self.response {
            Ok(value) => value.clone(),
            Err(_) => self.fail(what, "but there was no result"),
        };
        match decode::<CallToolResult>(&self.method, value) {
            Ok(result) => result,
            Err(e) => self.fail(what, &format!("but it is not a tool result: {e}")),
        }
    }

    #[track_caller]
    fn fail(&self, expected: &str, actual: &str) -> ! {
        panic!("{}", self.report(expected, actual))
    }

    /// The failure message: what was expected, what happened, the request and the response.
    fn report(&self, expected: &str, actual: &str) -> String {
        let subject = match self.request.pointer("/params/name").and_then(Value::as_str) {
            Some(name) => format!("{} {name:?}", self.method),
            None => self.method.clone(),
        };
        let era = match self.era {
            Era::Handshake(v) => v.as_str().to_owned(),
            Era::Modern => "2026-07-28".to_owned(),
        };
        let mut out = format!("{subject}: {expected}\n  {actual}\n  era: {era}\n  request:\n");
        indent(&mut out, &pretty(&self.request));
        match &self.response {
            Ok(value) => {
                out.push_str("  response:\n");
                indent(&mut out, &pretty(value));
            }
            Err(TestError::Rpc(e)) => {
                out.push_str("  response (JSON-RPC error):\n");
                indent(&mut out, &pretty(&json!(e)));
            }
            Err(e) => {
                let _ = writeln!(out, "  no response: {e}");
            }
        }
        out
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn indent(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "    {line}");
    }
}

impl TestClient {
    /// Calls a tool for asserting on: the [`Exchange`] keeps the request with the response,
    /// so `expect_text`, `expect_is_error`, `expect_error_code`, … can show both when they
    /// fail. `arguments` must serialize to a JSON object, or to `null` for none.
    ///
    /// See [`Exchange`] for an example.
    pub async fn call(&self, name: &str, arguments: impl Serialize) -> Exchange {
        self.call_with(name, arguments, RequestOptions::new()).await
    }

    /// [`call`](Self::call) with per-request options (identity, progress token, …).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::identity::Identity;
    /// use mcp_core::{Context, Router};
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn whoami(ctx: Context) -> String {
    ///     ctx.identity().map(|i| i.subject.clone()).unwrap_or_else(|| "anonymous".into())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("whoami", whoami)).await?;
    /// client.call("whoami", ()).await.expect_text("anonymous");
    /// let as_alice = RequestOptions::new().identity(Identity::new("alice"));
    /// client.call_with("whoami", (), as_alice).await.expect_text("alice");
    /// # Ok(()) }
    /// ```
    pub async fn call_with(
        &self,
        name: &str,
        arguments: impl Serialize,
        opts: RequestOptions,
    ) -> Exchange {
        match tool_params(name, arguments) {
            Ok(params) => self.exchange_with("tools/call", params, opts).await,
            Err(e) => Exchange {
                era: self.era(),
                method: "tools/call".into(),
                request: json!({"method": "tools/call", "params": {"name": name}}),
                response: Err(e),
            },
        }
    }

    /// Sends any request the way [`request`](Self::request) does, for asserting on.
    ///
    /// See [`Exchange::era`] for an example.
    pub async fn exchange(&self, method: &str, params: Value) -> Exchange {
        self.exchange_with(method, params, RequestOptions::new())
            .await
    }

    /// [`exchange`](Self::exchange) with per-request options.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::{Era, RequestOptions, TestClient};
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new()).era(Era::Modern).connect().await?;
    /// let opts = RequestOptions::new().meta("io.modelcontextprotocol/protocolVersion", "1999-01-01");
    /// client
    ///     .exchange_with("tools/list", json!({}), opts)
    ///     .await
    ///     .expect_error_code(mcp_core::jsonrpc::ErrorCode::UNSUPPORTED_VERSION);
    /// # Ok(()) }
    /// ```
    pub async fn exchange_with(
        &self,
        method: &str,
        params: Value,
        opts: RequestOptions,
    ) -> Exchange {
        let request = if params.is_null() {
            json!({ "method": method })
        } else {
            json!({ "method": method, "params": params })
        };
        let response = self.request_with(method, params, opts).await;
        Exchange {
            era: self.era(),
            method: method.to_owned(),
            request,
            response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::protocol::ProtocolVersion;

    fn exchange(response: Result<Value, TestError>) -> Exchange {
        Exchange {
            era: Era::Handshake(ProtocolVersion::V2025_11_25),
            method: "tools/call".into(),
            request: json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}}),
            response,
        }
    }

    fn panic_message(f: impl FnOnce()) -> String {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .expect_err("the expectation fails");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_failed_expectation_shows_request_response_and_expectation() {
        let e = exchange(Ok(json!({"content": [{"type": "text", "text": "ho"}]})));
        let message = panic_message(|| {
            e.expect_text("hi");
        });
        for part in [
            "tools/call \"echo\": expected the text \"hi\"",
            "but the text was \"ho\"",
            "era: 2025-11-25",
            "\"arguments\"",
            "\"text\": \"hi\"",
            "response:",
            "\"text\": \"ho\"",
        ] {
            assert!(message.contains(part), "{part:?} missing from:\n{message}");
        }
    }

    #[test]
    fn an_rpc_error_is_shown_as_such() {
        let e = exchange(Err(TestError::Rpc(ErrorObject::new(
            ErrorCode::INVALID_PARAMS,
            "unknown tool",
        ))));
        assert_eq!(
            e.expect_error_code(ErrorCode::INVALID_PARAMS).message,
            "unknown tool"
        );
        let message = panic_message(|| {
            e.expect_text("hi");
        });
        assert!(message.contains("response (JSON-RPC error)"), "{message}");
        assert!(message.contains("-32602"), "{message}");
        let message = panic_message(|| {
            e.expect_error_code(ErrorCode::FORBIDDEN);
        });
        assert!(
            message.contains("expected a JSON-RPC error with code -31403"),
            "{message}"
        );
        assert!(message.contains("but the code was -32602"), "{message}");
    }

    #[test]
    fn a_timeout_is_shown() {
        let e = exchange(Err(TestError::Timeout {
            method: "tools/call".into(),
            after: std::time::Duration::from_secs(1),
        }));
        let message = panic_message(|| {
            e.expect_ok();
        });
        assert!(
            message.contains("no response: no response to tools/call within 1s"),
            "{message}"
        );
    }

    #[test]
    fn is_error_and_structured() {
        let failed = exchange(Ok(
            json!({"content": [{"type": "text", "text": "bad"}], "isError": true}),
        ));
        assert_eq!(failed.expect_is_error().text_content(), "bad");
        let message = panic_message(|| {
            failed.expect_success();
        });
        assert!(message.contains("but it had isError: true"), "{message}");

        let ok = exchange(Ok(
            json!({"content": [{"type": "text", "text": "{\"n\":1}"}], "structuredContent": {"n": 1}}),
        ));
        ok.expect_structured(json!({"n": 1}));
        let n: std::collections::BTreeMap<String, i64> = ok.expect_json();
        assert_eq!(n["n"], 1);
        let message = panic_message(|| {
            ok.expect_is_error();
        });
        assert!(message.contains("but the call succeeded"), "{message}");
        let message = panic_message(|| {
            ok.expect_structured(json!({"n": 2}));
        });
        assert!(message.contains("but it was {\"n\":1}"), "{message}");
    }
}
