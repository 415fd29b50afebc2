//! Ready-made answers for scripted responders.
//!
//! ```
//! use mcp_core::protocol::ElicitAction;
//! use mcp_testing::reply;
//!
//! let yes = reply::accept(serde_json::json!({"name": "Ada"}));
//! assert_eq!(yes.action, ElicitAction::Accept);
//! assert_eq!(reply::sampled("Paris").text(), Some("Paris"));
//! ```

use mcp_core::protocol::{
    ContentBlock, CreateMessageResult, ElicitAction, ElicitResult, Role, Root, SamplingContent,
};
use serde_json::Value;

/// The user submitted the form with `content` (a JSON object; anything else is sent as no
/// content).
///
/// See the [crate-level example](crate) for an example.
pub fn accept(content: Value) -> ElicitResult {
    ElicitResult {
        action: ElicitAction::Accept,
        content: match content {
            Value::Object(map) => Some(map),
            _ => None,
        },
        meta: None,
    }
}

/// The user declined.
///
/// # Examples
/// ```
/// use mcp_core::protocol::{ElicitAction, ElicitRequest};
/// use mcp_core::{Context, Router, ToolError};
/// use mcp_testing::{reply, TestClient};
/// use serde_json::json;
///
/// async fn confirm(ctx: Context) -> Result<String, ToolError> {
///     let answer = ctx.elicit("ok", ElicitRequest::form("Go ahead?", json!({"type": "object"}))).await?;
///     Ok(match answer.action {
///         ElicitAction::Accept => "went ahead".into(),
///         ElicitAction::Decline => "declined".into(),
///         ElicitAction::Cancel => "dismissed".into(),
///     })
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::builder(Router::new().tool_fn("confirm", confirm))
///     .on_elicit(|_| reply::decline())
///     .connect()
///     .await?;
/// client.call("confirm", ()).await.expect_text("declined");
/// let client = TestClient::builder(Router::new().tool_fn("confirm", confirm))
///     .on_elicit(|_| reply::cancel())
///     .connect()
///     .await?;
/// client.call("confirm", ()).await.expect_text("dismissed");
/// # Ok(()) }
/// ```
pub fn decline() -> ElicitResult {
    ElicitResult {
        action: ElicitAction::Decline,
        content: None,
        meta: None,
    }
}

/// The user dismissed the form.
///
/// See [`decline`] for an example.
pub fn cancel() -> ElicitResult {
    ElicitResult {
        action: ElicitAction::Cancel,
        content: None,
        meta: None,
    }
}

/// The model answered with `text` (role `assistant`, model `mcp-testing`, stop reason
/// `endTurn`).
///
/// See [`TestClientBuilder::on_sample`](crate::TestClientBuilder::on_sample) for an example.
pub fn sampled(text: impl Into<String>) -> CreateMessageResult {
    CreateMessageResult {
        role: Role::Assistant,
        content: SamplingContent::One(ContentBlock::text(text).into()),
        model: "mcp-testing".into(),
        stop_reason: Some("endTurn".into()),
        meta: None,
    }
}

/// A root with a display name.
///
/// ```
/// let r = mcp_testing::reply::root("file:///src", "sources");
/// assert_eq!(r.uri, "file:///src");
/// ```
pub fn root(uri: impl Into<String>, name: impl Into<String>) -> Root {
    Root {
        uri: uri.into(),
        name: Some(name.into()),
        meta: None,
    }
}
