//! What became of an Afosto command: the `command.applied`, `command.skipped` and
//! `command.failed` events sent back to Afosto on the outbound queue
//! (`contracts/v1/command-result.schema.json`, documented in `docs/COMMANDS.md`).
//!
//! Every event has a deterministic `eventId`, a UUIDv5 of the tenant, the command id and
//! the outcome, so a consumer that reports the same outcome twice (a retry after a crash)
//! sends the same event, and Afosto can drop the repeat.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::{Uuid, uuid};

use crate::contracts::command::{
    Action, Command, CommandError, CommandId, CommandIdentity, CommandType, LocationId, OrderRef,
    Sku,
};
use crate::domain::command_plan::{Outcome, Plan, PlanError, SkipReason};
use crate::domain::tenant::TenantId;

/// The contract version of result events.
pub const RESULT_SCHEMA_VERSION: u32 = 1;

/// The UUIDv5 namespace of result `eventId`s. Fixed forever: changing it would give a
/// reported outcome a new id and defeat deduplication.
pub const EVENT_ID_NAMESPACE: Uuid = uuid!("5f0c1d1e-7a43-4c55-9a37-2b1f5d6c8e90");

/// One result event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(description = "What became of an Afosto command (docs/COMMANDS.md).")]
pub struct CommandResult {
    #[schemars(extend("const" = RESULT_SCHEMA_VERSION))]
    pub schema_version: u32,
    /// UUIDv5 of `{tenant}/{commandId}/{outcome}`: the same outcome always has the same id.
    pub event_id: Uuid,
    pub command_id: CommandId,
    /// Absent when the message was too broken to tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_type: Option<CommandType>,
    #[schemars(with = "String")]
    pub tenant: TenantId,
    /// What the command was about; absent when the message was too broken to tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<CommandSubject>,
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: ResultOutcome,
}

/// What a command was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum CommandSubject {
    Order {
        /// The order as the command named it.
        order: OrderRef,
        /// The ePages order id, once the consumer found the order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epages_order_id: Option<Uuid>,
    },
    Stock {
        sku: Sku,
        location: LocationId,
    },
}

impl CommandSubject {
    pub fn of(command: &Command, epages_order_id: Option<Uuid>) -> Self {
        let order = match &command.action {
            Action::Stock(stock) => {
                return CommandSubject::Stock {
                    sku: stock.sku.clone(),
                    location: stock.location.clone(),
                };
            }
            Action::Cancel(c) => &c.order,
            Action::Return(c) => &c.order,
            Action::Ship(c) => &c.order,
            Action::ReadyForPickup(c) | Action::PickedUp(c) => &c.order,
            Action::Deliver(c) => &c.order,
        };
        CommandSubject::Order {
            order: order.clone(),
            epages_order_id,
        }
    }
}

/// The outcome, the `type` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum ResultOutcome {
    /// Every Beyond call the command needed succeeded.
    #[serde(rename = "command.applied")]
    Applied(Applied),
    /// Nothing was called: the command was in effect already, or must not be applied.
    #[serde(rename = "command.skipped")]
    Skipped(Skipped),
    /// The command could not be applied (yet).
    #[serde(rename = "command.failed")]
    Failed(Failed),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The Beyond calls made, in order (e.g. `create-shipping-process`, `mark-shipped`).
    pub calls: Vec<String>,
    /// What was done differently from the command (quantities capped, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub reason: SkipCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipCode {
    /// ePages already shows what the command asks.
    AlreadyInEffect,
    /// A stock level observed no later than the one already applied.
    StaleObservation,
    /// The tenant does not sync this location's stock.
    LocationNotSynced,
    /// The tenant switched this flow off.
    FlowDisabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    pub code: FailureCode,
    /// A human-readable reason, naming the field or SKU at fault.
    pub message: String,
    pub retry: RetryDisposition,
}

/// Whether the consumer tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryDisposition {
    /// Never retried: the command went to the DLQ with this reason.
    Permanent,
    /// Retried with backoff; a later event tells the end.
    WillRetry,
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The message is not a valid command (see the message for the field).
    InvalidCommand,
    /// ePages has no order with the command's id or number.
    UnknownOrder,
    /// The order does not match the command (a consumer fault).
    WrongOrder,
    UnknownSku,
    UnknownLineItem,
    LineItemSkuMismatch,
    /// More pieces than the order has.
    ImpossibleQuantity,
    /// The payment method only allows full refunds.
    FullRefundOnly,
    /// A shipping command for a click & collect order.
    PickupOrder,
    /// A pickup command for a shipping order.
    NotPickupOrder,
    OrderCanceled,
    /// The pieces sit in another pending shipping process.
    PendingShipmentConflict,
    ShipmentNotFound,
    /// The shipment to deliver is not in ePages yet.
    ShipmentNotYetVisible,
    /// ePages shows a process status this version does not know.
    UnknownProcessStatus,
    /// ePages has no product or variation with the SKU.
    UnknownProduct,
    /// The product's stock is not managed in ePages.
    StockUnmanaged,
    /// ePages refused a call (4xx).
    EpagesRejected,
    /// ePages did not answer usefully (timeouts, 429, 5xx).
    EpagesUnavailable,
    /// A fault of the connector itself.
    Internal,
}

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

/// The outcome part of the event id; `failed` is split by disposition so a final
/// permanent failure is not swallowed as a repeat of an earlier will-retry one.
fn outcome_key(outcome: &ResultOutcome) -> &'static str {
    match outcome {
        ResultOutcome::Applied(_) => "applied",
        ResultOutcome::Skipped(_) => "skipped",
        ResultOutcome::Failed(Failed {
            retry: RetryDisposition::Permanent,
            ..
        }) => "failed:permanent",
        ResultOutcome::Failed(Failed {
            retry: RetryDisposition::WillRetry,
            ..
        }) => "failed:will_retry",
    }
}

impl CommandResult {
    /// The deterministic event id of an outcome of a command.
    pub fn event_id_for(
        tenant: &TenantId,
        command_id: &CommandId,
        outcome: &ResultOutcome,
    ) -> Uuid {
        let name = format!("{tenant}/{command_id}/{}", outcome_key(outcome));
        Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())
    }

    fn new(
        command_id: CommandId,
        command_type: Option<CommandType>,
        tenant: TenantId,
        subject: Option<CommandSubject>,
        outcome: ResultOutcome,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            schema_version: RESULT_SCHEMA_VERSION,
            event_id: Self::event_id_for(&tenant, &command_id, &outcome),
            command_id,
            command_type,
            tenant,
            subject,
            occurred_at,
            outcome,
        }
    }

    fn about(
        command: &Command,
        epages_order_id: Option<Uuid>,
        outcome: ResultOutcome,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self::new(
            command.id.clone(),
            Some(command.command_type()),
            command.tenant.clone(),
            Some(CommandSubject::of(command, epages_order_id)),
            outcome,
            occurred_at,
        )
    }

    /// The event for a plan: `command.applied` once all its calls succeeded (call this only
    /// then), `command.skipped` when it had none to make.
    pub fn from_plan(
        command: &Command,
        epages_order_id: Option<Uuid>,
        plan: &Plan,
        occurred_at: DateTime<Utc>,
    ) -> Self {
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
        Self::about(command, epages_order_id, outcome, occurred_at)
    }

    /// `command.skipped` for a reason outside planning (e.g. the flow is switched off).
    pub fn skipped(
        command: &Command,
        reason: SkipCode,
        message: impl Into<String>,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        let outcome = ResultOutcome::Skipped(Skipped {
            reason,
            message: message.into(),
            notes: Vec::new(),
        });
        Self::about(command, None, outcome, occurred_at)
    }

    /// `command.failed` for a command that parsed.
    pub fn failed(
        command: &Command,
        epages_order_id: Option<Uuid>,
        code: FailureCode,
        message: impl Into<String>,
        retry: RetryDisposition,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        let outcome = ResultOutcome::Failed(Failed {
            code,
            message: message.into(),
            retry,
        });
        Self::about(command, epages_order_id, outcome, occurred_at)
    }

    /// `command.failed` for a planning error, with its disposition.
    pub fn plan_failed(
        command: &Command,
        epages_order_id: Option<Uuid>,
        error: &PlanError,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        let retry = if error.is_permanent() {
            RetryDisposition::Permanent
        } else {
            RetryDisposition::WillRetry
        };
        Self::failed(
            command,
            epages_order_id,
            error.into(),
            error.to_string(),
            retry,
            occurred_at,
        )
    }

    /// `command.failed` for a message that did not parse but whose id and tenant could be
    /// read ([`crate::contracts::command::peek_identity`]). Always permanent.
    pub fn invalid(
        identity: &CommandIdentity,
        error: &CommandError,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        let outcome = ResultOutcome::Failed(Failed {
            code: FailureCode::InvalidCommand,
            message: error.to_string(),
            retry: RetryDisposition::Permanent,
        });
        Self::new(
            identity.id.clone(),
            identity.command_type,
            identity.tenant.clone(),
            None,
            outcome,
            occurred_at,
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::{Value, json};

    use super::*;
    use crate::contracts::command::{parse_command, peek_identity};
    use crate::domain::command_plan::{PlanNote, PlannedCall, ProcessTarget};

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
        let result =
            CommandResult::from_plan(&ship_command(), Some(order_id), &applied_plan(), at());
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
        let applied = CommandResult::from_plan(&command, None, &applied_plan(), at());
        let later = CommandResult::from_plan(
            &command,
            None,
            &applied_plan(),
            at() + chrono::Duration::hours(1),
        );
        assert_eq!(applied.event_id, later.event_id);
        assert_eq!(applied.event_id.get_version_num(), 5);
        let skipped =
            CommandResult::from_plan(&command, None, &Plan::already_in_effect(Vec::new()), at());
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
            CommandResult::plan_failed(&command, None, &PlanError::FullRefundOnlyCancel, at());
        let ResultOutcome::Failed(failed) = &permanent.outcome else {
            panic!("{permanent:?}")
        };
        assert_eq!(failed.code, FailureCode::FullRefundOnly);
        assert_eq!(failed.retry, RetryDisposition::Permanent);
        assert!(failed.message.contains("cancel the whole order"));
        let later = CommandResult::plan_failed(
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
    fn an_invalid_message_with_a_readable_identity_is_reported() {
        let bytes = json!({
            "schemaVersion": 1, "id": "cmd-9", "tenant": "shop-1",
            "issuedAt": "2025-03-01T10:00:00Z", "type": "ship",
            "order": { "number": "10001" }, "lines": [{ "sku": "A", "quantity": 0 }],
            "trackingCode": "X"
        })
        .to_string();
        let error = parse_command(bytes.as_bytes()).unwrap_err();
        let identity = peek_identity(bytes.as_bytes()).expect("readable");
        let result = CommandResult::invalid(&identity, &error, at());
        let json = serde_json::to_value(&result).expect("serializable");
        assert_eq!(json["type"], "command.failed");
        assert_eq!(json["code"], "invalid_command");
        assert_eq!(json["retry"], "permanent");
        assert!(
            json["message"]
                .as_str()
                .unwrap_or_default()
                .contains("lines[0].quantity")
        );
        assert!(json.get("subject").is_none());
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
        let result = CommandResult::from_plan(&command, None, &plan, at());
        let json = serde_json::to_value(&result).expect("serializable");
        assert_eq!(json["reason"], "location_not_synced");
        assert_eq!(
            json["subject"],
            json!({ "kind": "stock", "sku": "EB001", "location": "w1" })
        );
    }

    #[test]
    fn results_validate_against_the_schema() {
        let schema: Value =
            serde_json::from_str(&crate::contracts::schema::generate::<CommandResult>())
                .expect("schema is JSON");
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"));
        let command = ship_command();
        for result in [
            CommandResult::from_plan(&command, Some(Uuid::from_u128(1)), &applied_plan(), at()),
            CommandResult::from_plan(&command, None, &Plan::already_in_effect(Vec::new()), at()),
            CommandResult::plan_failed(
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
        let mut wrong = serde_json::to_value(CommandResult::from_plan(
            &command,
            None,
            &applied_plan(),
            at(),
        ))
        .expect("serializable");
        wrong["type"] = json!("command.exploded");
        assert!(!validator.is_valid(&wrong));
    }

    #[test]
    fn the_documented_results_are_real_events() {
        let schema: Value =
            serde_json::from_str(&crate::contracts::schema::generate::<CommandResult>())
                .expect("schema is JSON");
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"));
        let doc = include_str!("../../../docs/COMMANDS.md");
        let mut seen = Vec::new();
        for block in doc.split("```json").skip(1) {
            let body = block.split("```").next().unwrap_or_default();
            let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
            if value.get("eventId").is_none() {
                continue;
            }
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{value}: {errors:?}");
            let result: CommandResult =
                serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
            let expected =
                CommandResult::event_id_for(&result.tenant, &result.command_id, &result.outcome);
            assert_eq!(
                result.event_id, expected,
                "eventId of {}",
                result.command_id
            );
            seen.push(outcome_key(&result.outcome));
        }
        for key in ["applied", "skipped", "failed:permanent"] {
            assert!(seen.contains(&key), "docs/COMMANDS.md has no {key} example");
        }
    }

    #[test]
    fn contracts_command_result_schema_is_committed() {
        crate::contracts::schema::check_committed::<CommandResult>("v1/command-result.schema.json")
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
