//! OAuth 2.1 resource server for the HTTP transport: bearer tokens in, identities out.
//!
//! An MCP server reached over HTTP may require an access token issued by an authorization
//! server (the MCP authorization chapter, 2025-11-25 and 2026-07-28). This module makes a
//! server one such *resource server*:
//!
//! - [`BearerAuthLayer`] wraps any HTTP tower service — normally
//!   [`McpService`](crate::http::McpService) — serves the RFC 9728 metadata document, answers
//!   requests without a valid token with `401` and a `WWW-Authenticate` challenge, answers
//!   calls lacking scopes with `403 insufficient_scope`, strips the token, and hands the caller's
//!   `Arc<Identity>` inward in the request extensions.
//! - [`JwtVerifier`] checks JWT access tokens against the issuer's JWKS (cached, refreshed at
//!   most once per cooldown on an unknown `kid`, kept through outages for a grace period):
//!   signature, algorithm allowlist, `iss`, `aud` (this resource, RFC 8707), `exp`, `nbf`.
//! - [`TokenVerifier`] is the seam for anything else: introspection, opaque tokens, extra
//!   checks ([`TokenVerifierExt::check`], [`JwtVerifier::validate_claims`]).
//!
//! Handlers read the caller with the [`Identity`] extractor; scopes are declared with
//! [`ToolDef::scopes`](mcp_core::ToolDef::scopes) and enforced by the runtime on every transport
//! (and early, with HTTP 403, by this layer when given the server as its [`ScopePolicy`]).
//!
//! ```no_run
//! use mcp_core::identity::Identity;
//! use mcp_core::{Router, Server, ToolDef};
//! use mcp_transport::auth::{AuthConfig, BearerAuthLayer};
//! use mcp_transport::http::{HttpConfig, McpService};
//! use mcp_transport::auth::Layer as _;
//!
//! async fn whoami(who: Identity) -> String {
//!     format!("{} ({})", who.subject, who.scopes.join(" "))
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let rt = tokio::runtime::Runtime::new()?; let _g = rt.enter();
//! let router: Router = Router::new().tool(ToolDef::new("whoami", whoami).description("Who am I?"));
//! let server = Server::new(router);
//! let config = AuthConfig::new("https://mcp.example.com/mcp")
//!     .authorization_server("https://auth.example.com")
//!     .jwks_url("http://127.0.0.1:9000/.well-known/jwks.json");
//! let service = BearerAuthLayer::jwt(config)?
//!     .scope_policy(server.clone())
//!     .layer(McpService::new(server, HttpConfig::default()));
//! // Serve `service` with hyper (see the `oauth-server` example).
//! # let _ = service; Ok(()) }
//! ```
//!
//! Tokens are never logged: [`BearerToken`] redacts itself in `Debug` and `Display`, error
//! messages never quote a token, and spans carry only the subject and client id. See
//! `docs/security.md` for the whole story.

mod config;
mod error;
mod jwks;
mod jwt;
mod layer;
mod metadata;
mod scopes;
mod verifier;

pub use config::{AuthConfig, JwsAlgorithm};
pub use error::AuthError;
pub use jwks::{FetchError, HyperJwksFetcher, JwksFetcher};
pub use jwt::JwtVerifier;
pub use layer::{AuthBody, AuthResponseBody, BearerAuth, BearerAuthLayer, UNAUTHORIZED_CODE};
pub use metadata::{ProtectedResourceMetadata, WELL_KNOWN};
pub use scopes::{NoScopes, ScopePolicy};
pub use verifier::{
    verifier_fn, BearerToken, BoxFuture, Checked, FnVerifier, TokenVerifier, TokenVerifierExt,
};

/// The authenticated caller, as handed to the runtime (re-exported from `mcp-core`).
pub use mcp_core::identity::Identity;

/// The tower `Layer` trait, re-exported so `BearerAuthLayer::layer` needs no extra dependency.
pub use tower_layer::Layer;
