//! The admin API under `/_sandbox/` (no authentication: the sandbox listens on loopback).
//! It mirrors the typed API of `SandboxHandle`; both call the same `Core` and `seed`
//! functions.
//!
//! | Call | Effect |
//! |---|---|
//! | `GET/POST /_sandbox/shops` | list / register a shop (`ShopConfig`) |
//! | `POST /_sandbox/shops/{shop}/authorization-codes` | issue a single-use code → `{code}` |
//! | `POST /_sandbox/shops/{shop}/expire-tokens` | expire the shop's access tokens now |
//! | `POST /_sandbox/shops/{shop}/products` | add a product (`SeedProduct`) |
//! | `POST /_sandbox/shops/{shop}/orders` | create an order (`SeedOrder`, with actions) |
//! | `GET /_sandbox/shops/{shop}/orders/{orderId}` | the order as the API shows it |
//! | `POST /_sandbox/shops/{shop}/orders/{orderId}/actions` | apply a `SeedAction` (merchant action) |
//! | `GET /_sandbox/shops/{shop}/availability/{sku}` | stock of a product or variation |
//! | `GET/POST/DELETE /_sandbox/faults`, `DELETE /_sandbox/faults/{id}` | list / add / clear faults |
//! | `GET/DELETE /_sandbox/journal` | read (filters: `shop`, `method`, `path`, `afterSeq`, `webhooks`) / reset |
//! | `GET /_sandbox/clock`, `POST /_sandbox/clock/{freeze,set,advance,real}` | the sandbox clock |
//! | `POST /_sandbox/seed` | load a seed |

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::format_timestamp;
use crate::core::Core;
use crate::error::ApiError;
use crate::faults::FaultSpec;
use crate::http::{Ids, JsonBody, Query, hal};
use crate::journal::JournalFilter;
use crate::seed::{self, Seed, SeedAction, SeedOrder, SeedProduct};
use crate::shop::ShopConfig;

pub fn router() -> Router<Arc<Core>> {
    Router::new()
        .route("/_sandbox/shops", get(list_shops).post(register_shop))
        .route(
            "/_sandbox/shops/{shop}/authorization-codes",
            post(issue_code),
        )
        .route("/_sandbox/shops/{shop}/expire-tokens", post(expire_tokens))
        .route("/_sandbox/shops/{shop}/products", post(add_product))
        .route("/_sandbox/shops/{shop}/orders", post(create_order))
        .route("/_sandbox/shops/{shop}/orders/{orderId}", get(order))
        .route(
            "/_sandbox/shops/{shop}/orders/{orderId}/actions",
            post(apply_action),
        )
        .route(
            "/_sandbox/shops/{shop}/availability/{sku}",
            get(availability),
        )
        .route(
            "/_sandbox/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sandbox/faults/{id}", delete(remove_fault))
        .route("/_sandbox/journal", get(journal).delete(reset_journal))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/freeze", post(freeze_clock))
        .route("/_sandbox/clock/set", post(set_clock))
        .route("/_sandbox/clock/advance", post(advance_clock))
        .route("/_sandbox/clock/real", post(real_clock))
        .route("/_sandbox/seed", post(load_seed))
}

fn json_ok(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let mut response = hal(status, body);
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Parses an admin body into its type; errors name the problem.
fn parse<T: for<'de> Deserialize<'de>>(body: JsonBody) -> Result<T, ApiError> {
    serde_json::from_value(body.or_empty())
        .map_err(|error| ApiError::not_readable(format!("invalid admin request: {error}")))
}

async fn list_shops(State(core): State<Arc<Core>>) -> Response {
    json_ok(StatusCode::OK, &core.shops())
}

async fn register_shop(
    State(core): State<Arc<Core>>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let config: ShopConfig = parse(body)?;
    Ok(json_ok(StatusCode::CREATED, &core.register_shop(config)?))
}

async fn issue_code(State(core): State<Arc<Core>>, ids: Ids) -> Result<Response, ApiError> {
    let code = core.issue_code(&ids.text("shop"))?;
    Ok(json_ok(StatusCode::CREATED, &json!({ "code": code })))
}

async fn expire_tokens(State(core): State<Arc<Core>>, ids: Ids) -> Result<Response, ApiError> {
    core.expire_access_tokens(&ids.text("shop"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn add_product(
    State(core): State<Arc<Core>>,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let product: SeedProduct = parse(body)?;
    let json = seed::add_product(&core, &ids.text("shop"), &product)?;
    Ok(json_ok(StatusCode::CREATED, &json))
}

async fn create_order(
    State(core): State<Arc<Core>>,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let order: SeedOrder = parse(body)?;
    let created = seed::create_order(&core, &ids.text("shop"), &order)?;
    Ok(json_ok(StatusCode::CREATED, &created))
}

async fn order(State(core): State<Arc<Core>>, ids: Ids) -> Result<Response, ApiError> {
    let id = ids.uuid("orderId", "/orders")?;
    let order = core.read_order(&ids.text("shop"), id, crate::order::render::order)?;
    Ok(json_ok(StatusCode::OK, &order))
}

async fn apply_action(
    State(core): State<Arc<Core>>,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = ids.uuid("orderId", "/orders")?;
    let action: SeedAction = parse(body)?;
    let order = seed::apply_action(&core, &ids.text("shop"), id, &action, None)?;
    Ok(json_ok(StatusCode::OK, &order))
}

async fn availability(State(core): State<Arc<Core>>, ids: Ids) -> Result<Response, ApiError> {
    let sku = ids.text("sku");
    seed::availability_by_sku(&core, &ids.text("shop"), &sku)?
        .map(|availability| json_ok(StatusCode::OK, &availability))
        .ok_or_else(|| ApiError::not_found(&format!("/_sandbox/availability/{sku}")))
}

async fn list_faults(State(core): State<Arc<Core>>) -> Response {
    json_ok(StatusCode::OK, &core.faults.list())
}

async fn add_fault(State(core): State<Arc<Core>>, body: JsonBody) -> Result<Response, ApiError> {
    let spec: FaultSpec = parse(body)?;
    let id = core.faults.add(spec);
    Ok(json_ok(StatusCode::CREATED, &json!({ "id": id })))
}

async fn clear_faults(State(core): State<Arc<Core>>) -> Response {
    core.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn remove_fault(State(core): State<Arc<Core>>, ids: Ids) -> Result<Response, ApiError> {
    let raw = ids.text("id");
    let removed = raw.parse().is_ok_and(|id| core.faults.remove(id));
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(&format!("/_sandbox/faults/{raw}")))
    }
}

async fn journal(State(core): State<Arc<Core>>, query: Query) -> Result<Response, ApiError> {
    let bool_param = |name: &str| -> Result<Option<bool>, ApiError> {
        query
            .get(name)
            .map(|raw| {
                raw.parse::<bool>().map_err(|_| {
                    ApiError::not_readable(format!("{name} must be true or false, got {raw}"))
                })
            })
            .transpose()
    };
    let filter = JournalFilter {
        shop: query.get("shop").map(str::to_owned),
        method: query.get("method").map(str::to_owned),
        path: query.get("path").map(str::to_owned),
        after_seq: query
            .get("afterSeq")
            .map(|raw| {
                raw.parse::<u64>().map_err(|_| {
                    ApiError::not_readable(format!("afterSeq must be a number, got {raw}"))
                })
            })
            .transpose()?,
        webhooks: bool_param("webhooks")?,
    };
    Ok(json_ok(StatusCode::OK, &core.journal.entries(&filter)))
}

async fn reset_journal(State(core): State<Arc<Core>>) -> Response {
    core.journal.reset();
    StatusCode::NO_CONTENT.into_response()
}

fn clock_state(core: &Core) -> Value {
    let now = core.clock.now();
    json!({
        "now": format_timestamp(now),
        "mode": core.clock.mode(),
        "zone": core.clock.zone().name(),
        "shopTime": format_timestamp(core.clock.reading(now)),
    })
}

async fn clock(State(core): State<Arc<Core>>) -> Response {
    json_ok(StatusCode::OK, &clock_state(&core))
}

#[derive(Debug, Deserialize)]
struct SetClock {
    at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct AdvanceClock {
    seconds: i64,
    millis: i64,
}

async fn freeze_clock(State(core): State<Arc<Core>>) -> Response {
    core.clock.freeze();
    json_ok(StatusCode::OK, &clock_state(&core))
}

async fn set_clock(State(core): State<Arc<Core>>, body: JsonBody) -> Result<Response, ApiError> {
    let SetClock { at } = parse(body)?;
    core.clock.set(at);
    Ok(json_ok(StatusCode::OK, &clock_state(&core)))
}

async fn advance_clock(
    State(core): State<Arc<Core>>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let advance: AdvanceClock = parse(body)?;
    let by = Duration::try_seconds(advance.seconds)
        .zip(Duration::try_milliseconds(advance.millis))
        .and_then(|(seconds, millis)| seconds.checked_add(&millis))
        .ok_or_else(|| ApiError::not_readable("the clock advance is out of range"))?;
    core.clock.advance(by);
    Ok(json_ok(StatusCode::OK, &clock_state(&core)))
}

async fn real_clock(State(core): State<Arc<Core>>) -> Response {
    core.clock.reset_to_real();
    json_ok(StatusCode::OK, &clock_state(&core))
}

async fn load_seed(State(core): State<Arc<Core>>, body: JsonBody) -> Result<Response, ApiError> {
    let seed: Seed = parse(body)?;
    Ok(json_ok(StatusCode::OK, &seed::apply(&core, &seed)?))
}
