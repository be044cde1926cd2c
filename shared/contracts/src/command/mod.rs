//! Commands Afosto sends to be applied to an ePages shop: the versioned wire contract
//! (`shared/contracts/v1/command.schema.json`, documented in `docs/COMMANDS.md`) and its strict
//! parser.
//!
//! Parsing is strict on purpose, unlike the Beyond models: a command changes money-critical
//! state, so anything the consumer does not fully understand is rejected with a typed error
//! naming the field, and goes to the DLQ with that reason instead of being half-applied.
//! Unknown fields are rejected too: a misspelt optional field (`trackingcode`) would
//! otherwise be dropped silently. Forward compatibility comes from `schemaVersion`: a
//! producer that adds a field bumps the version, the consumer learns the new version first,
//! and a command that arrived too early waits in the DLQ to be redriven, never lost.
//!
//! The parts live in submodules, all re-exported here: `values` (the bounded value types),
//! `wire` (the order reference, lines and the body of each command type), `parse` (the
//! parser and [`CommandError`]) and `schema` (the hand-written JSON Schema of [`Command`]).

mod parse;
mod schema;
mod values;
mod wire;

use parse::parse_value;
pub use parse::{CommandError, CommandIdentity, parse_command, peek_identity};
pub use values::{
    Carrier, CommandId, Comment, LocationId, OrderNumber, Quantity, RangeError, ShipmentReference,
    Sku, StockLevel, Text, TextError, TrackingCode, TrackingLink,
};
pub use wire::{
    CancelCommand, CancelScope, CommandLine, DeliverCommand, LineSelector, OrderRef,
    OrderRefProblem, PickupCommand, ReturnCommand, ReturnCommandLine, ReturnDecision, ShipCommand,
    ShipScope, StockCommand,
};

use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::TenantId;

/// The contract version this consumer reads and producers write.
pub const SCHEMA_VERSION: u32 = 1;
/// SQS refuses messages above 256 KiB, so a longer body cannot be a real command.
pub const MAX_COMMAND_BYTES: usize = 256 * 1024;
/// More lines than any real order has; bounds the planning work per command.
pub const MAX_LINES: usize = 500;
/// Beyond keeps stock as a JSON number backed by a 32-bit integer; larger targets could
/// never be reached.
pub const MAX_STOCK_LEVEL: i64 = i32::MAX as i64;

/// The command type, the `type` field.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CommandType {
    Cancel,
    Return,
    Ship,
    ReadyForPickup,
    PickedUp,
    Deliver,
    Stock,
}

impl CommandType {
    pub const ALL: [CommandType; 7] = [
        CommandType::Cancel,
        CommandType::Return,
        CommandType::Ship,
        CommandType::ReadyForPickup,
        CommandType::PickedUp,
        CommandType::Deliver,
        CommandType::Stock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandType::Cancel => "cancel",
            CommandType::Return => "return",
            CommandType::Ship => "ship",
            CommandType::ReadyForPickup => "ready_for_pickup",
            CommandType::PickedUp => "picked_up",
            CommandType::Deliver => "deliver",
            CommandType::Stock => "stock",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

impl fmt::Display for CommandType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a command asks for, by type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    Cancel(CancelCommand),
    Return(ReturnCommand),
    Ship(ShipCommand),
    ReadyForPickup(PickupCommand),
    PickedUp(PickupCommand),
    Deliver(DeliverCommand),
    Stock(StockCommand),
}

impl Action {
    pub fn command_type(&self) -> CommandType {
        match self {
            Action::Cancel(_) => CommandType::Cancel,
            Action::Return(_) => CommandType::Return,
            Action::Ship(_) => CommandType::Ship,
            Action::ReadyForPickup(_) => CommandType::ReadyForPickup,
            Action::PickedUp(_) => CommandType::PickedUp,
            Action::Deliver(_) => CommandType::Deliver,
            Action::Stock(_) => CommandType::Stock,
        }
    }

    /// The order an order command is about; `None` for `stock`.
    pub fn order_ref(&self) -> Option<&OrderRef> {
        match self {
            Action::Cancel(c) => Some(&c.order),
            Action::Return(c) => Some(&c.order),
            Action::Ship(c) => Some(&c.order),
            Action::ReadyForPickup(c) | Action::PickedUp(c) => Some(&c.order),
            Action::Deliver(c) => Some(&c.order),
            Action::Stock(_) => None,
        }
    }
}

/// A parsed, validated command. Build one from bytes with [`parse_command`]; `Deserialize`
/// runs the same checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Command {
    pub schema_version: u32,
    pub id: CommandId,
    pub tenant: TenantId,
    pub issued_at: DateTime<Utc>,
    #[serde(flatten)]
    pub action: Action,
}

impl Command {
    pub fn command_type(&self) -> CommandType {
        self.action.command_type()
    }

    pub fn order_ref(&self) -> Option<&OrderRef> {
        self.action.order_ref()
    }

    /// The SQS FIFO `MessageGroupId`: `{tenant}:order:{ref}` for order commands (so one
    /// order's commands apply in order) and `{tenant}:sku:{sku}` for stock, whatever the
    /// location: the shop keeps one stock number per SKU, brought to the sum of the
    /// locations' levels by relative adjustments, so all of a SKU's stock commands must
    /// apply one at a time.
    /// SQS allows 128 printable ASCII characters, so a group id that would break that rule
    /// (long or non-ASCII SKUs) uses a SHA-256 of the key instead; the mapping stays
    /// deterministic, which is all ordering needs.
    pub fn message_group_id(&self) -> String {
        let natural = match &self.action {
            Action::Stock(stock) => {
                format!("{}:sku:{}", self.tenant, stock.sku)
            }
            other => match other.order_ref() {
                Some(OrderRef::Id(id)) => format!("{}:order:{id}", self.tenant),
                Some(OrderRef::Number(number)) => format!("{}:order:{number}", self.tenant),
                None => format!("{}:command:{}", self.tenant, self.id),
            },
        };
        if CommandId::parse(&natural).is_ok() {
            return natural;
        }
        let scope = match &self.action {
            Action::Stock(_) => "sku",
            _ => "order",
        };
        let digest = hex::encode(Sha256::digest(natural.as_bytes()));
        format!("{}:{scope}#{digest}", self.tenant)
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
