//! Checks done at compile time: names, URI templates, durations.

/// Whether a tool name is valid: 1–128 characters of `[A-Za-z0-9_.-]` (the same rule as
/// `mcp_core::router::is_valid_tool_name`).
pub(crate) fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Why a tool name is invalid, for the error message.
pub(crate) fn tool_name_problem(name: &str) -> String {
    if name.is_empty() {
        return "a tool name cannot be empty".into();
    }
    if name.len() > 128 {
        return format!(
            "the tool name is {} characters long; the limit is 128",
            name.len()
        );
    }
    let bad: String = name
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .take(3)
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("invalid tool name {name:?}: it contains {bad}; use 1-128 characters of A-Z, a-z, 0-9, `_`, `.` and `-`")
}

/// One RFC 6570 expression of a template.
pub(crate) struct Expression {
    pub(crate) vars: Vec<String>,
}

/// Parses a URI template (levels 1–3), mirroring `mcp_core::template::UriTemplate::parse`
/// so that a template the runtime would refuse is a compile error instead of a startup panic.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Expression>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    let mut last_was_expr = false;
    while !rest.is_empty() {
        if let Some(body) = rest.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| "unclosed `{` in the URI template".to_owned())?;
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
            if let Some(bad) = vars.iter().find(|v| {
                v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            }) {
                return Err(format!(
                    "invalid template variable {bad:?}: variable names are letters, digits, `_` and `.`"
                ));
            }
            if last_was_expr && !matches!(op, Some('?' | '&' | '/' | '.' | ';' | '#')) {
                return Err(format!(
                    "`{{{expr}}}` directly follows another expression, so the two cannot be told apart; put a literal between them"
                ));
            }
            out.push(Expression { vars });
            last_was_expr = true;
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            if rest[..end].contains('}') {
                return Err("stray `}` in the URI template".into());
            }
            rest = &rest[end..];
            last_was_expr = false;
        }
    }
    Ok(out)
}

/// Parses a duration such as `"30s"`, `"500ms"`, `"2m"` or `"1h"` into milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let help = "write a whole number and a unit (`ms`, `s`, `m` or `h`), like \"30s\", \"500ms\" or \"2m\"";
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: {help}"))?;
    let factor = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("invalid duration {text:?}: {help}")),
    };
    match number.checked_mul(factor) {
        Some(0) => Err(format!(
            "a timeout of {text:?} would cancel every call; {help}"
        )),
        Some(ms) => Ok(ms),
        None => Err(format!("the duration {text:?} is too long")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("1h"), Ok(3_600_000));
        assert!(parse_duration_ms("0s").is_err());
        assert!(parse_duration_ms("10").is_err());
        assert!(parse_duration_ms("s").is_err());
        assert!(parse_duration_ms("1.5s").is_err());
    }

    #[test]
    fn templates() {
        let t = parse_template("file:///{+path}{?q,limit}").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].vars, ["q", "limit"]);
        assert!(parse_template("a://{x").is_err());
        assert!(parse_template("a://{x}{y}").is_err());
        assert!(parse_template("a://{x}}").is_err());
        assert!(parse_template("a://{x y}").is_err());
    }

    #[test]
    fn tool_names() {
        assert!(is_valid_tool_name("db.query_v2-x"));
        assert!(!is_valid_tool_name("has space"));
        assert!(!is_valid_tool_name(&"a".repeat(129)));
        assert!(tool_name_problem("a b").contains("' '"));
    }
}
