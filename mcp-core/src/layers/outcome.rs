//! What became of a request, as the layers see it.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::server::McpResponse;

/// What became of a request.
///
/// Failures are everything but [`Outcome::Ok`] and [`Outcome::InputRequired`]; a tool result
/// with `isError: true` is a failure ([`Outcome::ToolError`], or the more precise
/// [`Outcome::TimedOut`], [`Outcome::RateLimited`] or [`Outcome::Panicked`]).
///
/// ```
/// use mcp_core::layers::Outcome;
/// use serde_json::json;
///
/// let ok = Some(Ok(json!({"content": []})));
/// assert_eq!(Outcome::of(&ok), Outcome::Ok);
/// let failed = Some(Ok(json!({"content": [], "isError": true})));
/// assert_eq!(Outcome::of(&failed), Outcome::ToolError);
/// assert!(Outcome::of(&failed).is_failure());
/// assert_eq!(Outcome::of(&None), Outcome::Cancelled);
/// assert_eq!(Outcome::TimedOut.as_str(), "timed_out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Outcome {
    /// A result.
    Ok,
    /// A tool result with `isError: true` from the tool itself (its own `Err`, or arguments
    /// it rejected).
    ToolError,
    /// A 2026-07-28 `input_required` result: the client answers and retries.
    InputRequired,
    /// A JSON-RPC error not listed below (unknown tool, invalid params, …).
    Error,
    /// The caller lacks a scope (`-31403`).
    Denied,
    /// A rate limit: `-31429` for a client's limit, an `isError` result for a tool's.
    RateLimited,
    /// The server could not take the request (`-31503`): overloaded, or the audit log is
    /// unavailable and fails closed.
    Unavailable,
    /// The tool ran past its deadline; its future was dropped.
    TimedOut,
    /// A handler or a layer panicked.
    Panicked,
    /// No answer: the client cancelled, or the request's future was dropped.
    Cancelled,
}

impl Outcome {
    /// Every outcome, in a fixed order (metrics render them in it).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::Outcome;
    /// for outcome in Outcome::ALL {
    ///     assert_eq!(Outcome::from_name(outcome.as_str()), Some(outcome));
    /// }
    /// ```
    pub const ALL: [Outcome; 10] = [
        Outcome::Ok,
        Outcome::ToolError,
        Outcome::InputRequired,
        Outcome::Error,
        Outcome::Denied,
        Outcome::RateLimited,
        Outcome::Unavailable,
        Outcome::TimedOut,
        Outcome::Panicked,
        Outcome::Cancelled,
    ];

    /// The snake_case name used in audit records and metric labels.
    ///
    /// See [`Outcome`] for an example.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::InputRequired => "input_required",
            Outcome::Error => "error",
            Outcome::Denied => "denied",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unavailable => "unavailable",
            Outcome::TimedOut => "timed_out",
            Outcome::Panicked => "panicked",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The outcome named `name` (the inverse of [`Outcome::as_str`]).
    ///
    /// ```
    /// # use mcp_core::layers::Outcome;
    /// assert_eq!(Outcome::from_name("denied"), Some(Outcome::Denied));
    /// assert_eq!(Outcome::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Whether the request failed.
    ///
    /// See [`Outcome`] for an example.
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::InputRequired)
    }

    /// The position in [`Outcome::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Judges a response by itself, with no [`report`]ed hint.
    ///
    /// See [`Outcome`] for an example.
    pub fn of(response: &McpResponse) -> Outcome {
        Self::judge(response, None)
    }

    /// Judges a response, preferring what a layer reported for it.
    pub(crate) fn judge(response: &McpResponse, hint: Option<Outcome>) -> Outcome {
        match response {
            None => Outcome::Cancelled,
            Some(Err(e)) => hint
                .filter(|h| !matches!(h, Outcome::Ok | Outcome::ToolError))
                .unwrap_or_else(|| of_error(e)),
            Some(Ok(value)) => {
                if value.get("resultType").and_then(Value::as_str) == Some("input_required") {
                    return Outcome::InputRequired;
                }
                if value.get("isError").and_then(Value::as_bool) != Some(true) {
                    return Outcome::Ok;
                }
                hint.filter(|h| {
                    matches!(
                        h,
                        Outcome::TimedOut | Outcome::RateLimited | Outcome::Panicked
                    )
                })
                .unwrap_or_else(|| of_tool_error(value))
            }
        }
    }
}

fn of_error(e: &ErrorObject) -> Outcome {
    let reason = e
        .data
        .as_ref()
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str);
    match e.code {
        ErrorCode::FORBIDDEN => Outcome::Denied,
        super::RATE_LIMITED => Outcome::RateLimited,
        super::UNAVAILABLE => Outcome::Unavailable,
        _ if reason == Some("panicked") => Outcome::Panicked,
        _ if reason == Some("timeout") => Outcome::TimedOut,
        // The runtime's own words for a panicking prompt, resource or completion handler.
        ErrorCode::INTERNAL_ERROR if e.message.ends_with("handler panicked") => Outcome::Panicked,
        _ => Outcome::Error,
    }
}

/// An `isError` result nobody reported on: the runtime's own timeout and panic results are
/// recognised by their words (the runtime does not report yet), anything else is the tool's.
fn of_tool_error(value: &Value) -> Outcome {
    let text = value
        .get("content")
        .and_then(|c| c.get(0))
        .and_then(|b| b.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if text.starts_with("the tool ")
        && text.contains(" timed out after ")
        && text.ends_with(" and was cancelled")
    {
        Outcome::TimedOut
    } else if text.starts_with("internal error: the tool ") && text.contains("(it panicked)") {
        Outcome::Panicked
    } else {
        Outcome::ToolError
    }
}

tokio::task_local! {
    static REPORTED: Arc<AtomicU8>;
}

/// Tells the observing layers (audit, metrics, tracing) of the current request what its
/// outcome is, where the response alone cannot tell: a layer that answers a tool call with an
/// `isError` result because of a timeout or a tool-level rate limit calls this. The first
/// report of a request wins; outside an observed request it does nothing.
///
/// ```
/// use mcp_core::layers::{report, Outcome};
/// report(Outcome::TimedOut); // no observing layer around: ignored
/// ```
pub fn report(outcome: Outcome) {
    // `index() + 1` fits: there are ten outcomes.
    let code = u8::try_from(outcome.index() + 1).unwrap_or(u8::MAX);
    let _ = REPORTED.try_with(|slot| {
        let _ = slot.compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    });
}

/// Runs `fut` (the rest of the stack) where [`report`]s reach this layer, and returns its
/// answer with the outcome reported for it. Nested observers share one slot.
pub(crate) async fn observe<F>(fut: F) -> (McpResponse, Option<Outcome>)
where
    F: Future<Output = Result<McpResponse, Infallible>>,
{
    let (response, slot) = match REPORTED.try_with(Arc::clone) {
        Ok(slot) => (fut.await, slot),
        Err(_) => {
            let slot = Arc::new(AtomicU8::new(0));
            (REPORTED.scope(slot.clone(), fut).await, slot)
        }
    };
    let response = match response {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let hint = match slot.load(Ordering::Acquire) {
        0 => None,
        n => Outcome::ALL.get(usize::from(n) - 1).copied(),
    };
    (response, hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_by_code_and_reason() {
        let e = |code: ErrorCode, data: Option<Value>| {
            let mut e = ErrorObject::new(code, "x");
            e.data = data;
            Some(Err(e))
        };
        assert_eq!(Outcome::of(&e(ErrorCode::FORBIDDEN, None)), Outcome::Denied);
        assert_eq!(
            Outcome::of(&e(super::super::RATE_LIMITED, None)),
            Outcome::RateLimited
        );
        assert_eq!(
            Outcome::of(&e(super::super::UNAVAILABLE, None)),
            Outcome::Unavailable
        );
        assert_eq!(
            Outcome::of(&e(
                ErrorCode::INTERNAL_ERROR,
                Some(json!({"reason": "panicked"}))
            )),
            Outcome::Panicked
        );
        assert_eq!(
            Outcome::of(&e(ErrorCode::INVALID_PARAMS, None)),
            Outcome::Error
        );
    }

    #[test]
    fn runtime_words_are_recognised() {
        let text = |t: &str| {
            Some(Ok(
                json!({"content": [{"type": "text", "text": t}], "isError": true}),
            ))
        };
        assert_eq!(
            Outcome::of(&text(
                "the tool \"slow\" timed out after 1s and was cancelled"
            )),
            Outcome::TimedOut
        );
        assert_eq!(
            Outcome::of(&text("internal error: the tool \"boom\" failed unexpectedly (it panicked); the server keeps running, and retrying may help")),
            Outcome::Panicked
        );
        assert_eq!(Outcome::of(&text("no such row")), Outcome::ToolError);
    }

    #[test]
    fn names_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_name(o.as_str()), Some(o));
            assert_eq!(Outcome::ALL[o.index()], o);
        }
    }

    #[tokio::test]
    async fn reports_reach_every_observer_and_the_first_wins() {
        let inner = async {
            report(Outcome::TimedOut);
            report(Outcome::Panicked);
            Ok(Some(Ok(json!({"isError": true}))))
        };
        let (outer, inner_hint) = observe(async {
            let (resp, hint) = observe(inner).await;
            assert_eq!(hint, Some(Outcome::TimedOut));
            Ok(resp)
        })
        .await;
        assert_eq!(inner_hint, Some(Outcome::TimedOut));
        assert_eq!(
            Outcome::judge(&outer, inner_hint),
            Outcome::TimedOut,
            "the hint explains an isError result"
        );
    }
}
