//! OAuth 2.0 Protected Resource Metadata (RFC 9728).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::AuthConfig;
use super::AuthError;

/// The well-known path prefix of the metadata document (RFC 9728 §3).
///
/// # Examples
/// ```
/// use mcp_transport::auth::{AuthConfig, WELL_KNOWN};
/// let config = AuthConfig::new("https://mcp.example.com/mcp");
/// assert_eq!(config.resource_metadata_url().unwrap(), format!("https://mcp.example.com{WELL_KNOWN}/mcp"));
/// ```
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The protected resource metadata document, as served at
/// `/.well-known/oauth-protected-resource` (and its path-suffixed form).
///
/// ```
/// use mcp_transport::auth::{AuthConfig, ProtectedResourceMetadata};
/// let config = AuthConfig::new("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .scopes_supported(["tools.read"]);
/// let doc = ProtectedResourceMetadata::from_config(&config);
/// let json = serde_json::to_value(&doc).unwrap();
/// assert_eq!(json["resource"], "https://mcp.example.com/mcp");
/// assert_eq!(json["authorization_servers"][0], "https://auth.example.com");
/// assert_eq!(json["scopes_supported"][0], "tools.read");
/// assert_eq!(json["bearer_methods_supported"][0], "header");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: this server's canonical URI.
    pub resource: String,
    /// Authorization servers that issue tokens for this resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// Scopes clients may request for this resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How bearer tokens may be sent: only `header` (never `query` or `body`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bearer_methods_supported: Vec<String>,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Developer documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// Any other members, serialized as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ProtectedResourceMetadata {
    /// The document describing `config`.
    ///
    /// See [`ProtectedResourceMetadata`] for an example.
    pub fn from_config(config: &AuthConfig) -> Self {
        ProtectedResourceMetadata {
            resource: config.resource.clone(),
            authorization_servers: config.authorization_servers.clone(),
            scopes_supported: config.scopes_supported.clone(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: config.resource_name.clone(),
            resource_documentation: config.resource_documentation.clone(),
            extra: Map::new(),
        }
    }
}

/// The request paths the metadata document is served at: the root well-known path and, when
/// the resource has a path, the path-suffixed form (RFC 9728 §3.1).
pub(crate) fn metadata_paths(config: &AuthConfig) -> Result<Vec<String>, AuthError> {
    let url = config.resource_url()?;
    let mut paths = vec![WELL_KNOWN.to_owned()];
    let suffix = url.path().trim_end_matches('/');
    if !suffix.is_empty() {
        paths.push(format!("{WELL_KNOWN}{suffix}"));
    }
    if let Some(custom) = &config.resource_metadata_url {
        if let Ok(u) = url::Url::parse(custom) {
            if !paths.iter().any(|p| p == u.path()) {
                paths.push(u.path().to_owned());
            }
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_well_known_forms_are_served() {
        let c = AuthConfig::new("https://h.example/public/mcp");
        assert_eq!(
            metadata_paths(&c).unwrap(),
            [
                WELL_KNOWN,
                "/.well-known/oauth-protected-resource/public/mcp"
            ]
        );
        let root = AuthConfig::new("https://h.example/");
        assert_eq!(metadata_paths(&root).unwrap(), [WELL_KNOWN]);
    }
}
