//! Host and Origin checks against DNS rebinding and cross-site requests.

use http::HeaderMap;

/// Which `Host` and `Origin` values are accepted.
///
/// The default (and what [`serve`](super::serve) uses for a loopback address) accepts only
/// loopback names — `localhost`, `127.0.0.1`, `[::1]` — on any port. Binding to another address
/// without listing the names clients use makes every request fail with 403, which is the safe
/// failure.
///
/// ```
/// use mcp_transport::http::Allowlist;
/// let a = Allowlist::loopback();
/// assert!(a.host_allowed("127.0.0.1:8080"));
/// assert!(!a.host_allowed("evil.example"));
/// assert!(a.origin_allowed("http://localhost:3000"));
/// assert!(!a.origin_allowed("http://localhost.evil.com"));
/// assert!(!a.origin_allowed("http://localhost@evil.com"));
/// assert!(!a.origin_allowed("null"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    hosts: Vec<String>,
    any: bool,
}

impl Allowlist {
    /// Loopback names only.
    ///
    /// See [`Allowlist`] for an example.
    pub fn loopback() -> Self {
        Allowlist {
            hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "[::1]".into(),
                "::1".into(),
            ],
            any: false,
        }
    }

    /// Loopback names plus these host names (without ports), e.g. `mcp.example.com`.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::http::Allowlist;
    /// let a = Allowlist::with_hosts(["mcp.example.com"]);
    /// assert!(a.host_allowed("mcp.example.com"));
    /// assert!(a.origin_allowed("https://mcp.example.com"));
    /// assert!(a.host_allowed("localhost:8080"));
    /// assert!(!a.host_allowed("other.example.com"));
    /// assert!(Allowlist::any().host_allowed("anything.example"));
    /// ```
    pub fn with_hosts<I: IntoIterator<Item = impl Into<String>>>(hosts: I) -> Self {
        let mut a = Self::loopback();
        a.hosts
            .extend(hosts.into_iter().map(|h| h.into().to_ascii_lowercase()));
        a
    }

    /// Accepts every host and origin. Only behind a proxy that checks them itself.
    ///
    /// See [`Allowlist::with_hosts`] for an example.
    pub fn any() -> Self {
        Allowlist {
            hosts: Vec::new(),
            any: true,
        }
    }

    fn name_allowed(&self, name: &str) -> bool {
        self.any || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether a `Host` header value (`name[:port]`) is accepted.
    ///
    /// See [`Allowlist`] for an example.
    pub fn host_allowed(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let Ok(auth) = host.parse::<http::uri::Authority>() else {
            return false;
        };
        if auth.as_str().contains('@') {
            return false;
        }
        self.name_allowed(auth.host())
    }

    /// Whether an `Origin` header value is accepted. It must be a real `http`/`https` origin
    /// whose host is allowed; `null`, userinfo tricks and look-alike suffixes are refused.
    ///
    /// See [`Allowlist`] for an example.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.any {
            return true;
        }
        origin_host(origin).is_some_and(|host| self.name_allowed(host))
    }
}

/// The host of a serialized origin (`scheme://host[:port]`), or `None` when it is not one:
/// `null`, userinfo (`localhost@evil.com`), paths, queries, odd ports, control characters.
/// Deliberately strict: no normalization, so `http://2130706433` is not `127.0.0.1`.
fn origin_host(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let bad = |c: char| {
        matches!(c, '/' | '?' | '#' | '@' | '\\' | '%') || c.is_whitespace() || c.is_control()
    };
    if rest.is_empty() || rest.contains(bad) {
        return None;
    }
    let (host, port) = if rest.starts_with('[') {
        let end = rest.find(']')?;
        (&rest[..=end], &rest[end + 1..])
    } else {
        match rest.rfind(':') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        }
    };
    if !port.is_empty() {
        let digits = port.strip_prefix(':')?;
        if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    (!host.is_empty() && !host.contains(':') || host.starts_with('[')).then_some(host)
}

impl Default for Allowlist {
    fn default() -> Self {
        Self::loopback()
    }
}

/// Why a request was refused before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Host,
    Origin,
}

/// The single value of a header; `Err` when it is repeated (an ambiguity attackers use).
pub(crate) fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    match first {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| ()),
    }
}

/// Checks `Host` (or, without one, the request target's authority, as HTTP/2 and absolute-form
/// requests carry it) and `Origin`.
pub(crate) fn check(
    allow: &Allowlist,
    headers: &HeaderMap,
    authority: Option<&str>,
) -> Result<(), Refusal> {
    match single(headers, "host") {
        Ok(Some(h)) if allow.host_allowed(h) => {}
        Ok(None) => {}
        _ => return Err(Refusal::Host),
    }
    // An absolute-form target or an HTTP/2 `:authority` names the host too; it must pass as well.
    if let Some(a) = authority {
        if !allow.host_allowed(a) {
            return Err(Refusal::Host);
        }
    }
    match single(headers, "origin") {
        Ok(None) => Ok(()),
        Ok(Some(o)) if allow.origin_allowed(o) => Ok(()),
        _ => Err(Refusal::Origin),
    }
}
