//! Judges the demo: the event stream Afosto received (every expected change once, in
//! sequence, nothing else), the results of its commands, and the shop's own state (read
//! from the sandbox, not from what the API answered).

use std::collections::{BTreeMap, BTreeSet};

use contracts::command_result::ResultOutcome;
use contracts::order_event::EventKind;
use sandbox::SandboxHandle;
use sandbox::order::{PickupProcessStatus, ShippingProcessStatus};
use uuid::Uuid;

use super::afosto::Afosto;
use super::contracts::{Contract, Contracts};
use super::scenario::{Expected, IMPORT, SHOP, STOCK, Step};

/// Everything found wrong; empty means the demo passed.
#[derive(Debug, Default)]
pub struct Findings(pub Vec<String>);

impl Findings {
    fn check(&mut self, holds: bool, otherwise: impl FnOnce() -> String) {
        if !holds {
            self.0.push(otherwise());
        }
    }
}

/// Seed reference ↔ order id.
pub struct Orders {
    pub by_reference: BTreeMap<String, Uuid>,
    pub numbers: BTreeMap<String, String>,
}

impl Orders {
    pub fn id(&self, reference: &str) -> Option<Uuid> {
        self.by_reference.get(reference).copied()
    }

    fn reference(&self, id: Uuid) -> Option<&str> {
        self.by_reference
            .iter()
            .find(|(_, order)| **order == id)
            .map(|(reference, _)| reference.as_str())
    }
}

/// The kinds each order's events must have, in sequence order: the import, then the
/// echoes of the commands that changed it, in the order they were sent (one poll emits
/// a merged change in causal order, which is the send order for every order here).
pub fn expected_streams(steps: &[Step]) -> BTreeMap<&'static str, Vec<EventKind>> {
    let mut streams: BTreeMap<&'static str, Vec<EventKind>> = IMPORT
        .iter()
        .map(|(reference, kinds)| (*reference, kinds.to_vec()))
        .collect();
    for step in steps {
        if let (Some(order), Some(echo)) = (step.order, step.echo) {
            streams.entry(order).or_default().push(echo);
        }
    }
    streams
}

/// How many events the stream holds once complete.
pub fn expected_count(streams: &BTreeMap<&'static str, Vec<EventKind>>) -> usize {
    streams.values().map(Vec::len).sum()
}

pub fn events(
    afosto: &Afosto,
    orders: &Orders,
    streams: &BTreeMap<&'static str, Vec<EventKind>>,
    tenant: &str,
) -> Findings {
    let mut findings = Findings::default();
    let mut ids = BTreeSet::new();
    let mut per_order: BTreeMap<Uuid, Vec<(u64, EventKind)>> = BTreeMap::new();
    for seen in &afosto.events {
        let header = seen.item.header();
        findings.check(ids.insert(header.event_id), || {
            format!("event {} arrived twice", header.event_id)
        });
        let group = format!("{tenant}:{}", header.order_id);
        findings.check(seen.group_id.as_deref() == Some(group.as_str()), || {
            format!(
                "event {} has FIFO group {:?}, expected {group}",
                header.event_id, seen.group_id
            )
        });
        per_order
            .entry(header.order_id)
            .or_default()
            .push((header.sequence, seen.item.kind()));
    }
    for (order_id, events) in &per_order {
        let Some(reference) = orders.reference(*order_id) else {
            findings
                .0
                .push(format!("events for an order not in the seed: {order_id}"));
            continue;
        };
        let mut events = events.clone();
        events.sort_by_key(|(sequence, _)| *sequence);
        let sequences: Vec<u64> = events.iter().map(|(sequence, _)| *sequence).collect();
        let contiguous: Vec<u64> = (1..=events.len() as u64).collect();
        findings.check(sequences == contiguous, || {
            format!("order {reference}: sequence numbers {sequences:?}, expected {contiguous:?}")
        });
        let kinds: Vec<EventKind> = events.iter().map(|(_, kind)| *kind).collect();
        let expected = streams.get(reference).cloned().unwrap_or_default();
        findings.check(kinds == expected, || {
            format!(
                "order {reference}: events {}, expected {}",
                names(&kinds),
                names(&expected)
            )
        });
    }
    for (reference, expected) in streams {
        let received = orders
            .id(reference)
            .is_some_and(|id| per_order.contains_key(&id));
        findings.check(expected.is_empty() || received, || {
            format!("order {reference}: no events, expected {}", names(expected))
        });
    }
    findings.check(afosto.unreadable.is_empty(), || {
        format!("unreadable outbound messages: {:?}", afosto.unreadable)
    });
    findings
}

fn names(kinds: &[EventKind]) -> String {
    if kinds.is_empty() {
        return "none".to_owned();
    }
    kinds
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome of a result as `applied` / `skipped:<reason>` / `failed:<code>`.
pub fn outcome_label(outcome: &ResultOutcome) -> String {
    let code = |value: serde_json::Result<serde_json::Value>| {
        value
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned())
    };
    match outcome {
        ResultOutcome::Applied(_) => "applied".to_owned(),
        ResultOutcome::Skipped(skipped) => {
            format!("skipped:{}", code(serde_json::to_value(skipped.reason)))
        }
        ResultOutcome::Failed(failed) => {
            format!("failed:{}", code(serde_json::to_value(failed.code)))
        }
    }
}

pub fn results(afosto: &Afosto, steps: &[Step], id_of: impl Fn(&Step) -> String) -> Findings {
    let mut findings = Findings::default();
    for step in steps {
        let id = id_of(step);
        let results: Vec<_> = afosto
            .results
            .iter()
            .filter(|seen| seen.item.command_id.as_str() == id)
            .collect();
        let expected = match step.expected {
            Expected::Applied => "applied".to_owned(),
            Expected::Skipped(reason) => format!("skipped:{reason}"),
        };
        match results.as_slice() {
            [only] => {
                let got = outcome_label(&only.item.outcome);
                findings.check(got == expected, || {
                    format!("command {}: {got}, expected {expected}", step.name)
                });
            }
            [] => findings.0.push(format!(
                "command {}: no result, expected {expected}",
                step.name
            )),
            many => findings.0.push(format!(
                "command {}: {} results, expected one",
                step.name,
                many.len()
            )),
        }
    }
    findings
}

/// The shop's own state after the commands.
pub fn shop(sandbox: &SandboxHandle, orders: &Orders) -> Findings {
    let mut findings = Findings::default();
    let core = sandbox.core();
    let read = |reference: &str| {
        let id = orders.id(reference)?;
        core.read_order(SHOP, id, |order, _| order.clone()).ok()
    };
    let shipment = |reference: &str, tracking: &str| {
        read(reference).and_then(|order| {
            order
                .shippings
                .iter()
                .find(|process| process.tracking_code.as_deref() == Some(tracking))
                .map(|process| (process.status, order.shippings.len()))
        })
    };
    let mut expect_shipment =
        |reference: &str, tracking: &str, status: ShippingProcessStatus, processes: usize| {
            let found = shipment(reference, tracking);
            findings.check(found == Some((status, processes)), || {
                format!(
                    "order {reference}: expected {processes} shipping process(es), the one \
                     with tracking {tracking} {}; found {found:?}",
                    status.as_str()
                )
            });
        };
    expect_shipment("paid", "DEMO-PARCEL-1", ShippingProcessStatus::Delivered, 1);
    expect_shipment(
        "partially-shipped",
        "DEMO-PARCEL-2",
        ShippingProcessStatus::Shipped,
        2,
    );
    expect_shipment(
        "pending-shipment",
        "DEMO-PARCEL-3",
        ShippingProcessStatus::Shipped,
        1,
    );
    expect_shipment(
        "shipped",
        "DEMO-TRACK-2",
        ShippingProcessStatus::Delivered,
        1,
    );

    let rendered = |reference: &str| orders.id(reference).and_then(|id| sandbox.order(SHOP, id));
    let canceled = rendered("new").is_some_and(|order| order.is_canceled());
    findings.check(canceled, || {
        "order new: expected canceled as a whole".to_owned()
    });
    let line_canceled: Option<u32> = rendered("partially-canceled").and_then(|order| {
        order
            .product_line_items
            .first()
            .map(|l| l.canceled_quantity())
    });
    findings.check(line_canceled == Some(2), || {
        format!("order partially-canceled: expected 2 pieces canceled, found {line_canceled:?}")
    });
    let returned = rendered("delivered").and_then(|order| {
        order
            .product_line_items
            .first()
            .map(|line| (line.returned_quantity(), line.broken_quantity()))
    });
    findings.check(returned == Some((1, 1)), || {
        format!("order delivered: expected 1 RETURNED and 1 BROKEN, found {returned:?}")
    });
    let pickup = |reference: &str| {
        read(reference).and_then(|order| order.pickups.first().map(|process| process.status))
    };
    let ready = pickup("pickup-new");
    findings.check(ready == Some(PickupProcessStatus::ReadyForPickup), || {
        format!("order pickup-new: expected ready for pickup, found {ready:?}")
    });
    let collected = pickup("pickup-ready");
    findings.check(collected == Some(PickupProcessStatus::PickedUp), || {
        format!("order pickup-ready: expected picked up, found {collected:?}")
    });
    for (sku, level) in STOCK {
        let stock = sandbox
            .availability(SHOP, sku)
            .and_then(|availability| availability.available_stock);
        findings.check(stock == Some(*level), || {
            format!("{sku}: expected {level} in stock, found {stock:?}")
        });
    }
    findings
}

/// The command id of a step in this run.
pub fn command_id(run: &str, step: &Step) -> String {
    format!("afosto-{run}-{}", step.name)
}

/// Every command sent and every message received against the published JSON Schemas.
pub fn contracts(
    afosto: &Afosto,
    sent: &[(String, serde_json::Value)],
    contracts: &Contracts,
) -> Findings {
    let mut findings = Findings::default();
    for (name, body) in sent {
        if let Some(violation) = contracts.violation(Contract::Command, &body.to_string()) {
            findings.0.push(format!(
                "command {name} violates command.schema.json: {violation}"
            ));
        }
    }
    for seen in &afosto.events {
        if let Some(violation) = contracts.violation(Contract::OrderEvent, &seen.body) {
            findings.0.push(format!(
                "event {} violates order-event.schema.json: {violation}",
                seen.item.header().event_id
            ));
        }
    }
    for seen in &afosto.results {
        if let Some(violation) = contracts.violation(Contract::CommandResult, &seen.body) {
            findings.0.push(format!(
                "result of {} violates command-result.schema.json: {violation}",
                seen.item.command_id
            ));
        }
    }
    findings
}
