//! The test issuer (keys made at test time, a JWKS served on loopback with a fetch counter),
//! request helpers, and a tracing subscriber that captures every log line and span field.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_transport::auth::{AuthBody, AuthConfig, Identity};
use serde_json::{json, Map, Value};
use tower_service::Service;

pub(crate) const RESOURCE: &str = "https://mcp.example.com/mcp";
pub(crate) const ISSUER: &str = "https://auth.example.com";
pub(crate) const METADATA_URL: &str =
    "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
pub(crate) const RSA_KID: &str = "rsa-1";
pub(crate) const EC_KID: &str = "ec-1";
pub(crate) const ED_KID: &str = "ed-1";

/// Runs `fut` with a deadline.
pub(crate) async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, fut)
        .await
        .expect("the test did not finish in time")
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Keys, made once per test run

/// An RSA key pair and its public key in every encoding an attacker might try as an HMAC
/// secret.
pub(crate) struct RsaKey {
    pub(crate) private_der: Vec<u8>,
    pub(crate) n: String,
    pub(crate) e: String,
    pub(crate) spki_pem: String,
    pub(crate) pkcs1_pem: String,
    pub(crate) spki_der: Vec<u8>,
    pub(crate) pkcs1_der: Vec<u8>,
}

pub(crate) fn rsa_key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
        let public = key.to_public_key();
        RsaKey {
            private_der: key.to_pkcs1_der().expect("pkcs1").as_bytes().to_vec(),
            n: b64(&public.n().to_bytes_be()),
            e: b64(&public.e().to_bytes_be()),
            spki_pem: public.to_public_key_pem(LineEnding::LF).expect("pem"),
            pkcs1_pem: public.to_pkcs1_pem(LineEnding::LF).expect("pem"),
            spki_der: public.to_public_key_der().expect("der").as_bytes().to_vec(),
            pkcs1_der: public.to_pkcs1_der().expect("der").as_bytes().to_vec(),
        }
    })
}

/// A P-256 or Ed25519 key pair: PKCS#8 private key and raw public key.
pub(crate) struct RingKey {
    pub(crate) pkcs8: Vec<u8>,
    pub(crate) public: Vec<u8>,
}

pub(crate) fn ec_key() -> &'static RingKey {
    static KEY: OnceLock<RingKey> = OnceLock::new();
    KEY.get_or_init(new_ec_key)
}

pub(crate) fn new_ec_key() -> RingKey {
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("ec");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("ec pair");
    RingKey {
        pkcs8: pkcs8.as_ref().to_vec(),
        public: pair.public_key().as_ref().to_vec(),
    }
}

pub(crate) fn ed_key() -> &'static RingKey {
    static KEY: OnceLock<RingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use ring::signature::{Ed25519KeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("ed");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("ed pair");
        RingKey {
            pkcs8: pkcs8.as_ref().to_vec(),
            public: pair.public_key().as_ref().to_vec(),
        }
    })
}

pub(crate) fn rsa_jwk(kid: &str) -> Value {
    let k = rsa_key();
    json!({"kty": "RSA", "kid": kid, "use": "sig", "n": k.n, "e": k.e})
}

pub(crate) fn ec_jwk(kid: &str, key: &RingKey) -> Value {
    let (x, y) = key.public[1..].split_at(32);
    json!({"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(x), "y": b64(y), "alg": "ES256"})
}

pub(crate) fn ed_jwk(kid: &str) -> Value {
    json!({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(&ed_key().public)})
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// Every token minted in this run, for the no-token-in-logs checks.
fn minted() -> &'static Mutex<Vec<String>> {
    static MINTED: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    MINTED.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a token so the log checks look for it.
pub(crate) fn remember(token: &str) -> String {
    minted()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(token.to_owned());
    token.to_owned()
}

/// Valid claims for this resource: alice, scope `tools.read`, five minutes to live.
pub(crate) fn claims() -> Map<String, Value> {
    let now = now();
    match json!({
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "alice",
        "client_id": "test-client",
        "scope": "tools.read",
        "iat": now,
        "exp": now + 300,
        "jti": format!("{:x}", rand_u64()),
    }) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("random");
    u64::from_le_bytes(b)
}

/// Which key signs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Signer {
    Rs256,
    Ps256,
    Es256,
    EdDsa,
}

/// A signed token with `kid`, after `edit` changed the default claims.
pub(crate) fn mint_with(
    signer: Signer,
    kid: Option<&str>,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> String {
    let mut c = claims();
    edit(&mut c);
    let (alg, key) = match signer {
        Signer::Rs256 => (
            Algorithm::RS256,
            EncodingKey::from_rsa_der(&rsa_key().private_der),
        ),
        Signer::Ps256 => (
            Algorithm::PS256,
            EncodingKey::from_rsa_der(&rsa_key().private_der),
        ),
        Signer::Es256 => (Algorithm::ES256, EncodingKey::from_ec_der(&ec_key().pkcs8)),
        Signer::EdDsa => (Algorithm::EdDSA, EncodingKey::from_ed_der(&ed_key().pkcs8)),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    header.typ = Some("at+jwt".into());
    remember(&jsonwebtoken::encode(&header, &c, &key).expect("a token"))
}

/// A valid RS256 token with the given claim edits.
pub(crate) fn mint(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    mint_with(Signer::Rs256, Some(RSA_KID), edit)
}

/// A token assembled by hand: any header, claims, and signature bytes.
pub(crate) fn forge(header: Value, claims: &Map<String, Value>, signature: &[u8]) -> String {
    let h = b64(header.to_string().as_bytes());
    let p = b64(Value::Object(claims.clone()).to_string().as_bytes());
    remember(&format!("{h}.{p}.{}", b64(signature)))
}

/// An HS256 token whose MAC key is `secret` (for algorithm-confusion attempts).
pub(crate) fn hs256(kid: Option<&str>, secret: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    remember(
        &jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret))
            .expect("an HS256 token"),
    )
}

// ---------------------------------------------------------------------------------------------
// The JWKS endpoint

/// What the test issuer's JWKS endpoint serves, and how often it was asked.
#[derive(Default)]
pub(crate) struct JwksState {
    pub(crate) doc: Mutex<Value>,
    pub(crate) fetches: AtomicUsize,
    pub(crate) down: AtomicBool,
    pub(crate) delay_ms: AtomicUsize,
}

impl JwksState {
    pub(crate) fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub(crate) fn set_keys(&self, keys: Vec<Value>) {
        *self.doc.lock().unwrap_or_else(|p| p.into_inner()) = json!({ "keys": keys });
    }
}

/// The test issuer: a JWKS on `127.0.0.1:<ephemeral>` with the RSA, EC and Ed25519 keys.
pub(crate) struct Issuer {
    pub(crate) jwks_url: String,
    pub(crate) state: Arc<JwksState>,
}

impl Issuer {
    pub(crate) async fn start() -> Issuer {
        let state = Arc::new(JwksState::default());
        state.set_keys(vec![
            rsa_jwk(RSA_KID),
            ec_jwk(EC_KID, ec_key()),
            ed_jwk(ED_KID),
        ]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the JWKS server");
        let addr = listener.local_addr().expect("address");
        let served = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = served.clone();
                tokio::spawn(async move {
                    let svc =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let state = state.clone();
                            async move {
                                Ok::<_, Infallible>(jwks_answer(&state, req.uri().path()).await)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Issuer {
            jwks_url: format!("http://{addr}/jwks.json"),
            state,
        }
    }

    /// A configuration for [`RESOURCE`], trusting this issuer.
    pub(crate) fn config(&self) -> AuthConfig {
        AuthConfig::new(RESOURCE)
            .authorization_server(ISSUER)
            .jwks_url(&self.jwks_url)
            .scopes_supported(["tools.read", "secrets.read"])
    }
}

async fn jwks_answer(state: &JwksState, path: &str) -> Response<Full<Bytes>> {
    if path != "/jwks.json" {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    if state.down.load(Ordering::SeqCst) {
        let mut r = Response::new(Full::new(Bytes::from_static(b"down")));
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return r;
    }
    let doc = state
        .doc
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .to_string();
    let mut r = Response::new(Full::new(Bytes::from(doc)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/jwk-set+json"),
    );
    r
}

// ---------------------------------------------------------------------------------------------
// A service to protect, and requests

/// What the protected service saw of one request.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) identity: Option<Arc<Identity>>,
    pub(crate) authorization: bool,
    pub(crate) body: Bytes,
}

/// An inner service that records what reaches it and answers 200.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    pub(crate) seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    pub(crate) fn calls(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub(crate) fn last(&self) -> Seen {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last()
            .cloned()
            .expect("the inner service was called")
    }
}

impl Service<Request<AuthBody<Full<Bytes>>>> for Recorder {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<AuthBody<Full<Bytes>>>) -> Self::Future {
        let seen = self.seen.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            seen.lock().unwrap_or_else(|p| p.into_inner()).push(Seen {
                identity: parts.extensions.get::<Arc<Identity>>().cloned(),
                authorization: parts.headers.contains_key(http::header::AUTHORIZATION),
                body,
            });
            Ok(Response::new(Full::new(Bytes::from_static(
                b"{\"ok\":true}",
            ))))
        })
    }
}

/// A GET of `uri` with an optional bearer token.
pub(crate) fn get(uri: &str, token: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::get(uri).header("host", "localhost");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Full::new(Bytes::new())).expect("a request")
}

/// A JSON POST to `/mcp` with an optional bearer token.
pub(crate) fn post(
    json: &Value,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> Request<Full<Bytes>> {
    let mut b = Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from(json.to_string())))
        .expect("a request")
}

/// Sends one request through `svc` and reads the whole answer.
pub(crate) async fn send<S, B>(svc: &S, req: Request<Full<Bytes>>) -> (StatusCode, HeaderMap, Bytes)
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let mut svc = svc.clone();
    std::future::poll_fn(|cx| svc.poll_ready(cx))
        .await
        .expect("ready");
    let res = svc.call(req).await.expect("a response");
    let (parts, body) = res.into_parts();
    let bytes = within(Duration::from_secs(10), body.collect())
        .await
        .expect("the body")
        .to_bytes();
    (parts.status, parts.headers, bytes)
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub(crate) fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(bytes)))
}

// ---------------------------------------------------------------------------------------------
// Log capture

/// Everything every span and event recorded in this run, at every level.
fn captured() -> &'static Mutex<String> {
    static LOG: OnceLock<Mutex<String>> = OnceLock::new();
    LOG.get_or_init(|| Mutex::new(String::new()))
}

struct Capture;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut f = Fields(format!("span {}:", attrs.metadata().name()));
        attrs.record(&mut f);
        push(f.0);
    }

    fn on_record(
        &self,
        _id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut f = Fields("record:".into());
        values.record(&mut f);
        push(f.0);
    }

    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let m = event.metadata();
        let mut f = Fields(format!("{} {}:", m.level(), m.target()));
        event.record(&mut f);
        push(f.0);
    }
}

fn push(line: String) {
    let mut log = captured().lock().unwrap_or_else(|p| p.into_inner());
    log.push_str(&line);
    log.push('\n');
}

/// Installs the capturing subscriber (once per run), at TRACE for every target.
pub(crate) fn init() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(Capture);
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    });
}

/// The captured text.
pub(crate) fn captured_text() -> String {
    captured().lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Asserts that no token minted so far — nor its signature or payload segment alone — appears
/// in anything logged so far.
pub(crate) fn assert_no_token_logged() {
    let log = captured_text();
    let tokens = minted().lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(!tokens.is_empty(), "no token was minted");
    for t in tokens {
        let mut needles = vec![t.clone()];
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() == 3 {
            needles.extend(
                [parts[1], parts[2]]
                    .into_iter()
                    .filter(|p| p.len() >= 16)
                    .map(str::to_owned),
            );
        }
        for n in needles {
            assert!(
                !log.contains(&n),
                "a token (or part of one) was logged: {n}"
            );
        }
    }
}
