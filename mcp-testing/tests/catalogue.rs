//! Resources, templates, prompts and completions, in both eras.

#[macro_use]
mod common;

use common::{client, STATIC_TEXT};
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::ContentBlock;
use mcp_testing::{prompt_ref, template_ref, Era};
use serde_json::{json, Value};

both_eras!(
    static_resource,
    template_resource,
    unknown_resource,
    prompt_with_arguments,
    prompt_errors,
    prompt_completion,
    template_completion,
    completion_of_unknown_prompt,
);

async fn static_resource(era: Era) {
    let client = client(era).await;
    let resources = client
        .list_resources()
        .await
        .expect("resources/list answers");
    let listed = resources
        .iter()
        .find(|r| r.uri == "test://static-text")
        .expect("the static resource is listed");
    assert_eq!(listed.mime_type.as_deref(), Some("text/plain"));

    let read = client
        .read_resource("test://static-text")
        .await
        .expect("resources/read answers");
    assert_eq!(read.contents.len(), 1);
    assert_eq!(read.contents[0].uri(), "test://static-text");
    assert_eq!(read.contents[0].as_text(), Some(STATIC_TEXT));
}

async fn template_resource(era: Era) {
    let client = client(era).await;
    let templates = client
        .list_resource_templates()
        .await
        .expect("resources/templates/list answers");
    assert!(templates
        .iter()
        .any(|t| t.uri_template == "test://template/{id}/data"));

    let read = client
        .read_resource("test://template/42/data")
        .await
        .expect("a URI matching the template is read");
    assert_eq!(read.contents[0].uri(), "test://template/42/data");
    assert_eq!(read.contents[0].as_text(), Some("Data for item 42"));
}

async fn unknown_resource(era: Era) {
    let client = client(era).await;
    let err = client
        .read_resource("test://nowhere")
        .await
        .expect_err("an unknown resource is an error");
    let expected = if era.is_modern() {
        ErrorCode::INVALID_PARAMS
    } else {
        ErrorCode::RESOURCE_NOT_FOUND
    };
    assert_eq!(err.code(), Some(expected), "{err:?}");
    let data = err.rpc().and_then(|e| e.data.clone()).expect("error data");
    assert_eq!(data["uri"], "test://nowhere");
}

async fn prompt_with_arguments(era: Era) {
    let client = client(era).await;
    let prompts = client.list_prompts().await.expect("prompts/list answers");
    let prompt = prompts
        .iter()
        .find(|p| p.name == "test_prompt_with_arguments")
        .expect("the prompt is listed");
    assert!(prompt.description.is_some());
    let args = prompt.arguments.as_ref().expect("it has arguments");
    let mut names: Vec<(&str, Option<bool>)> =
        args.iter().map(|a| (a.name.as_str(), a.required)).collect();
    names.sort();
    assert_eq!(names, [("arg1", Some(true)), ("arg2", Some(true))]);

    let got = client
        .get_prompt(
            "test_prompt_with_arguments",
            json!({"arg1": "first", "arg2": "second"}),
        )
        .await
        .expect("prompts/get answers");
    assert_eq!(got.messages.len(), 1);
    match &got.messages[0].content {
        ContentBlock::Text(t) => {
            assert_eq!(t.text, "Prompt with arguments: arg1='first', arg2='second'")
        }
        other => panic!("text expected, got {other:?}"),
    }
}

async fn prompt_errors(era: Era) {
    let client = client(era).await;
    let err = client
        .get_prompt("test_prompt_with_arguments", json!({"arg1": "only"}))
        .await
        .expect_err("a missing required argument is an error");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
    assert!(err.to_string().contains("arg2"), "{err}");

    let err = client
        .get_prompt("no_such_prompt", Value::Null)
        .await
        .expect_err("an unknown prompt is an error");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
}

async fn prompt_completion(era: Era) {
    let client = client(era).await;
    let completion = client
        .complete(prompt_ref("test_prompt_with_arguments"), "arg1", "pa")
        .await
        .expect("completion/complete answers");
    assert_eq!(completion.values, ["paris", "park"]);
    assert_eq!(completion.total, Some(2));
    assert_eq!(completion.has_more, Some(false));

    // An argument without a completion handler: no suggestions.
    let none = client
        .complete(prompt_ref("test_prompt_with_arguments"), "arg2", "x")
        .await
        .expect("completion/complete answers");
    assert!(none.values.is_empty());
}

async fn template_completion(era: Era) {
    let client = client(era).await;
    let completion = client
        .complete(template_ref("test://template/{id}/data"), "id", "1")
        .await
        .expect("completion/complete answers");
    assert_eq!(completion.values, ["1", "10"]);
}

async fn completion_of_unknown_prompt(era: Era) {
    let client = client(era).await;
    let err = client
        .complete(prompt_ref("no_such_prompt"), "arg1", "")
        .await
        .expect_err("an unknown prompt is an error");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
}
