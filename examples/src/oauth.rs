//! `oauth-server`: an MCP server that is an OAuth 2.1 resource server.
//!
//! Run with `cargo run -p mcp-examples --bin oauth-server -- --dev-issuer`: a throwaway local
//! issuer starts next to the server (a fresh P-256 key, its JWKS on loopback, a toy token
//! endpoint), and two sample tokens plus ready-to-paste `curl` lines are printed on stderr.
//!
//! Every request needs `Authorization: Bearer <token>`. `whoami` answers any authenticated
//! caller with the subject and scopes it sees through the `Identity` extractor; `secret`
//! needs the scope `secrets.read` — without it the answer is `403` with
//! `WWW-Authenticate: Bearer error="insufficient_scope", scope="secrets.read", …`. Clients
//! discover the issuer from the RFC 9728 document at
//! `/.well-known/oauth-protected-resource/mcp`.
//!
//! Against a real issuer: `oauth-server --issuer https://auth.example.com --jwks-url
//! http://127.0.0.1:9000/jwks.json --resource https://mcp.example.com/mcp`. (The default JWKS
//! fetcher speaks plain HTTP to loopback; for an `https://` JWKS give
//! `JwtVerifier::with_fetcher` a `HyperJwksFetcher::with_connector(<an HTTPS connector>)`.)

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use mcp_core::identity::Identity;
use mcp_core::{tool, Json, Router, Server};
use mcp_transport::auth::{AuthConfig, BearerAuthLayer, Layer as _, WELL_KNOWN};
use mcp_transport::http::{Allowlist, HttpConfig, McpService};
use serde_json::{json, Value};

const USAGE: &str = "usage: oauth-server [--addr ADDR] (--dev-issuer | --issuer URL --jwks-url URL) [--resource URL]

  --addr ADDR      listen on ADDR (default 127.0.0.1:8080); the MCP endpoint is /mcp
  --dev-issuer     start a local development issuer on loopback and print sample tokens
  --issuer URL     the authorization server whose tokens are accepted (its `iss`)
  --jwks-url URL   where that issuer publishes its signing keys
  --resource URL   this server's canonical URI (default http://ADDR/mcp)";

/// The scope `secret` needs.
pub const SECRET_SCOPE: &str = "secrets.read";

/// Who the caller is, as this server sees it.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct WhoAmI {
    /// The token's subject.
    subject: String,
    /// The granted scopes.
    scopes: Vec<String>,
    /// The OAuth client the token was issued to.
    client_id: Option<String>,
}

/// Tells the caller who they are: subject, scopes and client, from the verified token.
#[tool(read_only)]
async fn whoami(#[extract] who: Identity) -> Json<WhoAmI> {
    Json(WhoAmI {
        subject: who.subject,
        scopes: who.scopes,
        client_id: who.client_id,
    })
}

/// Reveals the secret; only for callers granted `secrets.read`.
#[tool(read_only, scopes = ["secrets.read"])]
async fn secret(#[extract] who: Identity) -> String {
    format!("The secret is 42 (read by {}).", who.subject)
}

/// The tools, as any transport serves them: who is asking, and the scoped secret.
///
/// ```
/// let router = mcp_examples::oauth::router();
/// assert_eq!(router.tool_names().collect::<Vec<_>>(), ["whoami", "secret"]);
/// ```
pub fn router() -> Router {
    mcp_core::router![whoami, secret].server_info(mcp_core::crate_info!())
}

/// The command line of `oauth-server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--addr`: where to listen.
    pub addr: SocketAddr,
    /// `--dev-issuer`: start the development issuer.
    pub dev_issuer: bool,
    /// `--issuer`: the accepted issuer.
    pub issuer: Option<String>,
    /// `--jwks-url`: the issuer's keys.
    pub jwks_url: Option<String>,
    /// `--resource`: this server's canonical URI.
    pub resource: Option<String>,
}

impl Options {
    /// Parses the arguments (without the program name); `--help` prints the usage and exits.
    pub fn parse(args: impl IntoIterator<Item = String>) -> io::Result<Options> {
        let mut args = args.into_iter();
        let mut o = Options {
            addr: ([127, 0, 0, 1], 8080).into(),
            dev_issuer: false,
            issuer: None,
            jwks_url: None,
            resource: None,
        };
        let bad =
            |m: String| io::Error::new(io::ErrorKind::InvalidInput, format!("{m}\n\n{USAGE}"));
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| bad(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--addr" => {
                    let v = value("--addr")?;
                    o.addr = v
                        .parse()
                        .map_err(|e| bad(format!("bad address {v:?}: {e}")))?;
                }
                "--dev-issuer" => o.dev_issuer = true,
                "--issuer" => o.issuer = Some(value("--issuer")?),
                "--jwks-url" => o.jwks_url = Some(value("--jwks-url")?),
                "--resource" => o.resource = Some(value("--resource")?),
                "-h" | "--help" => {
                    eprintln!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(bad(format!("unknown argument {other:?}"))),
            }
        }
        if !o.dev_issuer && (o.issuer.is_none() || o.jwks_url.is_none()) {
            return Err(bad(
                "give --dev-issuer, or both --issuer and --jwks-url".into()
            ));
        }
        Ok(o)
    }
}

/// Serves the tools behind bearer-token authentication at `/mcp`, with the RFC 9728 metadata,
/// until ctrl-c or SIGTERM; with `--dev-issuer`, starts the development issuer first.
pub async fn serve(opts: Options) -> io::Result<()> {
    let listener = tokio::net::TcpListener::bind(opts.addr).await?;
    let bound = listener.local_addr()?;
    let resource = opts
        .resource
        .clone()
        .unwrap_or_else(|| format!("http://{bound}/mcp"));

    let (issuer, jwks_url, dev) = if opts.dev_issuer {
        let dev = dev_issuer::start(&resource).await?;
        (dev.issuer.clone(), dev.jwks_url.clone(), Some(dev))
    } else {
        (
            opts.issuer.clone().unwrap_or_default(),
            opts.jwks_url.clone().unwrap_or_default(),
            None,
        )
    };

    let server = Server::new(router());
    let config = AuthConfig::new(&resource)
        .authorization_server(&issuer)
        .jwks_url(&jwks_url)
        .scopes_supported([SECRET_SCOPE])
        .resource_name("oauth-server example");
    let layer = BearerAuthLayer::jwt(config)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?
        .scope_policy(server.clone());
    let mut http = HttpConfig::default();
    if !bound.ip().is_loopback() {
        http = http.allow(Allowlist::with_hosts([bound.ip().to_string()]));
    }
    let mcp = McpService::new(server, http);
    let protected = layer.layer(mcp.clone());
    // The MCP endpoint and both forms of the metadata document go through the layer.
    let app = axum::Router::new()
        .route_service("/mcp", protected.clone())
        .route_service(WELL_KNOWN, protected.clone())
        .route_service(&format!("{WELL_KNOWN}/mcp"), protected);

    eprintln!("MCP endpoint:       http://{bound}/mcp (resource {resource})");
    eprintln!("resource metadata:  {}", layer.resource_metadata_url());
    eprintln!("accepting tokens from {issuer} (keys at {jwks_url})");
    if let Some(dev) = &dev {
        dev.print_instructions(bound);
    }

    crate::serve_axum(listener, app, mcp).await
}

/// A development-only authorization server: one P-256 key made at startup, its JWKS, RFC 8414
/// metadata, and a token endpoint that hands a token to anyone who asks. Loopback only; never
/// use it for anything real.
mod dev_issuer {
    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use std::sync::Arc;

    const KID: &str = "dev-1";

    pub(super) struct DevIssuer {
        pub(super) issuer: String,
        pub(super) jwks_url: String,
        token_url: String,
        state: Arc<State>,
    }

    struct State {
        issuer: String,
        resource: String,
        key: EncodingKey,
        jwks: Value,
    }

    impl State {
        fn mint(&self, scope: &str) -> Result<String, jsonwebtoken::errors::Error> {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_secs();
            let mut claims = json!({
                "iss": self.issuer,
                "aud": self.resource,
                "sub": "dev-user",
                "client_id": "dev-client",
                "iat": now,
                "exp": now + 3600,
            });
            if !scope.is_empty() {
                claims["scope"] = json!(scope);
            }
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(KID.into());
            header.typ = Some("at+jwt".into());
            jsonwebtoken::encode(&header, &claims, &self.key)
        }
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn other(e: impl std::fmt::Display) -> io::Error {
        io::Error::other(e.to_string())
    }

    pub(super) async fn start(resource: &str) -> io::Result<DevIssuer> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| other("could not generate a P-256 key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| other("could not load the P-256 key"))?;
        let point = pair.public_key().as_ref();
        let (x, y) = point
            .get(1..)
            .unwrap_or_default()
            .split_at(32.min(point.len().saturating_sub(1)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State {
            issuer: base.clone(),
            resource: resource.to_owned(),
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwks: json!({"keys": [{
                "kty": "EC", "crv": "P-256", "kid": KID, "use": "sig", "alg": "ES256",
                "x": b64(x), "y": b64(y),
            }]}),
        });
        let metadata = json!({
            "issuer": base,
            "jwks_uri": format!("{base}/jwks.json"),
            "token_endpoint": format!("{base}/token"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": [SECRET_SCOPE],
        });
        let jwks = state.jwks.clone();
        let token_state = state.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                get(move || async move { json_response(200, &metadata) }),
            )
            .route(
                "/jwks.json",
                get(move || async move { json_response(200, &jwks) }),
            )
            .route(
                "/token",
                post(move |body: String| async move { token(&token_state, &body) }),
            );
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(%e, "the development issuer stopped");
            }
        });
        Ok(DevIssuer {
            issuer: base.clone(),
            jwks_url: format!("{base}/jwks.json"),
            token_url: format!("{base}/token"),
            state,
        })
    }

    fn json_response(status: u16, v: &Value) -> axum::response::Response {
        let mut r = axum::response::Response::new(axum::body::Body::from(v.to_string()));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        r.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        r
    }

    /// `POST /token` with `grant_type=client_credentials`, optional `scope` and `resource`.
    fn token(state: &State, body: &str) -> axum::response::Response {
        let mut grant = None;
        let mut scope = String::new();
        let mut resource = None;
        for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
            match k.as_ref() {
                "grant_type" => grant = Some(v.into_owned()),
                "scope" => scope = v.into_owned(),
                "resource" => resource = Some(v.into_owned()),
                _ => {}
            }
        }
        if grant.as_deref() != Some("client_credentials") {
            return json_response(400, &json!({"error": "unsupported_grant_type"}));
        }
        // RFC 8707: tokens are only for this one resource.
        if resource.as_deref().is_some_and(|r| r != state.resource) {
            return json_response(400, &json!({"error": "invalid_target"}));
        }
        let granted: Vec<&str> = scope.split(' ').filter(|s| *s == SECRET_SCOPE).collect();
        let granted = granted.join(" ");
        match state.mint(&granted) {
            Ok(t) => json_response(
                200,
                &json!({"access_token": t, "token_type": "Bearer", "expires_in": 3600, "scope": granted}),
            ),
            Err(e) => json_response(
                500,
                &json!({"error": "server_error", "error_description": e.to_string()}),
            ),
        }
    }

    impl DevIssuer {
        /// Prints sample tokens and commands. Printing tokens is what a development issuer is
        /// for; the SDK itself never logs one.
        pub(super) fn print_instructions(&self, bound: SocketAddr) {
            let (Ok(plain), Ok(reader)) = (self.state.mint(""), self.state.mint(SECRET_SCOPE))
            else {
                eprintln!("could not mint sample tokens");
                return;
            };
            let call = |name: &str| {
                format!(
                    "curl -s http://{bound}/mcp -H \"authorization: Bearer $TOKEN\" \\\n    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\\n    -H 'mcp-protocol-version: 2026-07-28' -H 'mcp-method: tools/call' -H 'mcp-name: {name}' \\\n    -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"{name}\",\"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}'"
                )
            };
            eprintln!(
                "\nDEVELOPMENT ISSUER at {} (tokens for anyone; loopback only)\n\n\
                 A token without scopes (whoami works, secret is 403):\n  TOKEN={plain}\n\n\
                 A token with {SECRET_SCOPE}:\n  TOKEN={reader}\n\n\
                 More tokens: curl -s {} -d grant_type=client_credentials -d scope={SECRET_SCOPE}\n\n\
                 Then:\n  {}\n  {}\n",
                self.issuer,
                self.token_url,
                call("whoami"),
                call("secret"),
            );
        }
    }
}
