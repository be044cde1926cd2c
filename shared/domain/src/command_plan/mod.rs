//! Planning of Afosto commands: pure functions from a command and the current ePages
//! snapshot (the order, its processes, or a product's availability) to the Beyond calls
//! still needed. Nothing here does I/O.
//!
//! Planning is idempotent: cancel and return quantities are totals to reach, a shipment is
//! recognised by its tracking code or reference, pickups and deliveries by their process,
//! stock by its absolute level. Once a plan's calls have been made, planning the same
//! command again yields [`Outcome::AlreadyInEffect`]. That is what makes at-least-once
//! delivery safe: the consumer plans, runs the calls one by one, and after any ambiguous
//! failure (a timeout: did the POST land?) reads the snapshot again and re-plans instead of
//! retrying blindly. The rules per command are in `docs/COMMANDS.md`.

mod cancel;
mod deliver;
mod lines;
mod pickup;
pub mod result;
mod returns;
mod ship;
mod stock;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod test_support;

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use beyond::model::{
    AdjustAvailableStock, CancelOrder, CreateCancelProcess, CreatePickupProcess,
    CreateReturnProcess, CreateShippingProcess, EnableStockManagement, MarkDelivered, MarkPickedUp,
    MarkShipped, Order, OrderProcesses,
};
use contracts::command::{Action, CommandType, OrderRef};

pub use cancel::plan_cancel;
pub use deliver::plan_deliver;
pub use pickup::{plan_picked_up, plan_ready_for_pickup};
pub use returns::plan_return;
pub use ship::plan_ship;
pub use stock::{
    AdjustIntent, AdjustReconciliation, LevelDecision, ShopTarget, StockSettings, UnknownOrder,
    judge_level, plan_stock, reconcile_ambiguous_adjustment, shop_target,
};

/// What the consumer should do with a command, and the calls that get it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub outcome: Outcome,
    /// The Beyond calls to make, in order. Non-empty exactly when `outcome` is `Apply`.
    pub calls: Vec<PlannedCall>,
    /// What the plan could not do as asked, or did in a particular way; for the result
    /// event and the activity log.
    pub notes: Vec<PlanNote>,
}

impl Plan {
    /// `Apply` with these calls, or `AlreadyInEffect` when there are none: the one place
    /// that keeps `outcome` and `calls` consistent.
    pub fn from_calls(calls: Vec<PlannedCall>, notes: Vec<PlanNote>) -> Self {
        let outcome = if calls.is_empty() {
            Outcome::AlreadyInEffect
        } else {
            Outcome::Apply
        };
        Self {
            outcome,
            calls,
            notes,
        }
    }

    pub fn already_in_effect(notes: Vec<PlanNote>) -> Self {
        Self::from_calls(Vec::new(), notes)
    }

    pub fn skip(reason: SkipReason) -> Self {
        Self {
            outcome: Outcome::Skip(reason),
            calls: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Whether nothing is left to call.
    pub fn is_done(&self) -> bool {
        self.calls.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Make the calls; report `command.applied` once they all succeeded.
    Apply,
    /// ePages already shows what the command asks; report `command.skipped`.
    AlreadyInEffect,
    /// The command must not be applied; report `command.skipped` with the reason.
    Skip(SkipReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A stock level observed no later than its location's last level: applying it would
    /// move that location back in time.
    StaleObservation {
        observed_at: DateTime<Utc>,
        last_applied: DateTime<Utc>,
    },
    /// The tenant does not sync this Afosto location's stock to the shop.
    LocationNotSynced { location: String },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::StaleObservation {
                observed_at,
                last_applied,
            } => write!(
                f,
                "stock observed at {observed_at} is not newer than this location's last level, observed at {last_applied}"
            ),
            SkipReason::LocationNotSynced { location } => {
                write!(f, "location {location:?} is not synced to the shop's stock")
            }
        }
    }
}

/// The process a follow-up call acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessTarget {
    /// A process that already exists.
    Existing(Uuid),
    /// The process the previous call of the plan creates; its id is in that call's answer.
    CreatedByPreviousCall,
}

/// One Beyond call. Order calls carry the request body from the Beyond models as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedCall {
    /// `POST /orders/{id}/cancel`.
    CancelOrder(CancelOrder),
    /// `POST /orders/{id}/processes/cancelations`.
    CreateCancelation(CreateCancelProcess),
    /// `POST /orders/{id}/processes/returns`.
    CreateReturn(CreateReturnProcess),
    /// `POST /orders/{id}/processes/shippings`.
    CreateShippingProcess(CreateShippingProcess),
    /// `POST …/shippings/{id}/mark-shipped`.
    MarkShipped {
        process: ProcessTarget,
        body: MarkShipped,
    },
    /// `POST …/shippings/{id}/mark-delivered`.
    MarkDelivered {
        process_id: Uuid,
        body: MarkDelivered,
    },
    /// `POST /orders/{id}/processes/pickups`.
    CreatePickupProcess(CreatePickupProcess),
    /// `POST …/pickups/{id}/mark-picked-up`.
    MarkPickedUp {
        process: ProcessTarget,
        body: MarkPickedUp,
    },
    /// `POST …/availability/adjust-available-stock` with `relativeAmount = delta`, which
    /// brings the stock to `target` if nobody else changes it meanwhile. `delta` is never 0.
    AdjustStock { target: i64, delta: i64 },
    /// `POST …/availability/enable-stock-management` with `initial` as the stock.
    EnableStockManagement { initial: i64 },
}

impl PlannedCall {
    /// A stable name for logs and result events.
    pub fn name(&self) -> &'static str {
        match self {
            PlannedCall::CancelOrder(_) => "cancel-order",
            PlannedCall::CreateCancelation(_) => "create-cancelation",
            PlannedCall::CreateReturn(_) => "create-return",
            PlannedCall::CreateShippingProcess(_) => "create-shipping-process",
            PlannedCall::MarkShipped { .. } => "mark-shipped",
            PlannedCall::MarkDelivered { .. } => "mark-delivered",
            PlannedCall::CreatePickupProcess(_) => "create-pickup-process",
            PlannedCall::MarkPickedUp { .. } => "mark-picked-up",
            PlannedCall::AdjustStock { .. } => "adjust-available-stock",
            PlannedCall::EnableStockManagement { .. } => "enable-stock-management",
        }
    }

    /// The body of an `AdjustStock` call.
    pub fn adjust_body(&self) -> Option<AdjustAvailableStock> {
        match self {
            PlannedCall::AdjustStock { delta, .. } => Some(AdjustAvailableStock {
                relative_amount: *delta,
            }),
            _ => None,
        }
    }

    /// The body of an `EnableStockManagement` call.
    pub fn enable_body(&self) -> Option<EnableStockManagement> {
        match self {
            PlannedCall::EnableStockManagement { initial } => Some(EnableStockManagement {
                initial_available_stock: *initial,
                stock_threshold: None,
            }),
            _ => None,
        }
    }
}

/// Why fewer pieces were planned than asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapReason {
    /// Cancel: the rest is already shipped, pending shipment or picked up.
    NotCancelable,
    /// Return: the rest has not been shipped or picked up (or is already returned).
    NotReturnable,
    /// Ship: the rest is already shipped, canceled or returned.
    NotShippable,
    /// Ship: the rest sits in another pending shipping process.
    InOtherPendingShipment,
}

impl fmt::Display for CapReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CapReason::NotCancelable => "the rest is already shipped or picked up",
            CapReason::NotReturnable => "the rest has not been shipped or picked up",
            CapReason::NotShippable => "the rest is already shipped, canceled or returned",
            CapReason::InOtherPendingShipment => "the rest is in another pending shipment",
        })
    }
}

/// Something the consumer should report along with the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanNote {
    /// Only `planned` of the `asked` pieces still needed could be planned.
    Capped {
        sku: String,
        asked: u32,
        planned: u32,
        reason: CapReason,
    },
    /// A whole-order cancel of an order that is partly fulfilled cancels what is left;
    /// Beyond's `cancel` is only possible before anything is handed out.
    WholeOrderCancelLimitedToOpenPieces { fulfilled: u32 },
    /// An earlier attempt created this pending shipping process; the plan finishes it.
    ResumedPendingShipment { process_id: Uuid },
    /// `refundShipping` was asked, but an earlier return already refunded the charge.
    ShippingAlreadyRefunded,
    /// The shop's stock is the sum of these Afosto locations' levels.
    StockSumOfLocations { locations: Vec<(String, i64)> },
    /// Orders the shop took that Afosto's levels cannot include yet were taken off the
    /// target (docs/COMMANDS.md, "Orders Afosto cannot know yet").
    OrdersAfostoCannotKnow { orders: usize, pieces: i64 },
}

impl fmt::Display for PlanNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanNote::Capped {
                sku,
                asked,
                planned,
                reason,
            } => write!(
                f,
                "SKU {sku:?}: {planned} of the {asked} pieces still needed were planned; {reason}"
            ),
            PlanNote::WholeOrderCancelLimitedToOpenPieces { fulfilled } => write!(
                f,
                "the order is partly fulfilled ({fulfilled} pieces shipped, picked up or returned): only the open pieces are canceled"
            ),
            PlanNote::ResumedPendingShipment { process_id } => write!(
                f,
                "finishing the pending shipping process {process_id} an earlier attempt created"
            ),
            PlanNote::ShippingAlreadyRefunded => {
                f.write_str("the shipping charge was already refunded by an earlier return")
            }
            PlanNote::StockSumOfLocations { locations } => {
                let parts: Vec<String> = locations
                    .iter()
                    .map(|(location, level)| format!("{location} {level}"))
                    .collect();
                write!(
                    f,
                    "the shop's stock is the sum of the locations that count towards it: {}",
                    parts.join(" + ")
                )
            }
            PlanNote::OrdersAfostoCannotKnow { orders, pieces } => write!(
                f,
                "{pieces} pieces of {orders} shop orders Afosto cannot know yet were taken off the target"
            ),
        }
    }
}

/// Why a command cannot be planned. All but [`PlanError::ShipmentNotYetVisible`] are
/// permanent: the snapshot contradicts the command, and retrying changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the command is for {expected} but the snapshot is order {found}")]
    WrongOrder { expected: String, found: Uuid },
    #[error("{command_type} is not an order command")]
    NotAnOrderCommand { command_type: CommandType },
    #[error("SKU {sku:?} is not on the order")]
    UnknownSku { sku: String },
    #[error("line item {line_item_id} (SKU {sku:?}) is not on the order")]
    UnknownLineItem { line_item_id: Uuid, sku: String },
    #[error("line item {line_item_id} has SKU {found:?}, not {sku:?}")]
    LineItemSkuMismatch {
        line_item_id: Uuid,
        sku: String,
        found: Option<String>,
    },
    #[error(
        "impossible quantity: cannot {action} {asked} pieces of SKU {sku:?}, the order has {total}"
    )]
    ImpossibleQuantity {
        action: &'static str,
        sku: String,
        asked: u32,
        total: u32,
    },
    #[error("this payment method only allows full refunds: cancel the whole order")]
    FullRefundOnlyCancel,
    #[error(
        "this payment method only allows full refunds: return every piece of the order in one command"
    )]
    FullRefundOnlyReturn,
    #[error(
        "this payment method only allows full refunds: the return must refund shipping too (`refundShipping: true`)"
    )]
    FullRefundOnlyShipping,
    #[error("pickup order: use ready_for_pickup/picked_up instead of {command_type}")]
    PickupOrder { command_type: CommandType },
    #[error(
        "{command_type} is for click & collect orders; this order is shipped: use ship/deliver"
    )]
    NotPickupOrder { command_type: CommandType },
    #[error("the order is canceled: cannot {command_type}")]
    OrderCanceled { command_type: CommandType },
    #[error(
        "the pieces to ship sit in pending shipping process(es) {}: finish or delete them in ePages first",
        join_ids(process_ids)
    )]
    PendingShipmentConflict { process_ids: Vec<Uuid> },
    #[error("no shipping process matches {reference}")]
    ShipmentNotFound { reference: String },
    #[error(
        "no shipping process matches {reference} yet; the order still has unshipped pieces, so the shipment may not have reached ePages"
    )]
    ShipmentNotYetVisible { reference: String },
    #[error("process {process_id} has status {status:?}, which this version does not know")]
    UnknownProcessStatus { process_id: Uuid, status: String },
    #[error(
        "SKU {sku:?} has no stock management in ePages, and this tenant does not enable it automatically"
    )]
    StockUnmanaged { sku: String },
}

fn join_ids(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl PlanError {
    /// Whether retrying later can never help (→ DLQ and `command.failed`, permanent).
    pub fn is_permanent(&self) -> bool {
        self.disposition().is_reject()
    }

    /// Reject, except for a shipment ePages does not show yet: that one may appear.
    pub fn disposition(&self) -> beyond::Disposition {
        match self {
            PlanError::ShipmentNotYetVisible { .. } => beyond::Disposition::Retry,
            _ => beyond::Disposition::Reject,
        }
    }

    /// A stable machine-readable name of the kind.
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::WrongOrder { .. } => "wrong_order",
            PlanError::NotAnOrderCommand { .. } => "not_an_order_command",
            PlanError::UnknownSku { .. } => "unknown_sku",
            PlanError::UnknownLineItem { .. } => "unknown_line_item",
            PlanError::LineItemSkuMismatch { .. } => "line_item_sku_mismatch",
            PlanError::ImpossibleQuantity { .. } => "impossible_quantity",
            PlanError::FullRefundOnlyCancel
            | PlanError::FullRefundOnlyReturn
            | PlanError::FullRefundOnlyShipping => "full_refund_only",
            PlanError::PickupOrder { .. } => "pickup_order",
            PlanError::NotPickupOrder { .. } => "not_pickup_order",
            PlanError::OrderCanceled { .. } => "order_canceled",
            PlanError::PendingShipmentConflict { .. } => "pending_shipment_conflict",
            PlanError::ShipmentNotFound { .. } => "shipment_not_found",
            PlanError::ShipmentNotYetVisible { .. } => "shipment_not_yet_visible",
            PlanError::UnknownProcessStatus { .. } => "unknown_process_status",
            PlanError::StockUnmanaged { .. } => "stock_unmanaged",
        }
    }
}

/// What the consumer read from ePages for an order command.
#[derive(Debug, Clone, Copy)]
pub struct OrderSnapshot<'a> {
    pub order: &'a Order,
    /// `GET /orders/{id}/processes`, read after the order.
    pub processes: &'a OrderProcesses,
    /// The shipping process the consumer recorded for this command's `shipmentReference`
    /// when an earlier attempt created it (see [`plan_ship`]), if any.
    pub recorded_shipping_process: Option<Uuid>,
}

/// Plans any order command against its snapshot.
pub fn plan_order_command(
    action: &Action,
    snapshot: &OrderSnapshot<'_>,
) -> Result<Plan, PlanError> {
    let OrderSnapshot {
        order,
        processes,
        recorded_shipping_process,
    } = *snapshot;
    match action {
        Action::Cancel(command) => plan_cancel(order, command),
        Action::Return(command) => plan_return(order, processes, command),
        Action::Ship(command) => plan_ship(order, processes, command, recorded_shipping_process),
        Action::ReadyForPickup(command) => plan_ready_for_pickup(order, processes, command),
        Action::PickedUp(command) => plan_picked_up(order, processes, command),
        Action::Deliver(command) => {
            plan_deliver(order, processes, command, recorded_shipping_process)
        }
        Action::Stock(_) => Err(PlanError::NotAnOrderCommand {
            command_type: CommandType::Stock,
        }),
    }
}

/// Guards against planning on the wrong snapshot: a consumer bug, never Afosto's.
fn check_order(order: &Order, reference: &OrderRef) -> Result<(), PlanError> {
    let matches = match reference {
        OrderRef::Id(id) => order.id == *id,
        OrderRef::Number(number) => order.order_number.as_deref() == Some(number.as_str()),
    };
    if matches {
        Ok(())
    } else {
        Err(PlanError::WrongOrder {
            expected: reference.to_string(),
            found: order.id,
        })
    }
}
