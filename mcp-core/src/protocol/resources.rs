use serde::{Deserialize, Serialize};

use super::{Annotations, Icon, JsonObject};

/// A resource as listed by `resources/list`.
///
/// ```
/// # use mcp_core::protocol::Resource;
/// let r = Resource::new("test://static-text", "static-text");
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"uri":"test://static-text","name":"static-text"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The URI.
    pub uri: String,
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Client hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Icons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

impl Resource {
    /// A resource with a URI and a name.
    ///
    /// ```
    /// # use mcp_core::protocol::Resource;
    /// assert_eq!(Resource::new("a://b", "b").name, "b");
    /// ```
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            name: name.into(),
            ..Default::default()
        }
    }
}

/// A resource template (RFC 6570) as listed by `resources/templates/list`.
///
/// ```
/// # use mcp_core::protocol::ResourceTemplate;
/// let t: ResourceTemplate =
///     serde_json::from_str(r#"{"uriTemplate":"test://template/{id}/data","name":"t"}"#).unwrap();
/// assert_eq!(t.uri_template, "test://template/{id}/data");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// The URI template.
    pub uri_template: String,
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The type of every matching resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Client hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// The contents of a resource: text or base64 binary.
///
/// ```
/// # use mcp_core::protocol::ResourceContents;
/// let c = ResourceContents::text("test://a", "hello").with_mime_type("text/plain");
/// assert_eq!(serde_json::to_string(&c).unwrap(),
///            r#"{"uri":"test://a","mimeType":"text/plain","text":"hello"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResourceContents {
    /// Text contents.
    Text(TextResourceContents),
    /// Binary contents, base64.
    Blob(BlobResourceContents),
}

impl ResourceContents {
    /// Text contents.
    ///
    /// ```
    /// # use mcp_core::protocol::ResourceContents;
    /// assert_eq!(ResourceContents::text("a://b", "x").uri(), "a://b");
    /// ```
    pub fn text(uri: impl Into<String>, text: impl Into<String>) -> Self {
        ResourceContents::Text(TextResourceContents {
            uri: uri.into(),
            mime_type: None,
            text: text.into(),
            meta: None,
        })
    }

    /// Binary contents, already base64-encoded.
    ///
    /// ```
    /// # use mcp_core::protocol::ResourceContents;
    /// let b = ResourceContents::blob("a://b", "AA==");
    /// assert!(serde_json::to_string(&b).unwrap().contains("\"blob\":\"AA==\""));
    /// ```
    pub fn blob(uri: impl Into<String>, blob_base64: impl Into<String>) -> Self {
        ResourceContents::Blob(BlobResourceContents {
            uri: uri.into(),
            mime_type: None,
            blob: blob_base64.into(),
            meta: None,
        })
    }

    /// Sets the MIME type.
    ///
    /// ```
    /// # use mcp_core::protocol::ResourceContents;
    /// let c = ResourceContents::text("a://b", "x").with_mime_type("text/markdown");
    /// assert_eq!(c.mime_type(), Some("text/markdown"));
    /// ```
    pub fn with_mime_type(mut self, mime: impl Into<String>) -> Self {
        match &mut self {
            ResourceContents::Text(t) => t.mime_type = Some(mime.into()),
            ResourceContents::Blob(b) => b.mime_type = Some(mime.into()),
        }
        self
    }

    /// The URI.
    ///
    /// ```
    /// # use mcp_core::protocol::ResourceContents;
    /// assert_eq!(ResourceContents::blob("x://y", "").uri(), "x://y");
    /// ```
    pub fn uri(&self) -> &str {
        match self {
            ResourceContents::Text(t) => &t.uri,
            ResourceContents::Blob(b) => &b.uri,
        }
    }

    /// The MIME type, when known.
    ///
    /// ```
    /// # use mcp_core::protocol::ResourceContents;
    /// assert_eq!(ResourceContents::text("a://b", "").mime_type(), None);
    /// ```
    pub fn mime_type(&self) -> Option<&str> {
        match self {
            ResourceContents::Text(t) => t.mime_type.as_deref(),
            ResourceContents::Blob(b) => b.mime_type.as_deref(),
        }
    }

    /// The text, for text contents.
    ///
    /// ```
    /// # use mcp_core::protocol::ResourceContents;
    /// assert_eq!(ResourceContents::text("a://b", "t").as_text(), Some("t"));
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ResourceContents::Text(t) => Some(&t.text),
            ResourceContents::Blob(_) => None,
        }
    }
}

/// Text contents of a resource.
///
/// ```
/// # use mcp_core::protocol::TextResourceContents;
/// let t: TextResourceContents = serde_json::from_str(r#"{"uri":"a://b","text":"x"}"#).unwrap();
/// assert_eq!(t.text, "x");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextResourceContents {
    /// The URI.
    pub uri: String,
    /// The type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The text.
    pub text: String,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// Binary contents of a resource.
///
/// ```
/// # use mcp_core::protocol::BlobResourceContents;
/// let b: BlobResourceContents = serde_json::from_str(r#"{"uri":"a://b","blob":"AA=="}"#).unwrap();
/// assert_eq!(b.blob, "AA==");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobResourceContents {
    /// The URI.
    pub uri: String,
    /// The type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Base64 data.
    pub blob: String,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `resources/list` result.
///
/// ```
/// # use mcp_core::protocol::ListResourcesResult;
/// let r: ListResourcesResult = serde_json::from_str(r#"{"resources":[]}"#).unwrap();
/// assert!(r.resources.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResourcesResult {
    /// This page.
    pub resources: Vec<Resource>,
    /// The next page's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `resources/templates/list` result.
///
/// ```
/// # use mcp_core::protocol::ListResourceTemplatesResult;
/// let r: ListResourceTemplatesResult = serde_json::from_str(r#"{"resourceTemplates":[]}"#).unwrap();
/// assert!(r.resource_templates.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResourceTemplatesResult {
    /// This page.
    pub resource_templates: Vec<ResourceTemplate>,
    /// The next page's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `resources/read`, `resources/subscribe` and `resources/unsubscribe` parameters.
///
/// ```
/// # use mcp_core::protocol::ReadResourceParams;
/// let p: ReadResourceParams = serde_json::from_str(r#"{"uri":"test://static-text"}"#).unwrap();
/// assert_eq!(p.uri, "test://static-text");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResourceParams {
    /// The resource.
    pub uri: String,
    /// Answers to an `input_required` result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<JsonObject>,
    /// The sealed state of an `input_required` result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `resources/read` result.
///
/// ```
/// # use mcp_core::protocol::{ReadResourceResult, ResourceContents};
/// let r = ReadResourceResult { contents: vec![ResourceContents::text("a://b", "x")] };
/// assert_eq!(r.contents.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResourceResult {
    /// One or more contents.
    pub contents: Vec<ResourceContents>,
}
