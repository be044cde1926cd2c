//! Order-event diffing over snapshot *histories*: "any sequence of snapshots yields each
//! change once".
//!
//! `domain::order_sync::proptests` already simulates an order whose poller always
//! reads the newest snapshot, with crashes before and after sending. What is new here:
//!
//! - reads out of order: the poller may read any *older* snapshot again (an eventually
//!   consistent list endpoint, a late retry) or re-read the one it just read, between
//!   reads of the newest;
//! - a crash between send and ledger write followed by such a stale read, checked against
//!   the consumer rule of docs/ORDER-EVENTS.md (apply cumulative quantities, deduplicate
//!   by event id);
//! - event ids and sequence numbers do not depend on when the polls ran (`detectedAt`):
//!   the same history read on another clock gives the same stream.

use std::collections::{BTreeMap, BTreeSet};

use beyond::model::Order;
use chrono::{DateTime, Duration, TimeZone, Utc};
use contracts::order_event::{EventKind, OrderEvent};
use domain::order_sync::{Bucket, DiffContext, LedgerState, LineCounters, SyncPolicy, diff};
use domain::tenant::{PaymentStatusFilter, TenantId};
use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

const ORDER_ID: &str = "0f8c1a2e-7b1d-4c3e-9a55-3f4b8e2d6c10";
/// The buckets a shipping order moves pieces through.
const BUCKETS: [Bucket; 5] = [
    Bucket::Canceled,
    Bucket::Shipped,
    Bucket::Delivered,
    Bucket::Returned,
    Bucket::Broken,
];

/// Where the pieces of one line are (a partition of the ordered quantity).
#[derive(Debug, Clone, Copy, Default)]
struct Pieces {
    unshipped: u32,
    shipped: u32,
    delivered: u32,
    canceled: u32,
    returned: u32,
    broken: u32,
}

/// One version of the order in ePages.
#[derive(Debug, Clone)]
struct Version {
    lines: Vec<Pieces>,
    canceled: bool,
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Ship {
        line: usize,
        quantity: u32,
    },
    Deliver {
        line: usize,
        quantity: u32,
    },
    Cancel {
        line: usize,
        quantity: u32,
    },
    CancelOrder,
    Return {
        line: usize,
        quantity: u32,
        broken: bool,
    },
}

/// Which snapshot a poll reads.
#[derive(Debug, Clone, Copy)]
enum Read {
    Newest,
    /// Any version up to the newest, picked by the index: usually an older one.
    Older(prop::sample::Index),
    /// The version the previous poll read, again.
    Repeat,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Change(Change),
    Poll { read: Read, crash_after_send: bool },
}

fn change() -> impl Strategy<Value = Change> {
    let line = 0usize..3;
    let quantity = 1u32..4;
    prop_oneof![
        3 => (line.clone(), quantity.clone()).prop_map(|(line, quantity)| Change::Ship { line, quantity }),
        2 => (line.clone(), quantity.clone()).prop_map(|(line, quantity)| Change::Deliver { line, quantity }),
        2 => (line.clone(), quantity.clone()).prop_map(|(line, quantity)| Change::Cancel { line, quantity }),
        1 => Just(Change::CancelOrder),
        2 => (line, quantity, any::<bool>())
            .prop_map(|(line, quantity, broken)| Change::Return { line, quantity, broken }),
    ]
}

fn read() -> impl Strategy<Value = Read> {
    prop_oneof![
        3 => Just(Read::Newest),
        2 => any::<prop::sample::Index>().prop_map(Read::Older),
        1 => Just(Read::Repeat),
    ]
}

fn steps(crashes: bool) -> impl Strategy<Value = (Vec<u32>, Vec<Step>)> {
    let poll = (
        read(),
        prop::bool::weighted(if crashes { 0.3 } else { 0.0 }),
    )
        .prop_map(|(read, crash_after_send)| Step::Poll {
            read,
            crash_after_send,
        });
    (
        prop::collection::vec(1u32..5, 1..4),
        prop::collection::vec(
            prop_oneof![2 => change().prop_map(Step::Change), 3 => poll],
            0..32,
        ),
    )
}

fn take(from: &mut u32, wanted: u32) -> u32 {
    let moved = wanted.min(*from);
    *from -= moved;
    moved
}

/// The order's history: every version ePages ever showed, oldest first.
struct History {
    initials: Vec<u32>,
    versions: Vec<Version>,
}

impl History {
    fn new(initials: &[u32]) -> Self {
        let lines = initials
            .iter()
            .map(|&initial| Pieces {
                unshipped: initial,
                ..Pieces::default()
            })
            .collect();
        Self {
            initials: initials.to_vec(),
            versions: vec![Version {
                lines,
                canceled: false,
            }],
        }
    }

    fn newest(&self) -> &Version {
        self.versions.last().expect("a history has a first version")
    }

    /// Applies a change by ePages' rules; one that changes something is a new version.
    fn apply(&mut self, change: Change) {
        let mut next = self.newest().clone();
        let count = next.lines.len();
        let moved = match change {
            Change::Ship { line, quantity } => {
                let p = &mut next.lines[line % count];
                let moved = take(&mut p.unshipped, quantity);
                p.shipped += moved;
                moved
            }
            Change::Deliver { line, quantity } => {
                let p = &mut next.lines[line % count];
                let moved = take(&mut p.shipped, quantity);
                p.delivered += moved;
                moved
            }
            Change::Cancel { line, quantity } => {
                let p = &mut next.lines[line % count];
                let moved = take(&mut p.unshipped, quantity);
                p.canceled += moved;
                moved
            }
            Change::CancelOrder => {
                let untouched = next
                    .lines
                    .iter()
                    .all(|p| p.shipped + p.delivered + p.returned + p.broken == 0);
                if next.canceled || !untouched {
                    0
                } else {
                    next.canceled = true;
                    let mut moved = 0;
                    for p in &mut next.lines {
                        moved += p.unshipped;
                        p.canceled += p.unshipped;
                        p.unshipped = 0;
                    }
                    moved.max(1)
                }
            }
            Change::Return {
                line,
                quantity,
                broken,
            } => {
                let p = &mut next.lines[line % count];
                let moved = take(&mut p.delivered, quantity);
                if broken {
                    p.broken += moved;
                } else {
                    p.returned += moved;
                }
                moved
            }
        };
        if moved > 0 {
            self.versions.push(next);
        }
    }

    fn line_id(index: usize) -> Uuid {
        Uuid::from_u128(0x1a1a_0000_0000_4000_8000_0000_0000_0000 + index as u128)
    }

    /// What really happened up to `version`, as the connector counts it.
    fn truth(&self, version: usize) -> BTreeMap<Uuid, LineCounters> {
        self.versions[version]
            .lines
            .iter()
            .enumerate()
            .map(|(index, p)| {
                let counters = LineCounters {
                    canceled: p.canceled,
                    shipped: p.shipped + p.delivered + p.returned + p.broken,
                    delivered: p.delivered + p.returned + p.broken,
                    returned: p.returned,
                    broken: p.broken,
                    ..LineCounters::default()
                };
                (Self::line_id(index), counters)
            })
            .collect()
    }

    fn wholly_canceled(&self, version: usize) -> bool {
        let lines = &self.versions[version].lines;
        self.versions[version].canceled
            || lines
                .iter()
                .zip(&self.initials)
                .all(|(p, initial)| p.canceled >= *initial)
    }

    /// The order as ePages renders version `version`.
    fn snapshot(&self, version: usize) -> Order {
        let state = &self.versions[version];
        let price = |amount: f64| json!({"taxModel": "GROSS", "currency": "EUR", "amount": amount});
        let lines: Vec<Value> = state
            .lines
            .iter()
            .zip(&self.initials)
            .enumerate()
            .map(|(index, (p, initial))| {
                let q = |quantity: u32| json!({ "quantity": quantity });
                json!({
                    "_id": Self::line_id(index),
                    "product": {"_id": Uuid::from_u128(0x9d00 + index as u128), "sku": format!("SKU-{index}"), "name": "Item"},
                    "quantity": initial - p.canceled - p.returned - p.broken,
                    "initialQuantity": initial,
                    "unitPrice": price(10.0),
                    "lineItemPrice": price(10.0 * f64::from(*initial)),
                    "lineItemTax": {"taxClass": "REGULAR", "taxRate": 0.19, "currency": "EUR", "amount": 1.6},
                    "shippingStatus": {
                        "unshipped": q(p.unshipped), "pending": q(0),
                        "shipped": q(p.shipped), "delivered": q(p.delivered)
                    },
                    "returnStatus": {"returned": q(p.returned), "broken": q(p.broken)},
                    "cancelationStatus": {"canceled": q(p.canceled)}
                })
            })
            .collect();
        let updated = Utc
            .with_ymd_and_hms(2024, 3, 1, 11, 0, 0)
            .single()
            .expect("a time")
            + Duration::minutes(i64::try_from(version).expect("few versions"));
        let json = json!({
            "_id": ORDER_ID,
            "orderNumber": "10042",
            "createdAt": "2024-03-01T10:15:00.000",
            "updatedAt": updated.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            "canceled": state.canceled,
            "testOrder": false,
            "taxable": true,
            "paymentStatus": "PAID",
            "shippingStatus": if state.canceled { "CANCELED" } else { "UNSHIPPED" },
            "currency": "EUR",
            "taxModel": "GROSS",
            "subtotal": {"currency": "EUR", "amount": 100.0},
            "grandTotal": {"currency": "EUR", "amount": 104.95},
            "netTotal": {"currency": "EUR", "amount": 88.2},
            "taxTotal": {"currency": "EUR", "amount": 16.75},
            "customerEmail": "jan@example.com",
            "billingAddress": {
                "firstName": "Jan", "lastName": "Jansen", "street": "Keizersgracht",
                "houseNumber": "12", "postalCode": "1015 CX", "city": "Amsterdam", "country": "NL"
            },
            "productLineItems": lines,
            "shippingLineItem": {
                "lineItemPrice": price(4.95),
                "taxClass": "REGULAR",
                "shippingMethod": {"id": "standard", "name": "PostNL Standard"}
            },
            "paymentLineItem": {
                "lineItemPrice": price(0.0),
                "paymentMethod": {"id": "ideal", "name": "iDEAL", "refund": "PARTIAL_REFUND"}
            }
        });
        serde_json::from_value(json).unwrap_or_else(|error| panic!("snapshot: {error}"))
    }
}

fn tenant() -> TenantId {
    TenantId::parse("shop-1").expect("a valid tenant")
}

fn policy() -> SyncPolicy {
    SyncPolicy {
        sync_start: Utc
            .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
            .single()
            .expect("a time"),
        include_test_orders: false,
        payment_filter: PaymentStatusFilter::Any,
    }
}

/// One poll as the poller does it; returns the events it sent.
struct Poll {
    events: Vec<OrderEvent>,
    ledger_changed: bool,
    anomalies: usize,
}

/// The poller's side: the stored ledger, and which version each poll read.
struct Poller {
    ledger: Option<LedgerState>,
    last_read: usize,
    /// The newest version the stored ledger has caught up with: every read whose ledger
    /// write happened, imported or not (the ledger records the newest `updatedAt` it saw,
    /// so an older snapshot after it is stale even before the import).
    covered: Option<usize>,
}

impl Poller {
    fn new() -> Self {
        Self {
            ledger: None,
            last_read: 0,
            covered: None,
        }
    }

    fn pick(&self, history: &History, read: Read) -> usize {
        let newest = history.versions.len() - 1;
        match read {
            Read::Newest => newest,
            Read::Older(index) => index.index(newest + 1),
            Read::Repeat => self.last_read.min(newest),
        }
    }

    fn poll(
        &mut self,
        history: &History,
        version: usize,
        detected_at: DateTime<Utc>,
        crash_after_send: bool,
    ) -> Result<Poll, TestCaseError> {
        let tenant = tenant();
        let policy = policy();
        let context = DiffContext {
            tenant: &tenant,
            policy: &policy,
            detected_at,
        };
        self.last_read = version;
        let decision = diff(
            &context,
            self.ledger.as_ref(),
            &history.snapshot(version),
            None,
        )
        .map_err(|error| TestCaseError::fail(error.to_string()))?;
        if let Some(pre_send) = &decision.pre_send_state {
            self.ledger = Some(pre_send.clone());
        }
        let ledger_changed = decision.ledger_changed(self.ledger.as_ref());
        if !crash_after_send {
            if ledger_changed {
                self.ledger = Some(decision.next_state.clone());
            }
            self.covered = self.covered.max(Some(version));
        }
        Ok(Poll {
            events: decision.events,
            ledger_changed,
            anomalies: decision.anomalies.len(),
        })
    }
}

/// Per (line, bucket) cumulative quantities an event reports, with the newly added pieces.
fn quantities(event: &OrderEvent) -> Vec<(Uuid, Bucket, u32, u32)> {
    let lines = match event {
        OrderEvent::Created(_) => return Vec::new(),
        OrderEvent::Returned(returned) => {
            return returned
                .lines
                .iter()
                .flat_map(|line| {
                    [
                        (
                            line.line_item_id,
                            Bucket::Returned,
                            line.returned,
                            line.cumulative_returned,
                        ),
                        (
                            line.line_item_id,
                            Bucket::Broken,
                            line.broken,
                            line.cumulative_broken,
                        ),
                    ]
                })
                .collect();
        }
        OrderEvent::Canceled(event) => (Bucket::Canceled, &event.lines),
        OrderEvent::Shipped(event) => (Bucket::Shipped, &event.lines),
        OrderEvent::Delivered(event) => (Bucket::Delivered, &event.lines),
        OrderEvent::ReadyForPickup(event) => (Bucket::ReadyForPickup, &event.lines),
        OrderEvent::PickedUp(event) => (Bucket::PickedUp, &event.lines),
    };
    let (bucket, lines) = lines;
    lines
        .iter()
        .map(|line| {
            (
                line.line_item_id,
                bucket,
                line.quantity,
                line.cumulative_quantity,
            )
        })
        .collect()
}

/// What one event id stood for when first seen: its type, its whole-order flag and
/// the cumulative quantities of the lines it listed.
type IdState = (EventKind, bool, BTreeMap<(Uuid, Bucket), u32>);

/// The event without what may differ between two runs of the same history.
fn comparable(event: &OrderEvent) -> Value {
    let mut value = serde_json::to_value(event).expect("an event serialises");
    if let Some(object) = value.as_object_mut() {
        object.remove("detectedAt");
    }
    value
}

fn clock(start_minute: i64, poll: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 2, 8, 0, 0)
        .single()
        .expect("a time")
        + Duration::minutes(start_minute + 5 * i64::try_from(poll).expect("few polls"))
}

/// Runs a history without crashes on a clock; returns the events in the order sent.
fn run_without_crashes(
    initials: &[u32],
    steps: &[Step],
    start_minute: i64,
) -> Result<(History, Poller, Vec<OrderEvent>), TestCaseError> {
    let mut history = History::new(initials);
    let mut poller = Poller::new();
    let mut sent = Vec::new();
    let mut polls = 0;
    let final_read = Step::Poll {
        read: Read::Newest,
        crash_after_send: false,
    };
    for step in steps.iter().copied().chain([final_read]) {
        let Step::Poll { read, .. } = step else {
            if let Step::Change(change) = step {
                history.apply(change);
            }
            continue;
        };
        let version = poller.pick(&history, read);
        let covered = poller.covered.is_some_and(|covered| version <= covered);
        let stale = poller.covered.is_some_and(|covered| version < covered);
        let poll = poller.poll(&history, version, clock(start_minute, polls), false)?;
        polls += 1;
        if covered {
            // A snapshot no newer than what the ledger holds has nothing new: no event,
            // no write. Before the import too: an older snapshot showing the order alive
            // after a newer one showed it canceled must not import it (issue 12, item 5).
            prop_assert!(
                poll.events.is_empty(),
                "read of version {} emitted {:?}",
                version,
                poll.events
            );
            prop_assert!(
                !poll.ledger_changed,
                "read of version {} changed the ledger",
                version
            );
        }
        if !stale {
            // Anomalies (quantities going back) come only from snapshots older than
            // what the ledger holds.
            prop_assert_eq!(
                poll.anomalies,
                0,
                "anomalies on a current read of version {}",
                version
            );
        }
        sent.extend(poll.events);
    }
    Ok((history, poller, sent))
}

// 128 cases: each case diffs up to ~30 snapshots, twice for the clock check, which is
// the slowest part of this module on CI's 2 cores.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// No crashes, reads in any order: every change is emitted exactly once, in order,
    /// and the stream does not depend on when the polls ran.
    #[test]
    fn out_of_order_reads_emit_each_change_once((initials, steps) in steps(false)) {
        let (history, _, sent) = run_without_crashes(&initials, &steps, 0)?;
        let newest = history.versions.len() - 1;

        // Nothing was sent twice, and sequence numbers count 1, 2, 3, … as sent.
        let ids: BTreeSet<Uuid> = sent.iter().map(OrderEvent::event_id).collect();
        prop_assert_eq!(ids.len(), sent.len(), "an event id was sent twice");
        let sequences: Vec<u64> = sent.iter().map(OrderEvent::sequence).collect();
        prop_assert_eq!(sequences, (1..=sent.len() as u64).collect::<Vec<_>>());
        // Only an order canceled before any poll saw it alive is never imported.
        match sent.first() {
            Some(first) => prop_assert_eq!(first.kind(), EventKind::Created),
            None => prop_assert!(history.wholly_canceled(newest)),
        }
        prop_assert!(sent.iter().skip(1).all(|event| event.kind() != EventKind::Created));

        // Per line and state, each event adds exactly the pieces it says, on top of the
        // previous cumulative: no level is reported twice, none skipped, none reversed.
        let mut reported: BTreeMap<(Uuid, Bucket), u32> = BTreeMap::new();
        for event in &sent {
            for (line, bucket, newly, cumulative) in quantities(event) {
                let before = reported.entry((line, bucket)).or_default();
                prop_assert_eq!(*before + newly, cumulative, "{:?} of {}", bucket, line);
                *before = cumulative;
            }
        }
        for (line, truth) in history.truth(newest) {
            for bucket in BUCKETS {
                let emitted = reported.get(&(line, bucket)).copied().unwrap_or(0);
                let expected = if sent.is_empty() { 0 } else { truth.get(bucket) };
                prop_assert_eq!(emitted, expected, "{:?} of {}", bucket, line);
            }
        }
        let whole = sent.iter().filter(|event| matches!(event, OrderEvent::Canceled(c) if c.whole_order)).count();
        prop_assert_eq!(whole, usize::from(history.wholly_canceled(newest) && !sent.is_empty()));

        // The same history read on another clock: the same ids, sequences and payloads.
        let (_, _, shifted) = run_without_crashes(&initials, &steps, 17)?;
        prop_assert_eq!(shifted.len(), sent.len());
        for (a, b) in sent.iter().zip(&shifted) {
            prop_assert_eq!(comparable(a), comparable(b));
        }
    }

    /// Crashes between send and ledger write, then reads in any order (a retry that
    /// reads an older snapshot included). A consumer following docs/ORDER-EVENTS.md
    /// (deduplicate by event id, apply cumulative quantities) ends exactly at what
    /// happened; one event id always stands for one state.
    #[test]
    fn crashes_and_stale_reads_are_healed_by_the_documented_consumer((initials, steps) in steps(true)) {
        let mut history = History::new(&initials);
        let mut poller = Poller::new();
        let mut seen: BTreeMap<Uuid, IdState> = BTreeMap::new();
        let mut applied: BTreeMap<(Uuid, Bucket), u32> = BTreeMap::new();
        let mut created = 0;
        let final_read = Step::Poll { read: Read::Newest, crash_after_send: false };
        for (polls, step) in steps.iter().copied().chain([final_read]).enumerate() {
            let Step::Poll { read, crash_after_send } = step else {
                if let Step::Change(change) = step {
                    history.apply(change);
                }
                continue;
            };
            let version = poller.pick(&history, read);
            let poll = poller.poll(&history, version, clock(0, polls), crash_after_send)?;
            for event in poll.events {
                // The state an id stands for: its type and the cumulative quantities of
                // every line. An event lists only lines with new pieces, and a re-send
                // after a crash may count from another ledger, so two sends of one id
                // may list different lines, but never different totals for one line.
                let whole = matches!(&event, OrderEvent::Canceled(c) if c.whole_order);
                let levels: BTreeMap<(Uuid, Bucket), u32> = quantities(&event)
                    .into_iter()
                    .map(|(line, bucket, _, cumulative)| ((line, bucket), cumulative))
                    .collect();
                if let Some((kind, earlier_whole, earlier)) = seen.get(&event.event_id()) {
                    prop_assert_eq!(*kind, event.kind(), "one id, two types");
                    prop_assert_eq!(*earlier_whole, whole, "one id, two whole-order flags");
                    for (key, level) in &levels {
                        if let Some(earlier_level) = earlier.get(key) {
                            prop_assert_eq!(earlier_level, level, "one id, two totals for {:?}", key);
                        }
                    }
                    continue;
                }
                seen.insert(event.event_id(), (event.kind(), whole, levels.clone()));
                if event.kind() == EventKind::Created {
                    created += 1;
                }
                for (line, bucket, _, cumulative) in quantities(&event) {
                    let level = applied.entry((line, bucket)).or_default();
                    *level = (*level).max(cumulative);
                }
            }
        }
        let newest = history.versions.len() - 1;
        prop_assert!(created <= 1, "order.created under {} ids", created);
        for (line, truth) in history.truth(newest) {
            for bucket in BUCKETS {
                let level = applied.get(&(line, bucket)).copied().unwrap_or(0);
                let expected = if created == 1 { truth.get(bucket) } else { 0 };
                prop_assert_eq!(level, expected, "{:?} of {}", bucket, line);
            }
        }
    }
}
