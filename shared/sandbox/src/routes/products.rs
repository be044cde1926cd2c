//! Products, variations and availability (scopes `prod:*`, `prda:*`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::catalog::render::{self, ProductView};
use crate::catalog::{Product, StockTarget};
use crate::core::Core;
use crate::error::ApiError;
use crate::http::{Ids, JsonBody, Query, created, ok};
use crate::paging::{DEFAULT_SIZE, Direction, Paging};

/// A rendered product as a page item.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct ProductItem(Value);

impl beyond::model::HalCollection for ProductItem {
    const COLLECTION: &'static str = "products";
}

const VARIATION_SORTS: [&str; 5] = ["sku", "salesPrice", "name", "stockLevel", "status"];

fn product_path(id: Uuid) -> String {
    format!("/products/{id}")
}

/// The product (not a variation) with this id.
fn find(products: &[Product], id: Uuid) -> Result<&Product, ApiError> {
    products
        .iter()
        .find(|product| product.id == id)
        .ok_or_else(|| ApiError::not_found(&product_path(id)))
}

pub async fn list(
    State(core): State<Arc<Core>>,
    caller: Caller,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("prod:r")?;
    let root = core.api_root(&caller.shop);
    let paging = Paging::from_query(&query, DEFAULT_SIZE);
    let base = format!("{root}/products");
    let mut page = core.with_shop(&caller.shop, |shop, _| {
        let products: Vec<_> = shop.catalog.products().iter().collect();
        Ok(paging.page_with(products, &base, &query, |product| {
            ProductItem(render::product(product, &root, ProductView::Summary))
        }))
    })?;
    page.links
        .insert("search", format!("{root}/products/search"));
    Ok(ok(&page))
}

pub async fn create(
    State(core): State<Arc<Core>>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("prod:c")?;
    let body = body.required()?;
    let product = core.create_product(&caller.shop, &body)?;
    let location = product
        .pointer("/_links/self/href")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(created(&location, &product))
}

pub async fn get(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("prod:r")?;
    let root = core.api_root(&caller.shop);
    let id = ids.uuid("productId", "/products")?;
    let product = core.with_shop(&caller.shop, |shop, _| {
        find(shop.catalog.products(), id)
            .map(|product| render::product(product, &root, ProductView::Detail))
    })?;
    Ok(ok(&product))
}

pub async fn find_by_sku(
    State(core): State<Arc<Core>>,
    caller: Caller,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("prod:r")?;
    let root = core.api_root(&caller.shop);
    let sku = query.get("sku").map(str::to_owned).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "illegal-argument",
            "Required request parameter 'sku' for method parameter type String is not present",
        )
    })?;
    let product = core.with_shop(&caller.shop, |shop, _| {
        shop.catalog
            .product_by_sku(&sku)
            .map(|product| render::product(product, &root, ProductView::Summary))
            .ok_or_else(|| ApiError::not_found("/products/search/find-by-sku"))
    })?;
    Ok(ok(&product))
}

pub async fn variations(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    query: Query,
) -> Result<Response, ApiError> {
    caller.require("prod:r")?;
    let root = core.api_root(&caller.shop);
    let id = ids.uuid("productId", "/products")?;
    let paging = Paging::from_query(&query, DEFAULT_SIZE);
    paging.check_sort("Variations", &VARIATION_SORTS)?;
    let items = core.with_shop(&caller.shop, |shop, _| {
        let product = find(shop.catalog.products(), id)?;
        let mut variations: Vec<_> = product.variations().iter().collect();
        if let Some(sort) = &paging.sort {
            variations.sort_by(|a, b| {
                let ordering = match sort.property.as_str() {
                    "sku" => a.sku.cmp(&b.sku),
                    "salesPrice" => a.sales_price.cmp(&b.sales_price),
                    "stockLevel" => a.availability.available.cmp(&b.availability.available),
                    "status" => a.availability.state().cmp(&b.availability.state()),
                    _ => std::cmp::Ordering::Equal,
                };
                match sort.direction {
                    Direction::Asc => ordering,
                    Direction::Desc => ordering.reverse(),
                }
            });
        }
        Ok(variations
            .into_iter()
            .map(|variation| render::variation(product, variation, &root))
            .collect::<Vec<_>>())
    })?;
    Ok(ok(&paging.page(
        items,
        &format!("{root}/products/{id}/variations"),
        &query,
    )))
}

pub async fn variation(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("prod:r")?;
    let root = core.api_root(&caller.shop);
    let (product_id, variation_id) = variation_ids(&ids)?;
    let variation = core.with_shop(&caller.shop, |shop, _| {
        let product = find(shop.catalog.products(), product_id)?;
        product
            .variation(variation_id)
            .map(|variation| render::variation(product, variation, &root))
            .ok_or_else(|| ApiError::not_found(&variation_path(product_id, variation_id)))
    })?;
    Ok(ok(&variation))
}

fn variation_ids(ids: &Ids) -> Result<(Uuid, Uuid), ApiError> {
    let product = ids.uuid("productId", "/products")?;
    let variation = ids.uuid("variationId", &format!("/products/{product}/variations"))?;
    Ok((product, variation))
}

fn variation_path(product: Uuid, variation: Uuid) -> String {
    format!("/products/{product}/variations/{variation}")
}

/// Renders the availability of a target after `change` ran on the catalog.
fn availability_response(
    core: &Core,
    shop: &str,
    target: StockTarget,
    change: impl FnOnce(
        &mut crate::catalog::Catalog,
        chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ApiError>,
) -> Result<Response, ApiError> {
    let root = core.api_root(shop);
    let availability = core.with_shop(shop, |shop, now| {
        match target {
            StockTarget::Product(id) => {
                find(shop.catalog.products(), id)?;
            }
            StockTarget::Variation { product, variation } => {
                find(shop.catalog.products(), product)?
                    .variation(variation)
                    .ok_or_else(|| ApiError::not_found(&variation_path(product, variation)))?;
            }
        }
        change(&mut shop.catalog, now)?;
        match target {
            StockTarget::Product(id) => {
                find(shop.catalog.products(), id).map(|p| render::product_availability(p, &root))
            }
            StockTarget::Variation { product, variation } => {
                let parent = find(shop.catalog.products(), product)?;
                parent
                    .variation(variation)
                    .map(|v| render::variation_availability(parent, v, &root))
                    .ok_or_else(|| ApiError::not_found(&variation_path(product, variation)))
            }
        }
    })?;
    Ok(ok(&availability))
}

fn integer_field(body: &Value, field: &str, required: bool) -> Result<Option<i64>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) if required => Err(ApiError::validation(
            "Availability",
            vec![(field.to_owned(), Value::Null, "must not be null".to_owned())],
        )),
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| {
            ApiError::not_readable(format!(
                "JSON parse error: {field} must be a whole number, got {value}"
            ))
        }),
    }
}

pub async fn availability(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("prda:r")?;
    let id = ids.uuid("productId", "/products")?;
    availability_response(&core, &caller.shop, StockTarget::Product(id), |_, _| Ok(()))
}

pub async fn adjust_stock(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("prda:u")?;
    let id = ids.uuid("productId", "/products")?;
    let relative = integer_field(&body.required()?, "relativeAmount", true)?.unwrap_or(0);
    let target = StockTarget::Product(id);
    availability_response(&core, &caller.shop, target, |catalog, now| {
        catalog.adjust_stock(target, relative, now).map(|_| ())
    })
}

pub async fn enable_stock_management(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("prda:u")?;
    let id = ids.uuid("productId", "/products")?;
    let body = body.required()?;
    let initial = integer_field(&body, "initialAvailableStock", true)?.unwrap_or(0);
    let threshold = integer_field(&body, "stockThreshold", false)?;
    availability_response(
        &core,
        &caller.shop,
        StockTarget::Product(id),
        |catalog, now| catalog.enable_stock_management(id, initial, threshold, now),
    )
}

pub async fn disable_stock_management(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("prda:u")?;
    let id = ids.uuid("productId", "/products")?;
    availability_response(
        &core,
        &caller.shop,
        StockTarget::Product(id),
        |catalog, now| catalog.disable_stock_management(id, now),
    )
}

pub async fn update_threshold(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("prda:u")?;
    let id = ids.uuid("productId", "/products")?;
    let threshold = integer_field(&body.or_empty(), "stockThreshold", false)?;
    availability_response(
        &core,
        &caller.shop,
        StockTarget::Product(id),
        |catalog, now| catalog.set_threshold(id, threshold, now),
    )
}

pub async fn enable_purchasability(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    set_purchasable(core, caller, ids, false, true)
}

pub async fn disable_purchasability(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    set_purchasable(core, caller, ids, false, false)
}

pub async fn variation_enable_purchasability(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    set_purchasable(core, caller, ids, true, true)
}

pub async fn variation_disable_purchasability(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    set_purchasable(core, caller, ids, true, false)
}

fn set_purchasable(
    core: Arc<Core>,
    caller: Caller,
    ids: Ids,
    on_variation: bool,
    purchasable: bool,
) -> Result<Response, ApiError> {
    caller.require("prda:u")?;
    let target = if on_variation {
        let (product, variation) = variation_ids(&ids)?;
        StockTarget::Variation { product, variation }
    } else {
        StockTarget::Product(ids.uuid("productId", "/products")?)
    };
    availability_response(&core, &caller.shop, target, |catalog, now| {
        catalog
            .set_purchasable(target, purchasable, now)
            .map(|_| ())
    })
}

pub async fn variation_availability(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    caller.require("prda:r")?;
    let (product, variation) = variation_ids(&ids)?;
    availability_response(
        &core,
        &caller.shop,
        StockTarget::Variation { product, variation },
        |_, _| Ok(()),
    )
}

pub async fn variation_adjust_stock(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require("prda:u")?;
    let (product, variation) = variation_ids(&ids)?;
    let relative = integer_field(&body.required()?, "relativeAmount", true)?.unwrap_or(0);
    let target = StockTarget::Variation { product, variation };
    availability_response(&core, &caller.shop, target, |catalog, now| {
        catalog.adjust_stock(target, relative, now).map(|_| ())
    })
}
