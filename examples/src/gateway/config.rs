//! The gateway's TOML configuration (see `examples/gateway.toml` and `docs/gateway.md`).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const USAGE: &str = "\
usage: gateway --config FILE [--stdio | --http ADDR] [--subject NAME] [--role ROLE]...

  --config FILE   the TOML configuration (see examples/gateway.toml)
  --stdio         serve on stdin/stdout (default)
  --http ADDR     serve Streamable HTTP on ADDR, e.g. 127.0.0.1:8080, at /mcp
  --subject NAME  the caller's identity when no authentication establishes one
  --role ROLE     a role of that caller (repeatable; replaces [identity] roles)";

/// How the gateway was started.
#[derive(Debug, Clone)]
pub struct Cli {
    pub(crate) config: PathBuf,
    pub(crate) http: Option<SocketAddr>,
    pub(crate) subject: Option<String>,
    pub(crate) roles: Vec<String>,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{msg}\n{USAGE}"))
}

impl Cli {
    /// Parses the arguments (without the program name); `--help` prints the usage and exits.
    pub fn parse(args: impl IntoIterator<Item = String>) -> io::Result<Cli> {
        let mut args = args.into_iter();
        let mut config = None;
        let mut http = None;
        let mut subject = None;
        let mut roles = Vec::new();
        while let Some(arg) = args.next() {
            let mut value = |what: &str| {
                args.next()
                    .ok_or_else(|| bad(&format!("{arg} needs {what}")))
            };
            match arg.as_str() {
                "--config" => config = Some(PathBuf::from(value("a file")?)),
                "--stdio" => http = None,
                "--http" => {
                    let a = value("an address")?;
                    http = Some(
                        a.parse()
                            .map_err(|e| bad(&format!("bad address {a:?}: {e}")))?,
                    );
                }
                "--subject" => subject = Some(value("a name")?),
                "--role" => roles.push(value("a role")?),
                "-h" | "--help" => {
                    eprintln!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(bad(&format!("unknown argument {other:?}"))),
            }
        }
        Ok(Cli {
            config: config.ok_or_else(|| bad("--config is required"))?,
            http,
            subject,
            roles,
        })
    }
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub(crate) gateway: GatewaySection,
    #[serde(default)]
    pub(crate) identity: IdentitySection,
    #[serde(default, rename = "backends")]
    pub(crate) backends: Vec<Backend>,
    #[serde(default)]
    pub(crate) breaker: BreakerSection,
    #[serde(default)]
    pub(crate) policy: Policy,
    #[serde(default)]
    pub(crate) audit: Audit,
    /// OAuth resource-server settings for `--http` (see `docs/gateway.md`).
    #[serde(default)]
    pub(crate) auth: Option<Auth>,
}

/// `[gateway]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GatewaySection {
    #[serde(default = "default_name")]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) instructions: Option<String>,
    /// How long startup waits for each backend's catalogue before serving without it.
    #[serde(default = "default_startup_ms")]
    pub(crate) startup_timeout_ms: u64,
}

fn default_name() -> String {
    "mcp-gateway".into()
}

fn default_startup_ms() -> u64 {
    10_000
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            name: default_name(),
            instructions: None,
            startup_timeout_ms: default_startup_ms(),
        }
    }
}

/// `[identity]`: the caller when nothing authenticates one (stdio, or HTTP without `[auth]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentitySection {
    #[serde(default)]
    pub(crate) subject: Option<String>,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
}

/// `[[backends]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Backend {
    pub(crate) name: String,
    /// A stdio server: program and arguments.
    #[serde(default)]
    pub(crate) command: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) env: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) cwd: Option<PathBuf>,
    /// A Streamable HTTP server.
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// Extra HTTP headers.
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    /// An environment variable holding a bearer token for the backend.
    #[serde(default)]
    pub(crate) bearer_token_env: Option<String>,
    /// Name prefix of its tools and prompts (`prefix.tool`); empty for none.
    #[serde(default)]
    pub(crate) prefix: Option<String>,
    /// `verbatim` (default) or `scheme-prefix`.
    #[serde(default)]
    pub(crate) uris: UriMode,
    /// Idle timeout of a request, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub(crate) timeout_ms: u64,
    /// Scopes a caller needs for any of its tools.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// `auto` (default), `handshake` or `modern`.
    #[serde(default)]
    pub(crate) era: EraMode,
}

fn default_timeout_ms() -> u64 {
    60_000
}

/// Resource URIs of a backend.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum UriMode {
    #[default]
    Verbatim,
    SchemePrefix,
}

/// The era to speak to a backend.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EraMode {
    #[default]
    Auto,
    Handshake,
    Modern,
}

/// `[breaker]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BreakerSection {
    #[serde(default = "default_threshold")]
    pub(crate) failure_threshold: u32,
    #[serde(default = "default_cooldown_ms")]
    pub(crate) cooldown_ms: u64,
}

fn default_threshold() -> u32 {
    3
}

fn default_cooldown_ms() -> u64 {
    5_000
}

impl Default for BreakerSection {
    fn default() -> Self {
        BreakerSection {
            failure_threshold: default_threshold(),
            cooldown_ms: default_cooldown_ms(),
        }
    }
}

/// `[policy]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Policy {
    /// Tools each role may (`allow`) and may not (`deny`) call. Without any role, every
    /// caller may call every tool.
    #[serde(default)]
    pub(crate) roles: BTreeMap<String, RoleRules>,
    #[serde(default)]
    pub(crate) limits: Limits,
    #[serde(default)]
    pub(crate) rate_limits: Vec<RateLimit>,
    #[serde(default)]
    pub(crate) redaction: Redaction,
}

/// `[policy.roles.NAME]`: glob patterns (`*` matches anything) over local tool names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRules {
    #[serde(default)]
    pub(crate) allow: Vec<String>,
    #[serde(default)]
    pub(crate) deny: Vec<String>,
}

/// `[policy.limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    /// The largest `arguments` of a tool call, serialized, in bytes.
    #[serde(default = "default_max_args")]
    pub(crate) max_argument_bytes: usize,
}

fn default_max_args() -> usize {
    64 * 1024
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_argument_bytes: default_max_args(),
        }
    }
}

/// `[[policy.rate_limits]]`: a token bucket per caller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimit {
    /// Applies to callers with this role (`*`: everyone).
    #[serde(default = "star")]
    pub(crate) role: String,
    /// Applies to tools matching this pattern.
    #[serde(default = "star")]
    pub(crate) tools: String,
    /// Calls per minute, sustained.
    pub(crate) per_minute: u32,
    /// Calls allowed at once (default: `per_minute`).
    #[serde(default)]
    pub(crate) burst: Option<u32>,
}

fn star() -> String {
    "*".into()
}

/// `[policy.redaction]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Redaction {
    /// Built-in pattern sets: `secrets`, `pii`.
    #[serde(default)]
    pub(crate) builtin: Vec<String>,
    #[serde(default)]
    pub(crate) patterns: Vec<Pattern>,
}

/// One redaction pattern.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pattern {
    pub(crate) name: String,
    pub(crate) regex: String,
    #[serde(default)]
    pub(crate) replacement: Option<String>,
}

/// `[audit]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Audit {
    /// A JSON Lines file to append to; `-` for stderr; absent: no audit.
    #[serde(default)]
    pub(crate) path: Option<String>,
}

/// `[auth]`: with `--http`, the gateway is an OAuth 2.1 resource server: every request needs a
/// bearer token (a JWT checked against the issuer's JWKS), and the caller's roles come from
/// the token. The token stops at the gateway: backends never see it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Auth {
    /// The gateway's canonical URI (the tokens' audience unless `audience` says otherwise).
    pub(crate) resource: String,
    /// Who issues tokens for the gateway (advertised in the RFC 9728 metadata; the first is
    /// the expected `iss` unless `issuer` says otherwise).
    #[serde(default)]
    pub(crate) authorization_servers: Vec<String>,
    /// Where the issuer publishes its signing keys.
    pub(crate) jwks_url: String,
    #[serde(default)]
    pub(crate) issuer: Option<String>,
    #[serde(default)]
    pub(crate) audience: Option<String>,
    /// Scopes advertised in the metadata document.
    #[serde(default)]
    pub(crate) scopes_supported: Vec<String>,
    /// The token claim holding the caller's roles (a string or an array; default `roles`).
    #[serde(default = "default_roles_claim")]
    pub(crate) roles_claim: String,
    /// Roles granted by scopes: `"db.admin" = ["admin"]`. (A scope `role:NAME` always grants
    /// the role NAME.)
    #[serde(default)]
    pub(crate) scope_roles: BTreeMap<String, Vec<String>>,
}

fn default_roles_claim() -> String {
    "roles".into()
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> io::Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        Self::parse(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// Parses and checks the text of a configuration file.
    ///
    /// ```
    /// let config = mcp_examples::gateway::Config::parse("[policy.roles.analyst]\nallow = [\"db.*\"]\n");
    /// assert!(config.is_ok());
    /// assert!(mcp_examples::gateway::Config::parse("[[backends]]\nname = \"x\"\n").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(auth) = &config.auth {
            if auth.authorization_servers.is_empty() && auth.issuer.is_none() {
                return Err(
                    "[auth] needs `authorization_servers` (or at least `issuer`): who issues the tokens"
                        .into(),
                );
            }
        }
        let mut names = std::collections::HashSet::new();
        for b in &config.backends {
            if !names.insert(b.name.as_str()) {
                return Err(format!("two backends are called {:?}", b.name));
            }
            match (&b.command, &b.url) {
                (Some(c), None) if !c.is_empty() => {}
                (None, Some(_)) => {}
                _ => {
                    return Err(format!(
                        "backend {:?}: give exactly one of `command` (a non-empty list) and `url`",
                        b.name
                    ))
                }
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../gateway.toml");
        let c = Config::parse(text).expect("examples/gateway.toml is valid");
        assert!(c.backends.len() >= 2);
        assert!(!c.policy.roles.is_empty());
    }

    #[test]
    fn auth_needs_an_issuer() {
        let err = Config::parse(
            "[auth]\nresource = \"http://gw/mcp\"\njwks_url = \"http://127.0.0.1:1/jwks\"\n",
        )
        .unwrap_err();
        assert!(err.contains("authorization_servers"), "{err}");
        let ok = Config::parse(
            "[auth]\nresource = \"http://gw/mcp\"\njwks_url = \"http://127.0.0.1:1/jwks\"\nissuer = \"http://127.0.0.1:1\"\n[auth.scope_roles]\n\"db.admin\" = [\"admin\"]\n",
        )
        .expect("valid");
        assert_eq!(ok.auth.expect("auth").scope_roles["db.admin"], ["admin"]);
    }

    #[test]
    fn a_backend_needs_one_transport() {
        let err = Config::parse("[[backends]]\nname = \"x\"\n").unwrap_err();
        assert!(err.contains("exactly one"), "{err}");
    }
}
