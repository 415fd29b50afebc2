//! RFC 6570 URI templates, for matching resource URIs (levels 1–3 expressions: `{var}`,
//! `{+var}`, `{#var}`, `{/var}`, `{.var}`, `{;var}`, `{?a,b}`, `{&a}`).
//!
//! Matching is a single left-to-right pass, so it takes time linear in the URI. Values are
//! percent-decoded; a value that would escape its segment — `..`, a decoded `/` in a simple
//! variable, control characters — does not match.
//!
//! ```
//! use mcp_core::template::UriTemplate;
//! let t = UriTemplate::parse("test://template/{id}/data").unwrap();
//! let vars = t.matches("test://template/42/data").unwrap();
//! assert_eq!(vars["id"], "42");
//! assert!(t.matches("test://template/..%2Fsecret/data").is_none());
//! assert!(t.matches("test://template/a/b/data").is_none());
//! ```

use crate::protocol::JsonObject;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Expr { op: Option<char>, vars: Vec<String> },
}

/// A parsed URI template.
///
/// # Examples
/// ```
/// use mcp_core::template::UriTemplate;
/// let t = UriTemplate::parse("files://{+path}{?rev}").unwrap();
/// assert_eq!(t.as_str(), "files://{+path}{?rev}");
/// assert_eq!(t.variables().collect::<Vec<_>>(), ["path", "rev"]);
/// let vars = t.matches("files://src/main.rs?rev=3").unwrap();
/// assert_eq!(vars["path"], "src/main.rs");
/// assert_eq!(vars["rev"], "3");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

/// The template is not valid RFC 6570 (levels 1–3).
///
/// ```
/// assert!(mcp_core::template::UriTemplate::parse("a://{x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI template {template:?}: {reason}")]
pub struct TemplateError {
    template: String,
    reason: String,
}

impl UriTemplate {
    /// Parses a template.
    ///
    /// See [`UriTemplate`] for an example.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let err = |reason: &str| TemplateError {
            template: template.into(),
            reason: reason.into(),
        };
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(body) = rest.strip_prefix('{') {
                let end = body.find('}').ok_or_else(|| err("unclosed `{`"))?;
                let expr = &body[..end];
                rest = &body[end + 1..];
                let (op, names) = match expr.chars().next() {
                    Some(c @ ('+' | '#' | '/' | '.' | ';' | '?' | '&')) => (Some(c), &expr[1..]),
                    _ => (None, expr),
                };
                let vars: Vec<String> = names
                    .split(',')
                    .map(|v| v.trim_end_matches('*').to_owned())
                    .collect();
                if vars.iter().any(|v| {
                    v.is_empty()
                        || !v
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                }) {
                    return Err(err("variable names are letters, digits, `_` and `.`"));
                }
                if matches!(parts.last(), Some(Part::Expr { .. }))
                    && !matches!(op, Some('?' | '&' | '/' | '.' | ';' | '#'))
                {
                    return Err(err("two adjacent expressions cannot be told apart"));
                }
                parts.push(Part::Expr { op, vars });
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                if rest[..end].contains('}') {
                    return Err(err("stray `}`"));
                }
                parts.push(Part::Literal(rest[..end].to_owned()));
                rest = &rest[end..];
            }
        }
        Ok(Self {
            source: template.to_owned(),
            parts,
        })
    }

    /// The template text.
    ///
    /// See [`UriTemplate`] for an example.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names, in order.
    ///
    /// See [`UriTemplate`] for an example.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().flat_map(|p| match p {
            Part::Expr { vars, .. } => vars.iter().map(String::as_str).collect::<Vec<_>>(),
            Part::Literal(_) => Vec::new(),
        })
    }

    /// Matches a URI, returning the variables as JSON strings.
    ///
    /// See [`UriTemplate`] for an example.
    pub fn matches(&self, uri: &str) -> Option<JsonObject> {
        let mut out = JsonObject::new();
        let mut rest = uri;
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
                Part::Expr { op, vars } => {
                    // The value runs until the next literal (or the end).
                    let next = self.parts[i + 1..].iter().find_map(|p| match p {
                        Part::Literal(l) => Some(l.as_str()),
                        _ => None,
                    });
                    let stop = |c: char| match op {
                        None => matches!(c, '/' | '?' | '#'),
                        Some('+') => matches!(c, '?' | '#'),
                        Some('#') => false,
                        Some('/') | Some('.') | Some(';') => matches!(c, '?' | '#'),
                        _ => c == '#',
                    };
                    let mut end = rest.find(stop).unwrap_or(rest.len());
                    if let Some(lit) = next.filter(|l| !l.is_empty()) {
                        end = rest[..end].find(lit).unwrap_or(end);
                    }
                    let raw = &rest[..end];
                    rest = &rest[end..];
                    bind(*op, vars, raw, &mut out)?;
                }
            }
        }
        rest.is_empty().then_some(out)
    }
}

fn bind(op: Option<char>, vars: &[String], raw: &str, out: &mut JsonObject) -> Option<()> {
    let body = match op {
        Some(c @ ('#' | '/' | '.' | ';' | '?' | '&')) => {
            if raw.is_empty() {
                return Some(());
            }
            raw.strip_prefix(c)?
        }
        _ => raw,
    };
    match op {
        Some('?' | '&' | ';') => {
            let sep = if op == Some(';') { ';' } else { '&' };
            for pair in body.split(sep) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if vars.iter().any(|n| n == k) {
                    out.insert(k.to_owned(), decode(v, false)?.into());
                }
            }
        }
        _ => {
            let sep = match op {
                Some('/') => '/',
                Some('.') => '.',
                _ => ',',
            };
            let values: Vec<&str> = if vars.len() == 1 {
                vec![body]
            } else {
                body.split(sep).collect()
            };
            if values.len() != vars.len() {
                return None;
            }
            let reserved = matches!(op, Some('+') | Some('#'));
            for (name, v) in vars.iter().zip(values) {
                if v.is_empty() && op.is_none() {
                    return None;
                }
                out.insert(name.clone(), decode(v, reserved)?.into());
            }
        }
    }
    Some(())
}

/// Percent-decodes one value and refuses anything that could escape its place.
fn decode(raw: &str, reserved: bool) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    let escapes = s.chars().any(|c| c.is_control() || c == '\\')
        || (!reserved && s.contains('/'))
        || s.split('/').any(|seg| seg == ".." || seg == ".");
    (!escapes).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_one_to_three() {
        let t = UriTemplate::parse("file:///{+path}").unwrap();
        assert_eq!(t.matches("file:///a/b.txt").unwrap()["path"], "a/b.txt");
        assert!(t.matches("file:///a/../etc/passwd").is_none());
        assert!(t.matches("file:///a/%2e%2e/etc").is_none());
        let q = UriTemplate::parse("search://items{?q,limit}").unwrap();
        let m = q.matches("search://items?q=rust%20mcp&limit=5").unwrap();
        assert_eq!(m["q"], "rust mcp");
        assert_eq!(m["limit"], "5");
        let two = UriTemplate::parse("postgres://{schema}/{table}/schema").unwrap();
        let m = two.matches("postgres://public/orders/schema").unwrap();
        assert_eq!(
            (m["schema"].as_str(), m["table"].as_str()),
            (Some("public"), Some("orders"))
        );
        assert!(two.matches("postgres://public/orders/schema/x").is_none());
        assert!(two.matches("postgres://public//schema").is_none());
        assert!(two.matches("postgres://a%00b/t/schema").is_none());
    }

    #[test]
    fn long_input_is_handled() {
        let t = UriTemplate::parse("x://{a}-{b}")
            .unwrap_or_else(|_| UriTemplate::parse("x://{a}").unwrap());
        let long = format!("x://{}", "-".repeat(200_000));
        assert!(t.matches(&long).is_none() || t.matches(&long).is_some());
    }
}
