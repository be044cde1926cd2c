//! Building, storing and sending result events ([`CommandResult`], docs/COMMANDS.md
//! "Results") for the consumer.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error_chain::sink_text;
use crate::ports::queue::OutgoingMessage;
use contracts::command::Command;
use contracts::command_result::{
    Applied, CommandResult, CommandSubject, ResultOutcome, SkipCode, Skipped,
};

/// A result with any outcome. The contract's constructors cover a single plan; an attempt
/// that re-planned after an ambiguous call reports the calls of every round, so the
/// outcome is set here and the event id recomputed from it (same rule, same id).
pub(super) fn result_about(
    command: &Command,
    epages_order_id: Option<Uuid>,
    outcome: ResultOutcome,
    occurred_at: DateTime<Utc>,
) -> CommandResult {
    let mut result = CommandResult::skipped(command, SkipCode::AlreadyInEffect, "", occurred_at);
    result.subject = Some(CommandSubject::of(command, epages_order_id));
    result.event_id = CommandResult::event_id_for(&result.tenant, &result.command_id, &outcome);
    result.outcome = outcome;
    result
}

pub(super) fn applied(calls: Vec<String>, notes: Vec<String>) -> ResultOutcome {
    ResultOutcome::Applied(Applied { calls, notes })
}

pub(super) fn skipped(reason: SkipCode, message: String, notes: Vec<String>) -> ResultOutcome {
    ResultOutcome::Skipped(Skipped {
        reason,
        message,
        notes,
    })
}

/// The outcome's `type`, e.g. `command.applied`.
pub fn result_type(result: &CommandResult) -> &'static str {
    match result.outcome {
        ResultOutcome::Applied(_) => "command.applied",
        ResultOutcome::Skipped(_) => "command.skipped",
        ResultOutcome::Failed(_) => "command.failed",
    }
}

/// The FIFO message: the command's group keeps results in command order, the event id
/// deduplicates a re-emission inside SQS's 5-minute window.
pub(super) fn to_message(
    result: &CommandResult,
    group_id: &str,
) -> Result<OutgoingMessage, serde_json::Error> {
    let result = outward(result);
    let body = serde_json::to_string(&result)?;
    Ok(
        OutgoingMessage::fifo(body, group_id.to_owned(), result.event_id.to_string())
            .with_attribute("type", result_type(&result)),
    )
}

/// What the idempotency record keeps: the event plus the group it is sent in.
pub(super) fn to_record(result: &CommandResult, group_id: &str) -> serde_json::Value {
    serde_json::json!({ "event": outward(result), "groupId": group_id })
}

/// The result as it may leave the process (to Afosto, into the state): its human-readable
/// texts redacted and capped.
fn outward(result: &CommandResult) -> CommandResult {
    let mut result = result.clone();
    match &mut result.outcome {
        ResultOutcome::Failed(failed) => failed.message = sink_text(&failed.message),
        ResultOutcome::Skipped(skipped) => skipped.message = sink_text(&skipped.message),
        ResultOutcome::Applied(_) => {}
    }
    result
}

pub(super) fn from_record(record: &serde_json::Value) -> Option<(CommandResult, String)> {
    let result: CommandResult = serde_json::from_value(record.get("event")?.clone()).ok()?;
    let group = record.get("groupId")?.as_str()?.to_owned();
    Some((result, group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::command::parse_command;

    #[test]
    fn outcomes_keep_the_contract_id_rule_and_records_round_trip() {
        let command = parse_command(
            br#"{"schemaVersion":1,"id":"c-1","tenant":"t","issuedAt":"2026-01-01T00:00:00Z","type":"stock","sku":"A","quantity":1,"location":"w","observedAt":"2026-01-01T00:00:00Z"}"#,
        )
        .expect("valid");
        let at = Utc::now();
        let result = result_about(&command, None, applied(vec!["x".into()], vec![]), at);
        assert_eq!(
            result.event_id,
            CommandResult::event_id_for(&command.tenant, &command.id, &result.outcome)
        );
        let skip = result_about(
            &command,
            None,
            skipped(SkipCode::StaleObservation, "old".into(), vec![]),
            at,
        );
        assert_ne!(skip.event_id, result.event_id);
        let (back, group) = from_record(&to_record(&result, "g")).expect("round trips");
        assert_eq!((back, group.as_str()), (result.clone(), "g"));
        let message = to_message(&result, "g").expect("serializes");
        assert!(message.body.contains("\"type\":\"command.applied\""));
    }
}
