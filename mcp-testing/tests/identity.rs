//! Identity and scopes without tokens: the client stands in for the authentication layer, in
//! both eras.

#[macro_use]
mod common;

use mcp_core::identity::Identity;
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::ElicitRequest;
use mcp_core::{Context, Router, ToolDef, ToolError};
use mcp_testing::{reply, Era, RequestOptions, TestClient, TestClientBuilder};
use serde_json::json;

both_eras!(
    a_caller_with_the_scope_may_call,
    a_caller_without_the_scope_is_forbidden,
    an_anonymous_caller_is_forbidden,
    the_identity_reaches_the_handler,
    a_request_can_act_as_someone_else,
    the_identity_can_change_mid_connection,
    input_required_retries_keep_the_request_identity,
);

async fn public() -> &'static str {
    "public"
}

async fn drop_table() -> &'static str {
    "dropped"
}

async fn whoami(who: Identity) -> String {
    format!("{} {}", who.subject, who.scopes.join(","))
}

/// A scoped tool that asks the user first: in 2026-07-28 it takes an `input_required` round.
async fn confirmed_drop(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
    let answer = ctx
        .elicit("confirm", ElicitRequest::form("Drop it?", schema))
        .await?;
    let ok = answer
        .content
        .and_then(|c| c.get("ok").and_then(|v| v.as_bool()))
        .unwrap_or(false);
    Ok(if ok { "dropped" } else { "kept" }.into())
}

fn router() -> Router {
    Router::new()
        .tool(ToolDef::new("public", public).description("Anyone may call it"))
        .tool(
            ToolDef::new("drop_table", drop_table)
                .description("Needs db.admin")
                .scopes(["db.admin"]),
        )
        .tool(
            ToolDef::new("confirmed_drop", confirmed_drop)
                .description("Needs db.admin, asks first")
                .scopes(["db.admin"]),
        )
        .tool(ToolDef::new("whoami", whoami).description("Who is calling"))
}

fn admin() -> Identity {
    Identity::new("alice").with_scopes(["db.read", "db.admin"])
}

fn reader() -> Identity {
    Identity::new("bob").with_scopes(["db.read"])
}

fn builder(era: Era) -> TestClientBuilder {
    TestClient::builder(router())
        .era(era)
        .on_elicit(|_| reply::accept(json!({"ok": true})))
}

async fn tool_names(client: &TestClient) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_tools()
        .await
        .expect("tools/list answers")
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    names
}

async fn a_caller_with_the_scope_may_call(era: Era) {
    let client = builder(era)
        .identity(admin())
        .connect()
        .await
        .expect("connects");
    client.call("drop_table", ()).await.expect_text("dropped");
    assert_eq!(
        tool_names(&client).await,
        ["confirmed_drop", "drop_table", "public", "whoami"]
    );
}

async fn a_caller_without_the_scope_is_forbidden(era: Era) {
    let client = builder(era)
        .identity(reader())
        .connect()
        .await
        .expect("connects");
    let error = client
        .call("drop_table", ())
        .await
        .expect_error_code(ErrorCode::FORBIDDEN);
    let data = error.data.clone().expect("the error says which scopes");
    assert_eq!(data["requiredScopes"], json!(["db.admin"]));
    assert_eq!(data["missingScopes"], json!(["db.admin"]));
    assert!(error.message.contains("insufficient_scope"), "{error:?}");
    // Hidden from the list, the other tools still there and callable.
    assert_eq!(tool_names(&client).await, ["public", "whoami"]);
    client.call("public", ()).await.expect_text("public");
}

async fn an_anonymous_caller_is_forbidden(era: Era) {
    let client = builder(era).connect().await.expect("connects");
    client
        .call("drop_table", ())
        .await
        .expect_error_code(ErrorCode::FORBIDDEN);
    assert_eq!(tool_names(&client).await, ["public", "whoami"]);
    // An extractor that needs a caller refuses to run without one.
    client.call("whoami", ()).await.expect_is_error();
}

async fn the_identity_reaches_the_handler(era: Era) {
    let client = builder(era)
        .identity(admin())
        .connect()
        .await
        .expect("connects");
    client
        .call("whoami", ())
        .await
        .expect_text("alice db.read,db.admin");
}

async fn a_request_can_act_as_someone_else(era: Era) {
    let client = builder(era)
        .identity(reader())
        .connect()
        .await
        .expect("connects");
    client
        .call_with("drop_table", (), RequestOptions::new().identity(admin()))
        .await
        .expect_text("dropped");
    client
        .call_with("whoami", (), RequestOptions::new().identity(admin()))
        .await
        .expect_text("alice db.read,db.admin");
    // Only that request: the next one is the client's own caller again.
    client
        .call("drop_table", ())
        .await
        .expect_error_code(ErrorCode::FORBIDDEN);
    client.call("whoami", ()).await.expect_text("bob db.read");
}

async fn the_identity_can_change_mid_connection(era: Era) {
    let client = builder(era).connect().await.expect("connects");
    client
        .call("drop_table", ())
        .await
        .expect_error_code(ErrorCode::FORBIDDEN);
    client.set_identity(Some(admin()));
    client.call("drop_table", ()).await.expect_text("dropped");
    client.set_identity(None);
    client
        .call("drop_table", ())
        .await
        .expect_error_code(ErrorCode::FORBIDDEN);
}

async fn input_required_retries_keep_the_request_identity(era: Era) {
    let client = builder(era)
        .identity(reader())
        .connect()
        .await
        .expect("connects");
    client
        .call_with(
            "confirmed_drop",
            (),
            RequestOptions::new().identity(admin()),
        )
        .await
        .expect_text("dropped");
    assert_eq!(client.server_requests().len(), 1, "one question was asked");
}
