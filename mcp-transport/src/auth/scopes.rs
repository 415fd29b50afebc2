//! Which scopes a JSON-RPC request needs.

/// Tells the [`BearerAuth`](super::BearerAuth) layer which scopes a request needs, so that it
/// can answer `403 insufficient_scope` (with the scopes in the challenge) before the request
/// reaches the server. The runtime enforces the same scopes again on every transport.
///
/// `target` is `params.name` for `tools/call` and `prompts/get`, and `params.uri` for
/// `resources/read`. [`mcp_core::Server`] implements it from the scopes declared with
/// [`ToolDef::scopes`](mcp_core::ToolDef::scopes) (and `#[tool(scopes = …)]`); closures work
/// too:
///
/// ```
/// use mcp_transport::auth::ScopePolicy;
/// let policy = |method: &str, target: Option<&str>| match (method, target) {
///     ("tools/call", Some("deploy")) => vec!["deploy".to_string()],
///     _ => Vec::new(),
/// };
/// assert_eq!(policy.required_scopes("tools/call", Some("deploy")), ["deploy"]);
/// assert!(policy.required_scopes("tools/list", None).is_empty());
/// ```
pub trait ScopePolicy: Send + Sync + 'static {
    /// The scopes `method` on `target` needs; empty when it needs none.
    ///
    /// See [`ScopePolicy`] for an example.
    fn required_scopes(&self, method: &str, target: Option<&str>) -> Vec<String>;
}

impl<F> ScopePolicy for F
where
    F: Fn(&str, Option<&str>) -> Vec<String> + Send + Sync + 'static,
{
    fn required_scopes(&self, method: &str, target: Option<&str>) -> Vec<String> {
        self(method, target)
    }
}

impl ScopePolicy for mcp_core::Server {
    fn required_scopes(&self, method: &str, target: Option<&str>) -> Vec<String> {
        match (method, target) {
            ("tools/call", Some(name)) => self.tool_scopes(name).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// A policy that requires nothing.
///
/// # Examples
/// ```
/// use mcp_transport::auth::{NoScopes, ScopePolicy};
/// assert!(NoScopes.required_scopes("tools/call", Some("deploy")).is_empty());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoScopes;

impl ScopePolicy for NoScopes {
    fn required_scopes(&self, _method: &str, _target: Option<&str>) -> Vec<String> {
        Vec::new()
    }
}

/// The methods whose target the layer reads from the body.
pub(crate) fn target_param(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}
