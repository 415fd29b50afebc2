//! Self-contained JWT access tokens (RFC 9068) checked against the issuer's JWKS.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::Validation;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::{same_resource, AuthConfig, JwsAlgorithm};
use super::jwks::{HyperJwksFetcher, JwksCache, JwksFetcher, Timing};
use super::verifier::{BearerToken, BoxFuture, TokenVerifier};
use super::{AuthError, Identity};

/// The longest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// An extra claim check for [`JwtVerifier::validate_claims`].
type ClaimCheck = dyn Fn(&Map<String, Value>) -> Result<(), AuthError> + Send + Sync;

/// Verifies JWT access tokens: signature with a key from the issuer's JWKS, then `iss`, `aud`
/// (this resource, RFC 8707), `exp` and `nbf` (with leeway), and the algorithm allowlist.
///
/// The checks, in order, each failing with its own [`AuthError`]:
/// 1. the token is three base64url segments, at most 16 KiB;
/// 2. the header's `alg` is in [`AuthConfig::allowed_algs`] — `none` and `HS*` can never be,
///    and any `crit` header is refused;
/// 3. a key of the right type (RSA for `RS*`/`PS*`, the right curve for `ES*`) with the
///    token's `kid` is in the key set (refreshed once per cooldown on an unknown `kid`);
///    symmetric keys in the set are ignored, so no public key is ever used as an HMAC secret;
/// 4. the signature verifies;
/// 5. `exp` (required), `nbf`, `iss`, `aud`, `sub` (required).
///
/// ```no_run
/// use mcp_transport::auth::{AuthConfig, JwtVerifier};
/// # fn main() -> Result<(), mcp_transport::auth::AuthError> {
/// let config = AuthConfig::new("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_url("http://127.0.0.1:9000/jwks.json");
/// let verifier = JwtVerifier::new(&config)?;
/// # let _ = verifier; Ok(()) }
/// ```
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    leeway: Duration,
    allowed_algs: Vec<JwsAlgorithm>,
    required_typ: Option<String>,
    config: AuthConfig,
    keys: JwksCache,
    extra: Option<Arc<ClaimCheck>>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("allowed_algs", &self.allowed_algs)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

impl JwtVerifier {
    /// A verifier fetching keys over plain HTTP (loopback, or anywhere with
    /// [`AuthConfig::allow_insecure_jwks`]). An `https://` URL is refused here: use
    /// [`JwtVerifier::with_fetcher`] with an HTTPS-capable [`JwksFetcher`].
    ///
    /// See [`JwtVerifier`] for an example.
    pub fn new(config: &AuthConfig) -> Result<Self, AuthError> {
        if config.jwks_url.as_deref().is_some_and(|u| {
            u.get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        }) {
            return Err(AuthError::InvalidConfig(
                "JwtVerifier::new fetches keys over plain HTTP; for an https:// jwks_url use \
                 JwtVerifier::with_fetcher with HyperJwksFetcher::with_connector(<an HTTPS connector>) \
                 or your own JwksFetcher"
                    .into(),
            ));
        }
        Self::with_fetcher(config, Arc::new(HyperJwksFetcher::http()))
    }

    /// A verifier fetching keys with `fetcher`.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use mcp_transport::auth::{AuthConfig, BoxFuture, FetchError, JwksFetcher, JwtVerifier};
    ///
    /// /// Keys from a document shipped with the server.
    /// struct Pinned(&'static str);
    /// impl JwksFetcher for Pinned {
    ///     fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<bytes::Bytes, FetchError>> {
    ///         Box::pin(async move { Ok(bytes::Bytes::from_static(self.0.as_bytes())) })
    ///     }
    /// }
    ///
    /// let config = AuthConfig::new("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_url("https://auth.example.com/jwks.json");
    /// let verifier = JwtVerifier::with_fetcher(&config, Arc::new(Pinned(r#"{"keys":[]}"#))).unwrap();
    /// assert_eq!(verifier.jwks_fetch_count(), 0); // fetched on the first token
    /// ```
    pub fn with_fetcher(
        config: &AuthConfig,
        fetcher: Arc<dyn JwksFetcher>,
    ) -> Result<Self, AuthError> {
        config.validate_for_jwt()?;
        let issuer = config.issuer().unwrap_or_default().to_owned();
        let url = config.jwks_url.clone().unwrap_or_default();
        Ok(JwtVerifier {
            issuer,
            audiences: config.audiences().into_iter().map(str::to_owned).collect(),
            leeway: config.leeway,
            allowed_algs: config.allowed_algs.clone(),
            required_typ: config.required_typ.clone(),
            config: config.clone(),
            keys: JwksCache::new(
                url,
                fetcher,
                Timing {
                    ttl: config.jwks_ttl,
                    cooldown: config.jwks_cooldown,
                    grace: config.jwks_grace,
                    fetch_timeout: config.jwks_fetch_timeout,
                },
            ),
            extra: None,
        })
    }

    /// Adds a check of your own on the verified claims (after every standard check passed).
    ///
    /// ```no_run
    /// # use mcp_transport::auth::{AuthConfig, AuthError, JwtVerifier};
    /// # fn main() -> Result<(), AuthError> {
    /// # let config = AuthConfig::new("https://mcp.example.com").authorization_server("https://as").jwks_url("http://127.0.0.1:1/jwks");
    /// let verifier = JwtVerifier::new(&config)?.validate_claims(|claims| {
    ///     match claims.get("tenant").and_then(|t| t.as_str()) {
    ///         Some("acme") => Ok(()),
    ///         _ => Err(AuthError::Rejected("wrong tenant".into())),
    ///     }
    /// });
    /// # let _ = verifier; Ok(()) }
    /// ```
    pub fn validate_claims<F>(mut self, check: F) -> Self
    where
        F: Fn(&Map<String, Value>) -> Result<(), AuthError> + Send + Sync + 'static,
    {
        self.extra = Some(Arc::new(check));
        self
    }

    /// How many times the key set was fetched (for metrics and tests).
    ///
    /// See [`JwtVerifier::with_fetcher`] for an example.
    pub fn jwks_fetch_count(&self) -> u64 {
        self.keys.fetch_count()
    }

    /// Verifies a token and returns the caller's identity.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::{AuthConfig, AuthError, BearerToken, JwtVerifier};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let config = AuthConfig::new("http://127.0.0.1:8080/mcp")
    ///     .authorization_server("http://127.0.0.1:9000")
    ///     .jwks_url("http://127.0.0.1:9000/jwks.json");
    /// let verifier = JwtVerifier::new(&config).unwrap();
    /// // Not a JWT: refused before any key is fetched.
    /// let err = verifier.verify_token(&BearerToken::new("not-a-jwt")).await.unwrap_err();
    /// assert!(matches!(err, AuthError::Malformed(_)));
    /// assert_eq!(verifier.jwks_fetch_count(), 0);
    /// # }
    /// ```
    pub async fn verify_token(&self, token: &BearerToken) -> Result<Identity, AuthError> {
        let token = token.secret();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed("the token is too long"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed("not a JWS compact serialization"));
        };
        if [h, p, s].iter().any(|part| !is_base64url(part)) || h.is_empty() || p.is_empty() {
            return Err(AuthError::Malformed("not a JWS compact serialization"));
        }
        let header_bytes = b64(h).ok_or(AuthError::Malformed("the header is not base64url"))?;
        let header: JoseHeader = serde_json::from_slice(&header_bytes)
            .map_err(|_| AuthError::Malformed("the header is not a JOSE header"))?;
        // The allowlist comes first: `none`, `HS*` and anything unexpected stop here.
        let alg: JwsAlgorithm = header.alg.parse()?;
        if !self.allowed_algs.contains(&alg) {
            return Err(AuthError::AlgorithmNotAllowed(alg.as_str().to_owned()));
        }
        if header.crit.is_some() {
            return Err(AuthError::Malformed(
                "unsupported critical header parameters",
            ));
        }
        if let Some(required) = &self.required_typ {
            let typ = header.typ.as_deref().unwrap_or("");
            let typ = typ.strip_prefix("application/").unwrap_or(typ);
            if !typ.eq_ignore_ascii_case(required) {
                return Err(AuthError::WrongType(AuthError::sanitized(typ)));
            }
        }
        if s.is_empty() {
            return Err(AuthError::BadSignature);
        }
        let keys = self.keys.keys_for(header.kid.as_deref(), alg).await?;
        let mut validation = Validation::new(alg.to_jsonwebtoken());
        validation.algorithms = vec![alg.to_jsonwebtoken()];
        // Claims are checked below, strictly and with our own clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let mut claims = None;
        for key in &keys {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature
                    | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
                    | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
                    | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
                    | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_)
                    | jsonwebtoken::errors::ErrorKind::Crypto(_) => continue,
                    _ => {
                        return Err(AuthError::Malformed(
                            "the payload or signature does not decode",
                        ))
                    }
                },
            }
        }
        let claims = claims.ok_or(AuthError::BadSignature)?;
        self.check_claims(&claims)?;
        if let Some(check) = &self.extra {
            check(&claims)?;
        }
        Ok(self.identity(claims))
    }

    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let leeway = self.leeway.as_secs_f64();
        let exp = numeric(claims, "exp")?.ok_or(AuthError::MissingClaim("exp"))?;
        if now > exp + leeway {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = numeric(claims, "nbf")? {
            if now + leeway < nbf {
                return Err(AuthError::NotYetValid);
            }
        }
        if let Some(iat) = numeric(claims, "iat")? {
            if now + leeway < iat {
                return Err(AuthError::NotYetValid);
            }
        }
        match claims.get("iss") {
            Some(Value::String(iss)) if *iss == self.issuer => {}
            Some(Value::String(_)) => return Err(AuthError::WrongIssuer),
            _ => return Err(AuthError::MissingClaim("iss")),
        }
        let ours = |aud: &str| self.audiences.iter().any(|a| same_resource(a, aud));
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => ours(a),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(ours),
            _ => return Err(AuthError::MissingClaim("aud")),
        };
        if !aud_ok {
            return Err(AuthError::WrongAudience);
        }
        match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => Ok(()),
            _ => Err(AuthError::MissingClaim("sub")),
        }
    }

    fn identity(&self, claims: Map<String, Value>) -> Identity {
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let client_id = ["client_id", "azp"]
            .iter()
            .find_map(|k| claims.get(*k).and_then(Value::as_str))
            .map(str::to_owned);
        let scopes = self.config.expand_scopes(scopes_of(&claims));
        Identity {
            subject,
            scopes,
            claims,
            client_id,
        }
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(self.verify_token(token))
    }
}

/// The granted scopes: the RFC 9068 `scope` string, else an `scp` string or array.
pub(crate) fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    for key in ["scope", "scp"] {
        match claims.get(key) {
            Some(Value::String(s)) => s.split(' ').for_each(&mut add),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).for_each(&mut add),
            _ => {}
        }
    }
    out
}

/// A NumericDate claim: absent is `None`, any non-number is an error.
fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(AuthError::MissingClaim(name)),
        Some(_) => Err(AuthError::MissingClaim(name)),
    }
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        assert_eq!(scopes_of(&obj(json!({"scope": "a b  a"}))), ["a", "b"]);
        assert_eq!(scopes_of(&obj(json!({"scp": ["x", "y"]}))), ["x", "y"]);
        assert!(scopes_of(&obj(json!({"scope": 5}))).is_empty());
    }

    #[test]
    fn numeric_dates_must_be_numbers() {
        let c = obj(json!({"exp": "9999999999", "nbf": 1.5}));
        assert!(numeric(&c, "exp").is_err());
        assert_eq!(numeric(&c, "nbf").unwrap(), Some(1.5));
        assert_eq!(numeric(&c, "iat").unwrap(), None);
    }
}
