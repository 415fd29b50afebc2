//! Scripted answers to the server's questions, the same in both eras.

use std::sync::{Arc, Mutex};

use mcp_core::protocol::{
    ClientCapabilities, CreateMessageParams, CreateMessageResult, ElicitRequest, ElicitResult,
    ElicitationCapability, JsonObject, Root, RootsCapability, SamplingCapability,
};
use serde_json::{json, Value};

use crate::TestError;

pub(crate) type ElicitFn = Arc<dyn Fn(ElicitRequest) -> ElicitResult + Send + Sync>;
pub(crate) type SampleFn = Arc<dyn Fn(CreateMessageParams) -> CreateMessageResult + Send + Sync>;

/// The responders a client was built with.
#[derive(Default)]
pub(crate) struct Responders {
    pub(crate) elicit: Option<ElicitFn>,
    pub(crate) sample: Option<SampleFn>,
    pub(crate) roots: Mutex<Option<Vec<Root>>>,
}

impl std::fmt::Debug for Responders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responders")
            .field("elicit", &self.elicit.is_some())
            .field("sample", &self.sample.is_some())
            .field("roots", &self.roots)
            .finish()
    }
}

impl Responders {
    /// The capabilities the configured responders can honour: `elicitation` (form and URL)
    /// with `on_elicit`, `sampling` with `on_sample`, `roots` with `roots`.
    pub(crate) fn capabilities(&self) -> ClientCapabilities {
        let roots_set = self
            .roots
            .lock()
            .map(|r| r.is_some())
            .unwrap_or_else(|p| p.into_inner().is_some());
        ClientCapabilities {
            elicitation: self.elicit.as_ref().map(|_| ElicitationCapability {
                form: Some(JsonObject::new()),
                url: Some(JsonObject::new()),
            }),
            sampling: self.sample.as_ref().map(|_| SamplingCapability::default()),
            roots: roots_set.then_some(RootsCapability {
                list_changed: Some(true),
            }),
            ..Default::default()
        }
    }

    /// Whether a question with `method` has a scripted answer.
    pub(crate) fn can_answer(&self, method: &str) -> bool {
        match method {
            "elicitation/create" => self.elicit.is_some(),
            "sampling/createMessage" => self.sample.is_some(),
            "roots/list" => self
                .roots
                .lock()
                .map(|r| r.is_some())
                .unwrap_or_else(|p| p.into_inner().is_some()),
            "ping" => true,
            _ => false,
        }
    }

    /// Answers one question. The result is what goes in the JSON-RPC `result` (handshake era)
    /// or in `inputResponses[key]` (2026-07-28).
    pub(crate) fn answer(&self, method: &str, params: &Value) -> Result<Value, TestError> {
        let no_responder = || TestError::NoResponder {
            method: method.to_owned(),
        };
        let malformed = |e: serde_json::Error| {
            TestError::Protocol(format!(
                "the server's {method} params are malformed: {e}; they were {params}"
            ))
        };
        let encode = |e: serde_json::Error| {
            TestError::InvalidInput(format!(
                "the scripted answer to {method} does not serialize: {e}"
            ))
        };
        match method {
            "elicitation/create" => {
                let responder = self.elicit.as_ref().ok_or_else(no_responder)?;
                // Form requests from before URL mode may leave `mode` out.
                let mut p = params.clone();
                if let Some(obj) = p.as_object_mut() {
                    obj.entry("mode").or_insert_with(|| "form".into());
                }
                let request: ElicitRequest = serde_json::from_value(p).map_err(malformed)?;
                serde_json::to_value(responder(request)).map_err(encode)
            }
            "sampling/createMessage" => {
                let responder = self.sample.as_ref().ok_or_else(no_responder)?;
                let request: CreateMessageParams =
                    serde_json::from_value(params.clone()).map_err(malformed)?;
                serde_json::to_value(responder(request)).map_err(encode)
            }
            "roots/list" => {
                let roots = self
                    .roots
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .ok_or_else(no_responder)?;
                Ok(json!({ "roots": roots }))
            }
            "ping" => Ok(json!({})),
            _ => Err(no_responder()),
        }
    }
}
