use serde::{Deserialize, Serialize};

use super::JsonObject;

/// The state of a task.
///
/// ```
/// # use mcp_core::protocol::TaskStatus;
/// assert_eq!(serde_json::to_string(&TaskStatus::InputRequired).unwrap(), "\"input_required\"");
/// assert!(TaskStatus::Completed.is_terminal());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Running.
    Working,
    /// Waiting for the client.
    InputRequired,
    /// Finished with a result.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl TaskStatus {
    /// Whether the task has ended.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::TaskStatus;
    /// assert!(TaskStatus::Completed.is_terminal());
    /// assert!(!TaskStatus::Working.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// A task (2025-11-25 core, 2026-07-28 extension).
///
/// ```
/// # use mcp_core::protocol::{Task, TaskStatus};
/// let t: Task = serde_json::from_str(
///     r#"{"taskId":"t1","status":"working","createdAt":"2026-01-01T00:00:00Z","lastUpdatedAt":"2026-01-01T00:00:00Z","ttl":60000}"#,
/// ).unwrap();
/// assert_eq!(t.status, TaskStatus::Working);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The task id.
    pub task_id: String,
    /// Its state.
    pub status: TaskStatus,
    /// A human-readable status message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When it was created (ISO 8601).
    pub created_at: String,
    /// When it last changed (ISO 8601).
    pub last_updated_at: String,
    /// How long it is kept after creation, in milliseconds (`null`: unlimited).
    pub ttl: Option<u64>,
    /// How often to poll, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}
