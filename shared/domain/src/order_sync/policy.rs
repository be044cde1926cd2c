//! Whether an ePages order that was never imported should be imported now.
//!
//! The rules, checked in this order (the first that applies decides):
//!
//! 1. **Sync start.** An order created (`createdAt`, else `entryDate`) before the tenant's
//!    sync start is never imported. Final.
//! 2. **Test orders** (`testOrder: true`) are skipped unless the tenant includes them. Final.
//! 3. **Canceled before import.** An order canceled as a whole (the `canceled` flag, the
//!    shipping status `CANCELED`, or every line fully canceled) before it was imported
//!    yields no event at all: Afosto never hears of it. Final, since a cancelation is not
//!    undone.
//! 4. **Payment status filter** (e.g. "only paid"): an order whose `paymentStatus` the
//!    filter does not admit is *held*: nothing is emitted and nothing is recorded, and the
//!    next snapshot is judged again. Once it is admitted it is imported with everything
//!    that happened meanwhile (`order.created` followed by catch-up events). An order
//!    without a payment status passes only the "any" filter.
//!
//! The rules only gate the *import*. Once `order.created` was emitted, every later change
//! of the order is followed whatever its payment status or flags become, so Afosto never
//! misses a cancelation or shipment of an order it knows.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::tenant::{PaymentStatusFilter, TenantConfig};
use beyond::model::order::{Order, OrderPaymentStatus};

use super::normalize::{InvalidOrder, created_at};
use super::quantities::initial_quantity;

/// The tenant settings the import rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPolicy {
    /// Orders created before this instant are never imported.
    pub sync_start: DateTime<Utc>,
    pub include_test_orders: bool,
    pub payment_filter: PaymentStatusFilter,
}

impl SyncPolicy {
    pub fn for_tenant(tenant: &TenantConfig) -> Self {
        Self {
            sync_start: tenant.sync_start,
            include_test_orders: tenant.include_test_orders,
            payment_filter: tenant.payment_filter.clone(),
        }
    }
}

/// The verdict on a not yet imported order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Import,
    Skip(SkipReason),
}

/// Why nothing was emitted for a not yet imported order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum SkipReason {
    #[serde(rename_all = "camelCase")]
    CreatedBeforeSyncStart {
        created_at: DateTime<Utc>,
        sync_start: DateTime<Utc>,
    },
    TestOrder,
    CanceledBeforeImport,
    /// Held until the payment status passes the tenant's filter.
    #[serde(rename_all = "camelCase")]
    AwaitingPayment {
        payment_status: Option<String>,
    },
}

impl SkipReason {
    /// `false` for a held order, which a later snapshot may still import.
    pub fn is_final(&self) -> bool {
        !matches!(self, SkipReason::AwaitingPayment { .. })
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::CreatedBeforeSyncStart {
                created_at,
                sync_start,
            } => write!(
                f,
                "created {} before the sync start {}",
                created_at.to_rfc3339(),
                sync_start.to_rfc3339()
            ),
            SkipReason::TestOrder => f.write_str("a test order, and test orders are not imported"),
            SkipReason::CanceledBeforeImport => f.write_str("canceled before it was imported"),
            SkipReason::AwaitingPayment { payment_status } => write!(
                f,
                "held until paid: payment status {} is not admitted by the filter",
                payment_status.as_deref().unwrap_or("(none)")
            ),
        }
    }
}

/// Applies the rules of the module docs to a not yet imported order.
pub fn admission(policy: &SyncPolicy, order: &Order) -> Result<Admission, InvalidOrder> {
    let created_at = created_at(order)?;
    if created_at < policy.sync_start {
        return Ok(Admission::Skip(SkipReason::CreatedBeforeSyncStart {
            created_at,
            sync_start: policy.sync_start,
        }));
    }
    if order.test_order == Some(true) && !policy.include_test_orders {
        return Ok(Admission::Skip(SkipReason::TestOrder));
    }
    if is_wholly_canceled(order) {
        return Ok(Admission::Skip(SkipReason::CanceledBeforeImport));
    }
    if !payment_admitted(&policy.payment_filter, order.payment_status.as_ref()) {
        return Ok(Admission::Skip(SkipReason::AwaitingPayment {
            payment_status: order
                .payment_status
                .as_ref()
                .map(|status| status.as_str().to_owned()),
        }));
    }
    Ok(Admission::Import)
}

/// Canceled as a whole: the flag or status, or every line canceled down to nothing (partial
/// cancelations of every piece leave nothing for Afosto to handle either).
pub fn is_wholly_canceled(order: &Order) -> bool {
    order.is_canceled()
        || (!order.product_line_items.is_empty()
            && order
                .product_line_items
                .iter()
                .all(|line| line.canceled_quantity() >= initial_quantity(line)))
}

fn payment_admitted(filter: &PaymentStatusFilter, status: Option<&OrderPaymentStatus>) -> bool {
    match status {
        Some(status) => filter.admits(status.as_str()),
        None => matches!(filter, PaymentStatusFilter::Any),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_sync::fixtures::{order_json, policy, to_order};
    use chrono::TimeZone;

    fn verdict(policy: &SyncPolicy, json: serde_json::Value) -> Admission {
        admission(policy, &to_order(json)).expect("decidable")
    }

    #[test]
    fn orders_created_before_the_sync_start_are_skipped_for_good() {
        let mut json = order_json();
        json["createdAt"] = "2019-12-31T23:59:59.999".into();
        let Admission::Skip(reason) = verdict(&policy(), json) else {
            panic!("imported an old order")
        };
        assert!(matches!(reason, SkipReason::CreatedBeforeSyncStart { .. }));
        assert!(reason.is_final());
    }

    #[test]
    fn an_order_created_at_the_sync_start_is_imported() {
        let mut policy = policy();
        policy.sync_start = Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap();
        let mut json = order_json();
        json["createdAt"] = "2024-03-01T10:00:00".into();
        assert_eq!(verdict(&policy, json), Admission::Import);
    }

    #[test]
    fn entry_date_stands_in_for_a_missing_created_at_and_neither_is_an_error() {
        let mut json = order_json();
        json["createdAt"] = serde_json::Value::Null;
        assert_eq!(verdict(&policy(), json.clone()), Admission::Import);
        json["entryDate"] = serde_json::Value::Null;
        let error = admission(&policy(), &to_order(json)).expect_err("no date");
        assert_eq!(error.field(), "createdAt");
    }

    #[test]
    fn test_orders_are_skipped_unless_included() {
        let mut json = order_json();
        json["testOrder"] = true.into();
        assert_eq!(
            verdict(&policy(), json.clone()),
            Admission::Skip(SkipReason::TestOrder)
        );
        let including = SyncPolicy {
            include_test_orders: true,
            ..policy()
        };
        assert_eq!(verdict(&including, json), Admission::Import);
    }

    #[test]
    fn orders_canceled_before_import_are_skipped_by_flag_status_or_lines() {
        let mut flagged = order_json();
        flagged["canceled"] = true.into();
        let mut by_status = order_json();
        by_status["shippingStatus"] = "CANCELED".into();
        let mut by_lines = order_json();
        for line in by_lines["productLineItems"]
            .as_array_mut()
            .expect("lines")
            .iter_mut()
        {
            let initial = line["initialQuantity"].clone();
            line["cancelationStatus"] = serde_json::json!({"canceled": {"quantity": initial}});
        }
        for json in [flagged, by_status, by_lines] {
            assert_eq!(
                verdict(&policy(), json),
                Admission::Skip(SkipReason::CanceledBeforeImport)
            );
        }
    }

    #[test]
    fn a_partially_canceled_order_is_still_imported() {
        let mut json = order_json();
        json["productLineItems"][0]["cancelationStatus"] =
            serde_json::json!({"canceled": {"quantity": 1}});
        assert_eq!(verdict(&policy(), json), Admission::Import);
    }

    #[test]
    fn unpaid_orders_are_held_by_a_paid_only_filter() {
        let paid_only = SyncPolicy {
            payment_filter: PaymentStatusFilter::PaidOnly,
            ..policy()
        };
        let mut json = order_json();
        json["paymentStatus"] = "PENDING".into();
        let Admission::Skip(reason) = verdict(&paid_only, json.clone()) else {
            panic!("imported an unpaid order")
        };
        assert_eq!(
            reason,
            SkipReason::AwaitingPayment {
                payment_status: Some("PENDING".into())
            }
        );
        assert!(!reason.is_final());
        assert!(reason.to_string().contains("PENDING"));
        json["paymentStatus"] = "PAID".into();
        assert_eq!(verdict(&paid_only, json.clone()), Admission::Import);
        json["paymentStatus"] = serde_json::Value::Null;
        assert!(matches!(
            verdict(&paid_only, json.clone()),
            Admission::Skip(SkipReason::AwaitingPayment {
                payment_status: None
            })
        ));
        assert_eq!(verdict(&policy(), json), Admission::Import);
    }

    #[test]
    fn cancelation_wins_over_a_pending_payment() {
        let paid_only = SyncPolicy {
            payment_filter: PaymentStatusFilter::PaidOnly,
            ..policy()
        };
        let mut json = order_json();
        json["paymentStatus"] = "VOIDED".into();
        json["canceled"] = true.into();
        assert_eq!(
            verdict(&paid_only, json),
            Admission::Skip(SkipReason::CanceledBeforeImport)
        );
    }

    #[test]
    fn skip_reasons_serialize_for_the_activity_log() {
        let value = serde_json::to_value(SkipReason::AwaitingPayment {
            payment_status: Some("PENDING".into()),
        })
        .expect("serializes");
        assert_eq!(
            value,
            serde_json::json!({"reason": "awaitingPayment", "paymentStatus": "PENDING"})
        );
    }
}
