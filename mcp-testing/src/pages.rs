//! Following `nextCursor` without trusting the server to stop.

use std::collections::HashSet;

use serde_json::Value;

use crate::TestError;

/// The most pages one `list_*` call follows.
pub(crate) const MAX_PAGES: usize = 1000;

/// The loop guard of one listing: refuses a cursor seen before and more than [`MAX_PAGES`]
/// pages.
#[derive(Debug, Default)]
pub(crate) struct Pages {
    seen: HashSet<String>,
    pages: usize,
}

impl Pages {
    /// Called after each page with its `nextCursor`: the cursor to ask for next, or `None` at
    /// the end.
    pub(crate) fn next(
        &mut self,
        method: &str,
        next_cursor: Option<&Value>,
    ) -> Result<Option<String>, TestError> {
        self.pages += 1;
        match next_cursor {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(cursor)) => {
                if self.pages >= MAX_PAGES {
                    return Err(TestError::Protocol(format!(
                        "{method} still had more pages after {MAX_PAGES}; giving up"
                    )));
                }
                if !self.seen.insert(cursor.clone()) {
                    return Err(TestError::Protocol(format!(
                        "{method} returned the cursor {cursor:?} twice; following it would loop forever"
                    )));
                }
                Ok(Some(cursor.clone()))
            }
            Some(other) => Err(TestError::Protocol(format!(
                "{method} returned a nextCursor that is not a string: {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ends_when_the_cursor_is_absent_or_null() {
        let mut pages = Pages::default();
        assert_eq!(
            pages.next("tools/list", Some(&json!("a"))),
            Ok(Some("a".into()))
        );
        assert_eq!(pages.next("tools/list", Some(&Value::Null)), Ok(None));
        assert_eq!(Pages::default().next("tools/list", None), Ok(None));
    }

    #[test]
    fn refuses_a_repeated_cursor() {
        let mut pages = Pages::default();
        assert!(pages.next("tools/list", Some(&json!("a"))).is_ok());
        assert!(pages.next("tools/list", Some(&json!("b"))).is_ok());
        let err = pages.next("tools/list", Some(&json!("a"))).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn refuses_endless_fresh_cursors() {
        let mut pages = Pages::default();
        let mut result = Ok(None);
        for i in 0..=MAX_PAGES {
            result = pages.next("tools/list", Some(&json!(i.to_string())));
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(TestError::Protocol(_))), "{result:?}");
    }

    #[test]
    fn refuses_a_non_string_cursor() {
        assert!(Pages::default()
            .next("tools/list", Some(&json!(3)))
            .is_err());
    }
}
