//! The server the official MCP conformance suite tests against (`conformance-server`): every
//! fixture the suite calls, in both protocol eras — content of every kind, logging, progress,
//! errors, sampling, elicitation, `input_required` results, hand-written schemas, tasks,
//! prompts with completions, resources and a template.
//!
//! The suite runs against the binary (`examples/tests/conformance.rs`); the same router is
//! tested in process in `examples/tests/conformance_inprocess.rs` and served over HTTP by
//! `examples/tests/tasks.rs`.
//!
//! ```
//! let router = mcp_examples::conformance::router();
//! assert!(router.tool_names().any(|name| name == "test_simple_text"));
//! ```

mod fixtures;

pub use fixtures::router;
