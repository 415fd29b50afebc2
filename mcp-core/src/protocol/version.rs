use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A protocol revision this SDK serves.
///
/// ```
/// use mcp_core::protocol::ProtocolVersion;
/// let v: ProtocolVersion = "2025-06-18".parse().unwrap();
/// assert!(v.is_handshake());
/// assert!(ProtocolVersion::V2026_07_28.is_modern());
/// assert!("1999-01-01".parse::<ProtocolVersion>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// The first published revision.
    V2024_11_05,
    /// Streamable HTTP, batches, audio, tool annotations.
    V2025_03_26,
    /// Elicitation, structured tool output, the `MCP-Protocol-Version` header.
    V2025_06_18,
    /// URL elicitation, tasks, icons: the last handshake revision.
    V2025_11_25,
    /// The stateless revision: no handshake, a `_meta` envelope on every request.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every revision served, oldest first.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::ProtocolVersion;
    /// assert_eq!(ProtocolVersion::ALL.first(), Some(&ProtocolVersion::V2024_11_05));
    /// assert!(ProtocolVersion::ALL.contains(&ProtocolVersion::LATEST_HANDSHAKE));
    /// assert_eq!(ProtocolVersion::MODERN, [ProtocolVersion::V2026_07_28]);
    /// ```
    pub const ALL: [ProtocolVersion; 5] = [
        Self::V2024_11_05,
        Self::V2025_03_26,
        Self::V2025_06_18,
        Self::V2025_11_25,
        Self::V2026_07_28,
    ];
    /// The newest handshake-era revision: the answer to an `initialize` asking for one we do not know.
    ///
    /// See [`ProtocolVersion::ALL`] for an example.
    pub const LATEST_HANDSHAKE: ProtocolVersion = Self::V2025_11_25;
    /// The modern (stateless) revisions, as listed in `server/discover`.
    ///
    /// See [`ProtocolVersion::ALL`] for an example.
    pub const MODERN: [ProtocolVersion; 1] = [Self::V2026_07_28];

    /// The wire string.
    ///
    /// ```
    /// # use mcp_core::protocol::ProtocolVersion;
    /// assert_eq!(ProtocolVersion::V2025_03_26.as_str(), "2025-03-26");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Whether this revision uses the `initialize` handshake.
    ///
    /// ```
    /// # use mcp_core::protocol::ProtocolVersion;
    /// assert!(ProtocolVersion::V2024_11_05.is_handshake());
    /// ```
    pub const fn is_handshake(self) -> bool {
        !self.is_modern()
    }

    /// Whether this is a stateless (2026-07-28 or later) revision.
    ///
    /// ```
    /// # use mcp_core::protocol::ProtocolVersion;
    /// assert!(!ProtocolVersion::V2025_11_25.is_modern());
    /// ```
    pub const fn is_modern(self) -> bool {
        matches!(self, Self::V2026_07_28)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The version string is not one this SDK serves.
///
/// ```
/// # use mcp_core::protocol::ProtocolVersion;
/// let err = "2099-01-01".parse::<ProtocolVersion>().unwrap_err();
/// assert_eq!(err.0, "2099-01-01");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version {0:?}")]
pub struct UnknownVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
