//! The tower layer: metadata documents, bearer-token checks, scope pre-checks.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Either, Full, Limited};
use mcp_core::jsonrpc::ErrorCode;
use serde_json::{json, Value};
use tracing::Instrument as _;

use super::config::AuthConfig;
use super::metadata::{metadata_paths, ProtectedResourceMetadata, WELL_KNOWN};
use super::scopes::{target_param, ScopePolicy};
use super::verifier::{BearerToken, BoxFuture, TokenVerifier};
use super::{AuthError, Identity, JwtVerifier};

/// The request body the wrapped service receives: the buffered body (when the layer read it to
/// check scopes) or the original one.
///
/// See [`BearerAuth`] for an example.
pub type AuthBody<B> = Either<Full<Bytes>, B>;

/// The response body of [`BearerAuth`]: the layer's own answer (challenge, metadata) or the
/// wrapped service's.
///
/// See [`BearerAuth`] for an example.
pub type AuthResponseBody<B> = Either<Full<Bytes>, B>;

/// The JSON-RPC error code in the body of a 401 (an application code, outside the reserved
/// range).
///
/// See [`BearerAuth`] for an example.
pub const UNAUTHORIZED_CODE: ErrorCode = ErrorCode(-31401);

#[derive(Clone)]
struct Shared {
    config: AuthConfig,
    verifier: Arc<dyn TokenVerifier>,
    policy: Option<Arc<dyn ScopePolicy>>,
    metadata: Bytes,
    metadata_paths: Vec<String>,
    metadata_url: String,
    metrics: Option<mcp_core::layers::Metrics>,
}

/// Protects an HTTP service (such as [`McpService`](crate::http::McpService)) as an OAuth 2.1
/// resource server.
///
/// For each request the layer, in order:
/// 1. serves the RFC 9728 metadata document at `/.well-known/oauth-protected-resource` and at
///    the path-suffixed form (`…/oauth-protected-resource/mcp` for a resource `https://h/mcp`),
///    without authentication;
/// 2. refuses a request carrying `access_token` in its query string (401, `invalid_request`);
/// 3. reads the one `Authorization: Bearer …` header (none → 401 with a
///    `WWW-Authenticate: Bearer resource_metadata="…"` challenge) and verifies the token with the
///    [`TokenVerifier`] (failure → 401 `invalid_token`, or 503 if the verifier's backend is down);
/// 4. removes the `Authorization` header — the token never travels further — and puts the
///    caller's `Arc<Identity>` into the request extensions, for the transport, the handlers'
///    `Identity` extractor and any middleware in between (audit, rate limits);
/// 5. with a [`ScopePolicy`] set, reads POST bodies (at most [`AuthConfig::max_body_bytes`]) and
///    answers `tools/call` (and whatever else the policy names) without the required scopes with
///    403 and `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`; the buffered
///    body goes on to the inner service otherwise.
///
/// Logs and spans name the subject, never the token.
///
/// ```no_run
/// use mcp_core::{Router, Server, ToolDef};
/// use mcp_transport::auth::{AuthConfig, BearerAuthLayer};
/// use mcp_transport::http::{HttpConfig, McpService};
/// use mcp_transport::auth::Layer as _;
///
/// # async fn secret() -> String { "42".into() }
/// # fn main() -> Result<(), mcp_transport::auth::AuthError> {
/// let router: Router = Router::new()
///     .tool(ToolDef::new("secret", secret).description("The secret").scopes(["secrets.read"]));
/// let server = Server::new(router);
/// let config = AuthConfig::new("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_url("http://127.0.0.1:9000/jwks.json")
///     .scopes_supported(["secrets.read"]);
/// let service = BearerAuthLayer::jwt(config)?
///     .scope_policy(server.clone())
///     .layer(McpService::new(server, HttpConfig::default()));
/// # let _ = service; Ok(()) }
/// ```
#[derive(Clone)]
pub struct BearerAuthLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for BearerAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuthLayer")
            .field("config", &self.shared.config)
            .field("scope_policy", &self.shared.policy.is_some())
            .finish_non_exhaustive()
    }
}

impl BearerAuthLayer {
    /// A layer checking tokens with `verifier`.
    ///
    /// See [`BearerAuth`] for an example.
    pub fn new(config: AuthConfig, verifier: impl TokenVerifier) -> Result<Self, AuthError> {
        let metadata_url = config.resource_metadata_url()?;
        let metadata_paths = metadata_paths(&config)?;
        let doc = ProtectedResourceMetadata::from_config(&config);
        let metadata = serde_json::to_vec(&doc)
            .map_err(|e| AuthError::InvalidConfig(format!("metadata document: {e}")))?;
        Ok(BearerAuthLayer {
            shared: Arc::new(Shared {
                config,
                verifier: Arc::new(verifier),
                policy: None,
                metadata: metadata.into(),
                metadata_paths,
                metadata_url,
                metrics: None,
            }),
        })
    }

    /// A layer checking JWTs against the configured issuer's JWKS ([`JwtVerifier::new`]).
    ///
    /// See [`BearerAuthLayer`] for an example.
    pub fn jwt(config: AuthConfig) -> Result<Self, AuthError> {
        let verifier = JwtVerifier::new(&config)?;
        Self::new(config, verifier)
    }

    /// Answers requests lacking the scopes `policy` names with 403 before they reach the inner
    /// service. Pass the [`mcp_core::Server`] to use the scopes declared on its tools.
    ///
    /// See [`BearerAuth`] for an example.
    pub fn scope_policy(mut self, policy: impl ScopePolicy) -> Self {
        Arc::make_mut(&mut self.shared).policy = Some(Arc::new(policy));
        self
    }

    /// Replaces the metadata document (to add members the config has no field for).
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::{verifier_fn, AuthConfig, AuthError, BearerAuthLayer, Identity, ProtectedResourceMetadata};
    ///
    /// let config = AuthConfig::new("https://mcp.example.com/mcp").authorization_server("https://auth.example.com");
    /// let mut doc = ProtectedResourceMetadata::from_config(&config);
    /// doc.resource_documentation = Some("https://mcp.example.com/docs".into());
    /// let verifier = verifier_fn(|_| async { Err::<Identity, _>(AuthError::Rejected("demo".into())) });
    /// let layer = BearerAuthLayer::new(config, verifier).unwrap()
    ///     .metadata(&doc)
    ///     .metrics(&mcp_core::layers::Metrics::new());
    /// assert_eq!(
    ///     layer.resource_metadata_url(),
    ///     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    /// );
    /// ```
    pub fn metadata(mut self, doc: &ProtectedResourceMetadata) -> Self {
        if let Ok(bytes) = serde_json::to_vec(doc) {
            Arc::make_mut(&mut self.shared).metadata = bytes.into();
        }
        self
    }

    /// The URL announced as `resource_metadata` in challenges.
    ///
    /// See [`BearerAuthLayer::metadata`] for an example.
    pub fn resource_metadata_url(&self) -> &str {
        &self.shared.metadata_url
    }

    /// Counts refused requests in `metrics` (`mcp_auth_failures_total{reason}`).
    ///
    /// See [`BearerAuthLayer::metadata`] for an example.
    pub fn metrics(mut self, metrics: &mcp_core::layers::Metrics) -> Self {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared.metrics = Some(metrics.clone()),
            None => tracing::warn!("BearerAuthLayer::metrics after the layer was shared; ignored"),
        }
        self
    }
}

impl<S> tower_layer::Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> BearerAuth<S> {
        BearerAuth {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`BearerAuthLayer`] makes; see there.
///
/// # Examples
///
/// A server whose `deploy` tool needs the `deploy` scope, behind static tokens:
///
/// ```
/// use http_body_util::{BodyExt, Full};
/// use mcp_core::{Router, Server, ToolDef};
/// use mcp_transport::auth::{verifier_fn, AuthConfig, AuthError, BearerAuthLayer, Identity, Layer as _};
/// use mcp_transport::http::{HttpConfig, McpService};
/// use tower_service::Service as _;
///
/// async fn deploy() -> &'static str { "deployed" }
///
/// fn call(token: Option<&str>) -> http::Request<Full<bytes::Bytes>> {
///     let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":{}}}"#;
///     let mut req = http::Request::post("/mcp")
///         .header("host", "localhost:8080")
///         .header("content-type", "application/json")
///         .header("accept", "application/json, text/event-stream")
///         .header("mcp-protocol-version", "2025-06-18");
///     if let Some(token) = token {
///         req = req.header("authorization", format!("Bearer {token}"));
///     }
///     req.body(Full::new(bytes::Bytes::from(body))).unwrap()
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::new(Router::new().tool(ToolDef::new("deploy", deploy).scopes(["deploy"])));
/// let verifier = verifier_fn(|token| async move {
///     match token.secret() {
///         "ops-token" => Ok(Identity::new("ops").with_scopes(["deploy"])),
///         "dev-token" => Ok(Identity::new("dev")),
///         _ => Err(AuthError::Rejected("unknown token".into())),
///     }
/// });
/// let config = AuthConfig::new("http://localhost:8080/mcp").authorization_server("https://auth.example.com");
/// let http = HttpConfig::default().stateless(true).json_response(true);
/// let mut service = BearerAuthLayer::new(config, verifier)?
///     .scope_policy(server.clone())
///     .layer(McpService::new(server, http));
///
/// let denied = service.call(call(None)).await?;
/// assert_eq!(denied.status(), http::StatusCode::UNAUTHORIZED);
/// assert!(denied.headers()["www-authenticate"].to_str()?.contains("resource_metadata="));
/// assert_eq!(service.call(call(Some("stolen"))).await?.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(service.call(call(Some("dev-token"))).await?.status(), http::StatusCode::FORBIDDEN);
///
/// let allowed = service.call(call(Some("ops-token"))).await?;
/// assert_eq!(allowed.status(), http::StatusCode::OK);
/// let body = allowed.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
/// assert!(std::str::from_utf8(&body)?.contains("deployed"));
///
/// let metadata = http::Request::get("/.well-known/oauth-protected-resource/mcp")
///     .header("host", "localhost:8080")
///     .body(Full::new(bytes::Bytes::new()))?;
/// assert_eq!(service.call(metadata).await?.status(), http::StatusCode::OK);
/// # let _ = mcp_transport::auth::UNAUTHORIZED_CODE;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BearerAuth<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for BearerAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuth")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for BearerAuth<S>
where
    S: tower_service::Service<Request<AuthBody<B>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<AuthResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone that was made ready is the one to call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            match shared.admit(req).await {
                Ok((req, span)) => {
                    let res = inner.call(req).instrument(span).await?;
                    Ok(res.map(Either::Right))
                }
                Err(refusal) => Ok(refusal.map(Either::Left)),
            }
        })
    }
}

type Refusal = Response<Full<Bytes>>;

impl Shared {
    /// Authenticates (and, with a policy, authorizes) a request, or answers it.
    async fn admit<B>(
        &self,
        req: Request<B>,
    ) -> Result<(Request<AuthBody<B>>, tracing::Span), Refusal>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = req.uri().path();
        if path == WELL_KNOWN || path.starts_with(&format!("{WELL_KNOWN}/")) {
            return Err(self.metadata_response(req.method(), path));
        }
        if query_has_token(req.uri().query()) {
            return Err(self.refuse(&AuthError::TokenInQuery));
        }
        let token = match bearer_token(req.headers()) {
            Ok(t) => t,
            Err(e) => return Err(self.refuse(&e)),
        };
        let identity = match self.verifier.verify(&token).await {
            Ok(identity) => identity,
            Err(e) => return Err(self.refuse(&e)),
        };
        drop(token);
        let span = tracing::info_span!(
            "mcp.auth",
            subject = %identity.subject,
            client_id = identity.client_id.as_deref().unwrap_or(""),
        );
        let (mut parts, body) = req.into_parts();
        // No passthrough: the credential stops here.
        parts.headers.remove(header::AUTHORIZATION);
        let identity = Arc::new(identity);
        parts.extensions.insert(identity.clone());
        let body = match &self.policy {
            Some(policy) if parts.method == Method::POST => {
                let bytes = self.read_body(&parts.headers, body).await?;
                if let Some(refusal) = self.check_scopes(policy.as_ref(), &identity, &bytes) {
                    let _enter = span.enter();
                    tracing::debug!("refused a request for insufficient scope");
                    return Err(refusal);
                }
                Either::Left(Full::new(bytes))
            }
            _ => Either::Right(body),
        };
        {
            let _enter = span.enter();
            tracing::trace!("authenticated");
        }
        Ok((Request::from_parts(parts, body), span))
    }

    fn metadata_response(&self, method: &Method, path: &str) -> Refusal {
        let known = self.metadata_paths.iter().any(|p| p == path);
        if !known {
            return rpc_refusal(
                StatusCode::NOT_FOUND,
                ErrorCode(-32404),
                "Not Found: no protected resource metadata at this path",
                None,
                Value::Null,
            );
        }
        let mut res = match *method {
            Method::GET => Response::new(Full::new(self.metadata.clone())),
            Method::HEAD => Response::new(Full::new(Bytes::new())),
            Method::OPTIONS => {
                let mut r = Response::new(Full::new(Bytes::new()));
                *r.status_mut() = StatusCode::NO_CONTENT;
                r.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, HEAD, OPTIONS"),
                );
                r
            }
            _ => {
                let mut r = rpc_refusal(
                    StatusCode::METHOD_NOT_ALLOWED,
                    ErrorCode(-32405),
                    "Method not allowed: use GET",
                    None,
                    Value::Null,
                );
                r.headers_mut().insert(
                    header::ALLOW,
                    HeaderValue::from_static("GET, HEAD, OPTIONS"),
                );
                return r;
            }
        };
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        // Public information, fetched by browser-based clients too.
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        res
    }

    /// The answer to a refused request: status, challenge, JSON-RPC error body.
    fn refuse(&self, err: &AuthError) -> Refusal {
        self.refuse_with_id(err, Value::Null)
    }

    fn refuse_with_id(&self, err: &AuthError, id: Value) -> Refusal {
        let status = err.status();
        tracing::debug!(error = %err, status = status.as_u16(), "refused a request");
        if let Some(m) = &self.metrics {
            use mcp_core::layers::AuthFailure;
            match err {
                AuthError::MissingToken => m.auth_failure(AuthFailure::MissingToken),
                AuthError::InsufficientScope { .. } => {
                    m.auth_failure(AuthFailure::InsufficientScope)
                }
                AuthError::Unavailable(_) | AuthError::InvalidConfig(_) => {}
                _ => m.auth_failure(AuthFailure::InvalidToken),
            }
        }
        let code = match status {
            StatusCode::UNAUTHORIZED => UNAUTHORIZED_CODE,
            StatusCode::FORBIDDEN => ErrorCode::FORBIDDEN,
            _ => ErrorCode(-32000 - i64::from(status.as_u16() % 1000)),
        };
        let reason = status.canonical_reason().unwrap_or("Error");
        let data = match err {
            AuthError::InsufficientScope { required } => Some(json!({"requiredScopes": required})),
            _ => None,
        };
        let mut res = rpc_refusal(status, code, &format!("{reason}: {err}"), data, id);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                if let Ok(v) = HeaderValue::from_str(&self.challenge(err)) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        res
    }

    /// The `WWW-Authenticate` value for `err` (RFC 6750 §3, RFC 9728 §5.1).
    fn challenge(&self, err: &AuthError) -> String {
        let mut params = vec![format!(
            "resource_metadata=\"{}\"",
            quoted(&self.metadata_url)
        )];
        let scopes = match err {
            AuthError::InsufficientScope { required } => required.clone(),
            _ => self.config.challenge_scopes.clone(),
        };
        if !scopes.is_empty() {
            params.push(format!("scope=\"{}\"", quoted(&scopes.join(" "))));
        }
        if let Some(code) = err.oauth_error() {
            params.push(format!("error=\"{code}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quoted(&err.to_string())
            ));
        }
        format!("Bearer {}", params.join(", "))
    }

    async fn read_body<B>(&self, headers: &HeaderMap, body: B) -> Result<Bytes, Refusal>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let max = self.config.max_body_bytes;
        let too_large = || {
            rpc_refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode(-32413),
                &format!("Payload too large: the body limit is {max} bytes"),
                None,
                Value::Null,
            )
        };
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max as u64) {
            return Err(too_large());
        }
        match tokio::time::timeout(
            self.config.body_read_timeout,
            Limited::new(body, max).collect(),
        )
        .await
        {
            Err(_) => Err(rpc_refusal(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode(-32408),
                "Request timeout: the body did not arrive in time",
                None,
                Value::Null,
            )),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
            Ok(Err(_)) => Err(rpc_refusal(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_REQUEST,
                "Bad request: could not read the body",
                None,
                Value::Null,
            )),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
        }
    }

    /// A 403 if some request in `body` needs scopes `identity` lacks.
    fn check_scopes(
        &self,
        policy: &dyn ScopePolicy,
        identity: &Identity,
        body: &[u8],
    ) -> Option<Refusal> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        // Unparsable bodies go on: the transport answers them with the right JSON-RPC error.
        let value: Value = serde_json::from_slice(body).ok()?;
        let (messages, id) = match &value {
            Value::Array(items) => (items.iter().collect::<Vec<_>>(), Value::Null),
            other => (vec![other], other.get("id").cloned().unwrap_or(Value::Null)),
        };
        let mut required: Vec<String> = Vec::new();
        let mut lacking = false;
        for m in messages {
            let Some(method) = m.get("method").and_then(Value::as_str) else {
                continue;
            };
            let target = target_param(method).and_then(|p| m.get("params")?.get(p)?.as_str());
            let needs = policy.required_scopes(method, target);
            if needs.is_empty() {
                continue;
            }
            if !identity.missing_scopes(&needs).is_empty() {
                lacking = true;
            }
            for s in needs {
                if !required.contains(&s) {
                    required.push(s);
                }
            }
        }
        if !lacking {
            return None;
        }
        Some(self.refuse_with_id(&AuthError::InsufficientScope { required }, id))
    }
}

/// A JSON-RPC error response.
fn rpc_refusal(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    data: Option<Value>,
    id: Value,
) -> Refusal {
    let mut error = json!({"code": code.0, "message": message});
    if let Some(d) = data {
        error["data"] = d;
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string();
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Whether the query string carries an `access_token` parameter (RFC 6750 §2.3).
fn query_has_token(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .any(|(k, _)| k.eq_ignore_ascii_case("access_token"))
    })
}

/// The bearer token of the one `Authorization` header.
fn bearer_token(headers: &HeaderMap) -> Result<BearerToken, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::MalformedHeader);
    }
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedHeader);
    }
    let token = token.trim_start_matches(' ');
    if !is_b64token(token) {
        return Err(AuthError::MalformedHeader);
    }
    Ok(BearerToken::new(token))
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// A value safe inside a quoted-string of `WWW-Authenticate` (RFC 6750 §3: printable ASCII,
/// no `"` or `\`).
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_parsing() {
        let mut h = HeaderMap::new();
        assert!(matches!(bearer_token(&h), Err(AuthError::MissingToken)));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc.def-_~+/=="),
        );
        assert_eq!(bearer_token(&h).unwrap().secret(), "abc.def-_~+/==");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        assert!(matches!(bearer_token(&h), Err(AuthError::MalformedHeader)));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer a b"),
        );
        assert!(matches!(bearer_token(&h), Err(AuthError::MalformedHeader)));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert!(matches!(bearer_token(&h), Err(AuthError::MalformedHeader)));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        h.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer y"));
        assert!(matches!(bearer_token(&h), Err(AuthError::MalformedHeader)));
    }

    #[test]
    fn query_tokens_are_spotted() {
        assert!(query_has_token(Some("access_token=x")));
        assert!(query_has_token(Some("a=1&ACCESS_TOKEN=x")));
        assert!(query_has_token(Some("a=1&access%5Ftoken=x")));
        assert!(!query_has_token(Some("token=x")));
        assert!(!query_has_token(None));
    }

    #[test]
    fn quoted_strings_stay_quoted() {
        assert_eq!(quoted("a\"b\\c\u{e9}\n"), "a'b'c??");
    }
}
