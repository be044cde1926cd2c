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

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

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

// ---- identifiers and bounded values ---------------------------------------------------

/// The unique id of a command. It doubles as the SQS FIFO `MessageDeduplicationId` and the
/// idempotency key, so it follows the SQS rule: 1 to 128 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommandId(String);

impl CommandId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        if raw.is_empty() {
            return Err(TextError::Blank);
        }
        let len = raw.chars().count();
        if len > Self::MAX_LEN {
            return Err(TextError::TooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        if let Some(found) = raw.chars().find(|c| !matches!(c, '!'..='~')) {
            return Err(TextError::NotPrintableAscii { found });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommandId {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CommandId> for String {
    fn from(value: CommandId) -> Self {
        value.0
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for CommandId {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "CommandId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": Self::MAX_LEN,
            "pattern": "^[!-~]+$",
            "description": "Unique command id: 1-128 printable ASCII characters (the SQS FIFO deduplication id rule)."
        })
    }
}

/// Why a text value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty or blank")]
    Blank,
    #[error("is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("contains the control character {found:?}")]
    ControlCharacter { found: char },
    #[error("contains {found:?}; only printable ASCII characters without spaces are allowed")]
    NotPrintableAscii { found: char },
    #[error("is not an absolute http(s) URL")]
    NotHttpUrl,
}

/// Checks the rules every text field shares: not blank, at most `max` characters, and no
/// control characters except, where `multiline`, line breaks and tabs.
fn check_text(raw: &str, max: usize, multiline: bool) -> Result<(), TextError> {
    if raw.trim().is_empty() {
        return Err(TextError::Blank);
    }
    let len = raw.chars().count();
    if len > max {
        return Err(TextError::TooLong { len, max });
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(found) = raw.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(TextError::ControlCharacter { found });
    }
    Ok(())
}

/// Single-line text of 1 to `MAX` characters: not blank, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(raw: impl Into<String>) -> Result<Self, TextError> {
        let raw = raw.into();
        check_text(&raw, MAX, false)?;
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(value: Text<MAX>) -> Self {
        value.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> JsonSchema for Text<MAX> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Text{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX,
            "pattern": "\\S",
            "description": "Single-line text: not blank, no control characters."
        })
    }
}

/// A SKU; Beyond allows 1 to 255 characters.
pub type Sku = Text<255>;
/// An ePages order number.
pub type OrderNumber = Text<64>;
/// An Afosto stock location id.
pub type LocationId = Text<128>;
/// A carrier's tracking code.
pub type TrackingCode = Text<255>;
/// A carrier name, free text (Afosto's carrier enum grows; the value only ends up in a comment).
pub type Carrier = Text<64>;
/// The producer's id of a shipment (an Afosto parcel).
pub type ShipmentReference = Text<255>;

/// A free-text comment stored on the ePages process; line breaks allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Comment(String);

impl Comment {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: impl Into<String>) -> Result<Self, TextError> {
        let raw = raw.into();
        check_text(&raw, Self::MAX_LEN, true)?;
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Comment {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Comment> for String {
    fn from(value: Comment) -> Self {
        value.0
    }
}

impl JsonSchema for Comment {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Comment".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": Self::MAX_LEN,
            "pattern": "\\S",
            "description": "Free text stored on the ePages process; line breaks allowed."
        })
    }
}

/// The carrier's tracking page: an absolute http(s) URL of at most 2048 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingLink(Url);

impl TrackingLink {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        check_text(raw, Self::MAX_LEN, false)?;
        let url = Url::parse(raw).map_err(|_| TextError::NotHttpUrl)?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(TextError::NotHttpUrl);
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<String> for TrackingLink {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TrackingLink> for String {
    fn from(value: TrackingLink) -> Self {
        value.0.into()
    }
}

impl JsonSchema for TrackingLink {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "TrackingLink".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "uri",
            "maxLength": Self::MAX_LEN,
            "pattern": "^[hH][tT][tT][pP][sS]?://",
            "description": "Absolute http(s) URL of the carrier's tracking page."
        })
    }
}

/// A number of pieces: at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(NonZeroU32);

impl Quantity {
    pub fn new(pieces: u32) -> Option<Self> {
        NonZeroU32::new(pieces).map(Self)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// Why a number is refused as a quantity or stock level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from {min} to {max}, got {found}")]
pub struct RangeError {
    pub found: String,
    pub min: i64,
    pub max: i64,
}

impl TryFrom<i64> for Quantity {
    type Error = RangeError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u32::try_from(value)
            .ok()
            .and_then(Quantity::new)
            .ok_or_else(|| RangeError {
                found: value.to_string(),
                min: 1,
                max: i64::from(u32::MAX),
            })
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.get()
    }
}

impl JsonSchema for Quantity {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
    }
}

/// An absolute stock level: 0 to [`MAX_STOCK_LEVEL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct StockLevel(i64);

impl StockLevel {
    pub fn new(level: i64) -> Option<Self> {
        (0..=MAX_STOCK_LEVEL)
            .contains(&level)
            .then_some(Self(level))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for StockLevel {
    type Error = RangeError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value).ok_or_else(|| RangeError {
            found: value.to_string(),
            min: 0,
            max: MAX_STOCK_LEVEL,
        })
    }
}

impl From<StockLevel> for i64 {
    fn from(value: StockLevel) -> Self {
        value.0
    }
}

impl JsonSchema for StockLevel {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "StockLevel".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": MAX_STOCK_LEVEL })
    }
}

// ---- order reference and lines --------------------------------------------------------

/// Which ePages order a command is about: its `_id` or its `orderNumber`, exactly one.
/// Commands for one order must always use the same form: it is part of the FIFO group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "OrderRefWire", into = "OrderRefWire")]
pub enum OrderRef {
    Id(Uuid),
    Number(OrderNumber),
}

impl fmt::Display for OrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderRef::Id(id) => write!(f, "order {id}"),
            OrderRef::Number(number) => write!(f, "order number {number}"),
        }
    }
}

/// The wire shape of [`OrderRef`]: `{"id": …}` or `{"number": …}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "OrderRef",
    description = "The ePages order: exactly one of `id` (the order's `_id`) or `number` (its `orderNumber`).",
    extend("oneOf" = [{"required": ["id"]}, {"required": ["number"]}])
)]
struct OrderRefWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number: Option<OrderNumber>,
}

/// What is wrong with an order reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderRefProblem {
    Both,
    Neither,
}

impl fmt::Display for OrderRefProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderRefProblem::Both => "both were given",
            OrderRefProblem::Neither => "neither was given",
        })
    }
}

impl TryFrom<OrderRefWire> for OrderRef {
    type Error = String;
    fn try_from(wire: OrderRefWire) -> Result<Self, Self::Error> {
        // The parser reports this case as `CommandError::OrderReference` before serde gets
        // here; this only guards hand-built values.
        match (wire.id, wire.number) {
            (Some(id), None) => Ok(OrderRef::Id(id)),
            (None, Some(number)) => Ok(OrderRef::Number(number)),
            (Some(_), Some(_)) => Err(order_ref_message(OrderRefProblem::Both)),
            (None, None) => Err(order_ref_message(OrderRefProblem::Neither)),
        }
    }
}

fn order_ref_message(problem: OrderRefProblem) -> String {
    format!(
        "give exactly one of `id` (the ePages order id) or `number` (the order number); {problem}"
    )
}

impl From<OrderRef> for OrderRefWire {
    fn from(value: OrderRef) -> Self {
        match value {
            OrderRef::Id(id) => OrderRefWire {
                id: Some(id),
                number: None,
            },
            OrderRef::Number(number) => OrderRefWire {
                id: None,
                number: Some(number),
            },
        }
    }
}

/// One order line of a cancel or ship command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandLine {
    pub sku: Sku,
    /// The ePages `productLineItems[]._id`, when the producer knows it; needed only to
    /// tell apart several lines with the same SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<Uuid>,
    pub quantity: Quantity,
}

/// Afosto's decision on a returned item.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDecision {
    /// The return is accepted: ePages line status `RETURNED`.
    Accepted,
    /// The return is rejected (a defect): ePages line status `BROKEN`.
    Rejected,
}

/// One order line of a return command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnCommandLine {
    pub sku: Sku,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<Uuid>,
    /// The total number of pieces of this line with this decision, including earlier returns.
    pub quantity: Quantity,
    pub decision: ReturnDecision,
}

/// What the planner needs from any command line.
pub trait LineSelector {
    fn sku(&self) -> &Sku;
    fn line_item_id(&self) -> Option<Uuid>;
    fn quantity(&self) -> Quantity;
}

impl LineSelector for CommandLine {
    fn sku(&self) -> &Sku {
        &self.sku
    }
    fn line_item_id(&self) -> Option<Uuid> {
        self.line_item_id
    }
    fn quantity(&self) -> Quantity {
        self.quantity
    }
}

impl LineSelector for ReturnCommandLine {
    fn sku(&self) -> &Sku {
        &self.sku
    }
    fn line_item_id(&self) -> Option<Uuid> {
        self.line_item_id
    }
    fn quantity(&self) -> Quantity {
        self.quantity
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

// ---- the command types ----------------------------------------------------------------

/// `cancel`: cancel the whole order, or pieces of some lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelCommand {
    pub order: OrderRef,
    /// `true` cancels the whole order; then `lines` must be absent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub whole_order: bool,
    /// Per line, the total number of pieces that should be canceled (earlier
    /// cancelations included). Required unless `wholeOrder` is `true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_LINES))]
    pub lines: Vec<CommandLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
}

/// What a cancel command covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelScope<'a> {
    WholeOrder,
    Lines(&'a [CommandLine]),
}

impl CancelCommand {
    pub fn scope(&self) -> CancelScope<'_> {
        if self.whole_order {
            CancelScope::WholeOrder
        } else {
            CancelScope::Lines(&self.lines)
        }
    }
}

/// `return`: returned pieces, each accepted (`RETURNED`) or rejected (`BROKEN`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnCommand {
    pub order: OrderRef,
    #[schemars(length(min = 1, max = MAX_LINES))]
    pub lines: Vec<ReturnCommandLine>,
    /// Refund the shipping (or pickup) charge with this return.
    #[serde(default, skip_serializing_if = "is_false")]
    pub refund_shipping: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    /// Let ePages e-mail the customer (`sendMail`); absent leaves the shop's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_customer: Option<bool>,
}

/// `ship`: one shipment (parcel) leaving the warehouse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipCommand {
    pub order: OrderRef,
    /// `true` ships every piece not shipped yet; then `lines` must be absent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub all_unshipped: bool,
    /// The pieces in this shipment. Required unless `allUnshipped` is `true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_LINES))]
    pub lines: Vec<CommandLine>,
    /// Identifies the shipment in ePages; `trackingCode` or `shipmentReference` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<TrackingCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_link: Option<TrackingLink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Carrier>,
    /// The producer's id of this shipment, for a later `deliver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_reference: Option<ShipmentReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_customer: Option<bool>,
}

/// What a ship command covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShipScope<'a> {
    AllUnshipped,
    Lines(&'a [CommandLine]),
}

impl ShipCommand {
    pub fn scope(&self) -> ShipScope<'_> {
        if self.all_unshipped {
            ShipScope::AllUnshipped
        } else {
            ShipScope::Lines(&self.lines)
        }
    }
}

/// `ready_for_pickup` and `picked_up`: a click & collect order (always the whole order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PickupCommand {
    pub order: OrderRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_customer: Option<bool>,
}

/// `deliver`: a shipment reached the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliverCommand {
    pub order: OrderRef,
    /// The shipment's tracking code; `trackingCode` or `shipmentReference` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<TrackingCode>,
    /// The `shipmentReference` of the earlier `ship` command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_reference: Option<ShipmentReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
}

/// `stock`: the absolute available quantity of a SKU at an Afosto location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StockCommand {
    pub sku: Sku,
    /// The available quantity, absolute (never a delta).
    pub quantity: StockLevel,
    /// The Afosto location the quantity belongs to.
    pub location: LocationId,
    /// When Afosto observed this quantity, on Afosto's clock; orders stock commands.
    pub observed_at: DateTime<Utc>,
}

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
    /// order's commands apply in order) and `{tenant}:sku:{sku}:{location}` for stock.
    /// SQS allows 128 printable ASCII characters, so a group id that would break that rule
    /// (long or non-ASCII SKUs) uses a SHA-256 of the key instead; the mapping stays
    /// deterministic, which is all ordering needs.
    pub fn message_group_id(&self) -> String {
        let natural = match &self.action {
            Action::Stock(stock) => {
                format!("{}:sku:{}:{}", self.tenant, stock.sku, stock.location)
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

/// The header every command carries, beside `type`.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Header {
    /// The contract version; this is version 1.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    schema_version: u32,
    id: CommandId,
    /// The epages-sync tenant (one shop connected to one Afosto account).
    #[schemars(
        with = "String",
        length(min = 1, max = TenantId::MAX_LEN),
        regex(pattern = "^[a-z0-9][a-z0-9_-]*$")
    )]
    tenant: TenantId,
    /// When the producer issued the command (RFC 3339).
    issued_at: DateTime<Utc>,
}

const HEADER_FIELDS: [&str; 4] = ["schemaVersion", "id", "tenant", "issuedAt"];

impl JsonSchema for Command {
    fn schema_name() -> Cow<'static, str> {
        "Command".into()
    }

    /// One closed object schema per type: the header, the `type` constant and that type's
    /// fields, with no other property allowed (the parser's rule).
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let header = Header::json_schema(generator);
        let variants = CommandType::ALL
            .into_iter()
            .map(|kind| {
                let body = match kind {
                    CommandType::Cancel => CancelCommand::json_schema(generator),
                    CommandType::Return => ReturnCommand::json_schema(generator),
                    CommandType::Ship => ShipCommand::json_schema(generator),
                    CommandType::ReadyForPickup | CommandType::PickedUp => {
                        PickupCommand::json_schema(generator)
                    }
                    CommandType::Deliver => DeliverCommand::json_schema(generator),
                    CommandType::Stock => StockCommand::json_schema(generator),
                };
                variant_schema(kind, &header, &body)
            })
            .collect::<Vec<_>>();
        json_schema!({
            "description": "A command from Afosto to apply to an ePages shop (docs/COMMANDS.md).",
            "oneOf": variants,
        })
    }
}

fn variant_schema(kind: CommandType, header: &Schema, body: &Schema) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    absorb(header, &mut properties, &mut required);
    properties.insert(
        "type".into(),
        serde_json::json!({ "type": "string", "const": kind.as_str() }),
    );
    required.push(Value::String("type".into()));
    absorb(body, &mut properties, &mut required);
    let mut schema = Map::new();
    schema.insert("title".into(), kind.as_str().into());
    if let Some(description) = body.get("description") {
        schema.insert("description".into(), description.clone());
    }
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), Value::Array(required));
    schema.insert("additionalProperties".into(), Value::Bool(false));
    Value::Object(schema)
}

/// Adds an object schema's properties and required names to a variant being assembled.
fn absorb(part: &Schema, properties: &mut Map<String, Value>, required: &mut Vec<Value>) {
    if let Some(Value::Object(props)) = part.get("properties") {
        properties.extend(props.clone());
    }
    if let Some(Value::Array(names)) = part.get("required") {
        required.extend(names.iter().cloned());
    }
}

// ---- errors ---------------------------------------------------------------------------

/// Why a message is not a valid command. Every kind is permanent: the same bytes fail the
/// same way on every retry, so the consumer sends them straight to the DLQ with this text.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the message is {size} bytes; a command may have at most {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed JSON at line {line}, column {column}: {detail}")]
    Malformed {
        line: usize,
        column: usize,
        detail: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("a command must be a JSON object, got {found}")]
    NotAnObject { found: &'static str },
    #[error("`schemaVersion` {found} is not supported; this consumer reads version {supported}")]
    UnsupportedSchemaVersion { found: String, supported: u32 },
    #[error("`type` {found:?} is not a known command type; expected one of {expected}")]
    UnknownType { found: String, expected: String },
    #[error("`{field}` is missing")]
    MissingField {
        field: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("`{field}` is not a field of a {command_type} command")]
    UnknownField {
        field: String,
        command_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{field}` has the wrong type: {detail}")]
    WrongType {
        field: String,
        detail: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("`{field}` {reason}")]
    InvalidValue {
        field: String,
        reason: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("`{field}` {source}")]
    InvalidQuantity {
        field: String,
        #[source]
        source: RangeError,
    },
    #[error("`{field}` repeats the line of `{first}` (SKU {sku:?}); each line may appear once")]
    DuplicateLine {
        field: String,
        first: String,
        sku: String,
    },
    #[error("`order`: {}", order_ref_message(*problem))]
    OrderReference { problem: OrderRefProblem },
}

impl CommandError {
    /// Whether retrying can never help. Always true: a parse depends only on the bytes.
    pub fn is_permanent(&self) -> bool {
        true
    }

    /// The offending field as a JSON path (`lines[2].quantity`), when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            CommandError::TooLarge { .. }
            | CommandError::Malformed { .. }
            | CommandError::NotAnObject { .. } => None,
            CommandError::UnsupportedSchemaVersion { .. } => Some("schemaVersion"),
            CommandError::UnknownType { .. } => Some("type"),
            CommandError::OrderReference { .. } => Some("order"),
            CommandError::MissingField { field, .. }
            | CommandError::UnknownField { field, .. }
            | CommandError::WrongType { field, .. }
            | CommandError::InvalidValue { field, .. }
            | CommandError::InvalidQuantity { field, .. }
            | CommandError::DuplicateLine { field, .. } => Some(field),
        }
    }

    /// A stable machine-readable name of the kind, for result events and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::TooLarge { .. } => "too_large",
            CommandError::Malformed { .. } => "malformed_json",
            CommandError::NotAnObject { .. } => "not_an_object",
            CommandError::UnsupportedSchemaVersion { .. } => "unsupported_schema_version",
            CommandError::UnknownType { .. } => "unknown_type",
            CommandError::MissingField { .. } => "missing_field",
            CommandError::UnknownField { .. } => "unknown_field",
            CommandError::WrongType { .. } => "wrong_type",
            CommandError::InvalidValue { .. } => "invalid_value",
            CommandError::InvalidQuantity { .. } => "invalid_quantity",
            CommandError::DuplicateLine { .. } => "duplicate_line",
            CommandError::OrderReference { .. } => "order_reference",
        }
    }
}

// ---- parsing --------------------------------------------------------------------------

/// Parses and validates one command from the raw message body.
pub fn parse_command(bytes: &[u8]) -> Result<Command, CommandError> {
    if bytes.len() > MAX_COMMAND_BYTES {
        return Err(CommandError::TooLarge {
            size: bytes.len(),
            limit: MAX_COMMAND_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|source| {
        // serde_json appends the position to its message; it is in the error's own fields.
        let position = format!(" at line {} column {}", source.line(), source.column());
        let message = source.to_string();
        CommandError::Malformed {
            line: source.line(),
            column: source.column(),
            detail: message
                .strip_suffix(&position)
                .unwrap_or(&message)
                .to_owned(),
            source,
        }
    })?;
    parse_value(value)
}

/// The id and tenant of a message, when they can be read even though the command is
/// invalid: lets the consumer report `command.failed` for it to Afosto, not only to the DLQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandIdentity {
    pub id: CommandId,
    pub tenant: TenantId,
    pub command_type: Option<CommandType>,
}

/// Best effort: never fails, reads only `id`, `tenant` and `type`.
pub fn peek_identity(bytes: &[u8]) -> Option<CommandIdentity> {
    if bytes.len() > MAX_COMMAND_BYTES {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object()?;
    let id = CommandId::parse(object.get("id")?.as_str()?).ok()?;
    let tenant = TenantId::parse(object.get("tenant")?.as_str()?).ok()?;
    let command_type = object
        .get("type")
        .and_then(Value::as_str)
        .and_then(CommandType::parse);
    Some(CommandIdentity {
        id,
        tenant,
        command_type,
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_value(value: Value) -> Result<Command, CommandError> {
    let Value::Object(mut object) = value else {
        return Err(CommandError::NotAnObject {
            found: json_kind(&value),
        });
    };
    // The version comes first: a newer version may have types this consumer does not know.
    check_schema_version(object.get("schemaVersion"))?;
    let command_type = read_type(object.remove("type"))?;

    let mut header_fields = Map::new();
    for name in HEADER_FIELDS {
        if let Some(field) = object.remove(name) {
            header_fields.insert(name.to_owned(), field);
        }
    }
    let header: Header = typed(Value::Object(header_fields), command_type)?;

    precheck_body(&object, command_type)?;
    let body = Value::Object(object);
    let action = match command_type {
        CommandType::Cancel => Action::Cancel(typed(body, command_type)?),
        CommandType::Return => Action::Return(typed(body, command_type)?),
        CommandType::Ship => Action::Ship(typed(body, command_type)?),
        CommandType::ReadyForPickup => Action::ReadyForPickup(typed(body, command_type)?),
        CommandType::PickedUp => Action::PickedUp(typed(body, command_type)?),
        CommandType::Deliver => Action::Deliver(typed(body, command_type)?),
        CommandType::Stock => Action::Stock(typed(body, command_type)?),
    };
    validate_action(&action)?;
    Ok(Command {
        schema_version: header.schema_version,
        id: header.id,
        tenant: header.tenant,
        issued_at: header.issued_at,
        action,
    })
}

fn check_schema_version(value: Option<&Value>) -> Result<(), CommandError> {
    let Some(value) = value else {
        return Err(CommandError::MissingField {
            field: "schemaVersion".into(),
            source: None,
        });
    };
    match value.as_u64() {
        Some(version) if version == u64::from(SCHEMA_VERSION) => Ok(()),
        Some(_) => Err(CommandError::UnsupportedSchemaVersion {
            found: value.to_string(),
            supported: SCHEMA_VERSION,
        }),
        None if value.is_number() => Err(CommandError::UnsupportedSchemaVersion {
            found: value.to_string(),
            supported: SCHEMA_VERSION,
        }),
        None => Err(CommandError::WrongType {
            field: "schemaVersion".into(),
            detail: format!("expected an integer, got {}", json_kind(value)),
            source: None,
        }),
    }
}

fn read_type(value: Option<Value>) -> Result<CommandType, CommandError> {
    let Some(value) = value else {
        return Err(CommandError::MissingField {
            field: "type".into(),
            source: None,
        });
    };
    let Value::String(raw) = value else {
        return Err(CommandError::WrongType {
            field: "type".into(),
            detail: format!("expected a string, got {}", json_kind(&value)),
            source: None,
        });
    };
    CommandType::parse(&raw).ok_or_else(|| CommandError::UnknownType {
        found: raw,
        expected: CommandType::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Checks done on the raw JSON because they deserve their own error kind and the exact
/// path, which serde would fold into a generic message: the order reference's
/// either-or rule and quantity ranges.
fn precheck_body(body: &Map<String, Value>, command_type: CommandType) -> Result<(), CommandError> {
    if let Some(Value::Object(order)) = body.get("order") {
        let present = |name: &str| order.get(name).is_some_and(|v| !v.is_null());
        match (present("id"), present("number")) {
            (true, true) => {
                return Err(CommandError::OrderReference {
                    problem: OrderRefProblem::Both,
                });
            }
            (false, false) => {
                return Err(CommandError::OrderReference {
                    problem: OrderRefProblem::Neither,
                });
            }
            _ => {}
        }
    }
    if command_type == CommandType::Stock {
        if let Some(quantity) = body.get("quantity") {
            check_integer(quantity, "quantity", 0, MAX_STOCK_LEVEL)?;
        }
    } else if let Some(Value::Array(lines)) = body.get("lines") {
        for (index, line) in lines.iter().enumerate() {
            if let Some(quantity) = line.get("quantity") {
                let field = format!("lines[{index}].quantity");
                check_integer(quantity, &field, 1, i64::from(u32::MAX))?;
            }
        }
    }
    Ok(())
}

/// A JSON integer outside `min..=max` is an `InvalidQuantity`; other types are left to serde.
fn check_integer(value: &Value, field: &str, min: i64, max: i64) -> Result<(), CommandError> {
    let Value::Number(number) = value else {
        return Ok(());
    };
    let in_range = match (number.as_i64(), number.as_u64()) {
        (Some(n), _) => (min..=max).contains(&n),
        (None, Some(_)) => false,
        // A float: serde reports the wrong type.
        (None, None) => return Ok(()),
    };
    if in_range {
        Ok(())
    } else {
        Err(CommandError::InvalidQuantity {
            field: field.to_owned(),
            source: RangeError {
                found: number.to_string(),
                min,
                max,
            },
        })
    }
}

/// Deserializes a part of the command, turning serde's message into a typed error that
/// names the field by its JSON path.
fn typed<T: DeserializeOwned>(value: Value, command_type: CommandType) -> Result<T, CommandError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let source = error.into_inner();
        classify(path, source, command_type)
    })
}

fn classify(path: String, source: serde_json::Error, command_type: CommandType) -> CommandError {
    let message = source.to_string();
    // serde names a missing or unknown field in the message and puts the path of the object
    // that holds it in `path`; join the two so the error names the field itself.
    let child = |name: &str| {
        if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let field = if path == "." {
        String::new()
    } else {
        path.clone()
    };
    if let Some(name) = backticked_after(&message, "missing field ") {
        CommandError::MissingField {
            field: child(name),
            source: Some(source),
        }
    } else if let Some(name) = backticked_after(&message, "unknown field ") {
        // Here the path already ends with the unknown key itself.
        let named = path == name || path.ends_with(&format!(".{name}"));
        CommandError::UnknownField {
            field: if named { path.clone() } else { child(name) },
            command_type: command_type.as_str().to_owned(),
            source,
        }
    } else if let Some(detail) = message.strip_prefix("invalid type: ") {
        CommandError::WrongType {
            field,
            detail: detail.to_owned(),
            source: Some(source),
        }
    } else {
        CommandError::InvalidValue {
            field,
            reason: message,
            source: Some(source),
        }
    }
}

/// `"missing field `x`"` → `x`.
fn backticked_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

fn invalid(field: &str, reason: impl Into<String>) -> CommandError {
    CommandError::InvalidValue {
        field: field.to_owned(),
        reason: reason.into(),
        source: None,
    }
}

/// The rules across fields that serde cannot express.
fn validate_action(action: &Action) -> Result<(), CommandError> {
    match action {
        Action::Cancel(cancel) => {
            match (cancel.whole_order, cancel.lines.is_empty()) {
                (true, false) => {
                    return Err(invalid("lines", "must be absent when `wholeOrder` is true"));
                }
                (false, true) => {
                    return Err(invalid(
                        "lines",
                        "is required (at least one line) unless `wholeOrder` is true",
                    ));
                }
                _ => {}
            }
            check_lines(&cancel.lines, |_| ())
        }
        Action::Return(ret) => {
            if ret.lines.is_empty() {
                return Err(invalid("lines", "must hold at least one line"));
            }
            check_lines(&ret.lines, |line| line.decision)
        }
        Action::Ship(ship) => {
            match (ship.all_unshipped, ship.lines.is_empty()) {
                (true, false) => {
                    return Err(invalid(
                        "lines",
                        "must be absent when `allUnshipped` is true",
                    ));
                }
                (false, true) => {
                    return Err(invalid(
                        "lines",
                        "is required (at least one line) unless `allUnshipped` is true",
                    ));
                }
                _ => {}
            }
            if ship.tracking_code.is_none() && ship.shipment_reference.is_none() {
                return Err(invalid(
                    "trackingCode",
                    "or `shipmentReference` is required: it identifies the shipment",
                ));
            }
            check_lines(&ship.lines, |_| ())
        }
        Action::Deliver(deliver) => {
            if deliver.tracking_code.is_none() && deliver.shipment_reference.is_none() {
                return Err(invalid(
                    "trackingCode",
                    "or `shipmentReference` is required to find the shipment",
                ));
            }
            Ok(())
        }
        Action::ReadyForPickup(_) | Action::PickedUp(_) | Action::Stock(_) => Ok(()),
    }
}

/// At most [`MAX_LINES`], and no line twice. Lines are grouped by SKU and `group` (the
/// return decision: one line may be part accepted, part rejected). Within a group a SKU
/// appears either once without `lineItemId`, or any number of times with distinct
/// `lineItemId`s: a SKU both with and without an id would address the same pieces twice.
fn check_lines<L: LineSelector, G: PartialEq>(
    lines: &[L],
    group: impl Fn(&L) -> G,
) -> Result<(), CommandError> {
    if lines.len() > MAX_LINES {
        return Err(invalid(
            "lines",
            format!(
                "holds {} lines; at most {MAX_LINES} are allowed",
                lines.len()
            ),
        ));
    }
    // A linear scan: at most MAX_LINES lines, and it keeps the first clash's index at hand.
    let mut seen: Vec<(&str, G, Option<Uuid>, usize)> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let (sku, kind, id) = (line.sku().as_str(), group(line), line.line_item_id());
        let clash = seen.iter().find(|(seen_sku, seen_kind, seen_id, _)| {
            *seen_sku == sku
                && *seen_kind == kind
                && (seen_id.is_none() || id.is_none() || *seen_id == id)
        });
        if let Some((_, _, _, first)) = clash {
            return Err(CommandError::DuplicateLine {
                field: format!("lines[{index}]"),
                first: format!("lines[{first}]"),
                sku: sku.to_owned(),
            });
        }
        seen.push((sku, kind, id, index));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ship_example() -> Value {
        json!({
            "schemaVersion": 1,
            "id": "cmd-ship-1",
            "tenant": "shop-1",
            "issuedAt": "2025-03-01T10:00:00Z",
            "type": "ship",
            "order": { "number": "10001" },
            "lines": [
                { "sku": "EB001", "quantity": 2 },
                { "sku": "sh-001", "lineItemId": "feb55dc7-862c-47c8-b953-4e0313acc0c9", "quantity": 1 }
            ],
            "trackingCode": "3SABCD1234567",
            "trackingLink": "https://tracking.example.com/3SABCD1234567",
            "carrier": "POSTNL",
            "shipmentReference": "parcel-77"
        })
    }

    fn parse(value: &Value) -> Result<Command, CommandError> {
        parse_command(value.to_string().as_bytes())
    }

    fn with(mut value: Value, pointer: &str, field: Value) -> Value {
        let (parent, name) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let target = if parent.is_empty() {
            &mut value
        } else {
            value
                .pointer_mut(&format!("/{parent}"))
                .expect("parent exists")
        };
        target
            .as_object_mut()
            .expect("an object")
            .insert(name.to_owned(), field);
        value
    }

    fn without(mut value: Value, pointer: &str) -> Value {
        let (parent, name) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let target = if parent.is_empty() {
            &mut value
        } else {
            value
                .pointer_mut(&format!("/{parent}"))
                .expect("parent exists")
        };
        target.as_object_mut().expect("an object").remove(name);
        value
    }

    fn error_of(value: &Value) -> CommandError {
        match parse(value) {
            Ok(command) => panic!("expected an error, parsed {command:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn a_ship_command_parses_into_typed_fields() {
        let command = parse(&ship_example()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(command.id.as_str(), "cmd-ship-1");
        assert_eq!(command.tenant.as_str(), "shop-1");
        assert_eq!(command.command_type(), CommandType::Ship);
        let Action::Ship(ship) = &command.action else {
            panic!("not a ship command")
        };
        assert_eq!(ship.order, OrderRef::Number(Text::parse("10001").unwrap()));
        assert_eq!(ship.lines.len(), 2);
        assert_eq!(ship.lines[0].quantity.get(), 2);
        assert_eq!(ship.scope(), ShipScope::Lines(&ship.lines));
        assert_eq!(
            ship.tracking_link.as_ref().map(TrackingLink::as_str),
            Some("https://tracking.example.com/3SABCD1234567")
        );
    }

    #[test]
    fn serializing_and_parsing_again_gives_the_same_command() {
        let command = parse(&ship_example()).unwrap_or_else(|e| panic!("{e}"));
        let text = serde_json::to_string(&command).expect("serializable");
        let again = parse_command(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(command, again);
        let via_serde: Command = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(command, via_serde);
    }

    #[test]
    fn oversized_messages_are_refused_before_parsing() {
        let bytes = vec![b' '; MAX_COMMAND_BYTES + 1];
        let error = parse_command(&bytes).unwrap_err();
        assert!(matches!(error, CommandError::TooLarge { size, limit }
            if size == MAX_COMMAND_BYTES + 1 && limit == MAX_COMMAND_BYTES));
        assert!(error.is_permanent());
    }

    #[test]
    fn malformed_json_reports_its_position() {
        let error = parse_command(b"{\n  \"id\": \"x\",\n  oops\n}").unwrap_err();
        let CommandError::Malformed { line, column, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!((*line, *column), (3, 3));
        assert!(error.to_string().contains("line 3, column 3"), "{error}");
        assert!(
            std::error::Error::source(&error).is_some(),
            "the serde error is kept"
        );
    }

    #[test]
    fn a_non_object_is_refused() {
        let error = parse_command(b"[1,2]").unwrap_err();
        assert!(matches!(
            error,
            CommandError::NotAnObject { found: "an array" }
        ));
    }

    #[test]
    fn schema_version_is_required_and_checked() {
        let error = error_of(&without(ship_example(), "schemaVersion"));
        assert!(
            matches!(&error, CommandError::MissingField { field, .. } if field == "schemaVersion")
        );
        let error = error_of(&with(ship_example(), "schemaVersion", json!(2)));
        assert!(
            matches!(&error, CommandError::UnsupportedSchemaVersion { found, .. } if found == "2")
        );
        assert_eq!(error.field(), Some("schemaVersion"));
        let error = error_of(&with(ship_example(), "schemaVersion", json!("1")));
        assert!(
            matches!(&error, CommandError::WrongType { field, .. } if field == "schemaVersion")
        );
    }

    #[test]
    fn unknown_and_missing_types_are_named() {
        let error = error_of(&with(ship_example(), "type", json!("teleport")));
        assert!(matches!(&error, CommandError::UnknownType { found, .. } if found == "teleport"));
        assert!(error.to_string().contains("ready_for_pickup"), "{error}");
        let error = error_of(&without(ship_example(), "type"));
        assert!(matches!(&error, CommandError::MissingField { field, .. } if field == "type"));
        let error = error_of(&with(ship_example(), "type", json!(3)));
        assert!(matches!(&error, CommandError::WrongType { field, .. } if field == "type"));
    }

    #[test]
    fn missing_fields_are_named_by_path() {
        for (pointer, field) in [
            ("id", "id"),
            ("tenant", "tenant"),
            ("issuedAt", "issuedAt"),
            ("order", "order"),
            ("lines/0/sku", "lines[0].sku"),
            ("lines/1/quantity", "lines[1].quantity"),
        ] {
            let error = error_of(&without(ship_example(), pointer));
            assert!(
                matches!(&error, CommandError::MissingField { field: f, .. } if f == field),
                "{pointer}: {error:?}"
            );
            assert_eq!(error.field(), Some(field));
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        let error = error_of(&with(ship_example(), "trackingcode", json!("x")));
        assert!(
            matches!(&error, CommandError::UnknownField { field, command_type, .. }
                if field == "trackingcode" && command_type == "ship"),
            "{error:?}"
        );
        let error = error_of(&with(ship_example(), "lines/0/colour", json!("red")));
        assert!(
            matches!(&error, CommandError::UnknownField { field, .. } if field == "lines[0].colour"),
            "{error:?}"
        );
        let error = error_of(&with(ship_example(), "order/orderId", json!("x")));
        assert!(
            matches!(&error, CommandError::UnknownField { field, .. } if field == "order.orderId"),
            "{error:?}"
        );
    }

    #[test]
    fn wrong_types_are_named_by_path() {
        for (pointer, value, field) in [
            ("lines/0/quantity", json!("2"), "lines[0].quantity"),
            ("lines/0/quantity", json!(1.5), "lines[0].quantity"),
            ("lines", json!({}), "lines"),
            ("trackingCode", json!(12), "trackingCode"),
            ("notifyCustomer", json!("yes"), "notifyCustomer"),
            ("id", json!(null), "id"),
        ] {
            let error = error_of(&with(ship_example(), pointer, value.clone()));
            assert!(
                matches!(&error, CommandError::WrongType { field: f, .. } if f == field),
                "{pointer}={value}: {error:?}"
            );
        }
    }

    #[test]
    fn zero_negative_and_huge_quantities_are_invalid_quantities() {
        for value in [
            json!(0),
            json!(-3),
            json!(5_000_000_000_i64),
            json!(u64::MAX),
        ] {
            let error = error_of(&with(ship_example(), "lines/1/quantity", value.clone()));
            assert!(
                matches!(&error, CommandError::InvalidQuantity { field, .. } if field == "lines[1].quantity"),
                "{value}: {error:?}"
            );
            assert!(error.to_string().contains("from 1 to"), "{error}");
        }
    }

    #[test]
    fn invalid_values_name_the_field() {
        for (pointer, value, field) in [
            ("tenant", json!("Shop:1"), "tenant"),
            ("id", json!(""), "id"),
            ("id", json!("has space"), "id"),
            ("id", json!("x".repeat(129)), "id"),
            ("issuedAt", json!("yesterday"), "issuedAt"),
            ("lines/0/sku", json!("  "), "lines[0].sku"),
            ("lines/0/sku", json!("a\u{0007}b"), "lines[0].sku"),
            ("lines/0/sku", json!("s".repeat(256)), "lines[0].sku"),
            (
                "lines/0/lineItemId",
                json!("not-a-uuid"),
                "lines[0].lineItemId",
            ),
            ("trackingLink", json!("ftp://example.com/x"), "trackingLink"),
            ("trackingLink", json!("/relative"), "trackingLink"),
            ("order/number", json!(""), "order.number"),
        ] {
            let error = error_of(&with(ship_example(), pointer, value.clone()));
            assert!(
                matches!(&error, CommandError::InvalidValue { field: f, .. } if f == field),
                "{pointer}={value}: {error:?}"
            );
            assert!(
                error.to_string().starts_with(&format!("`{field}`")),
                "{error}"
            );
        }
    }

    #[test]
    fn the_order_needs_exactly_one_reference() {
        let both = with(
            ship_example(),
            "order/id",
            json!("0da86a9c-8633-4c26-9647-e85dda934669"),
        );
        let error = error_of(&both);
        assert!(matches!(
            error,
            CommandError::OrderReference {
                problem: OrderRefProblem::Both
            }
        ));
        assert_eq!(error.field(), Some("order"));
        let neither = with(ship_example(), "order", json!({}));
        assert!(matches!(
            error_of(&neither),
            CommandError::OrderReference {
                problem: OrderRefProblem::Neither
            }
        ));
        let by_id = with(
            ship_example(),
            "order",
            json!({ "id": "0da86a9c-8633-4c26-9647-e85dda934669" }),
        );
        let command = parse(&by_id).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(command.order_ref(), Some(OrderRef::Id(_))));
    }

    #[test]
    fn a_line_may_appear_only_once() {
        let twice = with(
            ship_example(),
            "lines",
            json!([{ "sku": "A", "quantity": 1 }, { "sku": "B", "quantity": 1 }, { "sku": "A", "quantity": 2 }]),
        );
        let error = error_of(&twice);
        assert!(
            matches!(&error, CommandError::DuplicateLine { field, first, sku }
                if field == "lines[2]" && first == "lines[0]" && sku == "A"),
            "{error:?}"
        );
        // With and without a line id, the SKU would address the same pieces twice.
        let mixed = with(
            ship_example(),
            "lines",
            json!([
                { "sku": "A", "lineItemId": "feb55dc7-862c-47c8-b953-4e0313acc0c9", "quantity": 1 },
                { "sku": "A", "quantity": 1 }
            ]),
        );
        assert!(matches!(
            error_of(&mixed),
            CommandError::DuplicateLine { .. }
        ));
        // Distinct line ids for one SKU are distinct lines.
        let distinct = with(
            ship_example(),
            "lines",
            json!([
                { "sku": "A", "lineItemId": "feb55dc7-862c-47c8-b953-4e0313acc0c9", "quantity": 1 },
                { "sku": "A", "lineItemId": "d4d5aea9-222a-44b1-9a8c-2af14c43d661", "quantity": 1 }
            ]),
        );
        assert!(parse(&distinct).is_ok());
    }

    fn return_example() -> Value {
        json!({
            "schemaVersion": 1,
            "id": "cmd-return-1",
            "tenant": "shop-1",
            "issuedAt": "2025-03-05T09:30:00+01:00",
            "type": "return",
            "order": { "id": "13b74621-b279-46b8-bc8d-4b8769769f5a" },
            "lines": [
                { "sku": "EB001", "quantity": 2, "decision": "accepted" },
                { "sku": "EB001", "quantity": 1, "decision": "rejected" }
            ],
            "refundShipping": true,
            "comment": "RMA 555"
        })
    }

    #[test]
    fn a_return_may_split_one_line_between_decisions() {
        let command = parse(&return_example()).unwrap_or_else(|e| panic!("{e}"));
        let Action::Return(ret) = &command.action else {
            panic!("not a return")
        };
        assert_eq!(ret.lines[1].decision, ReturnDecision::Rejected);
        assert!(ret.refund_shipping);
        // Offsets are normalised to UTC.
        assert_eq!(command.issued_at.to_rfc3339(), "2025-03-05T08:30:00+00:00");
        let repeated = with(return_example(), "lines/1/decision", json!("accepted"));
        assert!(matches!(
            error_of(&repeated),
            CommandError::DuplicateLine { .. }
        ));
        let unknown = with(return_example(), "lines/1/decision", json!("defect"));
        let error = error_of(&unknown);
        assert!(
            matches!(&error, CommandError::InvalidValue { field, .. } if field == "lines[1].decision"),
            "{error:?}"
        );
        let empty = with(return_example(), "lines", json!([]));
        assert!(
            matches!(error_of(&empty), CommandError::InvalidValue { field, .. } if field == "lines")
        );
    }

    fn cancel_example() -> Value {
        json!({
            "schemaVersion": 1,
            "id": "cmd-cancel-1",
            "tenant": "shop-1",
            "issuedAt": "2025-03-01T10:00:00Z",
            "type": "cancel",
            "order": { "number": "10001" },
            "wholeOrder": true
        })
    }

    #[test]
    fn cancel_takes_the_whole_order_or_lines_never_both() {
        let command = parse(&cancel_example()).unwrap_or_else(|e| panic!("{e}"));
        let Action::Cancel(cancel) = &command.action else {
            panic!("not a cancel")
        };
        assert_eq!(cancel.scope(), CancelScope::WholeOrder);
        let both = with(
            cancel_example(),
            "lines",
            json!([{ "sku": "A", "quantity": 1 }]),
        );
        assert!(
            matches!(error_of(&both), CommandError::InvalidValue { field, .. } if field == "lines")
        );
        let neither = without(cancel_example(), "wholeOrder");
        assert!(
            matches!(error_of(&neither), CommandError::InvalidValue { field, .. } if field == "lines")
        );
        let lines = with(neither, "lines", json!([{ "sku": "A", "quantity": 1 }]));
        assert!(parse(&lines).is_ok());
    }

    #[test]
    fn ship_needs_a_shipment_identity_and_one_scope() {
        let anonymous = without(without(ship_example(), "trackingCode"), "shipmentReference");
        assert!(
            matches!(error_of(&anonymous), CommandError::InvalidValue { field, .. } if field == "trackingCode")
        );
        let both = with(ship_example(), "allUnshipped", json!(true));
        assert!(
            matches!(error_of(&both), CommandError::InvalidValue { field, .. } if field == "lines")
        );
        let all = with(
            without(ship_example(), "lines"),
            "allUnshipped",
            json!(true),
        );
        let command = parse(&all).unwrap_or_else(|e| panic!("{e}"));
        let Action::Ship(ship) = &command.action else {
            panic!("not a ship")
        };
        assert_eq!(ship.scope(), ShipScope::AllUnshipped);
    }

    fn stock_example() -> Value {
        json!({
            "schemaVersion": 1,
            "id": "cmd-stock-1",
            "tenant": "shop-1",
            "issuedAt": "2025-03-01T10:00:01Z",
            "type": "stock",
            "sku": "EB001",
            "quantity": 0,
            "location": "warehouse-amsterdam",
            "observedAt": "2025-03-01T10:00:00.250Z"
        })
    }

    #[test]
    fn stock_levels_are_absolute_and_not_negative() {
        let command = parse(&stock_example()).unwrap_or_else(|e| panic!("{e}"));
        let Action::Stock(stock) = &command.action else {
            panic!("not stock")
        };
        assert_eq!(stock.quantity.get(), 0);
        let negative = with(stock_example(), "quantity", json!(-1));
        assert!(
            matches!(error_of(&negative), CommandError::InvalidQuantity { field, .. } if field == "quantity")
        );
        let huge = with(stock_example(), "quantity", json!(MAX_STOCK_LEVEL + 1));
        assert!(matches!(
            error_of(&huge),
            CommandError::InvalidQuantity { .. }
        ));
        let missing = without(stock_example(), "observedAt");
        assert!(
            matches!(error_of(&missing), CommandError::MissingField { field, .. } if field == "observedAt")
        );
        let stray = with(stock_example(), "order", json!({ "number": "1" }));
        let error = error_of(&stray);
        assert!(
            matches!(&error, CommandError::UnknownField { field, .. } if field == "order"),
            "{error:?}"
        );
    }

    #[test]
    fn deliver_and_pickup_commands_parse() {
        let deliver = json!({
            "schemaVersion": 1, "id": "d-1", "tenant": "shop-1",
            "issuedAt": "2025-03-02T10:00:00Z", "type": "deliver",
            "order": { "number": "10001" }, "trackingCode": "3SABCD1234567"
        });
        assert!(parse(&deliver).is_ok());
        let unidentified = without(deliver, "trackingCode");
        assert!(
            matches!(error_of(&unidentified), CommandError::InvalidValue { field, .. } if field == "trackingCode")
        );
        for kind in ["ready_for_pickup", "picked_up"] {
            let pickup = json!({
                "schemaVersion": 1, "id": "p-1", "tenant": "shop-1",
                "issuedAt": "2025-03-02T10:00:00Z", "type": kind,
                "order": { "number": "10001" }, "notifyCustomer": true
            });
            let command = parse(&pickup).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(command.command_type().as_str(), kind);
        }
    }

    #[test]
    fn every_error_is_permanent_and_keeps_serde_causes() {
        let error = error_of(&with(ship_example(), "lines/0/quantity", json!("2")));
        assert!(error.is_permanent());
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(error.kind(), "wrong_type");
    }

    #[test]
    fn identity_can_be_read_from_an_invalid_command() {
        let invalid = with(ship_example(), "lines", json!([]));
        let bytes = invalid.to_string();
        assert!(parse_command(bytes.as_bytes()).is_err());
        let identity = peek_identity(bytes.as_bytes()).expect("id and tenant are valid");
        assert_eq!(identity.id.as_str(), "cmd-ship-1");
        assert_eq!(identity.command_type, Some(CommandType::Ship));
        assert_eq!(peek_identity(b"not json"), None);
    }

    #[test]
    fn message_group_ids_follow_the_fifo_rules() {
        let ship = parse(&ship_example()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ship.message_group_id(), "shop-1:order:10001");
        let stock = parse(&stock_example()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            stock.message_group_id(),
            "shop-1:sku:EB001:warehouse-amsterdam"
        );
        let long = parse(&with(
            stock_example(),
            "sku",
            json!("ä long SKU ".repeat(20)),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let group = long.message_group_id();
        assert!(group.starts_with("shop-1:sku#"), "{group}");
        assert!(
            CommandId::parse(&group).is_ok(),
            "{group} is a valid group id"
        );
        assert_eq!(group, long.message_group_id(), "deterministic");
    }

    /// The committed schema accepts what the parser accepts and refuses unknown fields.
    fn validator() -> jsonschema::Validator {
        let schema: Value =
            serde_json::from_str(&crate::schema::generate::<Command>()).expect("schema is JSON");
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"))
    }

    #[test]
    fn the_schema_agrees_with_the_parser_on_examples() {
        let validator = validator();
        for example in [
            ship_example(),
            return_example(),
            cancel_example(),
            stock_example(),
        ] {
            assert!(parse(&example).is_ok());
            let errors: Vec<String> = validator
                .iter_errors(&example)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{example}: {errors:?}");
        }
        for refused in [
            with(ship_example(), "trackingcode", json!("x")),
            with(ship_example(), "type", json!("teleport")),
            with(ship_example(), "lines/0/quantity", json!(0)),
            with(ship_example(), "schemaVersion", json!(2)),
            without(ship_example(), "order"),
            with(ship_example(), "order", json!({})),
            with(stock_example(), "quantity", json!(-1)),
        ] {
            assert!(parse(&refused).is_err());
            assert!(!validator.is_valid(&refused), "schema accepts {refused}");
        }
    }

    /// Any JSON value, nested a few levels.
    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "[ -~]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("type".to_owned()),
                        Just("order".to_owned()),
                        Just("lines".to_owned()),
                        Just("quantity".to_owned()),
                        "[a-zA-Z]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_parser_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_command(&bytes);
            let _ = peek_identity(&bytes);
        }

        #[test]
        fn the_parser_never_panics_on_json(value in arbitrary_json()) {
            let _ = parse_command(value.to_string().as_bytes());
        }

        /// Valid commands with one field replaced by anything: a typed error or a command
        /// that survives a round trip, and every error names a field or is about the whole.
        #[test]
        fn one_bad_field_gives_a_typed_error(
            example in 0..4usize,
            field in 0..12usize,
            replacement in arbitrary_json(),
        ) {
            let base = [ship_example(), return_example(), cancel_example(), stock_example()][example].clone();
            let Value::Object(mut object) = base else { unreachable!() };
            let keys: Vec<String> = object.keys().cloned().collect();
            let key = keys[field % keys.len()].clone();
            object.insert(key, replacement);
            let text = Value::Object(object).to_string();
            match parse_command(text.as_bytes()) {
                Ok(command) => {
                    let again = serde_json::to_string(&command).map_err(|e| e.to_string());
                    proptest::prop_assert!(again.is_ok());
                    let reparsed = parse_command(again.unwrap_or_default().as_bytes());
                    proptest::prop_assert!(matches!(reparsed, Ok(ref c) if *c == command));
                }
                Err(error) => {
                    proptest::prop_assert!(error.is_permanent());
                    proptest::prop_assert!(!error.to_string().is_empty());
                }
            }
        }
    }

    const DOC: &str = include_str!("../../../docs/COMMANDS.md");

    /// The ```json blocks of docs/COMMANDS.md, so what integrators read is checked.
    pub(crate) fn doc_json_blocks() -> Vec<Value> {
        DOC.split("```json")
            .skip(1)
            .map(|block| {
                let body = block.split("```").next().unwrap_or_default();
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
            })
            .collect()
    }

    #[test]
    fn the_documented_commands_parse_and_match_the_schema() {
        let validator = validator();
        let mut types = Vec::new();
        for example in doc_json_blocks()
            .into_iter()
            .filter(|b| b.get("eventId").is_none())
        {
            let command = parse(&example).unwrap_or_else(|e| panic!("{e}: {example}"));
            assert!(validator.is_valid(&example), "{example}");
            types.push(command.command_type());
        }
        for kind in CommandType::ALL {
            assert!(
                types.contains(&kind),
                "docs/COMMANDS.md has no {kind} example"
            );
        }
    }

    #[test]
    fn the_documented_error_messages_are_real() {
        let messages = [
            error_of(&with(ship_example(), "schemaVersion", json!(2))),
            error_of(&with(ship_example(), "type", json!("teleport"))),
            error_of(&without(ship_example(), "lines/0/sku")),
            error_of(&with(ship_example(), "trackingcode", json!("x"))),
            error_of(&with(ship_example(), "lines/0/quantity", json!("2"))),
            error_of(&with(ship_example(), "lines/1/quantity", json!(0))),
            error_of(&with(
                ship_example(),
                "lines",
                json!([{ "sku": "A", "quantity": 1 }, { "sku": "B", "quantity": 1 }, { "sku": "A", "quantity": 2 }]),
            )),
            error_of(&with(
                ship_example(),
                "order/id",
                json!("0da86a9c-8633-4c26-9647-e85dda934669"),
            )),
            error_of(&with(ship_example(), "tenant", json!("shop:1"))),
            parse_command(b"[1]").unwrap_err(),
            parse_command(b"{\n  \"id\": \"x\",\n  oops\n}").unwrap_err(),
        ]
        .map(|error| error.to_string());
        for message in messages {
            let shown = message.replace(
                "cancel, return, ship, ready_for_pickup, picked_up, deliver, stock",
                "cancel, return, …",
            );
            assert!(
                DOC.contains(&shown),
                "docs/COMMANDS.md does not show: {shown}"
            );
        }
    }

    #[test]
    fn contracts_command_schema_is_committed() {
        crate::schema::check_committed::<Command>("v1/command.schema.json")
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
