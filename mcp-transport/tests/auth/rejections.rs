//! Every bad credential is a 401 with a proper challenge (never a 500, never reaching the
//! service); good ones pass with the identity attached and the token stripped.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mcp_transport::auth::{
    verifier_fn, AuthConfig, AuthError, BearerAuthLayer, Identity, JwsAlgorithm, JwtVerifier,
    Layer as _, TokenVerifierExt,
};
use serde_json::{json, Value};

use crate::support::*;

const TEST: Duration = Duration::from_secs(60);

/// Asserts a 401 whose challenge names the metadata document and carries `error` (or none).
fn assert_401(
    what: &str,
    (status, headers, body): &(StatusCode, http::HeaderMap, bytes::Bytes),
    error: Option<&str>,
) {
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{what}: {body:?}");
    let challenge = header(headers, "www-authenticate");
    assert!(challenge.starts_with("Bearer "), "{what}: {challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{METADATA_URL}\"")),
        "{what}: {challenge}"
    );
    match error {
        Some(e) => {
            assert!(
                challenge.contains(&format!("error=\"{e}\"")),
                "{what}: {challenge}"
            );
            assert!(
                challenge.contains("error_description=\""),
                "{what}: {challenge}"
            );
        }
        None => assert!(!challenge.contains("error="), "{what}: {challenge}"),
    }
    let v = json(body);
    assert_eq!(v["jsonrpc"], "2.0", "{what}");
    assert_eq!(v["error"]["code"], -31401, "{what}: {v}");
    assert_eq!(
        header(headers, "content-type"),
        "application/json",
        "{what}"
    );
}

#[tokio::test]
async fn bad_tokens_are_401_and_never_reach_the_service() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let recorder = Recorder::default();
        let svc = BearerAuthLayer::jwt(issuer.config())
            .expect("a valid config")
            .layer(recorder.clone());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let rsa = rsa_key();

        // Missing: a bare challenge, no error code (RFC 6750 §3.1).
        let r = send(&svc, post(&call, None, &[])).await;
        assert_401("missing token", &r, None);

        let expired = mint(|c| {
            c.insert("exp".into(), json!(now() - 3600));
            c.insert("iat".into(), json!(now() - 7200));
        });
        let not_yet = mint(|c| {
            c.insert("nbf".into(), json!(now() + 3600));
        });
        let wrong_issuer = mint(|c| {
            c.insert("iss".into(), json!("https://evil.example.com"));
        });
        let issuer_as_number = mint(|c| {
            c.insert("iss".into(), json!(7));
        });
        let wrong_audience = mint(|c| {
            c.insert("aud".into(), json!("https://other.example.com/mcp"));
        });
        let audience_list_without_us = mint(|c| {
            c.insert(
                "aud".into(),
                json!(["https://a.example", "https://b.example"]),
            );
        });
        let no_audience = mint(|c| {
            c.remove("aud");
        });
        let no_exp = mint(|c| {
            c.remove("exp");
        });
        let exp_as_string = mint(|c| {
            c.insert("exp".into(), json!("99999999999"));
        });
        let no_subject = mint(|c| {
            c.remove("sub");
        });
        // Bad signatures: claims changed after signing; signed by another P-256 key under
        // the issuer's kid.
        let good = mint(|_| {});
        let parts: Vec<&str> = good.split('.').collect();
        let mut tampered_claims = claims();
        tampered_claims.insert("sub".into(), json!("mallory"));
        let tampered = remember(&format!(
            "{}.{}.{}",
            parts[0],
            b64(Value::Object(tampered_claims).to_string().as_bytes()),
            parts[2]
        ));
        let other_ec = new_ec_key();
        let wrong_key = remember(
            &jsonwebtoken::encode(
                &{
                    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
                    h.kid = Some(EC_KID.into());
                    h
                },
                &claims(),
                &jsonwebtoken::EncodingKey::from_ec_der(&other_ec.pkcs8),
            )
            .expect("token"),
        );
        let truncated_signature =
            remember(&format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]));
        let no_signature = remember(&format!("{}.{}.", parts[0], parts[1]));
        // `alg: none`, in its spellings, with and without a signature.
        let mut nones = Vec::new();
        for alg in ["none", "None", "NONE", "nOnE"] {
            nones.push(forge(json!({"alg": alg, "kid": RSA_KID}), &claims(), b""));
            nones.push(forge(json!({"alg": alg, "typ": "JWT"}), &claims(), b"sig"));
        }
        // HS256 "signed" with the RSA public key, in every encoding an attacker might pick.
        let mut confusions = Vec::new();
        for secret in [
            rsa.spki_pem.as_bytes(),
            rsa.pkcs1_pem.as_bytes(),
            &rsa.spki_der,
            &rsa.pkcs1_der,
            rsa.n.as_bytes(),
        ] {
            confusions.push(hs256(Some(RSA_KID), secret));
            confusions.push(hs256(None, secret));
        }
        for alg in ["HS384", "HS512"] {
            confusions.push(forge(
                json!({"alg": alg, "kid": RSA_KID}),
                &claims(),
                b"mac",
            ));
        }
        let unknown_alg = forge(json!({"alg": "RS1", "kid": RSA_KID}), &claims(), b"sig");
        let crit = forge(
            json!({"alg": "RS256", "kid": RSA_KID, "crit": ["exp"]}),
            &claims(),
            b"sig",
        );
        let unknown_kid = mint_with(Signer::Rs256, Some("no-such-key"), |_| {});
        // An ES256 token whose kid names the RSA key.
        let kid_of_other_type = mint_with(Signer::Es256, Some(RSA_KID), |_| {});

        let mut cases: Vec<(&str, String)> = vec![
            ("expired", expired),
            ("not yet valid", not_yet),
            ("wrong issuer", wrong_issuer),
            ("issuer of the wrong type", issuer_as_number),
            ("wrong audience", wrong_audience),
            ("audience list without us", audience_list_without_us),
            ("no audience", no_audience),
            ("no exp", no_exp),
            ("exp as a string", exp_as_string),
            ("no subject", no_subject),
            ("tampered claims", tampered),
            ("signed by another key", wrong_key),
            ("truncated signature", truncated_signature),
            ("no signature", no_signature),
            ("unknown alg", unknown_alg),
            ("crit header", crit),
            ("unknown kid", unknown_kid),
            ("kid of another key type", kid_of_other_type),
            ("not a JWT", remember("definitely-not-a-jwt")),
            ("four segments", remember("a.b.c.d")),
            ("not base64url", remember("a+b/.eyJ9.c2ln")),
        ];
        cases.extend(nones.into_iter().map(|t| ("alg none", t)));
        cases.extend(
            confusions
                .into_iter()
                .map(|t| ("HS256 with the RSA public key", t)),
        );
        for (what, token) in &cases {
            let r = send(&svc, post(&call, Some(token), &[])).await;
            assert_401(what, &r, Some("invalid_token"));
            let challenge = header(&r.1, "www-authenticate");
            assert!(
                !challenge.contains(token.as_str()),
                "{what}: the token is echoed"
            );
        }

        // Malformed Authorization headers.
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer a b",
            "Bearer tok\"en",
        ] {
            let mut req = post(&call, None, &[]);
            req.headers_mut()
                .insert("authorization", http::HeaderValue::from_static(value));
            let r = send(&svc, req).await;
            assert_401(value, &r, Some("invalid_request"));
        }
        let mut twice = post(&call, Some(&mint(|_| {})), &[]);
        twice.headers_mut().append(
            "authorization",
            http::HeaderValue::from_str(&format!("Bearer {}", mint(|_| {}))).expect("header"),
        );
        assert_401(
            "two Authorization headers",
            &send(&svc, twice).await,
            Some("invalid_request"),
        );

        // A token in the query string: refused even when the header is right too.
        let valid = mint(|_| {});
        for (what, uri, bearer) in [
            ("query only", format!("/mcp?access_token={valid}"), None),
            (
                "query and header",
                format!("/mcp?x=1&access_token={valid}"),
                Some(valid.as_str()),
            ),
        ] {
            let mut req = post(&call, bearer, &[]);
            *req.uri_mut() = uri.parse().expect("uri");
            let r = send(&svc, req).await;
            assert_401(what, &r, Some("invalid_request"));
            let challenge = header(&r.1, "www-authenticate");
            assert!(challenge.contains("Authorization header"), "{challenge}");
            assert!(!challenge.contains(&valid));
        }
        let r = send(&svc, get(&format!("/mcp?access_token={valid}"), None)).await;
        assert_401("GET with a query token", &r, Some("invalid_request"));

        assert_eq!(recorder.calls(), 0, "no bad request reached the service");
        // The capture works: the refusals were logged (without their tokens).
        let log = captured_text();
        assert!(log.contains("refused a request"), "nothing captured");
        assert!(log.contains("the access token has expired"));
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn good_tokens_pass_with_the_identity_and_without_the_token() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let recorder = Recorder::default();
        let config = issuer
            .config()
            .required_typ("at+jwt")
            .scope_implies("tools.read", ["tools.list"]);
        let svc = BearerAuthLayer::jwt(config)
            .expect("config")
            .layer(recorder.clone());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        for (signer, kid) in [
            (Signer::Rs256, Some(RSA_KID)),
            (Signer::Ps256, Some(RSA_KID)),
            (Signer::Es256, Some(EC_KID)),
            (Signer::EdDsa, Some(ED_KID)),
            // No kid: the key is found by type.
            (Signer::Es256, None),
        ] {
            let token = mint_with(signer, kid, |c| {
                c.insert("scope".into(), json!("tools.read secrets.read"));
            });
            let (status, _, body) = send(&svc, post(&call, Some(&token), &[])).await;
            assert_eq!(status, StatusCode::OK, "{signer:?}: {body:?}");
            let seen = recorder.last();
            assert!(
                !seen.authorization,
                "the Authorization header was passed on"
            );
            let id = seen.identity.expect("an identity");
            assert_eq!(id.subject, "alice");
            assert_eq!(id.client_id.as_deref(), Some("test-client"));
            assert_eq!(id.scopes, ["tools.read", "tools.list", "secrets.read"]);
            assert_eq!(id.claims["iss"], ISSUER);
            assert_eq!(seen.body.as_ref(), call.to_string().as_bytes());
        }
        // Lower-case scheme, and leeway: expired 10 s ago is still fine with 30 s of leeway.
        let token = mint(|c| {
            c.insert("exp".into(), json!(now() - 10));
        });
        let mut req = post(&call, None, &[]);
        req.headers_mut().insert(
            "authorization",
            http::HeaderValue::from_str(&format!("bearer {token}")).expect("header"),
        );
        assert_eq!(send(&svc, req).await.0, StatusCode::OK);
        // An audience list that includes us, with different case in the host.
        let token = mint(|c| {
            c.insert(
                "aud".into(),
                json!(["https://other.example", "https://MCP.example.com/mcp"]),
            );
        });
        assert_eq!(
            send(&svc, post(&call, Some(&token), &[])).await.0,
            StatusCode::OK
        );
        // The required `typ`.
        let wrong_typ = forge(
            json!({"alg": "RS256", "kid": RSA_KID, "typ": "JWT"}),
            &claims(),
            b"x",
        );
        let r = send(&svc, post(&call, Some(&wrong_typ), &[])).await;
        assert_eq!(r.0, StatusCode::UNAUTHORIZED);
        // Spans are captured too: the layer's span names the subject, never the token.
        assert!(captured_text().contains("span mcp.auth: subject=alice client_id=test-client"));
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn the_allowlist_is_enforced_before_anything_else() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let config = issuer.config().allowed_algs([JwsAlgorithm::ES256]);
        let verifier = Arc::new(JwtVerifier::new(&config).expect("config"));
        let svc = BearerAuthLayer::new(config, verifier.clone())
            .expect("config")
            .layer(Recorder::default());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let rs = mint(|_| {});
        let r = send(&svc, post(&call, Some(&rs), &[])).await;
        assert_eq!(r.0, StatusCode::UNAUTHORIZED);
        assert!(header(&r.1, "www-authenticate").contains("RS256"));
        assert_eq!(
            verifier.jwks_fetch_count(),
            0,
            "refused before looking for keys"
        );
        let es = mint_with(Signer::Es256, Some(EC_KID), |_| {});
        assert_eq!(
            send(&svc, post(&call, Some(&es), &[])).await.0,
            StatusCode::OK
        );
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn custom_verifiers_plug_in() {
    init();
    within(TEST, async {
        let recorder = Recorder::default();
        let verifier = verifier_fn(|token| async move {
            match token.secret() {
                "opaque-alice-token" => Ok(Identity::new("alice").with_scopes(["a"])),
                "opaque-bob-token" => Ok(Identity::new("bob")),
                "opaque-down-token" => Err(AuthError::Unavailable("introspection is down".into())),
                _ => Err(AuthError::Rejected("unknown token".into())),
            }
        })
        .check(|id| match id.subject.as_str() {
            "bob" => Err(AuthError::Rejected("bob is suspended".into())),
            _ => Ok(()),
        });
        for t in [
            "opaque-alice-token",
            "opaque-bob-token",
            "opaque-down-token",
        ] {
            remember(t);
        }
        let config = AuthConfig::new(RESOURCE).authorization_server(ISSUER);
        let svc = BearerAuthLayer::new(config, verifier)
            .expect("config")
            .layer(recorder.clone());
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let ok = send(&svc, post(&call, Some("opaque-alice-token"), &[])).await;
        assert_eq!(ok.0, StatusCode::OK);
        assert_eq!(recorder.last().identity.expect("identity").subject, "alice");
        let bob = send(&svc, post(&call, Some("opaque-bob-token"), &[])).await;
        assert_401("suspended", &bob, Some("invalid_token"));
        assert!(header(&bob.1, "www-authenticate").contains("bob is suspended"));
        let down = send(&svc, post(&call, Some("opaque-down-token"), &[])).await;
        assert_eq!(down.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&down.1, "retry-after"), "5");
        assert_eq!(recorder.calls(), 1);
        assert_no_token_logged();
    })
    .await;
}
