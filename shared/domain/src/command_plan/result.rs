//! How a plan becomes the result event sent back to Afosto: the mapping from planning
//! outcomes and errors onto the contract's codes (`contracts::command_result`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use contracts::command::Command;
use contracts::command_result::{
    Applied, CommandResult, FailureCode, ResultOutcome, RetryDisposition, SkipCode, Skipped,
};

use super::{Outcome, Plan, PlanError, SkipReason};

impl From<&PlanError> for FailureCode {
    fn from(error: &PlanError) -> Self {
        match error {
            PlanError::WrongOrder { .. } => FailureCode::WrongOrder,
            PlanError::NotAnOrderCommand { .. } => FailureCode::Internal,
            PlanError::UnknownSku { .. } => FailureCode::UnknownSku,
            PlanError::UnknownLineItem { .. } => FailureCode::UnknownLineItem,
            PlanError::LineItemSkuMismatch { .. } => FailureCode::LineItemSkuMismatch,
            PlanError::ImpossibleQuantity { .. } => FailureCode::ImpossibleQuantity,
            PlanError::FullRefundOnlyCancel
            | PlanError::FullRefundOnlyReturn
            | PlanError::FullRefundOnlyShipping => FailureCode::FullRefundOnly,
            PlanError::PickupOrder { .. } => FailureCode::PickupOrder,
            PlanError::NotPickupOrder { .. } => FailureCode::NotPickupOrder,
            PlanError::OrderCanceled { .. } => FailureCode::OrderCanceled,
            PlanError::PendingShipmentConflict { .. } => FailureCode::PendingShipmentConflict,
            PlanError::ShipmentNotFound { .. } => FailureCode::ShipmentNotFound,
            PlanError::ShipmentNotYetVisible { .. } => FailureCode::ShipmentNotYetVisible,
            PlanError::UnknownProcessStatus { .. } => FailureCode::UnknownProcessStatus,
            PlanError::StockUnmanaged { .. } => FailureCode::StockUnmanaged,
        }
    }
}

impl From<&SkipReason> for SkipCode {
    fn from(reason: &SkipReason) -> Self {
        match reason {
            SkipReason::StaleObservation { .. } => SkipCode::StaleObservation,
            SkipReason::LocationNotSynced { .. } => SkipCode::LocationNotSynced,
        }
    }
}

/// The event for a plan: `command.applied` once all its calls succeeded (call this only
/// then), `command.skipped` when it had none to make.
pub fn result_of_plan(
    command: &Command,
    epages_order_id: Option<Uuid>,
    plan: &Plan,
    occurred_at: DateTime<Utc>,
) -> CommandResult {
    let notes: Vec<String> = plan.notes.iter().map(ToString::to_string).collect();
    let outcome = match &plan.outcome {
        Outcome::Apply => ResultOutcome::Applied(Applied {
            calls: plan.calls.iter().map(|c| c.name().to_owned()).collect(),
            notes,
        }),
        Outcome::AlreadyInEffect => ResultOutcome::Skipped(Skipped {
            reason: SkipCode::AlreadyInEffect,
            message: "ePages already shows what the command asks".to_owned(),
            notes,
        }),
        Outcome::Skip(reason) => ResultOutcome::Skipped(Skipped {
            reason: reason.into(),
            message: reason.to_string(),
            notes,
        }),
    };
    CommandResult::about(command, epages_order_id, outcome, occurred_at)
}

/// `command.failed` for a planning error, with its disposition.
pub fn result_of_plan_error(
    command: &Command,
    epages_order_id: Option<Uuid>,
    error: &PlanError,
    occurred_at: DateTime<Utc>,
) -> CommandResult {
    let retry = if error.is_permanent() {
        RetryDisposition::Permanent
    } else {
        RetryDisposition::WillRetry
    };
    CommandResult::failed(
        command,
        epages_order_id,
        error.into(),
        error.to_string(),
        retry,
        occurred_at,
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::{Value, json};

    use super::*;
    use crate::command_plan::{PlanNote, PlannedCall, ProcessTarget};
    use contracts::command::parse_command;
    use contracts::command_result::Failed;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 5)
            .single()
            .expect("valid")
    }

    fn ship_command() -> Command {
        parse_command(
            json!({
                "schemaVersion": 1, "id": "cmd-ship-1", "tenant": "shop-1",
                "issuedAt": "2025-03-01T10:00:00Z", "type": "ship",
                "order": { "number": "10001" },
                "lines": [{ "sku": "EB001", "quantity": 2 }],
                "trackingCode": "3SABCD1234567"
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn applied_plan() -> Plan {
        Plan::from_calls(
            vec![
                PlannedCall::CreateShippingProcess(Default::default()),
                PlannedCall::MarkShipped {
                    process: ProcessTarget::CreatedByPreviousCall,
                    body: Default::default(),
                },
            ],
            vec![PlanNote::ShippingAlreadyRefunded],
        )
    }

    #[test]
    fn an_applied_plan_reports_its_calls_and_notes() {
        let order_id = Uuid::from_u128(7);
        let result = result_of_plan(&ship_command(), Some(order_id), &applied_plan(), at());
        let json = serde_json::to_value(&result).expect("serializable");
        assert_eq!(json["type"], "command.applied");
        assert_eq!(
            json["calls"],
            json!(["create-shipping-process", "mark-shipped"])
        );
        assert_eq!(json["commandType"], "ship");
        assert_eq!(json["subject"]["kind"], "order");
        assert_eq!(json["subject"]["order"], json!({ "number": "10001" }));
        assert_eq!(json["subject"]["epagesOrderId"], json!(order_id));
        let back: CommandResult = serde_json::from_value(json).expect("parses back");
        assert_eq!(back, result);
    }

    #[test]
    fn event_ids_are_deterministic_per_outcome() {
        let command = ship_command();
        let applied = result_of_plan(&command, None, &applied_plan(), at());
        let later = result_of_plan(
            &command,
            None,
            &applied_plan(),
            at() + chrono::Duration::hours(1),
        );
        assert_eq!(applied.event_id, later.event_id);
        assert_eq!(applied.event_id.get_version_num(), 5);
        let skipped = result_of_plan(&command, None, &Plan::already_in_effect(Vec::new()), at());
        assert_ne!(applied.event_id, skipped.event_id);
        let retrying = CommandResult::failed(
            &command,
            None,
            FailureCode::EpagesUnavailable,
            "503",
            RetryDisposition::WillRetry,
            at(),
        );
        let permanent = CommandResult::failed(
            &command,
            None,
            FailureCode::EpagesRejected,
            "400",
            RetryDisposition::Permanent,
            at(),
        );
        assert_ne!(retrying.event_id, permanent.event_id);
        assert_ne!(retrying.event_id, applied.event_id);
    }

    #[test]
    fn plan_errors_keep_their_disposition_and_message() {
        let command = ship_command();
        let permanent =
            result_of_plan_error(&command, None, &PlanError::FullRefundOnlyCancel, at());
        let ResultOutcome::Failed(failed) = &permanent.outcome else {
            panic!("{permanent:?}")
        };
        assert_eq!(failed.code, FailureCode::FullRefundOnly);
        assert_eq!(failed.retry, RetryDisposition::Permanent);
        assert!(failed.message.contains("cancel the whole order"));
        let later = result_of_plan_error(
            &command,
            None,
            &PlanError::ShipmentNotYetVisible {
                reference: "tracking code \"X\"".into(),
            },
            at(),
        );
        assert!(matches!(
            later.outcome,
            ResultOutcome::Failed(Failed {
                retry: RetryDisposition::WillRetry,
                ..
            })
        ));
    }

    #[test]
    fn stock_skips_carry_their_reason() {
        let command = parse_command(
            json!({
                "schemaVersion": 1, "id": "s-1", "tenant": "shop-1",
                "issuedAt": "2025-03-01T10:00:00Z", "type": "stock",
                "sku": "EB001", "quantity": 3, "location": "w1",
                "observedAt": "2025-03-01T09:59:59Z"
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let plan = Plan::skip(SkipReason::LocationNotSynced {
            location: "w1".into(),
        });
        let result = result_of_plan(&command, None, &plan, at());
        let json = serde_json::to_value(&result).expect("serializable");
        assert_eq!(json["reason"], "location_not_synced");
        assert_eq!(
            json["subject"],
            json!({ "kind": "stock", "sku": "EB001", "location": "w1" })
        );
    }

    #[test]
    fn results_validate_against_the_schema() {
        let schema: Value = serde_json::from_str(&contracts::schema::generate::<CommandResult>())
            .expect("schema is JSON");
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"));
        let command = ship_command();
        for result in [
            result_of_plan(&command, Some(Uuid::from_u128(1)), &applied_plan(), at()),
            result_of_plan(&command, None, &Plan::already_in_effect(Vec::new()), at()),
            result_of_plan_error(
                &command,
                None,
                &PlanError::UnknownSku { sku: "Z".into() },
                at(),
            ),
        ] {
            let json = serde_json::to_value(&result).expect("serializable");
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{json}: {errors:?}");
        }
        let mut wrong = serde_json::to_value(result_of_plan(&command, None, &applied_plan(), at()))
            .expect("serializable");
        wrong["type"] = json!("command.exploded");
        assert!(!validator.is_valid(&wrong));
    }
}
