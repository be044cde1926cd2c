//! Order processes: the overview and the shipping, pickup, cancelation, return, payment and
//! refund processes (scopes `ordp:r`, `shpr:*`, `clpr:*`, `rtpr:*`, `pypr:*`, `rfpr:*`).
//! Bodies are read leniently (unknown fields ignored) and every state change goes through
//! the order state machine.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use beyond::model as m;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::orders::order_id;
use crate::auth::Caller;
use crate::core::Core;
use crate::error::ApiError;
use crate::http::{Ids, JsonBody, Query, created, ok, text};
use crate::money::decimal_from_json;
use crate::order::machine::{LineRequest, ReturnLineRequest, ReturnRequest, ShippingRequest};
use crate::order::{Order, ProcessPaymentStatus, ReturnStatus, render};
use crate::paging::{DEFAULT_SIZE, Paging};

fn base(core: &Core, shop: &str, order: Uuid, kind: &str) -> String {
    format!(
        "{}/processes/{kind}",
        render::order_href(&core.api_root(shop), order)
    )
}

/// `GET …/processes/{kind}`: one paged list.
fn list<T: m::HalCollection + Serialize>(
    core: &Core,
    caller: &Caller,
    ids: &Ids,
    query: &Query,
    kind: &str,
    render_all: impl FnOnce(&Order, &str) -> Vec<T>,
) -> Result<Response, ApiError> {
    let id = order_id(ids)?;
    let paging = Paging::from_query(query, DEFAULT_SIZE);
    let items = core.read_order(&caller.shop, id, render_all)?;
    Ok(ok(&paging.page(
        items,
        &base(core, &caller.shop, id, kind),
        query,
    )))
}

/// `GET …/processes/{kind}/{processId}`.
fn detail<T: Serialize>(
    core: &Core,
    caller: &Caller,
    ids: &Ids,
    kind: &str,
    find: impl FnOnce(&Order, &str, Uuid) -> Option<T>,
) -> Result<Response, ApiError> {
    let id = order_id(ids)?;
    let not_found = format!("/orders/{id}/processes/{kind}");
    let process_id = ids.uuid("processId", &not_found)?;
    let found = core.read_order(&caller.shop, id, |order, root| {
        find(order, root, process_id)
    })?;
    found
        .map(|process| ok(&process))
        .ok_or_else(|| ApiError::not_found(&format!("{not_found}/{process_id}")))
}

fn parse_uuid(value: &Value, field: &str) -> Result<Uuid, ApiError> {
    value
        .as_str()
        .and_then(|raw| Uuid::parse_str(raw).ok())
        .ok_or_else(|| {
            ApiError::not_readable(format!(
                "JSON parse error: {field} must be a UUID, got {value}"
            ))
        })
}

/// `lineItems[]` of a process body; missing fields are validation errors, wrongly typed
/// ones unreadable messages (as Jackson would fail on them).
fn parse_lines(body: &Value) -> Result<Vec<(LineRequest, Option<Value>)>, ApiError> {
    let lines = match body.get("lineItems") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(lines)) => lines,
        Some(other) => {
            return Err(ApiError::not_readable(format!(
                "JSON parse error: lineItems must be an array, got {other}"
            )));
        }
    };
    let mut parsed = Vec::new();
    let mut missing = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let id = match line.get("productLineItemId") {
            None | Some(Value::Null) => {
                missing.push(format!("lineItems[{index}].productLineItemId"));
                continue;
            }
            Some(value) => parse_uuid(value, "productLineItemId")?,
        };
        let quantity = match line.get("quantity") {
            None | Some(Value::Null) => {
                missing.push(format!("lineItems[{index}].quantity"));
                continue;
            }
            Some(value) => value.as_i64().ok_or_else(|| {
                ApiError::not_readable(format!(
                    "JSON parse error: quantity must be a whole number, got {value}"
                ))
            })?,
        };
        parsed.push((
            LineRequest {
                line_item: id,
                quantity,
            },
            line.get("status").cloned(),
        ));
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(
            "lineItems",
            missing
                .into_iter()
                .map(|property| (property, Value::Null, "must not be null".to_owned()))
                .collect(),
        ));
    }
    Ok(parsed)
}

fn plain_lines(body: &Value) -> Result<Vec<LineRequest>, ApiError> {
    Ok(parse_lines(body)?
        .into_iter()
        .map(|(line, _)| line)
        .collect())
}

fn money_amount(body: &Value, field: &str) -> Result<Option<Decimal>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .get("amount")
            .and_then(decimal_from_json)
            .map(Some)
            .ok_or_else(|| {
                ApiError::not_readable(format!(
                    "JSON parse error: {field} must be {{currency, amount}}"
                ))
            }),
    }
}

fn optional_uuid(body: &Value, field: &str) -> Result<Option<Uuid>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => parse_uuid(value, field).map(Some),
    }
}

pub async fn overview(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("ordp:r")?;
    let id = order_id(&ids)?;
    Ok(ok(&core.read_order(&caller.shop, id, render::processes)?))
}

// ---- shipping ----------------------------------------------------------------------

pub async fn shippings(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("shpr:r")?;
    list(&core, &caller, &ids, &query, "shippings", |order, root| {
        order
            .shippings
            .iter()
            .map(|p| render::shipping_process(order, p, root))
            .collect()
    })
}

pub async fn shipping(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("shpr:r")?;
    detail(&core, &caller, &ids, "shippings", |order, root, id| {
        order
            .shippings
            .iter()
            .find(|p| p.id == id)
            .map(|p| render::shipping_process(order, p, root))
    })
}

pub async fn create_shipping(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("shpr:c")?;
    let id = order_id(&ids)?;
    let body = body.required()?;
    let request = ShippingRequest {
        lines: plain_lines(&body)?,
        tracking_code: text(&body, "trackingCode"),
        tracking_link: text(&body, "trackingLink"),
        comment: text(&body, "comment"),
    };
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        let process_id = order.create_shipping(&request, now)?;
        order
            .shippings
            .iter()
            .find(|p| p.id == process_id)
            .map(|p| render::shipping_process(order, p, &root))
            .ok_or_else(|| ApiError::internal("the new shipping process is missing"))
    })?;
    let location = process.links.href("self").unwrap_or_default().to_owned();
    Ok(created(&location, &process))
}

pub async fn mark_shipped(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("shpr:u")?;
    let id = order_id(&ids)?;
    let process_id = ids.uuid("processId", &format!("/orders/{id}/processes/shippings"))?;
    let body = body.or_empty();
    let details = body.get("details").cloned().unwrap_or(Value::Null);
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        order.mark_shipped(
            process_id,
            text(&details, "trackingCode"),
            text(&details, "trackingLink"),
            text(&body, "comment"),
            now,
        )?;
        shipping_of(order, process_id, &root)
    })?;
    Ok(ok(&process))
}

pub async fn mark_delivered(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("shpr:u")?;
    let id = order_id(&ids)?;
    let process_id = ids.uuid("processId", &format!("/orders/{id}/processes/shippings"))?;
    let comment = text(&body.or_empty(), "comment");
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        order.mark_delivered(process_id, comment, now)?;
        shipping_of(order, process_id, &root)
    })?;
    Ok(ok(&process))
}

fn shipping_of(
    order: &Order,
    process_id: Uuid,
    root: &str,
) -> Result<m::ShippingProcess, ApiError> {
    order
        .shippings
        .iter()
        .find(|p| p.id == process_id)
        .map(|p| render::shipping_process(order, p, root))
        .ok_or_else(|| ApiError::internal("the shipping process is missing"))
}

// ---- pickup ------------------------------------------------------------------------

pub async fn pickups(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("shpr:r")?;
    list(&core, &caller, &ids, &query, "pickups", |order, root| {
        order
            .pickups
            .iter()
            .map(|p| render::pickup_process(order, p, root))
            .collect()
    })
}

pub async fn pickup(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("shpr:r")?;
    detail(&core, &caller, &ids, "pickups", |order, root, id| {
        order
            .pickups
            .iter()
            .find(|p| p.id == id)
            .map(|p| render::pickup_process(order, p, root))
    })
}

/// Creating a pickup process: the scope is unconfirmed (beyond-api.md §1.3); the sandbox
/// requires `shpr:c` like shipping processes.
pub async fn create_pickup(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("shpr:c")?;
    let id = order_id(&ids)?;
    let comment = text(&body.or_empty(), "comment");
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        let process_id = order.create_pickup(comment, now)?;
        pickup_of(order, process_id, &root)
    })?;
    let location = process.links.href("self").unwrap_or_default().to_owned();
    Ok(created(&location, &process))
}

pub async fn mark_picked_up(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("shpr:u")?;
    let id = order_id(&ids)?;
    let process_id = ids.uuid("processId", &format!("/orders/{id}/processes/pickups"))?;
    let comment = text(&body.or_empty(), "comment");
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        order.mark_picked_up(process_id, comment, now)?;
        pickup_of(order, process_id, &root)
    })?;
    Ok(ok(&process))
}

fn pickup_of(order: &Order, process_id: Uuid, root: &str) -> Result<m::PickupProcess, ApiError> {
    order
        .pickups
        .iter()
        .find(|p| p.id == process_id)
        .map(|p| render::pickup_process(order, p, root))
        .ok_or_else(|| ApiError::internal("the pickup process is missing"))
}

// ---- cancelation -------------------------------------------------------------------

pub async fn cancelations(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("clpr:r")?;
    list(
        &core,
        &caller,
        &ids,
        &query,
        "cancelations",
        |order, root| {
            order
                .cancelations
                .iter()
                .map(|p| render::cancel_process(order, p, root))
                .collect()
        },
    )
}

pub async fn cancelation(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("clpr:r")?;
    detail(&core, &caller, &ids, "cancelations", |order, root, id| {
        order
            .cancelations
            .iter()
            .find(|p| p.id == id)
            .map(|p| render::cancel_process(order, p, root))
    })
}

pub async fn create_cancelation(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("clpr:c")?;
    let id = order_id(&ids)?;
    let body = body.required()?;
    let lines = plain_lines(&body)?;
    let comment = text(&body, "comment");
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        let process_id = order.cancel_items(&lines, comment, now)?;
        order
            .cancelations
            .iter()
            .find(|p| p.id == process_id)
            .map(|p| render::cancel_process(order, p, &root))
            .ok_or_else(|| ApiError::internal("the new cancel process is missing"))
    })?;
    let location = process.links.href("self").unwrap_or_default().to_owned();
    Ok(created(&location, &process))
}

// ---- returns -----------------------------------------------------------------------

pub async fn returns(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("rtpr:r")?;
    list(&core, &caller, &ids, &query, "returns", |order, root| {
        order
            .returns
            .iter()
            .map(|p| render::return_process(order, p, root))
            .collect()
    })
}

pub async fn return_process(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("rtpr:r")?;
    detail(&core, &caller, &ids, "returns", |order, root, id| {
        order
            .returns
            .iter()
            .find(|p| p.id == id)
            .map(|p| render::return_process(order, p, root))
    })
}

pub async fn create_return(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("rtpr:c")?;
    let id = order_id(&ids)?;
    let body = body.required()?;
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    for (index, (line, status)) in parse_lines(&body)?.into_iter().enumerate() {
        let status = match status {
            None | Some(Value::Null) => {
                missing.push((
                    format!("lineItems[{index}].status"),
                    Value::Null,
                    "must not be null".to_owned(),
                ));
                continue;
            }
            Some(value) => value.as_str().and_then(ReturnStatus::parse).ok_or_else(|| {
                ApiError::not_readable(format!(
                    "JSON parse error: Cannot deserialize value of type `ReturnStatus` from {value}: not one of the values accepted for Enum class: [RETURNED, BROKEN]"
                ))
            })?,
        };
        lines.push(ReturnLineRequest {
            line_item: line.line_item,
            quantity: line.quantity,
            status,
        });
    }
    if !missing.is_empty() {
        return Err(ApiError::validation("lineItems", missing));
    }
    let request = ReturnRequest {
        lines,
        shipping_process: optional_uuid(&body, "shippingProcessId")?,
        pickup_process: optional_uuid(&body, "pickupProcessId")?,
        shipping_price_refund: money_amount(&body, "shippingPriceRefund")?,
        pickup_price_refund: money_amount(&body, "pickupPriceRefund")?,
        comment: text(&body, "comment"),
    };
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        let process_id = order.return_items(&request, now)?;
        order
            .returns
            .iter()
            .find(|p| p.id == process_id)
            .map(|p| render::return_process(order, p, &root))
            .ok_or_else(|| ApiError::internal("the new return process is missing"))
    })?;
    let location = process.links.href("self").unwrap_or_default().to_owned();
    Ok(created(&location, &process))
}

// ---- payments and refunds ----------------------------------------------------------

pub async fn payments(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("pypr:r")?;
    list(&core, &caller, &ids, &query, "payments", |order, root| {
        order
            .payments
            .iter()
            .map(|p| render::payment_process(order, p, root))
            .collect()
    })
}

pub async fn payment(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("pypr:r")?;
    detail(&core, &caller, &ids, "payments", |order, root, id| {
        order
            .payments
            .iter()
            .find(|p| p.id == id)
            .map(|p| render::payment_process(order, p, root))
    })
}

/// The active payment process: the latest one that was not voided.
pub async fn active_payment(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("pypr:r")?;
    let id = order_id(&ids)?;
    let found = core.read_order(&caller.shop, id, |order, root| {
        order
            .payments
            .iter()
            .rev()
            .find(|p| p.status != ProcessPaymentStatus::Voided)
            .map(|p| render::payment_process(order, p, root))
    })?;
    found
        .map(|process| ok(&process))
        .ok_or_else(|| ApiError::not_found(&format!("/orders/{id}/processes/payments/active")))
}

pub async fn mark_paid(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("pypr:u")?;
    let id = order_id(&ids)?;
    let comment = text(&body.or_empty(), "comment");
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        let process_id = order.mark_paid(comment, now)?;
        order
            .payments
            .iter()
            .find(|p| p.id == process_id)
            .map(|p| render::payment_process(order, p, &root))
            .ok_or_else(|| ApiError::internal("the payment process is missing"))
    })?;
    Ok(ok(&process))
}

pub async fn refunds(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("rfpr:r")?;
    list(&core, &caller, &ids, &query, "refunds", |order, root| {
        order
            .refunds
            .iter()
            .map(|p| render::refund_process(order, p, root))
            .collect()
    })
}

pub async fn refund(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("rfpr:r")?;
    detail(&core, &caller, &ids, "refunds", |order, root, id| {
        order
            .refunds
            .iter()
            .find(|p| p.id == id)
            .map(|p| render::refund_process(order, p, root))
    })
}

/// The active refund process: the pending one (there is at most one).
pub async fn active_refund(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("rfpr:r")?;
    let id = order_id(&ids)?;
    let found = core.read_order(&caller.shop, id, |order, root| {
        order
            .refunds
            .iter()
            .find(|p| p.status == ProcessPaymentStatus::Pending)
            .map(|p| render::refund_process(order, p, root))
    })?;
    found
        .map(|process| ok(&process))
        .ok_or_else(|| ApiError::not_found(&format!("/orders/{id}/processes/refunds/active")))
}

pub async fn mark_refund_paid(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("rfpr:u")?;
    let id = order_id(&ids)?;
    let comment = text(&body.or_empty(), "comment");
    let root = core.api_root(&caller.shop);
    let (process, _) = core.update_order(&caller.shop, id, |order, now| {
        let process_id = order.mark_refund_paid(comment, now)?;
        order
            .refunds
            .iter()
            .find(|p| p.id == process_id)
            .map(|p| render::refund_process(order, p, &root))
            .ok_or_else(|| ApiError::internal("the refund process is missing"))
    })?;
    Ok(ok(&process))
}
