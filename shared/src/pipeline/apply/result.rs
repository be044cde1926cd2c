//! The result of one command, reported to Afosto on the outbound FIFO queue as
//! `command.applied`, `command.skipped` or `command.failed`.
//!
//! `shared::contracts::command_result` was announced as the contract for these events but
//! is not committed yet; this is the shape the consumer emits meanwhile, kept to the same
//! rules as the other contracts: camelCase JSON, a schema version, and an event id that is
//! a function of (tenant, command id, outcome) only, so a re-emitted result (after a crash,
//! or for a duplicate command) carries the same id and is deduplicated downstream.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contracts::command::CommandType;
use crate::ports::queue::OutgoingMessage;

pub const RESULT_SCHEMA_VERSION: u32 = 1;

/// Namespace of result event ids (UUID v5), fixed forever: changing it would change every id.
const RESULT_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_3e8a_51d2_4b7e_9a40_2f5c_8d13_e907);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultKind {
    #[serde(rename = "command.applied")]
    Applied,
    #[serde(rename = "command.skipped")]
    Skipped,
    #[serde(rename = "command.failed")]
    Failed,
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Applied => "command.applied",
            ResultKind::Skipped => "command.skipped",
            ResultKind::Failed => "command.failed",
        }
    }
}

/// Why a command was skipped or failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultReason {
    /// Stable, machine-readable: `unknown_sku`, `missing_field`, `tenant_paused`, …
    pub code: String,
    pub message: String,
    /// The offending command field as a JSON path, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandResultEvent {
    pub schema_version: u32,
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub kind: ResultKind,
    /// The tenant named by the command (possibly unknown to us).
    pub tenant: String,
    pub command_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_type: Option<CommandType>,
    pub occurred_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ResultReason>,
    /// The Beyond calls made by this attempt, by name, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
    /// What the planner noted (capped quantities, resumed shipments, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The FIFO group the event is sent in (the command's group): not part of the JSON.
    #[serde(skip)]
    pub group_id: String,
}

impl CommandResultEvent {
    /// The deterministic id of the `kind` result of `command_id`.
    pub fn event_id_for(tenant: &str, command_id: &str, kind: ResultKind) -> Uuid {
        Uuid::new_v5(
            &RESULT_NAMESPACE,
            format!("{tenant}\u{1f}{command_id}\u{1f}{}", kind.as_str()).as_bytes(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: ResultKind,
        tenant: &str,
        command_id: &str,
        command_type: Option<CommandType>,
        group_id: String,
        occurred_at: DateTime<Utc>,
        reason: Option<ResultReason>,
    ) -> Self {
        Self {
            schema_version: RESULT_SCHEMA_VERSION,
            event_id: Self::event_id_for(tenant, command_id, kind),
            kind,
            tenant: tenant.to_owned(),
            command_id: command_id.to_owned(),
            command_type,
            occurred_at,
            reason,
            calls: Vec::new(),
            notes: Vec::new(),
            group_id,
        }
    }

    /// The FIFO message: the command's group keeps results in command order, the event id
    /// deduplicates a re-emission inside SQS's 5-minute window.
    pub fn to_message(&self) -> Result<OutgoingMessage, serde_json::Error> {
        let body = serde_json::to_string(self)?;
        Ok(
            OutgoingMessage::fifo(body, self.group_id.clone(), self.event_id.to_string())
                .with_attribute("type", self.kind.as_str()),
        )
    }

    /// What the idempotency record keeps: the event plus its group.
    pub fn to_record(&self) -> serde_json::Value {
        serde_json::json!({ "event": self, "groupId": self.group_id })
    }

    pub fn from_record(record: &serde_json::Value) -> Option<Self> {
        let mut event: Self = serde_json::from_value(record.get("event")?.clone()).ok()?;
        event.group_id = record.get("groupId")?.as_str()?.to_owned();
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_per_outcome_and_records_round_trip() {
        let a = CommandResultEvent::event_id_for("t", "c-1", ResultKind::Applied);
        assert_eq!(
            a,
            CommandResultEvent::event_id_for("t", "c-1", ResultKind::Applied)
        );
        assert_ne!(
            a,
            CommandResultEvent::event_id_for("t", "c-1", ResultKind::Failed)
        );
        assert_ne!(
            a,
            CommandResultEvent::event_id_for("t", "c-2", ResultKind::Applied)
        );
        let mut event = CommandResultEvent::new(
            ResultKind::Skipped,
            "t",
            "c-1",
            Some(CommandType::Stock),
            "t:sku:A:w".into(),
            Utc::now(),
            Some(ResultReason {
                code: "stale_observation".into(),
                message: "older".into(),
                field: None,
            }),
        );
        event.notes.push("n".into());
        let back = CommandResultEvent::from_record(&event.to_record()).expect("round trips");
        assert_eq!(back, event);
        let message = event.to_message().expect("serializes");
        assert_eq!(message.group_id.as_deref(), Some("t:sku:A:w"));
        assert!(message.body.contains("\"type\":\"command.skipped\""));
    }
}
