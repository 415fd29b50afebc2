//! Attribute macros for `mcp-core`.
//!
//! Use them through `mcp_core` (re-exported behind its default `macros` feature);
//! this crate is an implementation detail and has no stable API of its own yet.
