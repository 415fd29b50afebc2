//! Compile-time behaviour of the macros: every error message has a case in `tests/ui/<macro>/fail`
//! with its expected `.stderr` next to it, and `tests/ui/<macro>/pass` must compile and run.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p mcp-macros --test ui`
//! and read them before committing. They depend on the compiler version: the messages were
//! recorded with the toolchain named in the report of the change that last touched them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/*/pass/*.rs");
    t.compile_fail("tests/ui/*/fail/*.rs");
}
