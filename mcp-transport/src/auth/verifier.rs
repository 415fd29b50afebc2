//! The pluggable token check.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{AuthError, Identity};

/// A boxed, sendable future, as [`TokenVerifier`] returns.
///
/// See [`TokenVerifier`] for an example.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An access token as it came in. Its `Debug` and `Display` print `<redacted>`, so a stray
/// `tracing::debug!(?token)` cannot leak it; read it with [`BearerToken::secret`].
///
/// ```
/// use mcp_transport::auth::BearerToken;
/// let t = BearerToken::new("eyJhbGciOi.secret.stuff");
/// assert_eq!(format!("{t:?}"), "BearerToken(<redacted>)");
/// assert_eq!(t.secret(), "eyJhbGciOi.secret.stuff");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// Wraps a token.
    ///
    /// See [`BearerToken`] for an example.
    pub fn new(token: impl Into<String>) -> Self {
        BearerToken(token.into())
    }

    /// The token itself. Never log it, never forward it.
    ///
    /// See [`BearerToken`] for an example.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl fmt::Display for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Turns a bearer token into the caller's [`Identity`], or refuses it.
///
/// [`JwtVerifier`](super::JwtVerifier) checks self-contained JWTs against the issuer's JWKS;
/// implement this trait to use token introspection (RFC 7662), opaque session tokens, or to add
/// checks of your own around another verifier. Map failures to an [`AuthError`]: the
/// [`BearerAuth`](super::BearerAuth) layer turns them into the right 401/403/503 challenge.
///
/// ```
/// use mcp_transport::auth::{AuthError, BearerToken, BoxFuture, Identity, TokenVerifier};
///
/// /// Accepts exactly one static token (tests, demos).
/// struct StaticToken(String);
///
/// impl TokenVerifier for StaticToken {
///     fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>> {
///         Box::pin(async move {
///             if token.secret() == self.0 {
///                 Ok(Identity::new("demo").with_scopes(["tools.read"]))
///             } else {
///                 Err(AuthError::Rejected("unknown token".into()))
///             }
///         })
///     }
/// }
/// # let _ = StaticToken("t".into());
/// ```
pub trait TokenVerifier: Send + Sync + 'static {
    /// Checks `token` and returns who presented it.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::{verifier_fn, AuthError, BearerToken, Identity, TokenVerifier};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let verifier = verifier_fn(|token| async move {
    ///     match token.secret() {
    ///         "letmein" => Ok(Identity::new("dev")),
    ///         _ => Err(AuthError::Rejected("unknown token".into())),
    ///     }
    /// });
    /// assert_eq!(verifier.verify(&BearerToken::new("letmein")).await.unwrap().subject, "dev");
    /// let err = verifier.verify(&BearerToken::new("guess")).await.unwrap_err();
    /// assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
    /// # }
    /// ```
    fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>>;
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Arc<T> {
    fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>> {
        (**self).verify(token)
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Box<T> {
    fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>> {
        (**self).verify(token)
    }
}

/// A verifier from an async closure; see [`verifier_fn`].
///
/// See [`verifier_fn`] for an example.
pub struct FnVerifier<F>(F);

impl<F> fmt::Debug for FnVerifier<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnVerifier")
    }
}

/// A [`TokenVerifier`] from a closure taking the token (owned) and returning a future.
///
/// ```
/// use mcp_transport::auth::{verifier_fn, AuthError, Identity};
/// let verifier = verifier_fn(|token| async move {
///     match token.secret() {
///         "letmein" => Ok(Identity::new("dev")),
///         _ => Err(AuthError::Rejected("unknown token".into())),
///     }
/// });
/// # let _ = verifier;
/// ```
pub fn verifier_fn<F, Fut>(f: F) -> FnVerifier<F>
where
    F: Fn(BearerToken) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Identity, AuthError>> + Send + 'static,
{
    FnVerifier(f)
}

impl<F, Fut> TokenVerifier for FnVerifier<F>
where
    F: Fn(BearerToken) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Identity, AuthError>> + Send + 'static,
{
    fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin((self.0)(token.clone()))
    }
}

/// Adds a check of your own after another verifier: `check` sees the identity (subject,
/// scopes, all claims) and may refuse it.
///
/// ```
/// use mcp_transport::auth::{verifier_fn, AuthError, Identity, TokenVerifierExt};
/// let base = verifier_fn(|_| async { Ok(Identity::new("bob")) });
/// let only_alice = base.check(|id| {
///     if id.subject == "alice" { Ok(()) } else { Err(AuthError::Rejected("not alice".into())) }
/// });
/// # let _ = only_alice;
/// ```
pub trait TokenVerifierExt: TokenVerifier + Sized {
    /// Runs `check` on every identity this verifier accepts.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::{verifier_fn, AuthError, BearerToken, Identity, TokenVerifier, TokenVerifierExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let base = verifier_fn(|token| async move { Ok(Identity::new(token.secret())) });
    /// let only_alice = base.check(|id| {
    ///     if id.subject == "alice" { Ok(()) } else { Err(AuthError::Rejected("not alice".into())) }
    /// });
    /// assert!(only_alice.verify(&BearerToken::new("alice")).await.is_ok());
    /// assert!(only_alice.verify(&BearerToken::new("bob")).await.is_err());
    /// # }
    /// ```
    fn check<F>(self, check: F) -> Checked<Self, F>
    where
        F: Fn(&Identity) -> Result<(), AuthError> + Send + Sync + 'static,
    {
        Checked { inner: self, check }
    }
}

impl<T: TokenVerifier> TokenVerifierExt for T {}

/// A verifier followed by a check; see [`TokenVerifierExt::check`].
///
/// See [`TokenVerifierExt::check`] for an example.
pub struct Checked<V, F> {
    inner: V,
    check: F,
}

impl<V: fmt::Debug, F> fmt::Debug for Checked<V, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<V, F> TokenVerifier for Checked<V, F>
where
    V: TokenVerifier,
    F: Fn(&Identity) -> Result<(), AuthError> + Send + Sync + 'static,
{
    fn verify<'a>(&'a self, token: &'a BearerToken) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(async move {
            let identity = self.inner.verify(token).await?;
            (self.check)(&identity)?;
            Ok(identity)
        })
    }
}
