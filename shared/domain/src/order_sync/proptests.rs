//! Property tests: a simulated ePages order moves pieces between its buckets by the rules
//! of beyond-api.md §3.3/§4 (ship → mark shipped → deliver, cancel what is not handed
//! out, return what the customer has, one whole-order pickup process), the poller polls it
//! at random moments, sometimes crashing before or after sending the events, and the
//! events that reach the consumer must add up to exactly what happened.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::diff::{DiffContext, diff};
use super::fixtures::{detected_at, make_pickup, order_json, policy, tenant, to_order};
use super::ledger::{Bucket, LedgerState, LineCounters};
use super::policy::SyncPolicy;
use crate::tenant::PaymentStatusFilter;
use contracts::order_event::{EventKind, OrderEvent};

/// Where the pieces of one line are now (a partition of the ordered quantity).
#[derive(Debug, Clone, Copy, Default)]
struct Pieces {
    unshipped: u32,
    pending: u32,
    shipped: u32,
    delivered: u32,
    not_picked_up: u32,
    ready: u32,
    picked_up: u32,
    canceled: u32,
    returned: u32,
    broken: u32,
}

#[derive(Debug, Clone)]
struct SimLine {
    id: Uuid,
    initial: u32,
    pieces: Pieces,
    /// What really happened, cumulatively (ready is checked separately, see below).
    truth: LineCounters,
}

#[derive(Debug, Clone)]
struct SimOrder {
    pickup: bool,
    paid: bool,
    canceled_flag: bool,
    pickup_process: bool,
    lines: Vec<SimLine>,
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Ship {
        line: usize,
        quantity: u32,
    },
    MarkShipped {
        line: usize,
        quantity: u32,
    },
    Deliver {
        line: usize,
        quantity: u32,
        from_pending: bool,
    },
    CancelLine {
        line: usize,
        quantity: u32,
    },
    CancelOrder,
    Return {
        line: usize,
        quantity: u32,
        broken: bool,
    },
    CreatePickup,
    MarkPickedUp,
    Pay,
    Poll {
        fault: Fault,
    },
}

/// What goes wrong during a poll of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Crash after the pre-send write, before sending anything.
    BeforeSend,
    /// Crash after sending, before the final ledger write.
    AfterSend,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![2 => Just(Fault::None), 1 => Just(Fault::BeforeSend), 1 => Just(Fault::AfterSend)]
}

fn action() -> impl Strategy<Value = Action> {
    let line = 0usize..3;
    let quantity = 1u32..4;
    prop_oneof![
        3 => (line.clone(), quantity.clone()).prop_map(|(line, quantity)| Action::Ship { line, quantity }),
        3 => (line.clone(), quantity.clone()).prop_map(|(line, quantity)| Action::MarkShipped { line, quantity }),
        3 => (line.clone(), quantity.clone(), any::<bool>())
            .prop_map(|(line, quantity, from_pending)| Action::Deliver { line, quantity, from_pending }),
        2 => (line.clone(), quantity.clone()).prop_map(|(line, quantity)| Action::CancelLine { line, quantity }),
        1 => Just(Action::CancelOrder),
        2 => (line, quantity, any::<bool>())
            .prop_map(|(line, quantity, broken)| Action::Return { line, quantity, broken }),
        2 => Just(Action::CreatePickup),
        2 => Just(Action::MarkPickedUp),
        1 => Just(Action::Pay),
        4 => fault().prop_map(|fault| Action::Poll { fault }),
    ]
}

fn take(from: &mut u32, wanted: u32) -> u32 {
    let moved = wanted.min(*from);
    *from -= moved;
    moved
}

impl SimOrder {
    fn new(pickup: bool, paid: bool, initials: &[u32]) -> Self {
        let lines = initials
            .iter()
            .enumerate()
            .map(|(index, &initial)| SimLine {
                id: Uuid::from_u128(0x1000 + index as u128),
                initial,
                pieces: if pickup {
                    Pieces {
                        not_picked_up: initial,
                        ..Pieces::default()
                    }
                } else {
                    Pieces {
                        unshipped: initial,
                        ..Pieces::default()
                    }
                },
                truth: LineCounters::default(),
            })
            .collect();
        Self {
            pickup,
            paid,
            canceled_flag: false,
            pickup_process: false,
            lines,
        }
    }

    fn nothing_handed_out(&self) -> bool {
        self.lines.iter().all(|line| {
            let p = line.pieces;
            p.pending + p.shipped + p.delivered + p.picked_up + p.returned + p.broken == 0
        })
    }

    fn apply(&mut self, action: Action) {
        let count = self.lines.len();
        let pickup = self.pickup;
        match action {
            Action::Ship { line, quantity } if !pickup => {
                let p = &mut self.lines[line % count].pieces;
                p.pending += take(&mut p.unshipped, quantity);
            }
            Action::MarkShipped { line, quantity } if !pickup => {
                let line = &mut self.lines[line % count];
                let moved = take(&mut line.pieces.pending, quantity);
                line.pieces.shipped += moved;
                line.truth.shipped += moved;
            }
            Action::Deliver {
                line,
                quantity,
                from_pending,
            } if !pickup => {
                let line = &mut self.lines[line % count];
                if from_pending {
                    let moved = take(&mut line.pieces.pending, quantity);
                    line.pieces.delivered += moved;
                    line.truth.shipped += moved;
                    line.truth.delivered += moved;
                } else {
                    let moved = take(&mut line.pieces.shipped, quantity);
                    line.pieces.delivered += moved;
                    line.truth.delivered += moved;
                }
            }
            Action::CancelLine { line, quantity } => {
                let line = &mut self.lines[line % count];
                let p = &mut line.pieces;
                let moved = if pickup {
                    let first = take(&mut p.not_picked_up, quantity);
                    first + take(&mut p.ready, quantity - first)
                } else {
                    take(&mut p.unshipped, quantity)
                };
                p.canceled += moved;
                line.truth.canceled += moved;
            }
            Action::CancelOrder if !self.canceled_flag && self.nothing_handed_out() => {
                self.canceled_flag = true;
                for line in &mut self.lines {
                    let p = &mut line.pieces;
                    let moved = p.unshipped + p.not_picked_up + p.ready;
                    p.unshipped = 0;
                    p.not_picked_up = 0;
                    p.ready = 0;
                    p.canceled += moved;
                    line.truth.canceled += moved;
                }
            }
            Action::Return {
                line,
                quantity,
                broken,
            } => {
                let line = &mut self.lines[line % count];
                let p = &mut line.pieces;
                let moved = if pickup {
                    take(&mut p.picked_up, quantity)
                } else {
                    // Delivered pieces first, then pieces still in transit; a piece that
                    // comes back from transit was received all the same.
                    let from_delivered = take(&mut p.delivered, quantity);
                    let from_shipped = take(&mut p.shipped, quantity - from_delivered);
                    line.truth.delivered += from_shipped;
                    from_delivered + from_shipped
                };
                if broken {
                    p.broken += moved;
                    line.truth.broken += moved;
                } else {
                    p.returned += moved;
                    line.truth.returned += moved;
                }
            }
            Action::CreatePickup if pickup && !self.pickup_process && !self.canceled_flag => {
                self.pickup_process = true;
                for line in &mut self.lines {
                    let p = &mut line.pieces;
                    p.ready += p.not_picked_up;
                    p.not_picked_up = 0;
                }
            }
            Action::MarkPickedUp if pickup && self.pickup_process => {
                for line in &mut self.lines {
                    let p = &mut line.pieces;
                    line.truth.picked_up += p.ready;
                    p.picked_up += p.ready;
                    p.ready = 0;
                }
            }
            Action::Pay => self.paid = true,
            _ => {}
        }
    }

    fn wholly_canceled(&self) -> bool {
        self.canceled_flag
            || self
                .lines
                .iter()
                .all(|line| line.pieces.canceled >= line.initial)
    }

    /// The order as ePages would render it.
    fn snapshot(&self) -> Value {
        let mut json = order_json();
        let template = json["productLineItems"][0].clone();
        let lines: Vec<Value> = self
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let p = line.pieces;
                let mut item = template.clone();
                item["_id"] = line.id.to_string().into();
                item["product"]["sku"] = format!("SKU-{index}").into();
                item["initialQuantity"] = line.initial.into();
                item["quantity"] = (line.initial - p.canceled - p.returned - p.broken).into();
                let q = |quantity: u32| json!({ "quantity": quantity });
                item["shippingStatus"] = json!({
                    "unshipped": q(p.unshipped), "pending": q(p.pending),
                    "shipped": q(p.shipped), "delivered": q(p.delivered)
                });
                item["pickupStatus"] = json!({
                    "notPickedUp": q(p.not_picked_up), "readyForPickup": q(p.ready),
                    "pickedUp": q(p.picked_up)
                });
                item["returnStatus"] = json!({"returned": q(p.returned), "broken": q(p.broken)});
                item["cancelationStatus"] = json!({"canceled": q(p.canceled)});
                item
            })
            .collect();
        json["productLineItems"] = lines.into();
        if self.pickup {
            let buckets = json["productLineItems"].clone();
            make_pickup(&mut json);
            json["productLineItems"] = buckets;
        }
        json["paymentStatus"] = if self.paid { "PAID" } else { "PENDING" }.into();
        json["canceled"] = self.canceled_flag.into();
        if self.canceled_flag {
            json["shippingStatus"] = "CANCELED".into();
        }
        json
    }

    /// What the consumer must have seen as "ready for pickup" at a poll.
    fn ready_view(&self, line: &SimLine) -> u32 {
        if !self.pickup {
            return 0;
        }
        let p = line.pieces;
        (p.ready + p.picked_up + p.returned + p.broken).min(line.initial - p.canceled)
    }
}

/// The events as a consumer keeps them: deduplicated by event id.
#[derive(Default)]
struct Consumer {
    events: Vec<OrderEvent>,
    ids: BTreeSet<Uuid>,
}

impl Consumer {
    fn receive(&mut self, event: &OrderEvent) {
        if self.ids.insert(event.event_id()) {
            self.events.push(event.clone());
        }
    }

    /// Sum of newly reported pieces per line and bucket, checking running totals.
    fn sums(&self) -> BTreeMap<Uuid, LineCounters> {
        let mut sums: BTreeMap<Uuid, LineCounters> = BTreeMap::new();
        let mut add = |line: Uuid, bucket: Bucket, newly: u32, cumulative: u32| {
            assert!(newly > 0, "an event line with zero pieces");
            let counters = sums.entry(line).or_default();
            let total = counters.get(bucket) + newly;
            assert_eq!(total, cumulative, "cumulative of {bucket:?} on {line}");
            counters.set(bucket, total);
        };
        for event in &self.events {
            let (bucket, lines) = match event {
                OrderEvent::Created(_) => continue,
                OrderEvent::Returned(returned) => {
                    for line in &returned.lines {
                        assert!(line.returned + line.broken > 0);
                        if line.returned > 0 {
                            add(
                                line.line_item_id,
                                Bucket::Returned,
                                line.returned,
                                line.cumulative_returned,
                            );
                        }
                        if line.broken > 0 {
                            add(
                                line.line_item_id,
                                Bucket::Broken,
                                line.broken,
                                line.cumulative_broken,
                            );
                        }
                    }
                    continue;
                }
                OrderEvent::Canceled(event) => (Bucket::Canceled, &event.lines),
                OrderEvent::Shipped(event) => (Bucket::Shipped, &event.lines),
                OrderEvent::Delivered(event) => (Bucket::Delivered, &event.lines),
                OrderEvent::ReadyForPickup(event) => (Bucket::ReadyForPickup, &event.lines),
                OrderEvent::PickedUp(event) => (Bucket::PickedUp, &event.lines),
            };
            for line in lines {
                add(
                    line.line_item_id,
                    bucket,
                    line.quantity,
                    line.cumulative_quantity,
                );
            }
        }
        sums
    }
}

struct Poller {
    policy: SyncPolicy,
    /// The ledger as stored: opaque JSON.
    stored: Option<Value>,
    consumer: Consumer,
    /// Max "ready" view per line over the polls since the import.
    ready_seen: BTreeMap<Uuid, u32>,
    /// Whether some poll found the order admissible before it was imported.
    expect_import: bool,
}

impl Poller {
    fn state(&self) -> Option<LedgerState> {
        self.stored.as_ref().map(|data| {
            LedgerState::from_ledger_data(data).unwrap_or_else(|error| panic!("{error}"))
        })
    }

    fn store(&mut self, state: &LedgerState) -> Result<(), TestCaseError> {
        self.stored = Some(
            state
                .to_ledger_data()
                .map_err(|error| TestCaseError::fail(error.to_string()))?,
        );
        Ok(())
    }

    fn poll(&mut self, sim: &SimOrder, fault: Fault) -> Result<(), TestCaseError> {
        let tenant = tenant();
        let policy = self.policy.clone();
        let context = DiffContext {
            tenant: &tenant,
            policy: &policy,
            detected_at: detected_at(),
        };
        let order = to_order(sim.snapshot());
        let previous = self.state();
        let imported_before = previous.as_ref().is_some_and(|state| state.imported);
        let admissible = !sim.wholly_canceled()
            && (sim.paid || self.policy.payment_filter == PaymentStatusFilter::Any);
        if !imported_before && admissible {
            self.expect_import = true;
        }
        let decision = diff(&context, previous.as_ref(), &order, None)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert!(decision.anomalies.is_empty(), "{:?}", decision.anomalies);
        if let Some(pre_send) = &decision.pre_send_state {
            self.store(pre_send)?;
        }
        if fault == Fault::BeforeSend {
            // Nothing sent, nothing more written: the next poll must make up for it.
            return Ok(());
        }
        for event in &decision.events {
            self.consumer.receive(event);
        }
        if fault == Fault::AfterSend {
            // Sent, then crashed before the ledger write: the re-run on the same snapshot
            // re-sends the same events with the same ids and sequence numbers.
            let replay = diff(&context, self.state().as_ref(), &order, None)
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let ids = |events: &[OrderEvent]| {
                events
                    .iter()
                    .map(|event| (event.event_id(), event.sequence()))
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(ids(&replay.events), ids(&decision.events));
            prop_assert_eq!(&replay.next_state, &decision.next_state);
            for event in &replay.events {
                self.consumer.receive(event);
            }
        }
        if decision.ledger_changed(self.state().as_ref()) {
            self.store(&decision.next_state)?;
        }
        // The same snapshot again, with the new state: nothing new.
        let again = diff(&context, self.state().as_ref(), &order, None)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert!(again.events.is_empty(), "re-run emitted {:?}", again.events);
        prop_assert!(!again.ledger_changed(self.state().as_ref()));

        if self.state().is_some_and(|state| state.imported) {
            for line in &sim.lines {
                let seen = self.ready_seen.entry(line.id).or_default();
                *seen = (*seen).max(sim.ready_view(line));
            }
        }
        Ok(())
    }
}

fn scenario() -> impl Strategy<Value = (bool, bool, bool, Vec<u32>, Vec<Action>)> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(1u32..5, 1..4),
        prop::collection::vec(action(), 0..40),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn emitted_events_add_up_to_what_happened_exactly_once(
        (pickup, paid, paid_only, initials, actions) in scenario()
    ) {
        let mut sim = SimOrder::new(pickup, paid, &initials);
        let mut poller = Poller {
            policy: SyncPolicy {
                payment_filter: if paid_only { PaymentStatusFilter::PaidOnly } else { PaymentStatusFilter::Any },
                ..policy()
            },
            stored: None,
            consumer: Consumer::default(),
            ready_seen: BTreeMap::new(),
            expect_import: false,
        };
        for action in actions {
            match action {
                Action::Poll { fault } => poller.poll(&sim, fault)?,
                other => sim.apply(other),
            }
        }
        poller.poll(&sim, Fault::None)?;

        let events = &poller.consumer.events;
        let imported = poller.state().is_some_and(|state| state.imported);
        prop_assert_eq!(imported, poller.expect_import);
        if !imported {
            prop_assert!(events.is_empty(), "events for an order never imported");
            return Ok(());
        }

        // Created first and once; sequence numbers 1, 2, 3, … without gaps.
        prop_assert_eq!(events[0].kind(), EventKind::Created);
        prop_assert_eq!(events.iter().filter(|event| event.kind() == EventKind::Created).count(), 1);
        let sequences: Vec<u64> = events.iter().map(OrderEvent::sequence).collect();
        let expected: Vec<u64> = (1..=events.len() as u64).collect();
        prop_assert_eq!(sequences, expected);

        // Every change reported exactly once: the sums are what really happened.
        let sums = poller.consumer.sums();
        let order = to_order(sim.snapshot());
        let fulfilment = super::quantities::Fulfilment::of(&order);
        for (line, item) in sim.lines.iter().zip(&order.product_line_items) {
            let emitted = sums.get(&line.id).copied().unwrap_or_default();
            let observed = super::quantities::observed_counters(item, fulfilment);
            for bucket in [Bucket::Canceled, Bucket::Shipped, Bucket::Delivered, Bucket::PickedUp, Bucket::Returned, Bucket::Broken] {
                prop_assert_eq!(emitted.get(bucket), line.truth.get(bucket), "{:?} of {} vs truth", bucket, line.id);
                prop_assert_eq!(emitted.get(bucket), observed.get(bucket), "{:?} of {} vs snapshot", bucket, line.id);
            }
            prop_assert_eq!(
                emitted.ready_for_pickup,
                poller.ready_seen.get(&line.id).copied().unwrap_or_default(),
                "ready of {}", line.id
            );
        }
        // The whole-order flag is reported once, when (and only when) it happened.
        let whole = events.iter().filter(|event| matches!(event, OrderEvent::Canceled(c) if c.whole_order)).count();
        prop_assert_eq!(whole, usize::from(sim.wholly_canceled()));
    }
}

/// A consumer following the documented rule: per (line, state) apply
/// `cumulative − applied`, i.e. keep the highest cumulative quantity seen.
#[derive(Default)]
struct CumulativeConsumer {
    applied: BTreeMap<(Uuid, Bucket), u32>,
    created: BTreeSet<Uuid>,
    whole_canceled: usize,
    whole_canceled_ids: BTreeSet<Uuid>,
    sequences: BTreeSet<u64>,
}

impl CumulativeConsumer {
    fn apply(&mut self, line: Uuid, bucket: Bucket, cumulative: u32) {
        let applied = self.applied.entry((line, bucket)).or_default();
        *applied = (*applied).max(cumulative);
    }

    fn receive(&mut self, event: &OrderEvent) {
        self.sequences.insert(event.sequence());
        let (bucket, lines) = match event {
            OrderEvent::Created(_) => {
                self.created.insert(event.event_id());
                return;
            }
            OrderEvent::Returned(returned) => {
                for line in &returned.lines {
                    self.apply(
                        line.line_item_id,
                        Bucket::Returned,
                        line.cumulative_returned,
                    );
                    self.apply(line.line_item_id, Bucket::Broken, line.cumulative_broken);
                }
                return;
            }
            OrderEvent::Canceled(canceled) => {
                if canceled.whole_order && self.whole_canceled_ids.insert(event.event_id()) {
                    self.whole_canceled += 1;
                }
                (Bucket::Canceled, &canceled.lines)
            }
            OrderEvent::Shipped(event) => (Bucket::Shipped, &event.lines),
            OrderEvent::Delivered(event) => (Bucket::Delivered, &event.lines),
            OrderEvent::ReadyForPickup(event) => (Bucket::ReadyForPickup, &event.lines),
            OrderEvent::PickedUp(event) => (Bucket::PickedUp, &event.lines),
        };
        for line in lines {
            self.apply(line.line_item_id, bucket, line.cumulative_quantity);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Crashes after sending and before the ledger write, followed by a run on a *newer*
    /// snapshot: the re-sent events may merge changes under new ids, and a consumer that
    /// applies cumulative quantities still ends up exactly at what happened.
    #[test]
    fn lost_ledger_writes_are_healed_by_cumulative_quantities(
        (pickup, paid, paid_only, initials, actions) in scenario()
    ) {
        let mut sim = SimOrder::new(pickup, paid, &initials);
        let policy = SyncPolicy {
            payment_filter: if paid_only { PaymentStatusFilter::PaidOnly } else { PaymentStatusFilter::Any },
            ..policy()
        };
        let tenant = tenant();
        let context = DiffContext { tenant: &tenant, policy: &policy, detected_at: detected_at() };
        let mut stored: Option<LedgerState> = None;
        let mut consumer = CumulativeConsumer::default();
        for action in actions.iter().copied().chain([Action::Poll { fault: Fault::None }]) {
            let Action::Poll { fault } = action else {
                sim.apply(action);
                continue;
            };
            let order = to_order(sim.snapshot());
            let decision = diff(&context, stored.as_ref(), &order, None)
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            prop_assert!(decision.anomalies.is_empty(), "{:?}", decision.anomalies);
            if let Some(pre_send) = decision.pre_send_state {
                stored = Some(pre_send);
            }
            if fault != Fault::BeforeSend {
                for event in &decision.events {
                    consumer.receive(event);
                }
            }
            // Either crash loses the final write; the next poll sees a newer snapshot.
            if fault == Fault::None {
                stored = Some(decision.next_state);
            }
        }

        let imported = stored.as_ref().is_some_and(|state| state.imported);
        if !imported {
            prop_assert!(consumer.created.is_empty() && consumer.applied.is_empty());
            return Ok(());
        }
        prop_assert_eq!(consumer.created.len(), 1, "one order.created id");
        let max = consumer.sequences.iter().next_back().copied().unwrap_or(0);
        prop_assert_eq!(consumer.sequences.len() as u64, max, "no sequence gap");
        for line in &sim.lines {
            for bucket in [Bucket::Canceled, Bucket::Shipped, Bucket::Delivered, Bucket::PickedUp, Bucket::Returned, Bucket::Broken] {
                let applied = consumer.applied.get(&(line.id, bucket)).copied().unwrap_or(0);
                prop_assert_eq!(applied, line.truth.get(bucket), "{:?} of {}", bucket, line.id);
            }
            let ready = consumer.applied.get(&(line.id, Bucket::ReadyForPickup)).copied().unwrap_or(0);
            prop_assert!(ready >= line.truth.picked_up && ready <= line.initial);
        }
        prop_assert_eq!(consumer.whole_canceled > 0, sim.wholly_canceled());
    }
}
