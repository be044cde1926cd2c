//! What became of an Afosto command: the `command.applied`, `command.skipped` and
//! `command.failed` events sent back to Afosto on the outbound queue
//! (`shared/contracts/v1/command-result.schema.json`, documented in `docs/COMMANDS.md`).
//!
//! Every event has a deterministic `eventId`, a UUIDv5 of the tenant, the command id and
//! the outcome, so a consumer that reports the same outcome twice (a retry after a crash)
//! sends the same event, and Afosto can drop the repeat.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::{Uuid, uuid};

use crate::TenantId;
use crate::command::{
    Action, Command, CommandError, CommandId, CommandIdentity, CommandType, LocationId, OrderRef,
    Sku,
};

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

    /// An event about a parsed command with any outcome.
    pub fn about(
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

    /// `command.failed` for a message that did not parse but whose id and tenant could be
    /// read ([`crate::command::peek_identity`]). Always permanent.
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
    use crate::command::{parse_command, peek_identity};

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 5)
            .single()
            .expect("valid")
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
    fn the_documented_results_are_real_events() {
        let schema: Value = serde_json::from_str(&crate::schema::generate::<CommandResult>())
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
        crate::schema::check_committed::<CommandResult>("v1/command-result.schema.json")
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
