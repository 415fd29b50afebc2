//! RFC 9728 protected resource metadata: served without a token at both well-known forms,
//! naming the canonical resource, its authorization servers and the supported scopes.

use std::time::Duration;

use http::{Request, StatusCode};
use mcp_transport::auth::{BearerAuthLayer, Layer as _};
use serde_json::json;

use crate::support::*;

const TEST: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_metadata_document_names_the_resource_and_its_scopes() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let recorder = Recorder::default();
        let layer =
            BearerAuthLayer::jwt(issuer.config().resource_name("Test MCP server")).expect("config");
        assert_eq!(layer.resource_metadata_url(), METADATA_URL);
        let svc = layer.layer(recorder.clone());
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
        ] {
            let (status, headers, body) = send(&svc, get(path, None)).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(header(&headers, "content-type"), "application/json");
            assert_eq!(header(&headers, "access-control-allow-origin"), "*");
            let doc = json(&body);
            assert_eq!(doc["resource"], RESOURCE);
            assert_eq!(doc["authorization_servers"], json!([ISSUER]));
            assert_eq!(
                doc["scopes_supported"],
                json!(["tools.read", "secrets.read"])
            );
            assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
            assert_eq!(doc["resource_name"], "Test MCP server");
        }
        // The 401 challenge points at the path-suffixed document.
        let (status, headers, _) = send(&svc, get("/mcp", None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&headers, "www-authenticate"),
            format!("Bearer resource_metadata=\"{METADATA_URL}\"")
        );
        // Other paths below the well-known prefix are not ours; other methods are refused.
        let (status, _, _) = send(
            &svc,
            get("/.well-known/oauth-protected-resource/other", None),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let post = Request::post("/.well-known/oauth-protected-resource")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("request");
        let (status, headers, _) = send(&svc, post).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header(&headers, "allow"), "GET, HEAD, OPTIONS");
        assert_eq!(recorder.calls(), 0);
    })
    .await;
}

#[tokio::test]
async fn challenge_scopes_and_a_root_resource() {
    init();
    within(TEST, async {
        let config = mcp_transport::auth::AuthConfig::new("https://mcp.example.com")
            .authorization_server(ISSUER)
            .challenge_scopes(["tools.read"]);
        let svc = BearerAuthLayer::new(config, mcp_transport::auth::verifier_fn(|_| async {
            Err(mcp_transport::auth::AuthError::Rejected("no".into()))
        }))
        .expect("config")
        .layer(Recorder::default());
        let (status, headers, _) = send(&svc, get("/", None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&headers, "www-authenticate"),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource\", scope=\"tools.read\""
        );
        let (status, _, body) = send(&svc, get("/.well-known/oauth-protected-resource", None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json(&body)["resource"], "https://mcp.example.com");
    })
    .await;
}
