//! The key-set cache: single flight, one fetch per cooldown however many unknown `kid`s come,
//! key rotation, stale keys through an outage, and fetch deadlines.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mcp_transport::auth::{BearerAuthLayer, JwtVerifier, Layer as _};
use serde_json::json;

use crate::support::*;

const TEST: Duration = Duration::from_secs(90);

/// Sends `n` requests at once, each with a token naming a kid nobody knows; all must be 401.
async fn unknown_kid_burst<S, B>(svc: &S, n: usize, round: &str)
where
    S: tower_service::Service<
            http::Request<http_body_util::Full<bytes::Bytes>>,
            Response = http::Response<B>,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: std::fmt::Debug,
    B: http_body::Body + Send + 'static,
    B::Error: std::fmt::Debug,
    B::Data: Send,
{
    // Minting 1,000 RS256 tokens is slow in a debug build; ES256 is quick. The kid is
    // unknown either way, so no signature is checked.
    let token = mint_with(Signer::Es256, Some("x"), |_| {});
    let (_, rest) = token.split_once('.').expect("a JWT");
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let header = b64(
            json!({"alg": "ES256", "kid": format!("{round}-unknown-{i}")})
                .to_string()
                .as_bytes(),
        );
        let token = remember(&format!("{header}.{rest}"));
        let svc = svc.clone();
        let req = post(&call, Some(&token), &[]);
        tasks.spawn(async move { send(&svc, req).await });
    }
    while let Some(r) = tasks.join_next().await {
        let (status, headers, _) = r.expect("a task");
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{round}");
        assert!(header(&headers, "www-authenticate").contains("error=\"invalid_token\""));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_fetch_at_most_once_per_cooldown() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let cooldown = Duration::from_secs(4);
        let config = issuer.config().jwks_timing(
            Duration::from_secs(600),
            cooldown,
            Duration::from_secs(600),
        );
        let verifier = Arc::new(JwtVerifier::new(&config).expect("config"));
        let svc = BearerAuthLayer::new(config, verifier.clone())
            .expect("config")
            .layer(Recorder::default());

        // A cold cache: 1,000 concurrent unknown kids make exactly one fetch (single flight).
        let started = tokio::time::Instant::now();
        unknown_kid_burst(&svc, 1000, "cold").await;
        assert_eq!(issuer.state.fetches(), 1, "one fetch for the whole burst");
        // Within the same cooldown window: no fetch at all.
        unknown_kid_burst(&svc, 1000, "warm").await;
        assert!(
            started.elapsed() < cooldown,
            "the bursts took longer than the cooldown; the test proves nothing"
        );
        assert_eq!(issuer.state.fetches(), 1, "no fetch within the cooldown");
        // Known keys are served from the cache meanwhile.
        let ok = mint(|_| {});
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        assert_eq!(
            send(&svc, post(&call, Some(&ok), &[])).await.0,
            StatusCode::OK
        );
        assert_eq!(issuer.state.fetches(), 1);
        // The next window allows exactly one more.
        tokio::time::sleep(cooldown + Duration::from_millis(100)).await;
        unknown_kid_burst(&svc, 1000, "next").await;
        assert_eq!(issuer.state.fetches(), 2, "one fetch in the next window");
        assert_eq!(verifier.jwks_fetch_count(), 2);
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn rotated_keys_are_picked_up_after_the_cooldown() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        issuer.state.set_keys(vec![rsa_jwk(RSA_KID)]);
        let cooldown = Duration::from_secs(1);
        let config = issuer.config().jwks_timing(
            Duration::from_secs(600),
            cooldown,
            Duration::from_secs(600),
        );
        let svc = BearerAuthLayer::jwt(config)
            .expect("config")
            .layer(Recorder::default());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let new_key_token = mint_with(Signer::Es256, Some(EC_KID), |_| {});
        assert_eq!(
            send(&svc, post(&call, Some(&new_key_token), &[])).await.0,
            StatusCode::UNAUTHORIZED
        );
        // The issuer rotates a new key in.
        issuer
            .state
            .set_keys(vec![rsa_jwk(RSA_KID), ec_jwk(EC_KID, ec_key())]);
        assert_eq!(
            send(&svc, post(&call, Some(&new_key_token), &[])).await.0,
            StatusCode::UNAUTHORIZED,
            "still within the cooldown"
        );
        assert_eq!(issuer.state.fetches(), 1);
        tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
        assert_eq!(
            send(&svc, post(&call, Some(&new_key_token), &[])).await.0,
            StatusCode::OK
        );
        assert_eq!(issuer.state.fetches(), 2);
        // And rotates the old one out: its tokens fail once the set is refetched.
        issuer.state.set_keys(vec![ec_jwk(EC_KID, ec_key())]);
        tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
        let old = mint_with(Signer::Rs256, Some("rsa-retired"), |_| {});
        assert_eq!(
            send(&svc, post(&call, Some(&old), &[])).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn stale_keys_serve_through_an_outage_for_the_grace_period() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let (ttl, cooldown, grace) = (
            Duration::from_millis(300),
            Duration::from_millis(100),
            Duration::from_millis(1500),
        );
        let config = issuer.config().jwks_timing(ttl, cooldown, grace);
        let svc = BearerAuthLayer::jwt(config)
            .expect("config")
            .layer(Recorder::default());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let token = mint(|_| {});
        let started = tokio::time::Instant::now();
        assert_eq!(
            send(&svc, post(&call, Some(&token), &[])).await.0,
            StatusCode::OK
        );
        issuer.state.down.store(true, Ordering::SeqCst);
        // Past the TTL, the endpoint down: the stale key still works.
        tokio::time::sleep(ttl + Duration::from_millis(100)).await;
        let (status, _, body) = send(&svc, post(&call, Some(&token), &[])).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        assert!(issuer.state.fetches() >= 2, "a refresh was attempted");
        // Past TTL + grace: nothing to verify with — 503, not 401 and never 500.
        let until = ttl + grace + Duration::from_millis(150);
        tokio::time::sleep(until.saturating_sub(started.elapsed())).await;
        let (status, headers, _) = send(&svc, post(&call, Some(&token), &[])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&headers, "retry-after"), "5");
        // The endpoint is back: so are the keys (after the cooldown).
        issuer.state.down.store(false, Ordering::SeqCst);
        tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
        assert_eq!(
            send(&svc, post(&call, Some(&token), &[])).await.0,
            StatusCode::OK
        );
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn a_hanging_jwks_endpoint_is_cut_off() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        issuer.state.delay_ms.store(30_000, Ordering::SeqCst);
        let mut config = issuer.config();
        config.jwks_fetch_timeout = Duration::from_millis(300);
        let svc = BearerAuthLayer::jwt(config)
            .expect("config")
            .layer(Recorder::default());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let started = tokio::time::Instant::now();
        let (status, _, _) = send(&svc, post(&call, Some(&mint(|_| {})), &[])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn a_plain_http_jwks_url_off_loopback_is_refused() {
    let config = mcp_transport::auth::AuthConfig::new(RESOURCE)
        .authorization_server(ISSUER)
        .jwks_url("http://auth.example.com/jwks.json");
    let err = JwtVerifier::new(&config).expect_err("plain http off loopback");
    assert!(err.to_string().contains("https"), "{err}");
    assert!(JwtVerifier::new(&config.clone().allow_insecure_jwks(true)).is_ok());
    // The plain-HTTP fetcher refuses https:// up front; an HTTPS-capable fetcher takes it.
    let https = config.jwks_url("https://auth.example.com/jwks.json");
    let err = JwtVerifier::new(&https).expect_err("https with the plain-HTTP fetcher");
    assert!(err.to_string().contains("with_fetcher"), "{err}");
    let fetcher = Arc::new(mcp_transport::auth::HyperJwksFetcher::with_connector(
        hyper_util::client::legacy::connect::HttpConnector::new(),
    ));
    assert!(JwtVerifier::with_fetcher(&https, fetcher).is_ok());
}
