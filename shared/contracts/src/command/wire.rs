//! The serde wire structs of a command body: the order reference, the order lines and the
//! fields of each command type.

use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Carrier, Comment, LocationId, MAX_LINES, OrderNumber, Quantity, ShipmentReference, Sku,
    StockLevel, TrackingCode, TrackingLink,
};

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

pub(super) fn order_ref_message(problem: OrderRefProblem) -> String {
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

/// `stock`: the absolute available quantity of a SKU at an Afosto location. The shop's
/// stock becomes the sum of the latest quantities of the locations that count towards it;
/// all stock commands of one SKU share one FIFO group, whatever the location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StockCommand {
    pub sku: Sku,
    /// The available quantity, absolute (never a delta).
    pub quantity: StockLevel,
    /// The Afosto location the quantity belongs to.
    pub location: LocationId,
    /// When Afosto observed this quantity, on Afosto's clock; orders the stock commands of
    /// one location (an older one than the location's last is outdated).
    pub observed_at: DateTime<Utc>,
}
