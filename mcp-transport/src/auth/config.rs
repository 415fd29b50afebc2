//! What the resource server accepts and advertises.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::AuthError;

/// An asymmetric JWS signing algorithm the resource server may accept.
///
/// There is deliberately no `none` and no `HS*` variant: a resource server that verifies with
/// public keys must never accept a MAC (an `HS256` token "signed" with the public key is the
/// classic algorithm-confusion attack), nor an unsigned token.
///
/// ```
/// use mcp_transport::auth::JwsAlgorithm;
/// assert_eq!("ES256".parse::<JwsAlgorithm>().unwrap(), JwsAlgorithm::ES256);
/// assert!("none".parse::<JwsAlgorithm>().is_err());
/// assert!("HS256".parse::<JwsAlgorithm>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl JwsAlgorithm {
    /// Every supported algorithm: the default allowlist.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::{AuthConfig, JwsAlgorithm};
    /// // Every algorithm but the RSA-PKCS1 ones:
    /// let modern = JwsAlgorithm::ALL.into_iter().filter(|a| !a.as_str().starts_with("RS"));
    /// let config = AuthConfig::new("https://mcp.example.com/mcp").allowed_algs(modern);
    /// assert!(!config.allowed_algs.contains(&JwsAlgorithm::RS256));
    /// assert_eq!(JwsAlgorithm::ES256.as_str(), "ES256");
    /// ```
    pub const ALL: [JwsAlgorithm; 9] = [
        JwsAlgorithm::RS256,
        JwsAlgorithm::RS384,
        JwsAlgorithm::RS512,
        JwsAlgorithm::PS256,
        JwsAlgorithm::PS384,
        JwsAlgorithm::PS512,
        JwsAlgorithm::ES256,
        JwsAlgorithm::ES384,
        JwsAlgorithm::EdDSA,
    ];

    /// The `alg` header value.
    ///
    /// See [`JwsAlgorithm::ALL`] for an example.
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlgorithm::RS256 => "RS256",
            JwsAlgorithm::RS384 => "RS384",
            JwsAlgorithm::RS512 => "RS512",
            JwsAlgorithm::PS256 => "PS256",
            JwsAlgorithm::PS384 => "PS384",
            JwsAlgorithm::PS512 => "PS512",
            JwsAlgorithm::ES256 => "ES256",
            JwsAlgorithm::ES384 => "ES384",
            JwsAlgorithm::EdDSA => "EdDSA",
        }
    }

    pub(crate) fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as A;
        match self {
            JwsAlgorithm::RS256 => A::RS256,
            JwsAlgorithm::RS384 => A::RS384,
            JwsAlgorithm::RS512 => A::RS512,
            JwsAlgorithm::PS256 => A::PS256,
            JwsAlgorithm::PS384 => A::PS384,
            JwsAlgorithm::PS512 => A::PS512,
            JwsAlgorithm::ES256 => A::ES256,
            JwsAlgorithm::ES384 => A::ES384,
            JwsAlgorithm::EdDSA => A::EdDSA,
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwsAlgorithm {
    type Err = AuthError;

    /// Parses an `alg` value, case-sensitively (RFC 7515 §4.1.1).
    fn from_str(s: &str) -> Result<Self, AuthError> {
        JwsAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| AuthError::AlgorithmNotAllowed(AuthError::sanitized(s)))
    }
}

/// Settings of the OAuth 2.1 resource server: what it is (its canonical URI), who may issue
/// tokens for it, how tokens are checked, and what it advertises in its RFC 9728 metadata.
///
/// ```
/// use std::time::Duration;
/// use mcp_transport::auth::AuthConfig;
///
/// let config = AuthConfig::new("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_url("https://auth.example.com/.well-known/jwks.json")
///     .scopes_supported(["tools.read", "secrets.read"])
///     .leeway(Duration::from_secs(30));
/// assert_eq!(config.issuer(), Some("https://auth.example.com"));
/// assert_eq!(config.audiences(), ["https://mcp.example.com/mcp"]);
/// assert_eq!(
///     config.resource_metadata_url().unwrap(),
///     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
/// );
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The canonical URI of this MCP server (RFC 8707 §2, RFC 9728 `resource`), e.g.
    /// `https://mcp.example.com/mcp`: absolute, no fragment, no query.
    pub resource: String,
    /// Authorization servers that issue tokens for this resource (RFC 9728
    /// `authorization_servers`; MCP requires at least one).
    pub authorization_servers: Vec<String>,
    /// Scopes advertised as `scopes_supported` in the metadata document.
    pub scopes_supported: Vec<String>,
    /// Scopes to ask for in the `scope` parameter of a 401 challenge (none: no parameter).
    pub challenge_scopes: Vec<String>,
    /// The expected `iss` claim; `None` means the first authorization server.
    pub issuer: Option<String>,
    /// Accepted `aud` values; empty means exactly the resource URI.
    pub audience: Vec<String>,
    /// Where the issuer publishes its JSON Web Key Set.
    pub jwks_url: Option<String>,
    /// Clock skew tolerated for `exp` and `nbf` (30 s).
    pub leeway: Duration,
    /// Accepted signing algorithms (all of [`JwsAlgorithm::ALL`]).
    pub allowed_algs: Vec<JwsAlgorithm>,
    /// If set, the token's `typ` header must equal this (case-insensitively, RFC 9068 uses
    /// `at+jwt`).
    pub required_typ: Option<String>,
    /// How long a fetched key set is used before it is refreshed (10 min).
    pub jwks_ttl: Duration,
    /// The least time between two key-set fetches, whatever triggers them: a token with an
    /// unknown `kid`, a stale set, a failed fetch (30 s).
    pub jwks_cooldown: Duration,
    /// How long past its TTL a key set stays usable while the JWKS endpoint cannot be reached
    /// (1 h).
    pub jwks_grace: Duration,
    /// The deadline of one key-set fetch (5 s).
    pub jwks_fetch_timeout: Duration,
    /// Allow fetching the key set over plain `http://` from a non-loopback host (off: only
    /// loopback hosts may use `http://`).
    pub allow_insecure_jwks: bool,
    /// Scope hierarchy: a granted key scope implies the listed scopes too.
    pub implied_scopes: BTreeMap<String, Vec<String>>,
    /// The largest request body buffered to check scopes (4 MiB, as the HTTP transport).
    pub max_body_bytes: usize,
    /// The deadline for reading a request body that is checked for scopes (30 s).
    pub body_read_timeout: Duration,
    /// A human-readable `resource_name` for the metadata document.
    pub resource_name: Option<String>,
    /// A `resource_documentation` URL for the metadata document.
    pub resource_documentation: Option<String>,
    /// Overrides the metadata URL announced in challenges (default: the path-suffixed
    /// well-known URL derived from [`AuthConfig::resource`]).
    pub resource_metadata_url: Option<String>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("resource", &self.resource)
            .field("authorization_servers", &self.authorization_servers)
            .field("issuer", &self.issuer())
            .field("audience", &self.audiences())
            .field("jwks_url", &self.jwks_url)
            .field("allowed_algs", &self.allowed_algs)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// A configuration for the resource at `resource`, its canonical URI.
    ///
    /// See [`AuthConfig`] for an example.
    pub fn new(resource: impl Into<String>) -> Self {
        AuthConfig {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            challenge_scopes: Vec::new(),
            issuer: None,
            audience: Vec::new(),
            jwks_url: None,
            leeway: Duration::from_secs(30),
            allowed_algs: JwsAlgorithm::ALL.to_vec(),
            required_typ: None,
            jwks_ttl: Duration::from_secs(600),
            jwks_cooldown: Duration::from_secs(30),
            jwks_grace: Duration::from_secs(3600),
            jwks_fetch_timeout: Duration::from_secs(5),
            allow_insecure_jwks: false,
            implied_scopes: BTreeMap::new(),
            max_body_bytes: 4 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            resource_name: None,
            resource_documentation: None,
            resource_metadata_url: None,
        }
    }

    /// Adds an authorization server.
    ///
    /// See [`AuthConfig`] for an example.
    pub fn authorization_server(mut self, url: impl Into<String>) -> Self {
        self.authorization_servers.push(url.into());
        self
    }

    /// Sets the advertised scopes.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_transport::auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .with_issuer("https://auth.example.com/realms/mcp")
    ///     .with_audience("mcp-api")
    ///     .scopes_supported(["tools.read", "tools.write"])
    ///     .challenge_scopes(["tools.read"])
    ///     .jwks_url("https://auth.example.com/realms/mcp/jwks")
    ///     .leeway(Duration::from_secs(30))
    ///     .required_typ("at+jwt")
    ///     .jwks_timing(Duration::from_secs(3600), Duration::from_secs(30), Duration::from_secs(86_400))
    ///     .resource_name("Example MCP");
    /// assert_eq!(config.issuer(), Some("https://auth.example.com/realms/mcp"));
    /// assert_eq!(config.audiences(), ["mcp-api"]);
    ///
    /// let plain = AuthConfig::new("https://mcp.example.com/mcp").authorization_server("https://auth.example.com");
    /// assert_eq!(plain.issuer(), Some("https://auth.example.com"));
    /// assert_eq!(plain.audiences(), ["https://mcp.example.com/mcp"]);
    /// ```
    pub fn scopes_supported<I: IntoIterator<Item = impl Into<String>>>(mut self, s: I) -> Self {
        self.scopes_supported = s.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the scopes a 401 challenge asks for.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn challenge_scopes<I: IntoIterator<Item = impl Into<String>>>(mut self, s: I) -> Self {
        self.challenge_scopes = s.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the expected issuer (`iss`).
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Adds an accepted audience (`aud`). Without any, the resource URI is the audience.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn with_audience(mut self, aud: impl Into<String>) -> Self {
        self.audience.push(aud.into());
        self
    }

    /// Sets the JWKS URL.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// Sets the clock-skew leeway.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Replaces the algorithm allowlist.
    ///
    /// See [`JwsAlgorithm::ALL`] for an example.
    pub fn allowed_algs<I: IntoIterator<Item = JwsAlgorithm>>(mut self, algs: I) -> Self {
        self.allowed_algs = algs.into_iter().collect();
        self
    }

    /// Requires a `typ` header (e.g. `at+jwt`).
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn required_typ(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Sets the key-set TTL, the refresh cooldown and the grace period at once.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn jwks_timing(mut self, ttl: Duration, cooldown: Duration, grace: Duration) -> Self {
        self.jwks_ttl = ttl;
        self.jwks_cooldown = cooldown;
        self.jwks_grace = grace;
        self
    }

    /// Allows `http://` key-set URLs on non-loopback hosts. Only for networks you trust:
    /// whoever can alter that traffic can mint tokens.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::auth::{AuthConfig, JwtVerifier};
    /// // Keys served over plain HTTP inside a private network:
    /// let config = AuthConfig::new("https://mcp.internal/mcp")
    ///     .authorization_server("https://auth.internal")
    ///     .jwks_url("http://keys.internal/jwks.json")
    ///     .allow_insecure_jwks(true);
    /// assert!(JwtVerifier::new(&config).is_ok());
    /// ```
    pub fn allow_insecure_jwks(mut self, allow: bool) -> Self {
        self.allow_insecure_jwks = allow;
        self
    }

    /// Declares that a granted `broad` scope implies each of `narrower` (transitively), as the
    /// 2026-07-28 authorization chapter requires servers to honour.
    ///
    /// ```
    /// # use mcp_transport::auth::AuthConfig;
    /// let c = AuthConfig::new("https://mcp.example.com").scope_implies("files", ["files.read"]);
    /// assert_eq!(c.expand_scopes(vec!["files".into()]), ["files", "files.read"]);
    /// ```
    pub fn scope_implies<I: IntoIterator<Item = impl Into<String>>>(
        mut self,
        broad: impl Into<String>,
        narrower: I,
    ) -> Self {
        self.implied_scopes
            .entry(broad.into())
            .or_default()
            .extend(narrower.into_iter().map(Into::into));
        self
    }

    /// Sets the metadata document's `resource_name`.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The expected issuer: [`AuthConfig::issuer`] if set, else the first authorization server.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer
            .as_deref()
            .or(self.authorization_servers.first().map(String::as_str))
    }

    /// The accepted audiences: [`AuthConfig::audience`], or else the resource URI.
    ///
    /// See [`AuthConfig::scopes_supported`] for an example.
    pub fn audiences(&self) -> Vec<&str> {
        if self.audience.is_empty() {
            vec![self.resource.as_str()]
        } else {
            self.audience.iter().map(String::as_str).collect()
        }
    }

    /// `scopes` plus every scope they imply, without duplicates, in a stable order.
    ///
    /// See [`AuthConfig::scope_implies`] for an example.
    pub fn expand_scopes(&self, scopes: Vec<String>) -> Vec<String> {
        if self.implied_scopes.is_empty() {
            return scopes;
        }
        let mut out = Vec::with_capacity(scopes.len());
        let mut todo = scopes;
        todo.reverse();
        while let Some(s) = todo.pop() {
            if out.contains(&s) {
                continue;
            }
            if let Some(more) = self.implied_scopes.get(&s) {
                todo.extend(more.iter().rev().cloned());
            }
            out.push(s);
        }
        out
    }

    /// The URL of the RFC 9728 metadata document: the override if set, else the well-known
    /// URL with the resource's path appended (`https://h/.well-known/oauth-protected-resource/mcp`
    /// for `https://h/mcp`).
    ///
    /// See [`WELL_KNOWN`](super::WELL_KNOWN) for an example.
    pub fn resource_metadata_url(&self) -> Result<String, AuthError> {
        if let Some(u) = &self.resource_metadata_url {
            return Ok(u.clone());
        }
        let url = self.resource_url()?;
        let path = url.path().trim_end_matches('/');
        let origin = url.origin().ascii_serialization();
        Ok(format!("{origin}{}{path}", super::metadata::WELL_KNOWN))
    }

    /// The resource URI, parsed and checked (absolute, `https` or loopback `http`, no fragment).
    pub(crate) fn resource_url(&self) -> Result<url::Url, AuthError> {
        let url = url::Url::parse(&self.resource).map_err(|e| {
            AuthError::InvalidConfig(format!("resource {:?} is not a URL: {e}", self.resource))
        })?;
        if url.fragment().is_some() {
            return Err(AuthError::InvalidConfig(
                "the resource URI must not have a fragment".into(),
            ));
        }
        if url.query().is_some() {
            return Err(AuthError::InvalidConfig(
                "the resource URI must not have a query".into(),
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => {
                return Err(AuthError::InvalidConfig(
                    "the resource URI must use https (or http on a loopback host)".into(),
                ))
            }
        }
        if url.host().is_none() {
            return Err(AuthError::InvalidConfig(
                "the resource URI needs a host".into(),
            ));
        }
        Ok(url)
    }

    /// Checks the settings a JWT verifier needs.
    pub(crate) fn validate_for_jwt(&self) -> Result<(), AuthError> {
        self.resource_url()?;
        if self.issuer().is_none() {
            return Err(AuthError::InvalidConfig(
                "set an issuer or an authorization server".into(),
            ));
        }
        if self.allowed_algs.is_empty() {
            return Err(AuthError::InvalidConfig(
                "the algorithm allowlist is empty".into(),
            ));
        }
        let jwks = self
            .jwks_url
            .as_deref()
            .ok_or_else(|| AuthError::InvalidConfig("set jwks_url".into()))?;
        let url = url::Url::parse(jwks)
            .map_err(|e| AuthError::InvalidConfig(format!("jwks_url is not a URL: {e}")))?;
        match url.scheme() {
            "https" => Ok(()),
            "http" if is_loopback(&url) || self.allow_insecure_jwks => Ok(()),
            "http" => Err(AuthError::InvalidConfig(
                "jwks_url uses plain http on a non-loopback host; use https (or allow_insecure_jwks)"
                    .into(),
            )),
            other => Err(AuthError::InvalidConfig(format!(
                "jwks_url has unsupported scheme {other:?}"
            ))),
        }
    }
}

/// Whether a URL's host is a loopback name or address.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Two resource or audience URIs name the same resource: equal after URL normalization
/// (scheme and host case, default port), ignoring one trailing slash.
pub(crate) fn same_resource(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(x), Ok(y)) => {
            x.scheme() == y.scheme()
                && x.host() == y.host()
                && x.port_or_known_default() == y.port_or_known_default()
                && x.path().trim_end_matches('/') == y.path().trim_end_matches('/')
                && x.query() == y.query()
                && x.fragment().is_none()
                && y.fragment().is_none()
                && x.username() == y.username()
                && x.password() == y.password()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_url_inserts_the_well_known_segment() {
        let c = AuthConfig::new("https://MCP.example.com/public/mcp/");
        assert_eq!(
            c.resource_metadata_url().unwrap(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
        );
        let root = AuthConfig::new("https://mcp.example.com");
        assert_eq!(
            root.resource_metadata_url().unwrap(),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
        let port = AuthConfig::new("http://127.0.0.1:8080/mcp");
        assert_eq!(
            port.resource_metadata_url().unwrap(),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn bad_resources_are_refused() {
        for r in [
            "mcp.example.com",
            "https://mcp.example.com#frag",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com/mcp?x=1",
        ] {
            assert!(AuthConfig::new(r).resource_url().is_err(), "{r}");
        }
    }

    #[test]
    fn resources_compare_after_normalization() {
        assert!(same_resource(
            "https://MCP.Example.com:443/mcp",
            "https://mcp.example.com/mcp"
        ));
        assert!(same_resource(
            "https://mcp.example.com/",
            "https://mcp.example.com"
        ));
        assert!(!same_resource(
            "https://mcp.example.com/mcp",
            "https://mcp.example.com/other"
        ));
        assert!(!same_resource(
            "https://mcp.example.com.evil.com/mcp",
            "https://mcp.example.com/mcp"
        ));
        assert!(!same_resource(
            "http://mcp.example.com/mcp",
            "https://mcp.example.com/mcp"
        ));
    }

    #[test]
    fn implied_scopes_expand_transitively_once() {
        let c = AuthConfig::new("https://x.example")
            .scope_implies("admin", ["write"])
            .scope_implies("write", ["read"])
            .scope_implies("read", ["admin"]);
        assert_eq!(
            c.expand_scopes(vec!["admin".into()]),
            ["admin", "write", "read"]
        );
    }

    #[test]
    fn algorithms_parse_case_sensitively() {
        assert!("rs256".parse::<JwsAlgorithm>().is_err());
        assert!("HS512".parse::<JwsAlgorithm>().is_err());
        assert_eq!(
            "EdDSA".parse::<JwsAlgorithm>().unwrap(),
            JwsAlgorithm::EdDSA
        );
    }
}
