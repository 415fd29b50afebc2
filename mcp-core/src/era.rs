//! Which protocol era a message belongs to, and the 2026-07-28 request envelope.
//!
//! A request *claims* the 2026-07-28 revision exactly when `params._meta` is an object holding
//! `io.modelcontextprotocol/protocolVersion`. The prefix is reserved, so handshake-era traffic
//! never carries it; a `progressToken` alone is no claim.
//!
//! ```
//! use mcp_core::era::{claims_modern, Envelope};
//! let params = serde_json::json!({"_meta": {
//!     "io.modelcontextprotocol/protocolVersion": "2026-07-28",
//!     "io.modelcontextprotocol/clientCapabilities": {}
//! }});
//! assert!(claims_modern(Some(&params)));
//! let env = Envelope::from_params(Some(&params)).unwrap();
//! assert_eq!(env.protocol_version, "2026-07-28");
//! ```

use serde_json::Value;

use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::{meta, ClientCapabilities, Implementation, LoggingLevel, ProtocolVersion};

/// The era a request is served in.
///
/// ```
/// use mcp_core::era::Era;
/// use mcp_core::protocol::ProtocolVersion;
/// assert!(Era::Modern.is_modern());
/// assert_eq!(Era::Handshake(ProtocolVersion::V2025_06_18).version(), ProtocolVersion::V2025_06_18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// A handshake-era session at the negotiated version.
    Handshake(ProtocolVersion),
    /// The stateless 2026-07-28 revision.
    Modern,
}

impl Era {
    /// Whether this is the stateless revision.
    ///
    /// See [`Era`] for an example.
    pub fn is_modern(self) -> bool {
        matches!(self, Era::Modern)
    }

    /// The protocol version.
    ///
    /// See [`Era`] for an example.
    pub fn version(self) -> ProtocolVersion {
        match self {
            Era::Handshake(v) => v,
            Era::Modern => ProtocolVersion::V2026_07_28,
        }
    }

    /// Whether a feature introduced at `since` is available.
    ///
    /// ```
    /// # use mcp_core::era::Era;
    /// # use mcp_core::protocol::ProtocolVersion;
    /// assert!(!Era::Handshake(ProtocolVersion::V2025_03_26).at_least(ProtocolVersion::V2025_06_18));
    /// ```
    pub fn at_least(self, since: ProtocolVersion) -> bool {
        self.version() >= since
    }
}

/// Whether these request params claim the 2026-07-28 revision.
///
/// # Examples
/// ```
/// use mcp_core::era::claims_modern;
/// use serde_json::json;
/// let modern = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}});
/// assert!(claims_modern(Some(&modern)));
/// assert!(!claims_modern(Some(&json!({"name": "echo"}))));
/// assert!(!claims_modern(None));
/// ```
pub fn claims_modern(params: Option<&Value>) -> bool {
    params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(meta::PROTOCOL_VERSION))
}

/// The part of request params that decides the era: `{"_meta": …}` alone, or `None` when
/// the params have no `_meta` (or are not an object). The other members are skipped, not
/// built, so this is cheap enough for every request; the result suits [`claims_modern`] and
/// [`Envelope::from_params`].
///
/// # Examples
/// ```
/// use mcp_core::era::{claims_modern, meta_only};
/// let raw = serde_json::value::RawValue::from_string(
///     r#"{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":1}}"#.to_owned(),
/// ).unwrap();
/// let meta = meta_only(&raw).unwrap();
/// assert_eq!(meta, serde_json::json!({"_meta": {"progressToken": 1}}));
/// assert!(!claims_modern(Some(&meta)));
/// ```
pub fn meta_only(params: &serde_json::value::RawValue) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "_meta")]
        meta: Option<Value>,
    }
    let meta = serde_json::from_str::<Probe>(params.get()).ok()?.meta?;
    let mut only = serde_json::Map::with_capacity(1);
    only.insert("_meta".to_owned(), meta);
    Some(Value::Object(only))
}

/// The `_meta` envelope every 2026-07-28 request carries.
///
/// # Examples
/// ```
/// use mcp_core::era::Envelope;
/// use mcp_core::protocol::LoggingLevel;
/// let envelope = Envelope {
///     protocol_version: "2026-07-28".into(),
///     log_level: Some(LoggingLevel::Info),
///     ..Envelope::default()
/// };
/// assert!(envelope.client_info.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// The claimed version string (not yet checked against what we serve).
    pub protocol_version: String,
    /// What the client can do for this one request.
    pub client_capabilities: ClientCapabilities,
    /// Who the client says it is.
    pub client_info: Option<Implementation>,
    /// The least severe log level the client wants; `None` means no logs.
    pub log_level: Option<LoggingLevel>,
}

fn invalid(msg: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorCode::INVALID_PARAMS, msg)
}

impl Envelope {
    /// Reads the envelope: rung 1 (required keys) and rung 5 (a valid `logLevel`) of the
    /// validation ladder. The version itself is checked by the caller (rung 3).
    ///
    /// ```
    /// use mcp_core::era::Envelope;
    /// let missing = serde_json::json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}});
    /// assert_eq!(Envelope::from_params(Some(&missing)).unwrap_err().code.0, -32602);
    /// ```
    pub fn from_params(params: Option<&Value>) -> Result<Envelope, ErrorObject> {
        let meta = params
            .and_then(|p| p.get("_meta"))
            .and_then(Value::as_object)
            .ok_or_else(|| {
                invalid(format!(
                "params._meta must be an object carrying the required '{}' and '{}' envelope keys",
                meta::PROTOCOL_VERSION,
                meta::CLIENT_CAPABILITIES
            ))
            })?;
        let mut missing = Vec::new();
        let version = meta.get(meta::PROTOCOL_VERSION);
        let caps = meta.get(meta::CLIENT_CAPABILITIES);
        if version.is_none() {
            missing.push(meta::PROTOCOL_VERSION);
        }
        if caps.is_none() {
            missing.push(meta::CLIENT_CAPABILITIES);
        }
        if !missing.is_empty() {
            return Err(invalid(format!(
                "params._meta is missing the required envelope key(s): {}",
                missing.join(", ")
            )));
        }
        let protocol_version = version
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("'{}' must be a string", meta::PROTOCOL_VERSION)))?
            .to_owned();
        let client_capabilities = caps
            .filter(|c| c.is_object())
            .map(ClientCapabilities::deserialize_lenient)
            .ok_or_else(|| invalid(format!("'{}' must be an object", meta::CLIENT_CAPABILITIES)))?
            .map_err(|e| invalid(format!("'{}' is malformed: {e}", meta::CLIENT_CAPABILITIES)))?;
        let client_info = meta
            .get(meta::CLIENT_INFO)
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let log_level = match meta.get(meta::LOG_LEVEL) {
            None => None,
            Some(v) => Some(serde_json::from_value::<LoggingLevel>(v.clone()).map_err(|_| {
                invalid(format!(
                    "'{}' must be one of debug, info, notice, warning, error, critical, alert, emergency; got {v}",
                    meta::LOG_LEVEL
                ))
            })?),
        };
        Ok(Envelope {
            protocol_version,
            client_capabilities,
            client_info,
            log_level,
        })
    }

    /// The claimed version, when it is one we serve in the modern era (rung 3).
    ///
    /// ```
    /// use mcp_core::era::Envelope;
    /// let env = Envelope { protocol_version: "2099-01-01".into(), ..Default::default() };
    /// let err = env.supported_version().unwrap_err();
    /// assert_eq!(err.code.0, -32022);
    /// assert_eq!(err.data.unwrap()["requested"], "2099-01-01");
    /// ```
    pub fn supported_version(&self) -> Result<ProtocolVersion, ErrorObject> {
        match self.protocol_version.parse::<ProtocolVersion>() {
            Ok(v) if v.is_modern() => Ok(v),
            _ => Err(unsupported_version(&self.protocol_version)),
        }
    }
}

/// The `-32022` error for a version we do not serve in the modern era.
///
/// ```
/// let e = mcp_core::era::unsupported_version("1999-01-01");
/// assert_eq!(e.data.unwrap()["supported"][0], "2026-07-28");
/// ```
pub fn unsupported_version(requested: &str) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::UNSUPPORTED_VERSION,
        "Unsupported protocol version",
    )
    .with_data(serde_json::json!({
        "supported": ProtocolVersion::MODERN.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "requested": requested,
    }))
}

impl ClientCapabilities {
    /// Capabilities from JSON, ignoring members this SDK does not know.
    pub(crate) fn deserialize_lenient(v: &Value) -> Result<ClientCapabilities, serde_json::Error> {
        serde_json::from_value(v.clone())
    }
}
