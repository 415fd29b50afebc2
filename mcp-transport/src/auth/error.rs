//! Why a request was not authenticated or authorized.

use http::StatusCode;

/// Why a bearer token (or the request carrying it) was refused.
///
/// Every message is safe to show to the client and to log: none contains the token, and the
/// parts that come from the token (an algorithm name, a key id) are sanitized and shortened.
///
/// ```
/// use mcp_transport::auth::AuthError;
/// let e = AuthError::Expired;
/// assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(e.oauth_error(), Some("invalid_token"));
/// assert_eq!(e.to_string(), "the access token has expired");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("no bearer token in the Authorization header")]
    MissingToken,
    /// An access token arrived in the query string (RFC 6750 §2.3), which MCP forbids.
    #[error("access tokens are accepted only in the Authorization header (Bearer scheme), never in the query string")]
    TokenInQuery,
    /// The `Authorization` header is not one well-formed `Bearer` credential.
    #[error("the Authorization header must be a single 'Bearer <token>' credential")]
    MalformedHeader,
    /// The token is not a well-formed JWS compact serialization or its parts do not parse.
    #[error("malformed access token: {0}")]
    Malformed(&'static str),
    /// The `alg` of the token is not in the allowlist (`none` and `HS*` never are).
    #[error("token signing algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    /// The token's `typ` header is not the one required.
    #[error("token type {0:?} is not accepted")]
    WrongType(String),
    /// No key of the key set matches the token's `kid` and algorithm.
    #[error("no signing key matches the token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("the access token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by an unexpected issuer")]
    WrongIssuer,
    /// `aud` does not name this resource server (RFC 8707).
    #[error("the token was not issued for this resource (audience mismatch)")]
    WrongAudience,
    /// A claim the resource server needs is absent or has the wrong type.
    #[error("the token lacks a valid {0:?} claim")]
    MissingClaim(&'static str),
    /// The caller is authenticated but lacks scopes the operation needs.
    #[error("insufficient scope: requires {}", required.join(" "))]
    InsufficientScope {
        /// The scopes the operation needs.
        required: Vec<String>,
    },
    /// A custom verifier refused the token; the message is shown to the client.
    #[error("{0}")]
    Rejected(String),
    /// The keys (or the introspection endpoint) needed to check the token cannot be reached.
    #[error("the token cannot be verified right now: {0}")]
    Unavailable(String),
    /// The configuration is invalid.
    #[error("invalid auth configuration: {0}")]
    InvalidConfig(String),
}

impl AuthError {
    /// The HTTP status to answer with: 401 for anything wrong with the credential, 403 for
    /// missing scopes, 503 when the verifier's backend is down, 500 for a configuration error.
    ///
    /// See [`AuthError`] for an example.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::InvalidConfig(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 `error` code for the `WWW-Authenticate` challenge, if any. A request with
    /// no credential at all gets a challenge without one (RFC 6750 §3.1).
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::AuthError;
    /// // No credential at all: a bare challenge, as RFC 6750 asks.
    /// assert_eq!(AuthError::MissingToken.oauth_error(), None);
    /// assert_eq!(AuthError::MissingToken.status(), http::StatusCode::UNAUTHORIZED);
    /// assert_eq!(AuthError::Unavailable("JWKS down".into()).status(), http::StatusCode::SERVICE_UNAVAILABLE);
    /// ```
    pub fn oauth_error(&self) -> Option<&'static str> {
        match self {
            AuthError::MissingToken | AuthError::Unavailable(_) | AuthError::InvalidConfig(_) => {
                None
            }
            AuthError::TokenInQuery | AuthError::MalformedHeader => Some("invalid_request"),
            AuthError::InsufficientScope { .. } => Some("insufficient_scope"),
            _ => Some("invalid_token"),
        }
    }

    /// A shortened, printable copy of a value taken from an untrusted token header, for error
    /// messages.
    pub(crate) fn sanitized(value: &str) -> String {
        value
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
            .take(32)
            .collect()
    }
}
