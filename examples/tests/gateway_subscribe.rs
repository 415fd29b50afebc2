//! `resources/subscribe` through the gateway, for every pairing of eras: a caller (this SDK's
//! client over the gateway's stdio) subscribes to a resource of an HTTP backend (in this
//! process; spoken to in the handshake era or in 2026-07-28); the gateway asks the backend for
//! the resource's updates and relays `notifications/resources/updated`, under the gateway's
//! URI for the resource (`live+mem://counter`).

mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use mcp_core::{Context, ResourceDef, Router, ToolDef};
use mcp_transport::client::{ChildProcess, Client, ClientConfig, EraPreference, ServerEvent};
use serde_json::json;

async fn bump(ctx: Context) -> &'static str {
    ctx.server().notify_resource_updated("mem://counter");
    "bumped"
}

async fn counter() -> String {
    "1".into()
}

fn backend() -> Router {
    Router::new()
        .tool(ToolDef::new("bump", bump).description("Changes the counter"))
        .resource(ResourceDef::new("mem://counter", "counter", counter))
}

async fn relayed(caller: EraPreference, backend_era: &str) {
    let url = serve_backend(backend(), SeenHeaders::default()).await;
    let dir = scratch(&format!("subscribe-{caller:?}-{backend_era}"));
    let config = write_config(
        &dir,
        &format!(
            "[[backends]]\nname = \"live\"\nurl = {}\nprefix = \"live\"\nuris = \"scheme-prefix\"\nera = \"{backend_era}\"\n",
            toml_str(&url)
        ),
    );
    let gateway = Client::connect(
        ChildProcess::new(GATEWAY)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn"),
        ClientConfig::default().era(caller),
    )
    .await
    .expect("connect to the gateway");
    let resources = gateway.list_resources().await.expect("resources/list");
    assert!(
        resources.iter().any(|r| r.uri == "live+mem://counter"),
        "{resources:?}"
    );
    let mut events = gateway.events();
    gateway
        .subscribe_resource("live+mem://counter")
        .await
        .expect("subscribe through the gateway");
    // The subscription travels on (and the streams open) in the background: bump until an
    // update arrives.
    let update = async {
        loop {
            let r = gateway
                .call_tool("live.bump", json!({}))
                .await
                .expect("live.bump");
            assert!(!r.is_error(), "{r:?}");
            let next = tokio::time::timeout(Duration::from_millis(500), async {
                loop {
                    match events.recv().await {
                        Ok(ServerEvent::ResourceUpdated(uri)) => return uri,
                        Ok(_) => continue,
                        Err(e) => panic!("events: {e}"),
                    }
                }
            })
            .await;
            if let Ok(uri) = next {
                return uri;
            }
        }
    };
    let uri = tokio::time::timeout(Duration::from_secs(15), update)
        .await
        .unwrap_or_else(|_| panic!("no update relayed (caller {caller:?}, backend {backend_era})"));
    assert_eq!(uri, "live+mem://counter");
    gateway.close();
}

async fn within(fut: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_caller_handshake_backend() {
    within(relayed(EraPreference::Handshake, "handshake")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_caller_modern_backend() {
    within(relayed(EraPreference::Handshake, "modern")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_caller_handshake_backend() {
    within(relayed(EraPreference::Auto, "handshake")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_caller_modern_backend() {
    within(relayed(EraPreference::Auto, "modern")).await;
}
