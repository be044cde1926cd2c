//! `GET /orders` filters and sorting.
//!
//! Supported filters: `createdAfter`, `createdBefore`, `updatedAfter`, `updatedBefore`
//! (ISO 8601, with or without offset; all bounds exclusive), `orderNumber` (partial match),
//! `canceled`, `testOrder`, `viewed` (`true`/`false`), `paymentStatus`, `shippingStatus`
//! (exact), `customerEmail` (partial, case-insensitive), `productId` (a line's product,
//! variation or variation parent). Unparsable values are 400 `conversion-failed`, as a
//! Spring converter would answer. Other filters of the real API are ignored.
//!
//! Sorting: `createdAt`, `updatedAt`, `orderNumber` (numeric when both are numbers), asc or
//! desc; default `createdAt,desc`, ties broken by order number then id so paging is stable.
//! Other properties are 400 `invalid-sort-property`.

use std::cmp::Ordering;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Order, PaymentStatus, ShippingStatus};
use crate::clock::parse_timestamp;
use crate::error::ApiError;
use crate::http::Query;
use crate::paging::{Direction, Paging, Sort};

pub const SORTABLE: [&str; 3] = ["createdAt", "updatedAt", "orderNumber"];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    pub order_number: Option<String>,
    pub canceled: Option<bool>,
    pub test_order: Option<bool>,
    pub viewed: Option<bool>,
    pub payment_status: Option<PaymentStatus>,
    pub shipping_status: Option<ShippingStatus>,
    pub customer_email: Option<String>,
    pub product_id: Option<Uuid>,
}

fn conversion_failed(name: &str, value: &str, target: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "conversion-failed",
        format!(
            "Failed to convert value '{value}' of parameter '{name}' to required type {target}"
        ),
    )
}

fn timestamp(query: &Query, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    query
        .get(name)
        .filter(|raw| !raw.is_empty())
        .map(|raw| {
            parse_timestamp(raw).ok_or_else(|| conversion_failed(name, raw, "LocalDateTime"))
        })
        .transpose()
}

fn boolean(query: &Query, name: &str) -> Result<Option<bool>, ApiError> {
    query
        .get(name)
        .filter(|raw| !raw.is_empty())
        .map(|raw| match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(conversion_failed(name, raw, "Boolean")),
        })
        .transpose()
}

impl OrderFilter {
    pub fn from_query(query: &Query) -> Result<Self, ApiError> {
        let text = |name: &str| {
            query
                .get(name)
                .filter(|raw| !raw.is_empty())
                .map(str::to_owned)
        };
        Ok(Self {
            created_after: timestamp(query, "createdAfter")?,
            created_before: timestamp(query, "createdBefore")?,
            updated_after: timestamp(query, "updatedAfter")?,
            updated_before: timestamp(query, "updatedBefore")?,
            order_number: text("orderNumber"),
            canceled: boolean(query, "canceled")?,
            test_order: boolean(query, "testOrder")?,
            viewed: boolean(query, "viewed")?,
            payment_status: text("paymentStatus")
                .map(|raw| {
                    PaymentStatus::parse(&raw)
                        .ok_or_else(|| conversion_failed("paymentStatus", &raw, "PaymentStatus"))
                })
                .transpose()?,
            shipping_status: text("shippingStatus")
                .map(|raw| {
                    ShippingStatus::parse(&raw)
                        .ok_or_else(|| conversion_failed("shippingStatus", &raw, "ShippingStatus"))
                })
                .transpose()?,
            customer_email: text("customerEmail").map(|email| email.to_lowercase()),
            product_id: text("productId")
                .map(|raw| {
                    Uuid::parse_str(&raw).map_err(|_| conversion_failed("productId", &raw, "UUID"))
                })
                .transpose()?,
        })
    }

    pub fn matches(&self, order: &Order) -> bool {
        self.created_after.is_none_or(|at| order.created_at > at)
            && self.created_before.is_none_or(|at| order.created_at < at)
            && self.updated_after.is_none_or(|at| order.updated_at > at)
            && self.updated_before.is_none_or(|at| order.updated_at < at)
            && self
                .order_number
                .as_ref()
                .is_none_or(|part| order.order_number.contains(part.as_str()))
            && self
                .canceled
                .is_none_or(|wanted| order.canceled() == wanted)
            && self
                .test_order
                .is_none_or(|wanted| order.test_order == wanted)
            && self.viewed.is_none_or(|wanted| order.viewed == wanted)
            && self
                .payment_status
                .is_none_or(|wanted| order.payment_status() == wanted)
            && self
                .shipping_status
                .is_none_or(|wanted| order.shipping_status() == wanted)
            && self.customer_email.as_ref().is_none_or(|part| {
                order
                    .info
                    .get("customerEmail")
                    .and_then(|email| email.as_str())
                    .is_some_and(|email| email.to_lowercase().contains(part.as_str()))
            })
            && self.product_id.is_none_or(|id| {
                order
                    .lines
                    .iter()
                    .any(|line| line.product.id == Some(id) || line.product.parent_id == Some(id))
            })
    }
}

/// Sorts orders as `GET /orders` lists them.
pub fn sort_orders(orders: &mut [&Order], paging: &Paging) -> Result<(), ApiError> {
    paging.check_sort("Orders", &SORTABLE)?;
    let sort = paging.sort.clone().unwrap_or(Sort {
        property: "createdAt".to_owned(),
        direction: Direction::Desc,
    });
    orders.sort_by(|a, b| {
        let primary = match sort.property.as_str() {
            "updatedAt" => a.updated_at.cmp(&b.updated_at),
            "orderNumber" => compare_numbers(&a.order_number, &b.order_number),
            _ => a.created_at.cmp(&b.created_at),
        };
        let ordering = primary
            .then_with(|| compare_numbers(&a.order_number, &b.order_number))
            .then_with(|| a.id.cmp(&b.id));
        match sort.direction {
            Direction::Asc => ordering,
            Direction::Desc => ordering.reverse(),
        }
    });
    Ok(())
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_rejects_garbage() {
        let filter = OrderFilter::from_query(&Query::parse(Some(
            "updatedAfter=2020-11-29T11:32:00&canceled=false&shippingStatus=UNSHIPPED&orderNumber=100",
        )));
        let filter = filter.unwrap_or_default();
        assert!(filter.updated_after.is_some());
        assert_eq!(filter.canceled, Some(false));
        assert_eq!(filter.shipping_status, Some(ShippingStatus::Unshipped));
        for bad in [
            "createdAfter=yesterday",
            "canceled=maybe",
            "shippingStatus=NOT_SHIPPED",
            "paymentStatus=UNPAID",
        ] {
            let error = OrderFilter::from_query(&Query::parse(Some(bad))).err();
            assert_eq!(
                error.map(|e| e.error_id().to_owned()).as_deref(),
                Some("conversion-failed"),
                "{bad}"
            );
        }
    }

    #[test]
    fn numeric_order_numbers_sort_numerically() {
        assert_eq!(compare_numbers("9", "10"), Ordering::Less);
        assert_eq!(compare_numbers("b", "a"), Ordering::Greater);
    }
}
