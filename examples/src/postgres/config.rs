//! Configuration: command-line flags, each with an environment variable behind it.

use std::collections::BTreeSet;
use std::io;
use std::time::Duration;

use crate::Cli;

/// The scope the `execute` tool needs.
pub(crate) const WRITE_SCOPE: &str = "postgres:write";

const USAGE: &str = "\
usage: postgres-server [--database-url URL] [options] [--stdio | --http ADDR]

Connection (flags override the environment):
  --database-url URL         PostgreSQL URL or key=value string        [DATABASE_URL]
  --pool-size N              connections per pool (default 5)          [MCP_POSTGRES_POOL_SIZE]
  --pool-timeout-ms MS       wait for a free connection (default 2000) [MCP_POSTGRES_POOL_TIMEOUT_MS]
  --connect-timeout-ms MS    open a connection (default 5000)          [MCP_POSTGRES_CONNECT_TIMEOUT_MS]

Limits:
  --statement-timeout-ms MS  per statement (default 15000)             [MCP_POSTGRES_STATEMENT_TIMEOUT_MS]
  --max-rows N               rows per `query` page, at most (default 1000) [MCP_POSTGRES_MAX_ROWS]

Writes (off by default):
  --allow-writes             grant the `postgres:write` scope to callers
  --scopes LIST              granted scopes, comma-separated           [MCP_POSTGRES_SCOPES]
  --state-schema NAME        where idempotency keys are kept (default mcp_postgres_server)
                                                                       [MCP_POSTGRES_STATE_SCHEMA]

Least privilege:
  --privileged-role POLICY   what to do when the URL's role can do more than read:
                             `restrict` (default): run `query` as a restricted role the
                             server creates; `refuse`: exit            [MCP_POSTGRES_PRIVILEGED_ROLE]
  --reader-role NAME         restricted role for reads (default mcp_reader)  [MCP_POSTGRES_READER_ROLE]
  --writer-role NAME         restricted role for writes (default mcp_writer) [MCP_POSTGRES_WRITER_ROLE]
  (MCP_POSTGRES_ROLE_SECRET keys the restricted roles' passwords; see docs/postgres.md)

Transport:
  --stdio                    serve on stdin/stdout (default)
  --http ADDR                serve Streamable HTTP on ADDR, e.g. 127.0.0.1:8080, at /mcp
  --stateless, --json        HTTP options (see the hello example)

Over HTTP `execute` also needs a caller authenticated with the `postgres:write` scope.";

/// What to do when the configured role holds rights beyond reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrivilegedPolicy {
    /// Run `query` (and `execute`) as restricted roles created for the purpose.
    Restrict,
    /// Refuse to start.
    Refuse,
}

/// The server's configuration.
#[derive(Clone)]
pub struct Config {
    /// The URL (or key=value connection string) the operator gave.
    pub(crate) database_url: String,
    /// stdio or HTTP.
    pub(crate) transport: Cli,
    /// Connections per pool.
    pub(crate) pool_size: usize,
    /// How long a call waits for a free connection.
    pub(crate) pool_timeout: Duration,
    /// How long opening a connection may take.
    pub(crate) connect_timeout: Duration,
    /// `statement_timeout` of every statement the server runs for a caller.
    pub(crate) statement_timeout: Duration,
    /// The most rows one `query` call returns.
    pub(crate) max_rows: usize,
    /// Scopes granted to every caller (until the SDK knows who the caller is).
    pub(crate) scopes: BTreeSet<String>,
    /// What to do with a privileged role.
    pub(crate) privileged: PrivilegedPolicy,
    /// Name of the restricted reading role.
    pub(crate) reader_role: String,
    /// Name of the restricted writing role.
    pub(crate) writer_role: String,
    /// Schema of the idempotency-key table.
    pub(crate) state_schema: String,
    /// Key of the restricted roles' passwords.
    pub(crate) role_secret: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL and the secret may hold passwords: never print them.
        f.debug_struct("Config")
            .field("transport", &self.transport)
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("max_rows", &self.max_rows)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn bad(msg: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{msg}\n\n{USAGE}"))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number<T>(what: &str, value: &str, min: T, max: T) -> io::Result<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = value
        .trim()
        .parse()
        .map_err(|_| bad(format!("{what}: {value:?} is not a number")))?;
    if n < min || n > max {
        return Err(bad(format!("{what}: {n} is out of range {min}..={max}")));
    }
    Ok(n)
}

/// Whether `name` is a plain lower-case SQL identifier (no quoting needed anywhere).
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
        && !name.starts_with("pg_")
}

impl Config {
    /// Reads `std::env::args` and the environment.
    pub fn from_env() -> io::Result<Config> {
        Self::parse(std::env::args().skip(1), env)
    }

    /// Parses flags, falling back to `lookup` for environment variables.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> io::Result<Config> {
        let mut url = lookup("DATABASE_URL");
        let mut pool_size = lookup("MCP_POSTGRES_POOL_SIZE");
        let mut pool_timeout = lookup("MCP_POSTGRES_POOL_TIMEOUT_MS");
        let mut connect_timeout = lookup("MCP_POSTGRES_CONNECT_TIMEOUT_MS");
        let mut statement_timeout = lookup("MCP_POSTGRES_STATEMENT_TIMEOUT_MS");
        let mut max_rows = lookup("MCP_POSTGRES_MAX_ROWS");
        let mut scopes = lookup("MCP_POSTGRES_SCOPES");
        let mut allow_writes = false;
        let mut privileged = lookup("MCP_POSTGRES_PRIVILEGED_ROLE");
        let mut reader = lookup("MCP_POSTGRES_READER_ROLE");
        let mut writer = lookup("MCP_POSTGRES_WRITER_ROLE");
        let mut state_schema = lookup("MCP_POSTGRES_STATE_SCHEMA");
        let mut transport_args = Vec::new();

        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = |slot: &mut Option<String>| -> io::Result<()> {
                let v = match inline.clone() {
                    Some(v) => v,
                    None => args
                        .next()
                        .ok_or_else(|| bad(format!("{flag} needs a value")))?,
                };
                *slot = Some(v);
                Ok(())
            };
            match flag.as_str() {
                "--database-url" => value(&mut url)?,
                "--pool-size" => value(&mut pool_size)?,
                "--pool-timeout-ms" => value(&mut pool_timeout)?,
                "--connect-timeout-ms" => value(&mut connect_timeout)?,
                "--statement-timeout-ms" => value(&mut statement_timeout)?,
                "--max-rows" => value(&mut max_rows)?,
                "--scopes" => value(&mut scopes)?,
                "--privileged-role" => value(&mut privileged)?,
                "--reader-role" => value(&mut reader)?,
                "--writer-role" => value(&mut writer)?,
                "--state-schema" => value(&mut state_schema)?,
                "--allow-writes" => allow_writes = true,
                "-h" | "--help" => {
                    eprintln!("{USAGE}");
                    std::process::exit(0);
                }
                "--stdio" | "--stateless" | "--json" => transport_args.push(arg),
                "--http" => {
                    transport_args.push(flag.clone());
                    let mut addr = None;
                    value(&mut addr)?;
                    transport_args.extend(addr);
                }
                other => return Err(bad(format!("unknown argument {other:?}"))),
            }
        }

        let database_url = url.ok_or_else(|| {
            bad("no database: set DATABASE_URL or pass --database-url postgres://user:password@host:5432/dbname")
        })?;
        let ms = |what: &str, v: Option<String>, default: u64, max: u64| -> io::Result<Duration> {
            Ok(Duration::from_millis(match v {
                Some(v) => number(what, &v, 1, max)?,
                None => default,
            }))
        };
        let mut granted: BTreeSet<String> = scopes
            .iter()
            .flat_map(|s| s.split([',', ' ']))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if allow_writes {
            granted.insert(WRITE_SCOPE.to_owned());
        }
        let privileged = match privileged.as_deref().map(str::trim) {
            None | Some("restrict") => PrivilegedPolicy::Restrict,
            Some("refuse") => PrivilegedPolicy::Refuse,
            Some(other) => {
                return Err(bad(format!(
                    "--privileged-role: {other:?} is neither `restrict` nor `refuse`"
                )))
            }
        };
        let ident = |what: &str, v: Option<String>, default: &str| -> io::Result<String> {
            let v = v.unwrap_or_else(|| default.to_owned());
            if is_plain_identifier(&v) {
                Ok(v)
            } else {
                Err(bad(format!(
                    "{what}: {v:?} must be a lower-case identifier ([a-z_][a-z0-9_]*, not starting with pg_)"
                )))
            }
        };
        let config = Config {
            database_url,
            transport: Cli::parse_from(transport_args)?,
            pool_size: match pool_size {
                Some(v) => number("--pool-size", &v, 1, 1000)?,
                None => 5,
            },
            pool_timeout: ms("--pool-timeout-ms", pool_timeout, 2_000, 600_000)?,
            connect_timeout: ms("--connect-timeout-ms", connect_timeout, 5_000, 600_000)?,
            statement_timeout: ms(
                "--statement-timeout-ms",
                statement_timeout,
                15_000,
                3_600_000,
            )?,
            max_rows: match max_rows {
                Some(v) => number("--max-rows", &v, 1, 100_000)?,
                None => 1000,
            },
            scopes: granted,
            privileged,
            reader_role: ident("--reader-role", reader, "mcp_reader")?,
            writer_role: ident("--writer-role", writer, "mcp_writer")?,
            state_schema: ident("--state-schema", state_schema, "mcp_postgres_server")?,
            role_secret: lookup("MCP_POSTGRES_ROLE_SECRET"),
        };
        if config.reader_role == config.writer_role {
            return Err(bad("--reader-role and --writer-role must differ"));
        }
        Ok(config)
    }

    /// Whether writes are enabled at all (some caller may hold the write scope).
    pub(crate) fn writes_enabled(&self) -> bool {
        self.scopes.contains(WRITE_SCOPE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> io::Result<Config> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::parse(args.iter().map(|s| s.to_string()), move |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn flags_override_the_environment() {
        let c = parse(
            &[
                "--database-url",
                "postgres://b",
                "--pool-size=3",
                "--allow-writes",
            ],
            &[
                ("DATABASE_URL", "postgres://a"),
                ("MCP_POSTGRES_POOL_SIZE", "9"),
            ],
        )
        .expect("valid");
        assert_eq!(c.database_url, "postgres://b");
        assert_eq!(c.pool_size, 3);
        assert!(c.writes_enabled());
        assert_eq!(c.transport, Cli::Stdio);
    }

    #[test]
    fn defaults_are_read_only() {
        let c = parse(&[], &[("DATABASE_URL", "postgres://a")]).expect("valid");
        assert!(!c.writes_enabled());
        assert_eq!(c.privileged, PrivilegedPolicy::Restrict);
        assert_eq!(c.max_rows, 1000);
    }

    #[test]
    fn bad_input_is_explained() {
        assert!(parse(&[], &[]).is_err());
        let e = parse(&["--database-url", "x", "--pool-size", "0"], &[]).err();
        assert!(e.is_some_and(|e| e.to_string().contains("out of range")));
        assert!(parse(&["--database-url", "x", "--reader-role", "Bad-Name"], &[]).is_err());
        assert!(parse(&["--database-url", "x", "--bogus"], &[]).is_err());
        let c = parse(&["--database-url", "x", "--http", "127.0.0.1:9"], &[]).expect("ok");
        assert!(matches!(c.transport, Cli::Http(_)));
    }
}
