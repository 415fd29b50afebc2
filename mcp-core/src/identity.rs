//! Who is calling: the authenticated identity, and what travels with each request.
//!
//! Transports attach a [`RequestMeta`] to every message: the identity an authentication layer
//! established (HTTP bearer tokens), the client's address, the session, the W3C trace context.
//! Handlers read the identity with the [`Identity`] extractor; middleware reads all of it.
//!
//! ```
//! use mcp_core::identity::Identity;
//! use mcp_core::Router;
//!
//! async fn whoami(who: Identity) -> String {
//!     format!("{} with scopes {:?}", who.subject, who.scopes)
//! }
//! let router: Router = Router::new().tool_fn("whoami", whoami);
//! # let _ = router;
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use crate::extract::{FromRequest, Rejection, RequestParts};
use crate::protocol::JsonObject;

/// An authenticated caller. Holds no credential: tokens never reach the runtime.
///
/// ```
/// use mcp_core::identity::Identity;
/// let alice = Identity::new("alice").with_scopes(["db.read"]);
/// assert!(alice.has_scope("db.read"));
/// assert!(!alice.has_scope("db.write"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// The subject (`sub` claim): stable and unique per caller.
    pub subject: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Other claims from the token, for handlers that need them.
    pub claims: JsonObject,
    /// The OAuth client the token was issued to, when known.
    pub client_id: Option<String>,
}

impl Identity {
    /// An identity with a subject and no scopes.
    ///
    /// See [`Identity`] for an example.
    pub fn new(subject: impl Into<String>) -> Self {
        Identity {
            subject: subject.into(),
            ..Default::default()
        }
    }

    /// Adds scopes.
    ///
    /// See [`Identity`] for an example.
    pub fn with_scopes<I: IntoIterator<Item = impl Into<String>>>(mut self, scopes: I) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Whether the scope was granted.
    ///
    /// See [`Identity`] for an example.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The scopes of `required` this identity lacks.
    ///
    /// ```
    /// # use mcp_core::identity::Identity;
    /// let id = Identity::new("a").with_scopes(["x"]);
    /// assert_eq!(id.missing_scopes(&["x".into(), "y".into()]), vec!["y".to_string()]);
    /// ```
    pub fn missing_scopes(&self, required: &[String]) -> Vec<String> {
        required
            .iter()
            .filter(|s| !self.has_scope(s))
            .cloned()
            .collect()
    }
}

/// What a transport knows about a request besides its body.
///
/// ```
/// use mcp_core::identity::{Identity, RequestMeta};
/// let meta = RequestMeta::default().with_identity(Identity::new("alice"));
/// assert_eq!(meta.identity.unwrap().subject, "alice");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The authenticated caller, if an authentication layer established one.
    pub identity: Option<Arc<Identity>>,
    /// The client's network address (after trusted-proxy resolution), when known.
    pub remote_addr: Option<SocketAddr>,
    /// The handshake-era session id, if any.
    pub session_id: Option<Arc<str>>,
    /// W3C `traceparent` from the transport (the request's `_meta.traceparent` wins).
    pub traceparent: Option<String>,
}

impl RequestMeta {
    /// Sets the identity.
    ///
    /// See [`RequestMeta`] for an example.
    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.identity = Some(Arc::new(identity));
        self
    }

    /// Sets the client address.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::identity::RequestMeta;
    /// let meta = RequestMeta::default().with_remote_addr("203.0.113.9:443".parse().unwrap());
    /// assert_eq!(meta.remote_addr.unwrap().port(), 443);
    /// ```
    pub fn with_remote_addr(mut self, addr: SocketAddr) -> Self {
        self.remote_addr = Some(addr);
        self
    }

    /// A stable key for per-client policies: the subject when authenticated, else the address.
    ///
    /// ```
    /// # use mcp_core::identity::{Identity, RequestMeta};
    /// assert_eq!(RequestMeta::default().with_identity(Identity::new("bob")).client_key(), "sub:bob");
    /// assert_eq!(RequestMeta::default().client_key(), "anonymous");
    /// ```
    pub fn client_key(&self) -> String {
        match (&self.identity, &self.remote_addr) {
            (Some(id), _) => format!("sub:{}", id.subject),
            (None, Some(addr)) => format!("ip:{}", addr.ip()),
            (None, None) => "anonymous".to_owned(),
        }
    }
}

impl<S> FromRequest<S> for Identity {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        parts.context.identity().cloned().ok_or_else(|| {
            Rejection::Missing("this operation needs an authenticated caller".into())
        })
    }
}

impl<S> FromRequest<S> for Option<Identity> {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        Ok(parts.context.identity().cloned())
    }
}
