use serde::{Deserialize, Serialize};

use super::{JsonObject, ResourceContents};

/// Who a message or an annotation is for.
///
/// ```
/// # use mcp_core::protocol::Role;
/// assert_eq!(serde_json::to_string(&Role::Assistant).unwrap(), "\"assistant\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human side.
    User,
    /// The model side.
    Assistant,
}

/// Hints for clients about how to use a piece of content.
///
/// ```
/// # use mcp_core::protocol::{Annotations, Role};
/// let a = Annotations { audience: Some(vec![Role::User]), priority: Some(0.5), last_modified: None };
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"audience":["user"],"priority":0.5}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Intended readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// 0 (least) to 1 (most important).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// ISO 8601 timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// An icon for a tool, prompt, resource or implementation (2025-11-25 and later).
///
/// ```
/// # use mcp_core::protocol::Icon;
/// let i = Icon::new("https://example.com/i.png");
/// assert_eq!(serde_json::to_string(&i).unwrap(), r#"{"src":"https://example.com/i.png"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// A URL or a `data:` URI.
    pub src: String,
    /// The image type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes, like `"48x48"` or `"any"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// `light` or `dark`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
}

impl Icon {
    /// An icon from its source.
    ///
    /// ```
    /// # use mcp_core::protocol::Icon;
    /// assert!(Icon::new("data:image/png;base64,AA==").mime_type.is_none());
    /// ```
    pub fn new(src: impl Into<String>) -> Self {
        Self {
            src: src.into(),
            ..Default::default()
        }
    }
}

/// A piece of content in a tool result, prompt message or sampling message.
///
/// ```
/// use mcp_core::protocol::ContentBlock;
/// let c = ContentBlock::text("hi");
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"type":"text","text":"hi"}"#);
/// let img = ContentBlock::image("iVBORw0KGgo=", "image/png");
/// assert!(serde_json::to_string(&img).unwrap().contains("\"mimeType\":\"image/png\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentBlock {
    /// Text.
    Text(TextContent),
    /// A base64 image.
    Image(ImageContent),
    /// Base64 audio.
    Audio(AudioContent),
    /// A link to a resource the client may read.
    ResourceLink(ResourceLink),
    /// A resource's contents, inline.
    Resource(EmbeddedResource),
    /// A model's request to use a tool (sampling only).
    ToolUse(JsonObject),
    /// The result of a tool use (sampling only).
    ToolResult(JsonObject),
}

impl ContentBlock {
    /// Text content.
    ///
    /// ```
    /// # use mcp_core::protocol::ContentBlock;
    /// assert_eq!(ContentBlock::text("a").as_text(), Some("a"));
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextContent {
            text: text.into(),
            annotations: None,
            meta: None,
        })
    }

    /// Image content from base64 data.
    ///
    /// ```
    /// # use mcp_core::protocol::ContentBlock;
    /// assert!(matches!(ContentBlock::image("AA==", "image/png"), ContentBlock::Image(_)));
    /// ```
    pub fn image(data_base64: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ContentBlock::Image(ImageContent {
            data: data_base64.into(),
            mime_type: mime_type.into(),
            annotations: None,
            meta: None,
        })
    }

    /// Audio content from base64 data.
    ///
    /// ```
    /// # use mcp_core::protocol::ContentBlock;
    /// assert!(matches!(ContentBlock::audio("AA==", "audio/wav"), ContentBlock::Audio(_)));
    /// ```
    pub fn audio(data_base64: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ContentBlock::Audio(AudioContent {
            data: data_base64.into(),
            mime_type: mime_type.into(),
            annotations: None,
            meta: None,
        })
    }

    /// An embedded resource.
    ///
    /// ```
    /// # use mcp_core::protocol::{ContentBlock, ResourceContents};
    /// let c = ContentBlock::resource(ResourceContents::text("test://x", "hello"));
    /// assert!(serde_json::to_string(&c).unwrap().contains("\"type\":\"resource\""));
    /// ```
    pub fn resource(contents: ResourceContents) -> Self {
        ContentBlock::Resource(EmbeddedResource {
            resource: contents,
            annotations: None,
            meta: None,
        })
    }

    /// The text, if this is text content.
    ///
    /// ```
    /// # use mcp_core::protocol::ContentBlock;
    /// assert_eq!(ContentBlock::image("AA==", "image/png").as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

/// `{"type":"text"}` content.
///
/// ```
/// # use mcp_core::protocol::TextContent;
/// let t: TextContent = serde_json::from_str(r#"{"text":"x"}"#).unwrap();
/// assert_eq!(t.text, "x");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextContent {
    /// The text.
    pub text: String,
    /// Client hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `{"type":"image"}` content.
///
/// ```
/// # use mcp_core::protocol::ImageContent;
/// let i: ImageContent = serde_json::from_str(r#"{"data":"AA==","mimeType":"image/png"}"#).unwrap();
/// assert_eq!(i.mime_type, "image/png");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageContent {
    /// Base64 data.
    pub data: String,
    /// The image type.
    pub mime_type: String,
    /// Client hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `{"type":"audio"}` content.
///
/// ```
/// # use mcp_core::protocol::AudioContent;
/// let a: AudioContent = serde_json::from_str(r#"{"data":"AA==","mimeType":"audio/wav"}"#).unwrap();
/// assert_eq!(a.mime_type, "audio/wav");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioContent {
    /// Base64 data.
    pub data: String,
    /// The audio type.
    pub mime_type: String,
    /// Client hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `{"type":"resource_link"}` content: a resource the client can read later.
///
/// ```
/// # use mcp_core::protocol::ResourceLink;
/// let l: ResourceLink = serde_json::from_str(r#"{"uri":"file:///a","name":"a"}"#).unwrap();
/// assert_eq!(l.name, "a");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLink {
    /// The resource URI.
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
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
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

/// `{"type":"resource"}` content: a resource's contents inline.
///
/// ```
/// # use mcp_core::protocol::EmbeddedResource;
/// let e: EmbeddedResource =
///     serde_json::from_str(r#"{"resource":{"uri":"test://a","text":"x"}}"#).unwrap();
/// assert_eq!(e.resource.uri(), "test://a");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedResource {
    /// The contents.
    pub resource: ResourceContents,
    /// Client hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}
