//! The OAuth 2.1 resource server (`mcp_transport::auth`), end to end in process: a test issuer
//! whose keys are made at test time and whose JWKS is served on loopback, the bearer layer in
//! front of a recording service or a real `McpService`, and a capturing tracing subscriber that
//! every test checks for leaked tokens.

mod jwks;
mod metadata;
mod rejections;
mod scopes;
mod support;
