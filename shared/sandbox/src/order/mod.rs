//! Orders as the sandbox stores them: line items with quantity buckets, the processes
//! (shipping, pickup, cancelation, return, payment, refund) and the event log. Status fields
//! are not stored but derived (`status`), the operations that change an order live in
//! `machine`, creation from a request body in `create`, the JSON shape in `render`.

pub mod create;
pub mod machine;
#[cfg(test)]
mod machine_tests;
pub mod query;
pub mod render;
pub mod status;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::catalog::StockTarget;
use crate::money::{TaxModel, tax_of};
pub use status::{Buckets, Fulfilment, PaymentStatus, ProcessPaymentStatus, ShippingStatus};

/// Refund capability of the payment method (`paymentMethod.refund`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundPolicy {
    NoRefund,
    FullRefundOnly,
    PartialRefund,
}

impl RefundPolicy {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "NO_REFUND" => Some(RefundPolicy::NoRefund),
            "FULL_REFUND_ONLY" => Some(RefundPolicy::FullRefundOnly),
            "PARTIAL_REFUND" => Some(RefundPolicy::PartialRefund),
            _ => None,
        }
    }
}

/// The ordered product as captured at order time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductSnapshot {
    /// The product's id, or the variation's id for a variation.
    pub id: Option<Uuid>,
    /// For a variation: the variation product (parent) it belongs to.
    pub parent_id: Option<Uuid>,
    pub sku: Option<String>,
    pub name: String,
    pub essential_features: Option<String>,
    pub shipping_weight: Option<Value>,
    pub default_image_data_uri: Option<String>,
    pub variation_attribute_values: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub id: Uuid,
    pub product: ProductSnapshot,
    /// The catalog stock this line took, when it is linked to a managed product.
    pub stock_target: Option<StockTarget>,
    pub unit_price: Decimal,
    pub tax_class: String,
    pub tax_rate: Decimal,
    pub unit_discount: Option<Value>,
    pub custom_text: Option<Value>,
    pub initial_quantity: u32,
    pub buckets: Buckets,
}

impl LineItem {
    pub fn quantity(&self) -> u32 {
        self.buckets.current_quantity(self.initial_quantity)
    }
}

/// `{productLineItemId, quantity}` as used in every process body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessLine {
    pub line_item: Uuid,
    pub quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShippingProcessStatus {
    Pending,
    Shipped,
    Delivered,
}

impl ShippingProcessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShippingProcessStatus::Pending => "PENDING",
            ShippingProcessStatus::Shipped => "SHIPPED",
            ShippingProcessStatus::Delivered => "DELIVERED",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShippingProcess {
    pub id: Uuid,
    pub status: ShippingProcessStatus,
    pub tracking_code: Option<String>,
    pub tracking_link: Option<String>,
    pub lines: Vec<ProcessLine>,
    /// Pieces of each line already returned against this shipment.
    pub returned: BTreeMap<Uuid, u32>,
}

impl ShippingProcess {
    /// Pieces of `line_item` in this shipment that have not been returned.
    pub fn remaining(&self, line_item: Uuid) -> u32 {
        let shipped: u32 = self
            .lines
            .iter()
            .filter(|line| line.line_item == line_item)
            .map(|line| line.quantity)
            .sum();
        shipped.saturating_sub(self.returned.get(&line_item).copied().unwrap_or(0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupProcessStatus {
    ReadyForPickup,
    PickedUp,
}

impl PickupProcessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PickupProcessStatus::ReadyForPickup => "READY_FOR_PICKUP",
            PickupProcessStatus::PickedUp => "PICKED_UP",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PickupProcess {
    pub id: Uuid,
    pub status: PickupProcessStatus,
    pub lines: Vec<ProcessLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CancelProcess {
    pub id: Uuid,
    pub lines: Vec<ProcessLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnStatus {
    Returned,
    Broken,
}

impl ReturnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Returned => "RETURNED",
            ReturnStatus::Broken => "BROKEN",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "RETURNED" => Some(ReturnStatus::Returned),
            "BROKEN" => Some(ReturnStatus::Broken),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnLine {
    pub line_item: Uuid,
    pub quantity: u32,
    pub status: ReturnStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnProcess {
    pub id: Uuid,
    pub lines: Vec<ReturnLine>,
    pub shipping_price_refund: Option<Decimal>,
    pub pickup_price_refund: Option<Decimal>,
    pub shipping_process: Option<Uuid>,
    pub pickup_process: Option<Uuid>,
}

/// A payment or refund process.
#[derive(Debug, Clone, PartialEq)]
pub struct MoneyProcess {
    pub id: Uuid,
    pub amount: Decimal,
    pub status: ProcessPaymentStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub event_type: String,
    pub triggered_by: Option<String>,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub details: Map<String, Value>,
    /// `(rel, path below the order)`, e.g. `("shipping-process", "processes/shippings/…")`.
    pub links: Vec<(String, String)>,
}

/// A fee or discount line (shipping, pickup, payment, coupon): the request's object, kept
/// for rendering, and its price.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeLine {
    pub raw: Map<String, Value>,
    pub price: Decimal,
    /// Refunded by returns (`shippingPriceRefund`, `pickupPriceRefund`).
    pub refunded: Decimal,
    pub tax_class: String,
    pub tax_rate: Decimal,
}

impl ChargeLine {
    /// The part of the price still charged.
    pub fn open_price(&self) -> Decimal {
        self.price - self.refunded
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub order_number: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub entry_date: DateTime<Utc>,
    pub cart_id: Uuid,
    pub currency: String,
    pub tax_model: TaxModel,
    pub taxable: bool,
    pub test_order: bool,
    pub terms_accepted: bool,
    pub viewed: bool,
    /// Plain fields copied from the request (customerEmail, salesChannel, ...).
    pub info: Map<String, Value>,
    pub billing_address: Value,
    pub shipping_address: Value,
    pub fulfilment: Fulfilment,
    pub lines: Vec<LineItem>,
    pub shipping_line: Option<ChargeLine>,
    pub pickup_line: Option<ChargeLine>,
    pub payment_line: ChargeLine,
    pub coupon_line: Option<ChargeLine>,
    pub refund_policy: RefundPolicy,
    pub total_received: Decimal,
    pub total_refunded: Decimal,
    pub shippings: Vec<ShippingProcess>,
    pub pickups: Vec<PickupProcess>,
    pub cancelations: Vec<CancelProcess>,
    pub returns: Vec<ReturnProcess>,
    pub payments: Vec<MoneyProcess>,
    pub refunds: Vec<MoneyProcess>,
    /// Oldest first.
    pub events: Vec<OrderEvent>,
}

/// Which charge prices totals use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChargesAt {
    Initial,
    Current,
}

/// Tax per `(taxClass, taxRate)`.
pub type TaxSummary = BTreeMap<(String, Decimal), Decimal>;

/// The money view of an order at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub subtotal: Decimal,
    pub grand_total: Decimal,
    pub net_total: Decimal,
    pub tax_total: Decimal,
    pub taxes: TaxSummary,
}

impl Order {
    pub fn line(&self, id: Uuid) -> Option<&LineItem> {
        self.lines.iter().find(|line| line.id == id)
    }

    pub fn buckets(&self) -> Vec<Buckets> {
        self.lines.iter().map(|line| line.buckets).collect()
    }

    pub fn shipping_status(&self) -> ShippingStatus {
        status::shipping_status(self.fulfilment, &self.buckets())
    }

    pub fn canceled(&self) -> bool {
        status::is_canceled(&self.buckets())
    }

    pub fn payment_status(&self) -> PaymentStatus {
        let payments: Vec<_> = self.payments.iter().map(|p| p.status).collect();
        let refunds: Vec<_> = self.refunds.iter().map(|r| r.status).collect();
        status::payment_status(&payments, &refunds)
    }

    /// Totals over the current quantities; a canceled order owes nothing, so its shipping,
    /// pickup and payment charges drop to zero as well (Beyond's cancel example shows a
    /// grand total of 0).
    pub fn totals(&self) -> Totals {
        self.compute_totals(|line| line.quantity(), ChargesAt::Current)
    }

    pub fn initial_totals(&self) -> Totals {
        self.compute_totals(|line| line.initial_quantity, ChargesAt::Initial)
    }

    /// The current price of a charge line: minus refunds, zero once the order is canceled.
    pub fn charge_price(&self, charge: &ChargeLine) -> Decimal {
        if self.canceled() {
            Decimal::ZERO
        } else {
            charge.open_price()
        }
    }

    fn compute_totals(&self, quantity: impl Fn(&LineItem) -> u32, charges_at: ChargesAt) -> Totals {
        let canceled = self.canceled();
        let mut taxes = TaxSummary::new();
        let mut subtotal = Decimal::ZERO;
        for line in &self.lines {
            let amount = line.unit_price * Decimal::from(quantity(line));
            subtotal += amount;
            *taxes
                .entry((line.tax_class.clone(), line.tax_rate))
                .or_default() += tax_of(self.tax_model, amount, line.tax_rate);
        }
        let mut charges = Decimal::ZERO;
        for charge in self.charge_lines() {
            let price = match charges_at {
                ChargesAt::Initial => charge.price,
                ChargesAt::Current if canceled => Decimal::ZERO,
                ChargesAt::Current => charge.open_price(),
            };
            charges += price;
            *taxes
                .entry((charge.tax_class.clone(), charge.tax_rate))
                .or_default() += tax_of(self.tax_model, price, charge.tax_rate);
        }
        let tax_total: Decimal = taxes.values().copied().sum();
        let (grand_total, net_total) = match self.tax_model {
            TaxModel::Gross => {
                let grand = subtotal + charges;
                (grand, grand - tax_total)
            }
            TaxModel::Net => {
                let net = subtotal + charges;
                (net + tax_total, net)
            }
        };
        Totals {
            subtotal,
            grand_total,
            net_total,
            tax_total,
            taxes,
        }
    }

    fn charge_lines(&self) -> impl Iterator<Item = &ChargeLine> {
        self.shipping_line
            .iter()
            .chain(self.pickup_line.iter())
            .chain(std::iter::once(&self.payment_line))
            .chain(self.coupon_line.iter())
    }

    /// `grandTotal − totalReceived + totalRefunded`, as in Beyond's cancel example.
    pub fn open_amount(&self) -> Decimal {
        self.totals().grand_total - self.total_received + self.total_refunded
    }

    /// Whether `POST /orders/{id}/cancel` is possible (and its link shown): not canceled yet
    /// and nothing handed out yet (no pending, shipped, delivered, picked-up or returned
    /// pieces).
    pub fn cancelable(&self) -> bool {
        !self.canceled()
            && self.lines.iter().all(|line| {
                let b = line.buckets;
                b.pending + b.shipped + b.delivered + b.picked_up + b.returned + b.broken == 0
            })
    }
}
