//! `epages-sync demo`: the whole thing on a laptop, with no AWS account and no real shop.
//!
//! It starts the sandbox shop in-process with the built-in demo seed and drives the real
//! Beyond client through it: reads every order (paged to the real end) and the catalog,
//! then writes what Afosto's side would ask for: a shipment with tracking, a whole-order
//! cancellation and an absolute stock level (read, then a relative delta, as the API only
//! adjusts relatively). It checks each effect in the shop's own state and exits non-zero
//! unless all of them are there.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use sandbox::seed::DEMO_SEED;
use sandbox::{Sandbox, SandboxError};
use secrecy::SecretString;
use shared::beyond::model::{
    CancelOrder, CreateShippingProcess, MarkShipped, MarkShippedDetails, Order,
    OrderShippingStatus, ProcessLineItem,
};
use shared::beyond::{BeyondClient, BeyondError, ClientConfig, OrderQuery};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The absolute stock level the demo sets for its stock-managed product.
    #[arg(long, default_value_t = 40)]
    pub stock_target: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the sandbox shop")]
    Sandbox(#[from] SandboxError),
    #[error("the built-in demo seed has no shop")]
    NoShop,
    #[error("the built-in demo seed has no {0}")]
    MissingSeedData(&'static str),
    #[error("the Beyond API call `{step}` failed")]
    Beyond {
        step: &'static str,
        #[source]
        source: BeyondError,
    },
    #[error("the shop does not show the expected effect: {0}")]
    EffectMissing(String),
}

/// The demo shop's app credentials, as written in the demo seed.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeedShop {
    name: String,
    client_id: String,
    client_secret: String,
}

#[derive(serde::Deserialize)]
struct SeedShops {
    shops: Vec<SeedShop>,
}

/// Wall time per step, for the report.
#[derive(Default)]
struct Timings(Vec<(&'static str, Duration)>);

impl Timings {
    async fn time<T>(
        &mut self,
        step: &'static str,
        call: impl Future<Output = Result<T, BeyondError>>,
    ) -> Result<T, DemoError> {
        let started = Instant::now();
        let result = call.await;
        self.0.push((step, started.elapsed()));
        result.map_err(|source| DemoError::Beyond { step, source })
    }
}

const SKU_FOR_STOCK: &str = "MUG-001";
const TRACKING_CODE: &str = "DEMO-TRACK-0001";

pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let sandbox = Sandbox::start("127.0.0.1:0").await?;
    sandbox.seed_demo()?;
    let seed: SeedShops =
        serde_json::from_str(DEMO_SEED).map_err(|_| DemoError::MissingSeedData("shop list"))?;
    let shop = seed.shops.into_iter().next().ok_or(DemoError::NoShop)?;
    let api_url = sandbox.shop_api_url(&shop.name);
    println!("Sandbox shop `{}` at {api_url}", shop.name);

    let config = ClientConfig::new(&api_url).map_err(|source| DemoError::Beyond {
        step: "configure client",
        source,
    })?;
    let client = BeyondClient::with_client_credentials(
        &config,
        shop.client_id,
        SecretString::from(shop.client_secret),
    )
    .map_err(|source| DemoError::Beyond {
        step: "build client",
        source,
    })?;
    let mut timings = Timings::default();

    // ePages → Afosto: everything the poller reads.
    let orders = timings
        .time("read all orders", client.all_orders(&OrderQuery::default()))
        .await?;
    println!(
        "\nRead {} orders in {} page(s):",
        orders.items.len(),
        orders.pages_fetched
    );
    for (status, count) in count_by_status(&orders.items) {
        println!("  {count:>3} × {status}");
    }

    // Afosto → ePages: a shipment for the first paid, unshipped order.
    let to_ship = orders
        .items
        .iter()
        .find(|order| {
            order.shipping_status == Some(OrderShippingStatus::Unshipped)
                && order
                    .product_line_items
                    .iter()
                    .any(|line| line.unshipped_quantity() > 0)
        })
        .ok_or(DemoError::MissingSeedData("unshipped order"))?;
    let lines: Vec<ProcessLineItem> = to_ship
        .product_line_items
        .iter()
        .filter(|line| line.unshipped_quantity() > 0)
        .map(|line| ProcessLineItem::new(line.id, line.unshipped_quantity()))
        .collect();
    let shipping = timings
        .time(
            "create shipping process",
            client.create_shipping_process(
                to_ship.id,
                &CreateShippingProcess {
                    line_items: lines,
                    ..CreateShippingProcess::default()
                },
            ),
        )
        .await?;
    timings
        .time(
            "mark shipped",
            client.mark_shipped(
                to_ship.id,
                shipping.id,
                &MarkShipped {
                    comment: Some("shipped by the epages-sync demo".into()),
                    details: Some(MarkShippedDetails {
                        send_mail: Some(false),
                        tracking_code: Some(TRACKING_CODE.into()),
                        tracking_link: Some(format!("https://track.example/{TRACKING_CODE}")),
                    }),
                },
            ),
        )
        .await?;

    // Afosto → ePages: cancel another order that is still fully open.
    let to_cancel = orders
        .items
        .iter()
        .find(|order| {
            order.id != to_ship.id
                && !order.is_canceled()
                && order.shipping_status == Some(OrderShippingStatus::Unshipped)
        })
        .ok_or(DemoError::MissingSeedData("second unshipped order"))?;
    timings
        .time(
            "cancel order",
            client.cancel_order(
                to_cancel.id,
                &CancelOrder {
                    comment: Some("canceled by the epages-sync demo".into()),
                },
            ),
        )
        .await?;

    // Afosto → ePages: an absolute stock level, applied as a relative delta.
    let product = timings
        .time(
            "find product by SKU",
            client.find_product_by_sku(SKU_FOR_STOCK),
        )
        .await?
        .ok_or(DemoError::MissingSeedData("stock-managed product"))?;
    let before = timings
        .time("read availability", client.product_availability(product.id))
        .await?
        .available_stock
        .ok_or(DemoError::MissingSeedData(
            "managed stock on the demo product",
        ))?;
    let delta = args.stock_target - before;
    if delta != 0 {
        timings
            .time(
                "adjust available stock",
                client.adjust_product_stock(product.id, delta),
            )
            .await?;
    }

    // Check the effects in the shop itself, not in what the API answered.
    let shipped = sandbox
        .order(&shop.name, to_ship.id)
        .ok_or_else(|| DemoError::EffectMissing("the shipped order vanished".into()))?;
    expect(
        shipped.shipping_status == Some(OrderShippingStatus::Shipped),
        format!(
            "order {} should be SHIPPED, is {:?}",
            order_label(&shipped),
            shipped.shipping_status
        ),
    )?;
    let canceled = sandbox
        .order(&shop.name, to_cancel.id)
        .ok_or_else(|| DemoError::EffectMissing("the canceled order vanished".into()))?;
    expect(
        canceled.is_canceled(),
        format!("order {} should be canceled", order_label(&canceled)),
    )?;
    let stock = sandbox
        .availability(&shop.name, SKU_FOR_STOCK)
        .and_then(|availability| availability.available_stock);
    expect(
        stock == Some(args.stock_target),
        format!(
            "{SKU_FOR_STOCK} should have {} in stock, has {stock:?}",
            args.stock_target
        ),
    )?;

    println!("\nAfosto → ePages, verified in the shop:");
    println!(
        "  shipped   order {} with tracking {TRACKING_CODE}",
        order_label(&shipped)
    );
    println!("  canceled  order {}", order_label(&canceled));
    println!(
        "  stock     {SKU_FOR_STOCK}: {before} → {} (delta {delta:+})",
        args.stock_target
    );
    println!(
        "\nBeyond API calls: {} (token included)",
        client.http_requests()
    );
    println!("Latency per step:");
    for (step, elapsed) in &timings.0 {
        println!("  {step:<26} {:>7.1} ms", elapsed.as_secs_f64() * 1000.0);
    }
    println!("\ndemo: OK");
    sandbox.shutdown().await;
    Ok(())
}

fn count_by_status(orders: &[Order]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for order in orders {
        let status = match &order.shipping_status {
            Some(status) => status.as_str().to_owned(),
            None => "unknown".to_owned(),
        };
        let status = if order.is_canceled() {
            "CANCELED".to_owned()
        } else {
            status
        };
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

fn order_label(order: &Order) -> String {
    order
        .order_number
        .clone()
        .unwrap_or_else(|| order.id.to_string())
}

fn expect(holds: bool, otherwise: String) -> Result<(), DemoError> {
    if holds {
        Ok(())
    } else {
        Err(DemoError::EffectMissing(otherwise))
    }
}
