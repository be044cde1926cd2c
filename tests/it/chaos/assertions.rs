//! The verdict: the shops, the outbound stream, the command results and the dead-letter
//! queues against the model. Each check returns the differences it found, so a failing run
//! reports all of them at once.

use std::collections::{BTreeMap, BTreeSet};

use contracts::command_result::ResultOutcome;
use contracts::order_event::OrderEvent;
use uuid::Uuid;

use super::model::{Buckets, ExpectedEvent, Order, Outcome, PickupStatus, ShipStatus};
use super::workload::{STOCK_SKUS, Workload, tenant};
use super::world::{Outbound, World, shop_name};

/// Counts the checks make along the way, for the summary.
#[derive(Debug, Default)]
pub struct Tally {
    pub order_events: usize,
    pub results: usize,
    pub result_copies: usize,
    pub applied_reported_skipped: usize,
}

/// Every order's pieces, processes and statuses; every stock level.
pub fn shops(world: &World, workload: &Workload) -> Vec<String> {
    let mut problems = Vec::new();
    for (shop, orders) in workload.orders.iter().enumerate() {
        let name = shop_name(shop);
        for order in orders {
            let seen = world
                .sandbox
                .core()
                .read_order(&name, order.id, |o, _| snapshot(o))
                .expect("the order exists");
            let want = expected_snapshot(order);
            if seen != want {
                problems.push(format!(
                    "{name} order {} ({}): shop shows {seen:?}, model expects {want:?}",
                    order.number, order.id
                ));
            }
        }
        for sku in STOCK_SKUS {
            let level = world
                .sandbox
                .availability(&name, sku)
                .and_then(|a| a.available_stock);
            let want = workload.stock[shop][sku].shop;
            if level != Some(want) {
                problems.push(format!(
                    "{name} {sku}: stock {level:?}, model expects {want}"
                ));
            }
        }
    }
    problems
}

/// `(status, tracking code, [(line index, pieces)])`.
type ShipmentView = (String, Option<String>, Vec<(usize, u32)>);
/// `(result event id, outcome, reason or code)`.
type Reported = (Uuid, String, String);

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    shipping_status: String,
    canceled: bool,
    lines: Vec<Buckets>,
    /// `(status, tracking code, [(line index, pieces)])` in creation order.
    shipments: Vec<ShipmentView>,
    pickup: Option<String>,
}

fn snapshot(order: &sandbox::order::Order) -> Snapshot {
    let index = |id: Uuid| {
        order
            .lines
            .iter()
            .position(|line| line.id == id)
            .expect("a process line names a line of the order")
    };
    Snapshot {
        shipping_status: order.shipping_status().as_str().to_owned(),
        canceled: order.canceled(),
        lines: order
            .lines
            .iter()
            .map(|line| {
                let b = line.buckets;
                Buckets {
                    unshipped: b.unshipped,
                    pending: b.pending,
                    shipped: b.shipped,
                    delivered: b.delivered,
                    not_picked_up: b.not_picked_up,
                    ready_for_pickup: b.ready_for_pickup,
                    picked_up: b.picked_up,
                    canceled: b.canceled,
                    returned: b.returned,
                    broken: b.broken,
                }
            })
            .collect(),
        shipments: order
            .shippings
            .iter()
            .map(|process| {
                let mut lines: Vec<(usize, u32)> = process
                    .lines
                    .iter()
                    .map(|line| (index(line.line_item), line.quantity))
                    .collect();
                lines.sort_unstable();
                (
                    process.status.as_str().to_owned(),
                    process.tracking_code.clone(),
                    lines,
                )
            })
            .collect(),
        pickup: order
            .pickups
            .first()
            .map(|process| process.status.as_str().to_owned()),
    }
}

fn expected_snapshot(order: &Order) -> Snapshot {
    Snapshot {
        shipping_status: order.shipping_status().to_owned(),
        canceled: order.wholly_canceled(),
        lines: order.lines.iter().map(|line| line.buckets).collect(),
        shipments: order
            .shipments
            .iter()
            .map(|s| {
                let mut lines = s.lines.clone();
                lines.sort_unstable();
                let status = match s.status {
                    ShipStatus::Shipped => "SHIPPED",
                    ShipStatus::Delivered => "DELIVERED",
                };
                (status.to_owned(), Some(s.tracking_code.clone()), lines)
            })
            .collect(),
        pickup: order.pickup_process.map(|status| {
            match status {
                PickupStatus::Ready => "READY_FOR_PICKUP",
                PickupStatus::PickedUp => "PICKED_UP",
            }
            .to_owned()
        }),
    }
}

/// The order events: per order exactly the expected ones, in order, each once; nothing
/// for orders Afosto must not hear of.
pub fn order_events(outbound: &[Outbound], workload: &Workload, tally: &mut Tally) -> Vec<String> {
    let mut problems = Vec::new();
    let mut received: BTreeMap<(String, Uuid), Vec<&OrderEvent>> = BTreeMap::new();
    for message in outbound {
        let Outbound::Event {
            event,
            group,
            dedup,
        } = message
        else {
            continue;
        };
        tally.order_events += 1;
        let header = event.header();
        if group.as_deref() != Some(format!("{}:{}", header.tenant, header.order_id).as_str()) {
            problems.push(format!("event {} in group {group:?}", header.event_id));
        }
        if dedup.as_deref() != Some(header.event_id.to_string().as_str()) {
            problems.push(format!(
                "event {} with deduplication id {dedup:?}",
                header.event_id
            ));
        }
        received
            .entry((header.tenant.clone(), header.order_id))
            .or_default()
            .push(event);
    }
    for (shop, orders) in workload.orders.iter().enumerate() {
        for order in orders {
            let got = received
                .remove(&(tenant(shop), order.id))
                .unwrap_or_default();
            let got: Vec<ExpectedEvent> = got.into_iter().map(as_expected).collect();
            if got != order.expected {
                problems.push(format!(
                    "{} order {} ({}): events differ\n  received: {}\n  expected: {}",
                    tenant(shop),
                    order.number,
                    order.id,
                    brief(&got),
                    brief(&order.expected)
                ));
            }
        }
    }
    for ((tenant, order), events) in received {
        problems.push(format!(
            "{} unexpected events for {tenant} order {order}: {}",
            events.len(),
            brief(&events.into_iter().map(as_expected).collect::<Vec<_>>())
        ));
    }
    problems
}

fn brief(events: &[ExpectedEvent]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "#{} {} {} {:?} {:?}",
                e.sequence, e.kind, e.event_id, e.lines, e.shipments
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn as_expected(event: &OrderEvent) -> ExpectedEvent {
    let quantities = |lines: &[contracts::order_event::LineQuantity]| {
        lines
            .iter()
            .map(|l| (l.line_item_id, vec![l.quantity, l.cumulative_quantity]))
            .collect::<BTreeMap<_, _>>()
    };
    let (whole_order, lines, shipments) = match event {
        OrderEvent::Created(_) => (false, BTreeMap::new(), Vec::new()),
        OrderEvent::Canceled(e) => (e.whole_order, quantities(&e.lines), Vec::new()),
        OrderEvent::Shipped(e) => (
            false,
            quantities(&e.lines),
            e.shipments
                .iter()
                .map(|s| s.tracking_code.clone().unwrap_or_default())
                .collect(),
        ),
        OrderEvent::Delivered(e) | OrderEvent::ReadyForPickup(e) | OrderEvent::PickedUp(e) => {
            (false, quantities(&e.lines), Vec::new())
        }
        OrderEvent::Returned(e) => (
            false,
            e.lines
                .iter()
                .map(|l| {
                    (
                        l.line_item_id,
                        vec![
                            l.returned,
                            l.broken,
                            l.cumulative_returned,
                            l.cumulative_broken,
                        ],
                    )
                })
                .collect(),
            Vec::new(),
        ),
    };
    ExpectedEvent {
        kind: event.kind().as_str(),
        sequence: event.sequence(),
        event_id: event.event_id(),
        whole_order,
        lines,
        shipments,
    }
}

fn outcome_of(result: &ResultOutcome) -> (String, String) {
    let name = |value: serde_json::Result<serde_json::Value>| {
        value
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    match result {
        ResultOutcome::Applied(_) => ("applied".into(), String::new()),
        ResultOutcome::Skipped(s) => ("skipped".into(), name(serde_json::to_value(s.reason))),
        ResultOutcome::Failed(f) => ("failed".into(), name(serde_json::to_value(f.code))),
    }
}

/// One result per command id, with the outcome the model predicts. A command whose
/// attempt was retried (a crash, a transient failure after a call landed) may find its own
/// effect in place and report `already_in_effect` instead of `applied`.
pub fn results(
    outbound: &[Outbound],
    workload: &Workload,
    retried: &BTreeSet<String>,
    tally: &mut Tally,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_command: BTreeMap<(String, String), Vec<Reported>> = BTreeMap::new();
    for message in outbound {
        let Outbound::Result(result) = message else {
            continue;
        };
        tally.results += 1;
        let (kind, code) = outcome_of(&result.outcome);
        by_command
            .entry((result.tenant.to_string(), result.command_id.to_string()))
            .or_default()
            .push((result.event_id, kind, code));
    }
    for (key, want) in &workload.results {
        let Some(got) = by_command.remove(key) else {
            problems.push(format!("no result for command {key:?} (expected {want:?})"));
            continue;
        };
        let ids: BTreeSet<Uuid> = got.iter().map(|(id, _, _)| *id).collect();
        if ids.len() != 1 {
            problems.push(format!(
                "command {key:?}: {} different results {got:?}",
                ids.len()
            ));
        }
        if got.len() > 1 {
            if workload.redelivered.contains_key(key) {
                tally.result_copies += got.len() - 1;
            } else {
                problems.push(format!("command {key:?}: result sent {} times", got.len()));
            }
        }
        let (_, kind, code) = &got[0];
        let matches = match want {
            Outcome::Applied => {
                kind == "applied"
                    || (kind == "skipped"
                        && code == "already_in_effect"
                        && retried.contains(&key.1)
                        && {
                            tally.applied_reported_skipped += 1;
                            true
                        })
            }
            Outcome::Skipped(reason) => kind == "skipped" && code == reason,
            Outcome::Failed(failure) => kind == "failed" && code == failure,
        };
        if !matches {
            let note = if retried.contains(&key.1) {
                " (retried)"
            } else {
                ""
            };
            problems.push(format!(
                "command {key:?}: result {kind} {code}, expected {want:?}{note}"
            ));
        }
    }
    for (key, got) in by_command {
        problems.push(format!("unexpected result for {key:?}: {got:?}"));
    }
    problems
}

/// Only the deliberately broken commands are dead-lettered, each with its reason; the
/// poll and outbound dead-letter queues stay empty.
pub async fn dead_letters(world: &World, workload: &Workload) -> Vec<String> {
    let mut problems = Vec::new();
    let mut letters = World::dead_letters(world.queues.command_dead_letters.as_ref()).await;
    for expected in &workload.dead_letters {
        match letters.iter().position(|(body, _)| *body == expected.body) {
            Some(at) => {
                let (_, reason) = letters.remove(at);
                if !reason.starts_with(expected.reason_prefix) {
                    problems.push(format!(
                        "dead letter {} has reason {reason:?}, expected {}",
                        expected.body, expected.reason_prefix
                    ));
                }
            }
            None => problems.push(format!("missing dead letter {}", expected.body)),
        }
    }
    for (body, reason) in letters {
        problems.push(format!("unexpected command dead letter ({reason}): {body}"));
    }
    for (name, queue) in [
        ("poll", &world.queues.poll_dead_letters),
        ("order-events", &world.queues.order_events_dead_letters),
    ] {
        for (body, reason) in World::dead_letters(queue.as_ref()).await {
            problems.push(format!("unexpected {name} dead letter ({reason}): {body}"));
        }
    }
    problems
}
