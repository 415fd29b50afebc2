//! JSON Web Key Sets: fetching, parsing, caching.
//!
//! The cache refreshes a key set that is older than its TTL, and refreshes early when a token
//! names a `kid` it does not know (the issuer rotated its keys) — but never more than once per
//! cooldown, however many tokens arrive, and only one fetch runs at a time (single flight). When
//! the endpoint is down, the last key set stays usable for a grace period past its TTL.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::time::Instant;

use super::config::JwsAlgorithm;
use super::verifier::BoxFuture;
use super::AuthError;

/// The largest key set accepted, in bytes.
const MAX_JWKS_BYTES: usize = 512 * 1024;
/// The most keys kept from one set.
const MAX_KEYS: usize = 64;

/// The error type of [`JwksFetcher`].
///
/// See [`JwksFetcher`] for an example.
pub type FetchError = Box<dyn std::error::Error + Send + Sync>;

/// Fetches the raw bytes of a JWKS document. The default, [`HyperJwksFetcher`], speaks HTTP/1.1
/// through any hyper-util connector; implement this trait to use another HTTP client (for
/// instance one with your TLS setup) or to read keys from elsewhere.
///
/// ```
/// use mcp_transport::auth::{BoxFuture, FetchError, JwksFetcher};
///
/// /// Keys from a file, re-read on every refresh.
/// struct FromFile(std::path::PathBuf);
///
/// impl JwksFetcher for FromFile {
///     fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<bytes::Bytes, FetchError>> {
///         Box::pin(async move { Ok(tokio::fs::read(&self.0).await?.into()) })
///     }
/// }
/// # let _ = FromFile("jwks.json".into());
/// ```
pub trait JwksFetcher: Send + Sync + 'static {
    /// The document at `url`.
    ///
    /// See [`JwksFetcher`] for an example.
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Bytes, FetchError>>;
}

/// Fetches key sets with hyper-util's client. [`HyperJwksFetcher::http`] speaks plain HTTP only
/// (loopback issuers, or a TLS-terminating sidecar); for `https://` URLs pass an HTTPS-capable
/// connector (for example `hyper_rustls::HttpsConnector`) to [`HyperJwksFetcher::with_connector`].
///
/// ```
/// let fetcher = mcp_transport::auth::HyperJwksFetcher::http();
/// # let _ = fetcher;
/// ```
pub struct HyperJwksFetcher<C = HttpConnector> {
    client: Client<C, Empty<Bytes>>,
    https: bool,
}

impl<C> fmt::Debug for HyperJwksFetcher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperJwksFetcher")
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

impl HyperJwksFetcher<HttpConnector> {
    /// A plain-HTTP fetcher (it refuses `https://` URLs rather than downgrade them).
    ///
    /// See [`HyperJwksFetcher`] for an example.
    pub fn http() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        HyperJwksFetcher {
            client: Client::builder(TokioExecutor::new()).build(connector),
            https: false,
        }
    }
}

impl<C> HyperJwksFetcher<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    /// A fetcher over `connector`, trusted to handle `https://` URLs.
    ///
    /// # Examples
    /// ```
    /// use hyper_util::client::legacy::connect::HttpConnector;
    /// use mcp_transport::auth::HyperJwksFetcher;
    ///
    /// // Any hyper-util connector: in production one that speaks TLS (hyper-rustls, hyper-tls),
    /// // wrapping an `HttpConnector` like this one.
    /// let mut connector = HttpConnector::new();
    /// connector.enforce_http(false);
    /// let fetcher = HyperJwksFetcher::with_connector(connector);
    /// # let _ = fetcher;
    /// ```
    pub fn with_connector(connector: C) -> Self {
        HyperJwksFetcher {
            client: Client::builder(TokioExecutor::new()).build(connector),
            https: true,
        }
    }
}

impl<C> JwksFetcher for HyperJwksFetcher<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Bytes, FetchError>> {
        Box::pin(async move {
            let uri: http::Uri = url.parse()?;
            if uri.scheme_str() == Some("https") && !self.https {
                return Err("this fetcher speaks plain HTTP only; give HyperJwksFetcher::with_connector an HTTPS connector".into());
            }
            let req = http::Request::get(uri)
                .header(
                    http::header::ACCEPT,
                    "application/jwk-set+json, application/json",
                )
                .body(Empty::<Bytes>::new())?;
            let res = self.client.request(req).await?;
            if !res.status().is_success() {
                return Err(format!("the JWKS endpoint answered {}", res.status()).into());
            }
            let body = Limited::new(res.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await?;
            Ok(body.to_bytes())
        })
    }
}

/// The key families a JWS algorithm can be verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    fn for_alg(alg: JwsAlgorithm) -> KeyKind {
        match alg {
            JwsAlgorithm::RS256
            | JwsAlgorithm::RS384
            | JwsAlgorithm::RS512
            | JwsAlgorithm::PS256
            | JwsAlgorithm::PS384
            | JwsAlgorithm::PS512 => KeyKind::Rsa,
            JwsAlgorithm::ES256 => KeyKind::P256,
            JwsAlgorithm::ES384 => KeyKind::P384,
            JwsAlgorithm::EdDSA => KeyKind::Ed25519,
        }
    }
}

/// One usable verification key.
#[derive(Clone)]
pub(crate) struct VerifyKey {
    pub(crate) kid: Option<String>,
    pub(crate) kind: KeyKind,
    /// The JWK's `alg`, if it pins one.
    pub(crate) alg: Option<JwsAlgorithm>,
    pub(crate) key: DecodingKey,
}

impl VerifyKey {
    fn accepts(&self, alg: JwsAlgorithm) -> bool {
        self.kind == KeyKind::for_alg(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// Parses a JWKS document into the keys usable for signature verification. Symmetric (`oct`)
/// keys, encryption keys, private-key material and unknown key types are skipped, never used.
pub(crate) fn parse_jwks(bytes: &[u8]) -> Result<Vec<VerifyKey>, AuthError> {
    let set: RawSet = serde_json::from_slice(bytes)
        .map_err(|e| AuthError::Unavailable(format!("the key set is not a JWKS document: {e}")))?;
    let mut out = Vec::new();
    for raw in set.keys.into_iter().take(MAX_KEYS * 4) {
        if out.len() >= MAX_KEYS {
            break;
        }
        // A private JWK has "d" (and RSA primes): it should never be published. Skip it.
        if raw.get("d").is_some() {
            continue;
        }
        let Ok(jwk) = serde_json::from_value::<RawJwk>(raw) else {
            continue;
        };
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        if jwk
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|o| o == "verify"))
        {
            continue;
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some(a) => match a.parse::<JwsAlgorithm>() {
                Ok(a) => Some(a),
                // Pinned to an algorithm we never accept (HS256, RSA-OAEP…): unusable.
                Err(_) => continue,
            },
        };
        let built = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => match (&jwk.n, &jwk.e) {
                (Some(n), Some(e)) => {
                    DecodingKey::from_rsa_components(n, e).map(|k| (KeyKind::Rsa, k))
                }
                _ => continue,
            },
            ("EC", Some(crv @ ("P-256" | "P-384"))) => match (&jwk.x, &jwk.y) {
                (Some(x), Some(y)) => DecodingKey::from_ec_components(x, y).map(|k| {
                    let kind = if crv == "P-256" {
                        KeyKind::P256
                    } else {
                        KeyKind::P384
                    };
                    (kind, k)
                }),
                _ => continue,
            },
            ("OKP", Some("Ed25519")) => match &jwk.x {
                Some(x) => DecodingKey::from_ed_components(x).map(|k| (KeyKind::Ed25519, k)),
                None => continue,
            },
            _ => continue,
        };
        let Ok((kind, key)) = built else { continue };
        let vk = VerifyKey {
            kid: jwk.kid,
            kind,
            alg,
            key,
        };
        if vk.alg.is_some_and(|a| KeyKind::for_alg(a) != kind) {
            continue;
        }
        out.push(vk);
    }
    Ok(out)
}

struct KeySet {
    keys: Vec<VerifyKey>,
    fetched_at: Instant,
}

impl KeySet {
    fn matching(&self, kid: Option<&str>, alg: JwsAlgorithm) -> Vec<VerifyKey> {
        self.keys
            .iter()
            .filter(|k| match kid {
                Some(kid) => k.kid.as_deref() == Some(kid),
                None => true,
            })
            .filter(|k| k.accepts(alg))
            .take(4)
            .cloned()
            .collect()
    }
}

#[derive(Default)]
struct State {
    set: Option<Arc<KeySet>>,
    last_attempt: Option<Instant>,
}

/// Timing of a [`JwksCache`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) ttl: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) grace: Duration,
    pub(crate) fetch_timeout: Duration,
}

/// A cached JWKS with single-flight, rate-limited refreshes.
pub(crate) struct JwksCache {
    url: String,
    fetcher: Arc<dyn JwksFetcher>,
    timing: Timing,
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url)
            .field("timing", &self.timing)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What one look at the cache found.
struct Look {
    found: Vec<VerifyKey>,
    fresh: bool,
    usable: bool,
    may_fetch: bool,
    last_attempt: Option<Instant>,
}

impl JwksCache {
    pub(crate) fn new(url: String, fetcher: Arc<dyn JwksFetcher>, timing: Timing) -> Self {
        JwksCache {
            url,
            fetcher,
            timing,
            state: Mutex::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many fetches were started.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn look(&self, kid: Option<&str>, alg: JwsAlgorithm) -> Look {
        let now = Instant::now();
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let t = self.timing;
        let (found, fresh, usable) = match &st.set {
            Some(set) => {
                let age = now.saturating_duration_since(set.fetched_at);
                let usable = age < t.ttl.saturating_add(t.grace);
                let found = if usable {
                    set.matching(kid, alg)
                } else {
                    Vec::new()
                };
                (found, age < t.ttl, usable)
            }
            None => (Vec::new(), false, false),
        };
        let may_fetch = st
            .last_attempt
            .is_none_or(|at| now.saturating_duration_since(at) >= t.cooldown);
        Look {
            found,
            fresh,
            usable,
            may_fetch,
            last_attempt: st.last_attempt,
        }
    }

    fn verdict(look: Look) -> Result<Vec<VerifyKey>, AuthError> {
        if !look.found.is_empty() {
            Ok(look.found)
        } else if look.usable {
            Err(AuthError::UnknownKey)
        } else {
            Err(AuthError::Unavailable(
                "the issuer's signing keys could not be fetched".into(),
            ))
        }
    }

    /// The keys that may verify a token with this `kid` and `alg`.
    pub(crate) async fn keys_for(
        &self,
        kid: Option<&str>,
        alg: JwsAlgorithm,
    ) -> Result<Vec<VerifyKey>, AuthError> {
        let look = self.look(kid, alg);
        if look.fresh && !look.found.is_empty() {
            return Ok(look.found);
        }
        if !look.may_fetch {
            if look.found.is_empty() {
                // A fetch may be in flight (it started the cooldown): wait for its keys rather
                // than answer from the set it is about to replace.
                if let Err(_busy) = self.refresh.try_lock() {
                    drop(self.refresh.lock().await);
                    return Self::verdict(self.look(kid, alg));
                }
            }
            return Self::verdict(look);
        }
        // A stale set still inside its grace period answers at once while another task
        // refreshes; otherwise wait for the refresh in flight (single flight).
        let guard = if look.found.is_empty() {
            self.refresh.lock().await
        } else {
            match self.refresh.try_lock() {
                Ok(g) => g,
                Err(_) => return Ok(look.found),
            }
        };
        let again = self.look(kid, alg);
        if again.last_attempt != look.last_attempt || !again.may_fetch {
            // Someone else fetched while we waited.
            drop(guard);
            return Self::verdict(again);
        }
        self.fetch_now().await;
        drop(guard);
        Self::verdict(self.look(kid, alg))
    }

    /// Fetches the set now (callers hold the refresh lock and checked the cooldown).
    async fn fetch_now(&self) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_attempt = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched =
            match tokio::time::timeout(self.timing.fetch_timeout, self.fetcher.fetch(&self.url))
                .await
            {
                Err(_) => Err("timed out".to_owned()),
                Ok(Err(e)) => Err(e.to_string()),
                Ok(Ok(bytes)) => parse_jwks(&bytes).map_err(|e| e.to_string()),
            };
        match fetched {
            Ok(keys) => {
                tracing::debug!(url = %self.url, keys = keys.len(), "fetched the JWKS");
                let set = Arc::new(KeySet {
                    keys,
                    fetched_at: Instant::now(),
                });
                self.state.lock().unwrap_or_else(|p| p.into_inner()).set = Some(set);
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "could not fetch the JWKS; keeping the previous key set");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_private_and_encryption_keys_are_skipped() {
        let doc = br#"{"keys":[
            {"kty":"oct","kid":"h","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"hs","alg":"HS256","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"priv","n":"AQAB","e":"AQAB","d":"AQAB"},
            {"kty":"EC","kid":"k1","crv":"P-521","x":"AQAB","y":"AQAB"},
            {"kty":"EC","kid":"mismatch","alg":"RS256","crv":"P-256","x":"AQAB","y":"AQAB"},
            {"kty":"RSA","kid":"ok","alg":"RS256","n":"AQAB","e":"AQAB"},
            "garbage"
        ]}"#;
        let keys = parse_jwks(doc).unwrap();
        let kids: Vec<_> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, ["ok"]);
        assert!(keys[0].accepts(JwsAlgorithm::RS256));
        assert!(!keys[0].accepts(JwsAlgorithm::PS256));
        assert!(!keys[0].accepts(JwsAlgorithm::ES256));
    }

    #[test]
    fn a_document_that_is_not_a_key_set_is_an_error() {
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"<html>").is_err());
    }
}
