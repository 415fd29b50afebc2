//! oauth-server's tools (`mcp_examples::oauth`) in process through `mcp-testing`, in both
//! protocol eras, as the callers its bearer-token layer would establish: the test client
//! injects the identity and scopes a verified token carries, so no issuer and no token are
//! needed. The token checks themselves (401, 403 with `WWW-Authenticate`) are the transport's
//! and are tested in `mcp-transport`.

use mcp_core::identity::Identity;
use mcp_core::jsonrpc::ErrorCode;
use mcp_examples::oauth::{router, SECRET_SCOPE};
use mcp_testing::{CallToolResultExt, Era, RequestOptions, TestClient, ERAS};
use serde_json::json;

async fn client(era: Era, caller: Option<Identity>) -> TestClient {
    let builder = TestClient::builder(router()).era(era);
    let builder = match caller {
        Some(identity) => builder.identity(identity),
        None => builder,
    };
    builder.connect().await.expect("connected")
}

fn reader() -> Identity {
    let mut id = Identity::new("ada").with_scopes([SECRET_SCOPE, "profile"]);
    id.client_id = Some("dev-client".into());
    id
}

fn tool_names(tools: &[mcp_core::protocol::Tool]) -> Vec<&str> {
    tools.iter().map(|t| t.name.as_str()).collect()
}

#[tokio::test]
async fn a_caller_with_the_scope_reads_the_secret() {
    for era in ERAS {
        let c = client(era, Some(reader())).await;
        c.call("secret", ())
            .await
            .expect_text("The secret is 42 (read by ada).");
        let me: serde_json::Value = c.call("whoami", ()).await.expect_json();
        assert_eq!(
            me,
            json!({"subject": "ada", "scopes": [SECRET_SCOPE, "profile"], "client_id": "dev-client"}),
            "{era:?}"
        );
        let tools = c.list_tools().await.expect("tools/list");
        assert_eq!(tool_names(&tools), ["whoami", "secret"]);
    }
}

#[tokio::test]
async fn without_the_scope_the_secret_is_forbidden_and_hidden() {
    for era in ERAS {
        let c = client(era, Some(Identity::new("bob").with_scopes(["profile"]))).await;
        let error = c
            .call("secret", ())
            .await
            .expect_error_code(ErrorCode::FORBIDDEN);
        assert_eq!(error.code, ErrorCode(-31403));
        let data = error.data.expect("the error says what is missing");
        assert_eq!(data["requiredScopes"], json!([SECRET_SCOPE]), "{era:?}");
        // whoami needs no scope.
        let me: serde_json::Value = c.call("whoami", ()).await.expect_json();
        assert_eq!(me["subject"], "bob");
        assert_eq!(me["scopes"], json!(["profile"]));
        assert_eq!(me["client_id"], json!(null));
        let tools = c.list_tools().await.expect("tools/list");
        assert_eq!(tool_names(&tools), ["whoami"], "{era:?}");

        // The same connection, one request as a caller who holds the scope.
        let as_reader = RequestOptions::new().identity(reader());
        c.call_with("secret", (), as_reader)
            .await
            .expect_text("The secret is 42 (read by ada).");
    }
}

#[tokio::test]
async fn an_anonymous_caller_gets_neither_tool() {
    for era in ERAS {
        let c = client(era, None).await;
        let secret = c.exchange("tools/call", json!({"name": "secret"})).await;
        let error = secret.expect_error_code(ErrorCode::FORBIDDEN);
        assert_eq!(
            error.data.expect("data")["requiredScopes"],
            json!([SECRET_SCOPE])
        );
        // whoami needs an identity: without one it answers with an error, not for nobody.
        let refused = c.call("whoami", ()).await.expect_is_error();
        let text = refused.text_content();
        assert!(
            text.starts_with("this operation needs an authenticated caller"),
            "{era:?}: {text}"
        );
        assert!(refused.structured_content.is_none());
        let tools = c.list_tools().await.expect("tools/list");
        assert!(!tool_names(&tools).contains(&"secret"), "{era:?}");
    }
}

#[test]
fn the_command_line_needs_an_issuer() {
    use mcp_examples::oauth::Options;
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let dev = Options::parse(args(&["--dev-issuer", "--addr", "127.0.0.1:9090"])).expect("valid");
    assert!(dev.dev_issuer);
    assert_eq!(dev.addr, "127.0.0.1:9090".parse().expect("an address"));
    assert_eq!(dev.resource, None);

    let real = Options::parse(args(&[
        "--issuer",
        "https://auth.example.com",
        "--jwks-url",
        "http://127.0.0.1:9000/jwks.json",
        "--resource",
        "https://mcp.example.com/mcp",
    ]))
    .expect("valid");
    assert_eq!(real.addr, "127.0.0.1:8080".parse().expect("the default"));
    assert_eq!(real.issuer.as_deref(), Some("https://auth.example.com"));

    for bad in [
        args(&[]),
        args(&["--issuer", "https://auth.example.com"]),
        args(&["--dev-issuer", "--addr", "nowhere"]),
        args(&["--dev-issuer", "--verbose"]),
    ] {
        let e = Options::parse(bad.clone()).expect_err("refused");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        assert!(
            e.to_string().contains("usage: oauth-server"),
            "{bad:?}: {e}"
        );
    }
}
