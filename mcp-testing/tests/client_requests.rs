//! Elicitation, sampling and roots answered by scripted responders: the same tool code and
//! the same responders in both eras.

#[macro_use]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{client, scripted, Probe};
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::{ClientCapabilities, ElicitRequest, Role, SamplingCapability};
use mcp_testing::{reply, CallToolResultExt, Era, RequestOptions, TestClient, TestError};
use serde_json::{json, Value};

both_eras!(
    elicitation_then_sampling,
    declined_elicitation,
    roots_are_listed,
    responders_see_the_same_questions,
    missing_sampling_capability,
    capabilities_are_per_request_in_the_modern_era,
    unscripted_question_is_reported,
    tampered_request_state,
);

async fn elicitation_then_sampling(era: Era) {
    let client = client(era).await;
    let result = client.call_tool("greet", ()).await.expect("greet answers");
    assert!(!result.is_error(), "{result:?}");
    assert_eq!(result.text_content(), "Hello, Ada! The model says: Paris");

    let result = client
        .call_tool("ask_model", json!({"prompt": "What is 2+2?"}))
        .await
        .expect("ask_model answers");
    assert_eq!(result.text_content(), "LLM response: Paris");
}

async fn declined_elicitation(era: Era) {
    let client = TestClient::builder(common::router(Probe::default()))
        .era(era)
        .on_elicit(|_| reply::decline())
        .on_sample(|_| reply::sampled("unused"))
        .connect()
        .await
        .expect("connects");
    let result = client.call_tool("greet", ()).await.expect("greet answers");
    assert_eq!(result.text_content(), "no name given");
    // It never got as far as the model.
    let methods: Vec<String> = client
        .server_requests()
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["elicitation/create"]);
}

async fn roots_are_listed(era: Era) {
    let client = client(era).await;
    let result = client.call_tool("roots", ()).await.expect("roots answers");
    assert_eq!(result.text_content(), "file:///src,file:///docs");

    client
        .set_roots(vec![reply::root("file:///other", "other")])
        .expect("roots are replaced");
    let result = client.call_tool("roots", ()).await.expect("roots answers");
    assert_eq!(result.text_content(), "file:///other");
}

async fn responders_see_the_same_questions(era: Era) {
    let asked = Arc::new(AtomicUsize::new(0));
    let seen = asked.clone();
    let client = TestClient::builder(common::router(Probe::default()))
        .era(era)
        .on_elicit(move |request| {
            seen.fetch_add(1, Ordering::SeqCst);
            match request {
                ElicitRequest::Form {
                    message,
                    requested_schema,
                } => {
                    assert_eq!(message, "What is your name?");
                    assert_eq!(requested_schema["required"], json!(["name"]));
                }
                other => panic!("expected a form, got {other:?}"),
            }
            reply::accept(json!({"name": "Grace"}))
        })
        .on_sample(|params| {
            assert_eq!(params.max_tokens, 100);
            assert_eq!(params.messages.len(), 1);
            assert_eq!(params.messages[0].role, Role::User);
            reply::sampled("Lyon?")
        })
        .connect()
        .await
        .expect("connects");
    let result = client.call_tool("greet", ()).await.expect("greet answers");
    assert_eq!(result.text_content(), "Hello, Grace! The model says: Lyon?");
    // Each question reaches the responder exactly once, in both eras (2026-07-28 carries
    // earlier answers in requestState instead of asking again).
    assert_eq!(asked.load(Ordering::SeqCst), 1);

    let requests = client.server_requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["elicitation/create", "sampling/createMessage"]);
    assert_eq!(requests[0].params["message"], "What is your name?");
    assert_eq!(requests[1].params["maxTokens"], 100);
    let keys: Vec<Option<&str>> = requests.iter().map(|r| r.key.as_deref()).collect();
    if era.is_modern() {
        assert_eq!(keys, [Some("user_name"), Some("capital_question")]);
    } else {
        assert_eq!(keys, [None, None]);
    }
}

async fn missing_sampling_capability(era: Era) {
    // Elicitation only: no sampling capability is declared.
    let client = TestClient::builder(common::router(Probe::default()))
        .era(era)
        .on_elicit(|_| reply::accept(json!({"name": "Ada"})))
        .connect()
        .await
        .expect("connects");
    assert!(client.capabilities().sampling.is_none());
    let outcome = client
        .call_tool("ask_model", json!({"prompt": "hello"}))
        .await;
    if era.is_modern() {
        let err = outcome.expect_err("2026-07-28: a JSON-RPC error");
        assert_eq!(err.code(), Some(ErrorCode::MISSING_CAPABILITY), "{err:?}");
        let data = err.rpc().and_then(|e| e.data.clone()).expect("error data");
        assert!(
            data["requiredCapabilities"]["sampling"].is_object(),
            "{data}"
        );
    } else {
        let result = outcome.expect("handshake era: a tool error");
        assert!(result.is_error());
        assert!(
            result.text_content().contains("sampling"),
            "{}",
            result.text_content()
        );
    }
    // Nothing was asked.
    assert!(client.server_requests().is_empty());
}

async fn capabilities_are_per_request_in_the_modern_era(era: Era) {
    let client = client(era).await;
    let none = RequestOptions::new().capabilities(ClientCapabilities::default());
    let outcome = client
        .call_tool_with("ask_model", json!({"prompt": "hi"}), none)
        .await;
    if era.is_modern() {
        let err = outcome.expect_err("this request declared nothing");
        assert_eq!(err.code(), Some(ErrorCode::MISSING_CAPABILITY), "{err:?}");
    } else {
        // Fixed by initialize: the per-request option does not apply.
        let result = outcome.expect("ask_model answers");
        assert_eq!(result.text_content(), "LLM response: Paris");
    }
    // The next request, with the client's own capabilities, is fine.
    let sampling_only = ClientCapabilities {
        sampling: Some(SamplingCapability::default()),
        ..Default::default()
    };
    let result = client
        .call_tool_with(
            "ask_model",
            json!({"prompt": "hi"}),
            RequestOptions::new().capabilities(sampling_only),
        )
        .await
        .expect("ask_model answers");
    assert_eq!(result.text_content(), "LLM response: Paris");
}

async fn unscripted_question_is_reported(era: Era) {
    // Sampling is declared, but nothing answers it.
    let client = TestClient::builder(common::router(Probe::default()))
        .era(era)
        .capabilities(ClientCapabilities {
            sampling: Some(SamplingCapability::default()),
            ..Default::default()
        })
        .connect()
        .await
        .expect("connects");
    let err = client
        .call_tool("ask_model", json!({"prompt": "hi"}))
        .await
        .expect_err("no responder");
    assert!(
        matches!(&err, TestError::NoResponder { method } if method == "sampling/createMessage"),
        "{err:?}"
    );
    // The server was not left waiting: the next call goes through.
    let echoed = client
        .call_tool("echo", json!({"text": "ok"}))
        .await
        .expect("echo answers");
    assert_eq!(echoed.text_content(), "ok");
}

async fn tampered_request_state(era: Era) {
    let client = client(era).await;
    let manual = || RequestOptions::new().follow_input_required(false);
    let call = json!({"name": "ask_model", "arguments": {"prompt": "hi"}});
    if !era.is_modern() {
        // The handshake era has no requestState: a stray one is ignored.
        let mut params = call.clone();
        params["requestState"] = json!("v1.forged.state");
        let result = client
            .request_with("tools/call", params, manual())
            .await
            .expect("tools/call answers");
        assert_eq!(result["content"][0]["text"], "LLM response: Paris");
        return;
    }
    let first = client
        .request_with("tools/call", call.clone(), manual())
        .await
        .expect("tools/call answers");
    assert_eq!(first["resultType"], "input_required", "{first}");
    assert_eq!(
        first["inputRequests"]["llm"]["method"],
        "sampling/createMessage"
    );
    let state = first["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();
    let answer = serde_json::to_value(reply::sampled("Paris")).expect("serializes");
    let retry = |state: Value, arguments: Value| {
        let mut params = call.clone();
        params["arguments"] = arguments;
        params["requestState"] = state;
        params["inputResponses"] = json!({ "llm": answer.clone() });
        params
    };

    // One character changed in the middle of the sealed state.
    let mut tampered: Vec<char> = state.chars().collect();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let err = client
        .request_with(
            "tools/call",
            retry(json!(tampered), json!({"prompt": "hi"})),
            manual(),
        )
        .await
        .expect_err("a tampered requestState is refused");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");

    // The genuine state with other arguments is refused too (the state is bound to them).
    let err = client
        .request_with(
            "tools/call",
            retry(json!(state), json!({"prompt": "bye"})),
            manual(),
        )
        .await
        .expect_err("a requestState for other arguments is refused");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");

    // The genuine state, unchanged, completes the call.
    let done = client
        .request_with(
            "tools/call",
            retry(json!(state), json!({"prompt": "hi"})),
            manual(),
        )
        .await
        .expect("the genuine state is accepted");
    assert_eq!(done["resultType"], "complete");
    assert_eq!(done["content"][0]["text"], "LLM response: Paris");
}

#[tokio::test]
async fn input_rounds_are_bounded() {
    common::within(async {
        let client = scripted(Era::Modern, Probe::default())
            .max_input_rounds(1)
            .connect()
            .await
            .expect("connects");
        // greet needs two rounds of input (elicitation, then sampling).
        let err = client
            .call_tool("greet", ())
            .await
            .expect_err("one retry is not enough");
        assert!(
            matches!(&err, TestError::TooManyRounds { rounds: 1, .. }),
            "{err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn modern_input_required_retries_use_new_ids() {
    common::within(async {
        let client = common::client(Era::Modern).await;
        let call = client
            .start_call_tool("greet", (), RequestOptions::new())
            .expect("starts");
        let first = call.id();
        let result = call.response().await.expect("greet answers");
        assert_eq!(result.text_content(), "Hello, Ada! The model says: Paris");
        // Three rounds: ids first, first+1, first+2; the next request gets the one after.
        let next = client
            .start_call_tool("echo", json!({"text": "x"}), RequestOptions::new())
            .expect("starts");
        match (first, next.id()) {
            (mcp_core::jsonrpc::RequestId::Number(a), mcp_core::jsonrpc::RequestId::Number(b)) => {
                assert_eq!(b, a + 3)
            }
            other => panic!("numeric ids expected: {other:?}"),
        }
        next.response().await.expect("echo answers");
    })
    .await
}
