//! Orders: list with filters, create, read, cancel, events (scopes `ordr:*`, `orde:r`,
//! `clpr:c`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use beyond::model as m;
use uuid::Uuid;

use crate::auth::Caller;
use crate::core::Core;
use crate::error::ApiError;
use crate::http::{Ids, JsonBody, Query, created, ok, text};
use crate::order::query::{OrderFilter, sort_orders};
use crate::order::render;
use crate::paging::{DEFAULT_SIZE, Paging};

/// Beyond's events example pages by 30.
const EVENTS_PAGE_SIZE: usize = 30;

pub fn order_id(ids: &Ids) -> Result<Uuid, ApiError> {
    ids.uuid("orderId", "/orders")
}

pub async fn list(
    State(core): State<Arc<Core>>,
    caller: Caller,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("ordr:r")?;
    let root = core.api_root(&caller.shop);
    let paging = Paging::from_query(&query, DEFAULT_SIZE);
    let filter = OrderFilter::from_query(&query)?;
    let base = format!("{root}/orders");
    let mut page: m::Page<m::Order> = core.with_shop(&caller.shop, |shop, _| {
        let mut selected: Vec<_> = shop
            .orders
            .values()
            .filter(|order| filter.matches(order))
            .collect();
        sort_orders(&mut selected, &paging)?;
        Ok(paging.page_with(selected, &base, &query, |order| render::order(order, &root)))
    })?;
    page.links
        .insert("unviewed", format!("{root}/orders/unviewed"));
    Ok(ok(&page))
}

pub async fn create(
    State(core): State<Arc<Core>>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("ordr:c")?;
    let body = body.required()?;
    let order = core.create_order(&caller.shop, &body)?;
    let location = render::order_href(&core.api_root(&caller.shop), order.id);
    Ok(created(&location, &order))
}

pub async fn get(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("ordr:r")?;
    let id = order_id(&ids)?;
    let order = core.read_order(&caller.shop, id, render::order)?;
    Ok(ok(&order))
}

pub async fn cancel(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("clpr:c")?;
    let id = order_id(&ids)?;
    let comment = text(&body.or_empty(), "comment");
    let ((), order) =
        core.update_order(&caller.shop, id, |order, now| order.cancel(comment, now))?;
    Ok(ok(&order))
}

/// `POST /orders/{id}/mark-as-viewed` (`ordr:u`), advertised in every order's links.
pub async fn mark_as_viewed(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("ordr:u")?;
    let id = order_id(&ids)?;
    let ((), order) = core.update_order(&caller.shop, id, |order, _| {
        order.viewed = true;
        Ok(())
    })?;
    Ok(ok(&order))
}

pub async fn events(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("orde:r")?;
    let id = order_id(&ids)?;
    let root = core.api_root(&caller.shop);
    let paging = Paging::from_query(&query, EVENTS_PAGE_SIZE);
    let events = core.read_order(&caller.shop, id, |order, root| {
        // Newest first; events written in the same instant keep their reverse write order.
        order
            .events
            .iter()
            .rev()
            .map(|event| render::event(order, event, root))
            .collect::<Vec<_>>()
    })?;
    Ok(ok(&paging.page(
        events,
        &format!("{}/events", render::order_href(&root, id)),
        &query,
    )))
}
