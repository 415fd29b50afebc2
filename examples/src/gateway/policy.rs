//! The gateway's policies, as one tower layer over MCP requests: the default identity, tool
//! permissions per role, argument size limits, rate limits, response redaction and the audit
//! log (one record per `tools/call`) — and resource subscriptions, which go on to the backend
//! that owns the resource.
//!
//! Everything here is an ordinary `Server::layer`; `mcp-core`'s own operations layers (rate
//! limits, audit, metrics) stack beside this one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mcp_core::compose::{Mounted, RemoteError};
use mcp_core::identity::Identity;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::server::{McpRequest, McpResponse};
use regex::Regex;
use serde_json::{json, Value};

use super::config;

/// JSON-RPC code of a call refused by the rate limit (an application code).
pub(crate) const RATE_LIMITED: ErrorCode = ErrorCode(-31429);

/// A glob over tool names: `*` matches any run of characters.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The roles of an identity: the `roles` claim (or the configured claim), scopes written
/// `role:NAME`, and the roles `scope_roles` grants for its scopes.
pub(crate) fn roles_of(
    identity: Option<&Identity>,
    claim: &str,
    scope_roles: &HashMap<String, Vec<String>>,
) -> Vec<String> {
    let Some(id) = identity else {
        return Vec::new();
    };
    let mut roles: Vec<String> = match id.claims.get(claim) {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    roles.extend(
        id.scopes
            .iter()
            .filter_map(|s| s.strip_prefix("role:"))
            .map(str::to_owned),
    );
    for scope in &id.scopes {
        roles.extend(scope_roles.get(scope).into_iter().flatten().cloned());
    }
    roles.sort();
    roles.dedup();
    roles
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Limiter {
    rule: config::RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// Takes a token; `Err(seconds to wait)` when empty.
    fn take(&self, key: &str) -> Result<(), f64> {
        let rate = f64::from(self.rule.per_minute.max(1)) / 60.0;
        let burst = f64::from(self.rule.burst.unwrap_or(self.rule.per_minute).max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.clear(); // bounded: forget everyone rather than grow without end
        }
        let now = Instant::now();
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - b.tokens) / rate)
        }
    }
}

/// The mounted backends. The layer is built before the server exists and the mounts are made
/// from the server, so they are filled in afterwards.
#[derive(Debug, Clone, Default)]
pub struct Backends(Arc<OnceLock<Vec<Arc<Mounted>>>>);

impl Backends {
    /// Fills in the mounts (once).
    pub fn set(&self, mounted: Vec<Arc<Mounted>>) {
        let _ = self.0.set(mounted);
    }

    fn all(&self) -> &[Arc<Mounted>] {
        self.0.get().map_or(&[], Vec::as_slice)
    }

    /// The backend a local tool name belongs to (for the audit record).
    fn of_tool(&self, tool: &str) -> Option<String> {
        self.all()
            .iter()
            .find(|m| m.owns_tool(tool))
            .map(|m| m.mount().name().to_owned())
    }

    /// The backends serving a local resource URI.
    fn of_uri(&self, uri: &str) -> Vec<Arc<Mounted>> {
        self.all()
            .iter()
            .filter(|m| m.owns_uri(uri))
            .cloned()
            .collect()
    }
}

/// The policies, compiled.
pub struct Policies {
    identity: Option<Arc<Identity>>,
    roles: HashMap<String, config::RoleRules>,
    roles_claim: String,
    scope_roles: HashMap<String, Vec<String>>,
    max_argument_bytes: usize,
    limiters: Vec<Limiter>,
    redactions: Vec<(Regex, String)>,
    audit: Option<Mutex<Box<dyn Write + Send>>>,
    backends: Backends,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("roles", &self.roles.keys().collect::<Vec<_>>())
            .field("limiters", &self.limiters.len())
            .field("redactions", &self.redactions.len())
            .finish_non_exhaustive()
    }
}

const SECRETS: &[(&str, &str)] = &[
    (
        "private-key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    ),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b",
    ),
    ("bearer", r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*"),
    (
        "assignment",
        r#"(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token|token)\b(\s*[:=]\s*)"?[^\s",;]+"?"#,
    ),
    (
        "connection-string",
        r"(?i)\b(postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis)://[^:/\s]+:[^@\s]+@",
    ),
];

const PII: &[(&str, &str)] = &[
    (
        "email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
    ),
    ("us-ssn", r"\b\d{3}-\d{2}-\d{4}\b"),
    ("card-number", r"\b(?:\d[ -]?){12,15}\d\b"),
    (
        "phone",
        r"(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b",
    ),
];

impl Policies {
    /// Compiles the policies. `authenticated`: every caller is authenticated by the transport
    /// (`--http` with `[auth]`), so no default identity is filled in.
    pub fn new(
        config: &config::Config,
        cli: &config::Cli,
        backends: Backends,
        authenticated: bool,
    ) -> std::io::Result<Policies> {
        let bad = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        let subject = cli
            .subject
            .clone()
            .or_else(|| config.identity.subject.clone());
        let roles = if cli.roles.is_empty() {
            config.identity.roles.clone()
        } else {
            cli.roles.clone()
        };
        let roles_claim = config
            .auth
            .as_ref()
            .map_or_else(|| "roles".to_owned(), |a| a.roles_claim.clone());
        let identity = subject.filter(|_| !authenticated).map(|s| {
            let mut id = Identity::new(s).with_scopes(config.identity.scopes.iter().cloned());
            id.claims.insert(roles_claim.clone(), json!(roles));
            Arc::new(id)
        });
        let scope_roles = config
            .auth
            .as_ref()
            .map(|a| a.scope_roles.clone().into_iter().collect())
            .unwrap_or_default();
        let mut redactions = Vec::new();
        for set in &config.policy.redaction.builtin {
            let list = match set.as_str() {
                "secrets" => SECRETS,
                "pii" => PII,
                other => {
                    return Err(bad(format!(
                        "unknown built-in redaction set {other:?} (use secrets, pii)"
                    )))
                }
            };
            for (name, re) in list {
                let re =
                    Regex::new(re).map_err(|e| bad(format!("built-in pattern {name}: {e}")))?;
                let replacement = if *name == "assignment" {
                    format!("${{1}}${{2}}[redacted:{name}]")
                } else {
                    format!("[redacted:{name}]")
                };
                redactions.push((re, replacement));
            }
        }
        for p in &config.policy.redaction.patterns {
            let re = Regex::new(&p.regex)
                .map_err(|e| bad(format!("redaction pattern {:?}: {e}", p.name)))?;
            let replacement = p
                .replacement
                .clone()
                .unwrap_or_else(|| format!("[redacted:{}]", p.name));
            redactions.push((re, replacement));
        }
        let audit: Option<Box<dyn Write + Send>> = match config.audit.path.as_deref() {
            None => None,
            Some("-") => Some(Box::new(std::io::stderr())),
            Some(path) => Some(Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| bad(format!("cannot open the audit log {path}: {e}")))?,
            )),
        };
        Ok(Policies {
            identity,
            roles: config.policy.roles.clone().into_iter().collect(),
            roles_claim,
            scope_roles,
            max_argument_bytes: config.policy.limits.max_argument_bytes,
            limiters: config
                .policy
                .rate_limits
                .iter()
                .map(|r| Limiter {
                    rule: r.clone(),
                    buckets: Mutex::new(HashMap::new()),
                })
                .collect(),
            redactions,
            audit: audit.map(Mutex::new),
            backends,
        })
    }

    /// Whether callers with `roles` may call `tool`.
    pub(crate) fn allowed(&self, roles: &[String], tool: &str) -> bool {
        if self.roles.is_empty() {
            return true;
        }
        let rules: Vec<&config::RoleRules> =
            roles.iter().filter_map(|r| self.roles.get(r)).collect();
        let allowed = rules.iter().any(|r| r.allow.iter().any(|p| glob(p, tool)));
        let denied = rules.iter().any(|r| r.deny.iter().any(|p| glob(p, tool)));
        allowed && !denied
    }

    /// Replaces every match of the redaction patterns.
    pub(crate) fn redact_text(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (re, replacement) in &self.redactions {
            let current = out.as_deref().unwrap_or(text);
            if re.is_match(current) {
                out = Some(re.replace_all(current, replacement.as_str()).into_owned());
            }
        }
        out
    }

    fn redact_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(r) = self.redact_text(s) {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_value(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.redact_value(x)),
            _ => {}
        }
    }

    /// Redacts text in a tool result or resource contents (never binary data or URIs).
    fn redact_result(&self, result: &mut Value) {
        if self.redactions.is_empty() {
            return;
        }
        for list in ["content", "contents"] {
            if let Some(items) = result.get_mut(list).and_then(Value::as_array_mut) {
                for item in items {
                    if let Some(Value::String(t)) = item.get_mut("text") {
                        if let Some(r) = self.redact_text(t) {
                            *t = r;
                        }
                    }
                    if let Some(Value::String(t)) =
                        item.get_mut("resource").and_then(|r| r.get_mut("text"))
                    {
                        if let Some(r) = self.redact_text(t) {
                            *t = r;
                        }
                    }
                }
            }
        }
        if let Some(s) = result.get_mut("structuredContent") {
            self.redact_value(s);
        }
    }

    /// Redacts the result a response carries: `tools/call`, `resources/read` and
    /// `tasks/result` are results; `tasks/get` inlines a completed task's under `result`.
    fn redact_response(&self, method: &str, v: &mut Value) {
        match method {
            "tasks/get" => {
                if let Some(result) = v.get_mut("result") {
                    self.redact_result(result);
                }
            }
            _ => self.redact_result(v),
        }
    }

    fn audit(&self, record: Value) {
        let Some(sink) = &self.audit else { return };
        let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(sink, "{record}");
        let _ = sink.flush();
    }
}

/// The policies as a `Server::layer`.
#[derive(Debug, Clone)]
pub struct PolicyLayer(
    /// The compiled policies, shared by every connection.
    pub Arc<Policies>,
);

impl<S> tower::Layer<S> for PolicyLayer {
    type Service = PolicyService<S>;
    fn layer(&self, inner: S) -> PolicyService<S> {
        PolicyService {
            inner,
            policies: self.0.clone(),
        }
    }
}

/// The service the layer builds.
#[derive(Debug, Clone)]
pub struct PolicyService<S> {
    inner: S,
    policies: Arc<Policies>,
}

fn refuse(code: ErrorCode, message: String) -> McpResponse {
    Some(Err(ErrorObject::new(code, message)))
}

impl<S> tower::Service<McpRequest> for PolicyService<S>
where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: McpRequest) -> Self::Future {
        let policies = self.policies.clone();
        if req.meta.identity.is_none() {
            req.meta.identity = policies.identity.clone();
        }
        // Keep the service that was made ready; the clone waits for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let method = req.method.clone();
            let roles = roles_of(
                req.meta.identity.as_deref(),
                &policies.roles_claim,
                &policies.scope_roles,
            );
            match method.as_str() {
                "tools/call" => {
                    let started = Instant::now();
                    let tool = req.target().unwrap_or_default().to_owned();
                    let arg_bytes = req
                        .arguments()
                        .map_or(0, |a| serde_json::to_vec(a).map_or(0, |v| v.len()));
                    let subject = req.meta.identity.as_ref().map(|i| i.subject.clone());
                    let key = req.meta.client_key();
                    let refusal = if !policies.allowed(&roles, &tool) {
                        Some((
                            "denied",
                            refuse(
                                ErrorCode::FORBIDDEN,
                                format!(
                                    "forbidden: the role(s) [{}] may not call the tool {tool:?} (gateway policy)",
                                    roles.join(", ")
                                ),
                            ),
                        ))
                    } else if arg_bytes > policies.max_argument_bytes {
                        Some((
                            "too_large",
                            refuse(
                                ErrorCode::INVALID_PARAMS,
                                format!(
                                    "the arguments take {arg_bytes} bytes; this gateway accepts at most {}",
                                    policies.max_argument_bytes
                                ),
                            ),
                        ))
                    } else {
                        policies
                            .limiters
                            .iter()
                            .filter(|l| {
                                (l.rule.role == "*" || roles.contains(&l.rule.role))
                                    && glob(&l.rule.tools, &tool)
                            })
                            .find_map(|l| l.take(&format!("{}|{key}", l.rule.tools)).err())
                            .map(|wait| {
                                (
                                    "rate_limited",
                                    refuse(
                                        RATE_LIMITED,
                                        format!("rate limit exceeded; retry in {wait:.1} s"),
                                    ),
                                )
                            })
                    };
                    let era = if req.era.is_modern() {
                        "2026-07-28".to_owned()
                    } else {
                        req.era.version().to_string()
                    };
                    let (outcome, mut response) = match refusal {
                        Some((outcome, r)) => (outcome, r),
                        None => {
                            let r = match inner.call(req).await {
                                Ok(r) => r,
                                Err(never) => match never {},
                            };
                            let outcome = match &r {
                                None => "cancelled",
                                Some(Err(_)) => "error",
                                Some(Ok(v))
                                    if v.get("resultType").and_then(Value::as_str)
                                        == Some("input_required") =>
                                {
                                    "input_required"
                                }
                                Some(Ok(v)) if v.get("isError") == Some(&Value::Bool(true)) => {
                                    "tool_error"
                                }
                                // The call goes on as a task (2026-07-28, 2025-11-25).
                                Some(Ok(v))
                                    if v.get("resultType").and_then(Value::as_str)
                                        == Some("task")
                                        || v.get("task").is_some_and(Value::is_object) =>
                                {
                                    "task"
                                }
                                Some(Ok(_)) => "ok",
                            };
                            (outcome, r)
                        }
                    };
                    if let Some(Ok(v)) = &mut response {
                        policies.redact_result(v);
                    }
                    let code = match &response {
                        Some(Err(e)) => Some(e.code.0),
                        _ => None,
                    };
                    // A 2026-07-28 call that asks for input is retried: one record, at the end.
                    if outcome == "input_required" {
                        return Ok(response);
                    }
                    policies.audit(json!({
                        "ts_ms": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
                        "event": "tools/call",
                        "tool": tool,
                        "backend": policies.backends.of_tool(&tool),
                        "subject": subject,
                        "roles": roles,
                        "client": key,
                        "era": era,
                        "outcome": outcome,
                        "code": code,
                        "argument_bytes": arg_bytes,
                        "duration_ms": started.elapsed().as_millis() as u64,
                    }));
                    Ok(response)
                }
                "tools/list" => {
                    let mut response = match inner.call(req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    if let Some(Ok(v)) = &mut response {
                        if let Some(tools) = v.get_mut("tools").and_then(Value::as_array_mut) {
                            tools.retain(|t| {
                                t.get("name")
                                    .and_then(Value::as_str)
                                    .is_some_and(|n| policies.allowed(&roles, n))
                            });
                        }
                    }
                    Ok(response)
                }
                // Results reach the caller here too: a task's, inlined in `tasks/get` or from
                // `tasks/result`, is redacted like any other.
                "resources/read" | "tasks/get" | "tasks/result" => {
                    let mut response = match inner.call(req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    if let Some(Ok(v)) = &mut response {
                        policies.redact_response(&method, v);
                    }
                    Ok(response)
                }
                "resources/subscribe" => {
                    // The backend that serves the resource is asked for its updates, which the
                    // mount passes on (the runtime delivers them to this connection).
                    let uri = req
                        .params
                        .as_ref()
                        .and_then(|p| p.get("uri"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    if let Some(uri) = uri {
                        for m in policies.backends.of_uri(&uri) {
                            match m.subscribe(&uri).await {
                                Ok(()) => {}
                                Err(RemoteError::Rpc(e)) => return Ok(Some(Err(e))),
                                // Asked again when the backend is back (the mount remembers).
                                Err(e) => {
                                    tracing::debug!(backend = %m.mount().name(), %uri, %e, "subscribing later")
                                }
                            }
                        }
                    }
                    inner.call(req).await
                }
                "subscriptions/listen" => {
                    // 2026-07-28 callers subscribe with the stream itself.
                    let uris: Vec<String> = req
                        .params
                        .as_ref()
                        .and_then(|p| p.pointer("/notifications/resourceSubscriptions"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .take(1000)
                        .map(str::to_owned)
                        .collect();
                    for uri in uris {
                        for m in policies.backends.of_uri(&uri) {
                            let uri = uri.clone();
                            tokio::spawn(async move {
                                if let Err(e) = m.subscribe(&uri).await {
                                    tracing::debug!(backend = %m.mount().name(), %uri, %e, "subscribing failed");
                                }
                            });
                        }
                    }
                    inner.call(req).await
                }
                _ => inner.call(req).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("db.*", "db.query"));
        assert!(glob("*", "anything"));
        assert!(glob("*.echo", "hello.echo"));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("db.*", "hello.echo"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    fn policies(toml: &str) -> Policies {
        let config = config::Config::parse(toml).expect("valid");
        let cli = config::Cli::parse(["--config".to_owned(), "x".to_owned()]).expect("cli");
        Policies::new(&config, &cli, Backends::default(), false).expect("policies")
    }

    #[test]
    fn roles_allow_and_deny() {
        let p = policies(
            "[policy.roles.analyst]\nallow = [\"db.*\", \"hello.*\"]\ndeny = [\"db.execute\"]\n",
        );
        let analyst = vec!["analyst".to_owned()];
        assert!(p.allowed(&analyst, "db.query"));
        assert!(!p.allowed(&analyst, "db.execute"));
        assert!(!p.allowed(&[], "db.query"));
        assert!(!p.allowed(&["guest".to_owned()], "hello.echo"));
    }

    #[test]
    fn roles_come_from_claims_and_scopes() {
        let mut id = Identity::new("ada").with_scopes(["role:auditor", "db.admin", "other"]);
        id.claims.insert("groups".into(), json!(["analyst"]));
        let scope_roles: HashMap<String, Vec<String>> =
            [("db.admin".to_owned(), vec!["admin".to_owned()])].into();
        assert_eq!(
            roles_of(Some(&id), "groups", &scope_roles),
            ["admin", "analyst", "auditor"]
        );
        id.claims.insert("roles".into(), json!("a b"));
        assert_eq!(
            roles_of(Some(&id), "roles", &HashMap::new()),
            ["a", "auditor", "b"]
        );
        assert!(roles_of(None, "roles", &scope_roles).is_empty());
    }

    #[test]
    fn an_authenticated_gateway_has_no_default_caller() {
        let config = config::Config::parse("[identity]\nsubject = \"local\"\n").expect("valid");
        let cli = config::Cli::parse(["--config".to_owned(), "x".to_owned()]).expect("cli");
        let open = Policies::new(&config, &cli, Backends::default(), false).expect("policies");
        assert_eq!(
            open.identity.as_ref().map(|i| i.subject.as_str()),
            Some("local")
        );
        let closed = Policies::new(&config, &cli, Backends::default(), true).expect("policies");
        assert!(closed.identity.is_none());
    }

    #[test]
    fn redaction_hides_secrets_and_pii() {
        let p = policies("[policy.redaction]\nbuiltin = [\"secrets\", \"pii\"]\n");
        let out = p
            .redact_text(
                "mail ada@example.com, key AKIAABCDEFGHIJKLMNOP, password=hunter2, ssn 123-45-6789",
            )
            .expect("redacted");
        assert!(!out.contains("ada@example.com"), "{out}");
        assert!(!out.contains("AKIAABCDEFGHIJKLMNOP"), "{out}");
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("123-45-6789"), "{out}");
        assert!(out.contains("password=[redacted:assignment]"), "{out}");
        assert!(p.redact_text("nothing to see").is_none());
    }

    #[test]
    fn task_results_are_redacted() {
        let p = policies("[policy.redaction]\nbuiltin = [\"pii\"]\n");
        let result = json!({"content": [{"type": "text", "text": "mail ada@example.com"}]});
        let mut got = json!({"taskId": "t", "status": "completed", "result": result});
        p.redact_response("tasks/get", &mut got);
        assert_eq!(got["result"]["content"][0]["text"], "mail [redacted:email]");
        let mut legacy = result.clone();
        p.redact_response("tasks/result", &mut legacy);
        assert_eq!(legacy["content"][0]["text"], "mail [redacted:email]");
        let mut working = json!({"taskId": "t", "status": "working"});
        p.redact_response("tasks/get", &mut working);
        assert_eq!(working, json!({"taskId": "t", "status": "working"}));
    }

    #[test]
    fn rate_limit_buckets_empty_and_refill() {
        let l = Limiter {
            rule: config::RateLimit {
                role: "*".into(),
                tools: "*".into(),
                per_minute: 60,
                burst: Some(2),
            },
            buckets: Mutex::new(HashMap::new()),
        };
        assert!(l.take("a").is_ok());
        assert!(l.take("a").is_ok());
        assert!(l.take("a").is_err());
        assert!(l.take("b").is_ok(), "buckets are per caller");
    }
}
