//! The seeded workload: which orders are placed, what the merchant does in the shop and
//! which commands Afosto sends in each round, including the duplicates, twins, reordered
//! stock levels and deliberately broken commands. Every decision is applied to the model
//! at once, so the model always knows what the shop must show.

use std::collections::BTreeMap;

use connector::ports::queue::OutgoingMessage;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{Order, Outcome};
use super::stock::{COUNTING_LOCATIONS, IGNORED_LOCATION, Stock};

pub const SHOPS: usize = 4;
pub const ORDERS: usize = 1000;
pub const COMMANDS: usize = 1000;
pub const ROUNDS: usize = 8;
/// Orders are placed in the first rounds, so the later ones have time to play out.
pub const ORDER_ROUNDS: usize = 5;
pub const PRODUCTS: [&str; 4] = ["P-A", "P-B", "P-C", "P-D"];
pub const STOCK_SKUS: [&str; 5] = ["STK-0", "STK-1", "STK-2", "STK-3", "STK-4"];
pub const INITIAL_STOCK: i64 = 40;

/// SplitMix64: small, seedable, and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `1..=n`.
    pub fn upto(&mut self, n: u32) -> u32 {
        1 + (self.next_u64() % u64::from(n.max(1))) as u32
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= probability
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A merchant action in the shop, between two polls.
#[derive(Clone, Debug)]
pub enum Merchant {
    Pay,
    /// `lines` empty: every unshipped piece.
    Ship {
        lines: Vec<(usize, u32)>,
        tracking_code: String,
    },
    DeliverAll,
    Cancel,
    CancelItems(Vec<(usize, u32)>),
    Return(Vec<(usize, u32, bool)>),
    ReadyForPickup,
    PickedUp,
}

/// An order to place.
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub shop: usize,
    pub pickup: bool,
    pub lines: Vec<(&'static str, u32)>,
    pub by_number: bool,
}

/// A message that must end in the command DLQ, with its reason.
#[derive(Clone, Debug)]
pub struct ExpectedDeadLetter {
    pub body: String,
    pub reason_prefix: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct WorkloadStats {
    pub merchant_actions: usize,
    pub order_commands: usize,
    pub stock_commands: usize,
    pub stale_stock: usize,
    /// Shop orders with pieces of a stock SKU (they take the shop's stock).
    pub stock_orders: usize,
    pub twins: usize,
    pub copies_same_window: usize,
    pub copies_after_window: usize,
    pub permanent_failures: usize,
    /// Orders whose changes the webhook fast path sent before the commands ran.
    pub fast_path_reads: usize,
}

/// One action an order can take next.
#[derive(Clone, Debug)]
enum Op {
    Pay,
    Ship { lines: Vec<(usize, u32)>, all: bool },
    Deliver(usize),
    CancelLines(Vec<(usize, u32)>),
    CancelWhole,
    Return(Vec<(usize, u32, bool)>),
    Ready,
    PickedUp,
}

pub struct Workload {
    rng: Rng,
    pub orders: Vec<Vec<Order>>,
    pub stock: Vec<BTreeMap<String, Stock>>,
    /// `(tenant, command id)` → how it must end.
    pub results: BTreeMap<(String, String), Outcome>,
    /// Command ids delivered more than once (their result may be re-emitted, same id).
    pub redelivered: BTreeMap<(String, String), usize>,
    pub dead_letters: Vec<ExpectedDeadLetter>,
    pub stats: WorkloadStats,
    commands_sent: usize,
    next_id: u64,
    /// The clock of the round being generated (ms): Afosto observes its stock levels
    /// around it, the connector emits orders at it.
    pub now_ms: i64,
    /// Copies held back to the next round, after SQS's deduplication window.
    late_copies: Vec<OutgoingMessage>,
}

pub fn tenant(shop: usize) -> String {
    format!("chaos-{shop}")
}

impl Workload {
    pub fn new(seed: u64) -> Self {
        let stock = (0..SHOPS)
            .map(|_| {
                STOCK_SKUS
                    .iter()
                    .map(|sku| ((*sku).to_owned(), Stock::new(INITIAL_STOCK)))
                    .collect()
            })
            .collect();
        Self {
            rng: Rng::new(seed),
            orders: vec![Vec::new(); SHOPS],
            stock,
            results: BTreeMap::new(),
            redelivered: BTreeMap::new(),
            dead_letters: Vec::new(),
            stats: WorkloadStats::default(),
            commands_sent: 0,
            next_id: 0,
            now_ms: 0,
            late_copies: Vec::new(),
        }
    }

    pub fn commands_sent(&self) -> usize {
        self.commands_sent
    }

    /// The orders to place in `round`.
    pub fn new_orders(&mut self, round: usize) -> Vec<NewOrder> {
        if round >= ORDER_ROUNDS {
            return Vec::new();
        }
        let per_shop = ORDERS / SHOPS / ORDER_ROUNDS;
        let mut orders = Vec::new();
        for shop in 0..SHOPS {
            for _ in 0..per_shop {
                let mut products = PRODUCTS.to_vec();
                self.rng.shuffle(&mut products);
                let count = 1 + self.rng.below(2);
                let mut lines: Vec<(&'static str, u32)> = products[..count]
                    .iter()
                    .map(|sku| (*sku, self.rng.upto(3)))
                    .collect();
                // Some orders take stock of a SKU whose levels Afosto sends: the shop's
                // own decrement, and possibly an order Afosto cannot know yet.
                if self.rng.chance(0.3) {
                    let sku = STOCK_SKUS[self.rng.below(STOCK_SKUS.len())];
                    let pieces = self.rng.upto(3);
                    self.stock[shop]
                        .get_mut(sku)
                        .expect("a stock SKU")
                        .order_placed(i64::from(pieces));
                    self.stats.stock_orders += 1;
                    lines.push((sku, pieces));
                }
                orders.push(NewOrder {
                    shop,
                    pickup: self.rng.chance(0.2),
                    lines,
                    by_number: self.rng.chance(0.2),
                });
            }
        }
        orders
    }

    pub fn register(&mut self, shop: usize, order: Order) {
        self.orders[shop].push(order);
    }

    /// Merchant actions of `round`, applied to the model; `(shop, order index, action)`.
    pub fn merchant_actions(&mut self, round: usize) -> Vec<(usize, usize, Merchant)> {
        let mut actions = Vec::new();
        for shop in 0..SHOPS {
            for index in 0..self.orders[shop].len() {
                let fresh = self.orders[shop][index].created_round == round;
                // New orders are often paid at once; older ones change now and then.
                let probability = if fresh { 0.5 } else { 0.2 };
                if !self.rng.chance(probability) {
                    continue;
                }
                let ops = candidates(&self.orders[shop][index], true, &mut self.rng);
                if ops.is_empty() {
                    continue;
                }
                let op = ops[self.rng.below(ops.len())].clone();
                let tracking = format!("M-{shop}-{index}-{}", self.next());
                let order = &mut self.orders[shop][index];
                let action = match op {
                    Op::Pay => {
                        order.paid = true;
                        Merchant::Pay
                    }
                    Op::Ship { lines, all } => {
                        order.ship(&lines, &tracking);
                        Merchant::Ship {
                            lines: if all { Vec::new() } else { lines },
                            tracking_code: tracking,
                        }
                    }
                    Op::Deliver(_) => {
                        order.deliver_all();
                        Merchant::DeliverAll
                    }
                    Op::CancelLines(lines) => {
                        order.cancel(&lines);
                        Merchant::CancelItems(lines)
                    }
                    Op::CancelWhole => {
                        order.cancel_open();
                        Merchant::Cancel
                    }
                    Op::Return(lines) => {
                        order.take_back(&lines);
                        Merchant::Return(lines)
                    }
                    Op::Ready => {
                        order.ready_for_pickup();
                        Merchant::ReadyForPickup
                    }
                    Op::PickedUp => {
                        order.picked_up();
                        Merchant::PickedUp
                    }
                };
                self.stats.merchant_actions += 1;
                actions.push((shop, index, action));
            }
        }
        actions
    }

    /// Afosto's commands of `round`, in queue order, applied to the model.
    pub fn commands(&mut self, round: usize) -> Vec<OutgoingMessage> {
        let mut deliveries = std::mem::take(&mut self.late_copies);
        let quota = if round + 1 == ROUNDS {
            COMMANDS - self.commands_sent
        } else {
            COMMANDS / ROUNDS
        };
        let per_shop = quota / SHOPS;
        for shop in 0..SHOPS {
            let budget = if shop + 1 == SHOPS {
                quota - per_shop * (SHOPS - 1)
            } else {
                per_shop
            };
            let mut made = 0;
            if round == 2 {
                made += self.permanent_failures(shop, &mut deliveries);
            }
            let stock = budget / 8;
            for _ in 0..stock {
                made += self.stock_command(shop, &mut deliveries);
            }
            let mut order_indexes: Vec<usize> = (0..self.orders[shop].len()).collect();
            self.rng.shuffle(&mut order_indexes);
            let mut cursor = 0;
            let mut passes = 0;
            while made < budget {
                if cursor == order_indexes.len() {
                    // Every order had its chance: top the budget up with stock levels.
                    cursor = 0;
                    passes += 1;
                    if passes > 1 || order_indexes.is_empty() {
                        made += self.stock_command(shop, &mut deliveries);
                        continue;
                    }
                }
                let index = order_indexes[cursor];
                cursor += 1;
                made += self.order_command(shop, index, &mut deliveries);
            }
        }
        deliveries
    }

    fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends `body` (and maybe copies of it); returns the commands it counts as.
    fn send(&mut self, shop: usize, body: Value, outcome: Outcome, out: &mut Vec<OutgoingMessage>) {
        let text = body.to_string();
        let command = contracts::command::parse_command(text.as_bytes())
            .unwrap_or_else(|e| panic!("the workload writes valid commands: {e}: {text}"));
        let id = command.id.to_string();
        let group = command.message_group_id();
        let key = (tenant(shop), id.clone());
        assert!(self.results.insert(key.clone(), outcome).is_none());
        self.commands_sent += 1;
        out.push(OutgoingMessage::fifo(
            text.clone(),
            group.clone(),
            id.clone(),
        ));
        if self.rng.chance(0.06) {
            // Redelivered with another message id (a producer retry, a DLQ replay).
            self.stats.copies_same_window += 1;
            *self.redelivered.entry(key.clone()).or_default() += 1;
            out.push(OutgoingMessage::fifo(
                text.clone(),
                group.clone(),
                format!("{id}#copy"),
            ));
        } else if self.rng.chance(0.03) {
            // The very same message again, after the 5-minute deduplication window.
            self.stats.copies_after_window += 1;
            *self.redelivered.entry(key).or_default() += 1;
            self.late_copies
                .push(OutgoingMessage::fifo(text, group, id));
        }
    }

    fn command_body(&mut self, shop: usize, kind: &str, fields: Value) -> Value {
        let id = format!("c{:05}-{kind}", self.next());
        let mut body = json!({
            "schemaVersion": 1,
            "id": id,
            "tenant": tenant(shop),
            "issuedAt": "2026-01-01T10:00:00Z",
            "type": kind,
        });
        if let (Some(target), Value::Object(extra)) = (body.as_object_mut(), fields) {
            target.extend(extra);
        }
        body
    }

    fn stock_command(&mut self, shop: usize, out: &mut Vec<OutgoingMessage>) -> usize {
        let sku = STOCK_SKUS[self.rng.below(STOCK_SKUS.len())];
        let quantity = self.rng.below(60) as i64;
        // Observed within five minutes either side of the round's clock, never exactly on
        // it (when the connector emits orders): later ones arrive first, and some were
        // observed before the previous round's orders were emitted.
        let offset = 1 + self.rng.below(299_999) as i64;
        let observed_ms = if self.rng.chance(0.5) {
            self.now_ms + offset
        } else {
            self.now_ms - offset
        };
        let observed = chrono::DateTime::from_timestamp_millis(observed_ms)
            .expect("valid time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let location = if self.rng.chance(0.1) {
            IGNORED_LOCATION
        } else {
            COUNTING_LOCATIONS[self.rng.below(COUNTING_LOCATIONS.len())]
        };
        let body = self.command_body(
            shop,
            "stock",
            json!({ "sku": sku, "quantity": quantity, "location": location,
                    "observedAt": observed }),
        );
        let outcome = self.stock[shop].get_mut(sku).expect("a stock SKU").apply(
            location,
            quantity,
            observed_ms,
        );
        if outcome == Outcome::Skipped("stale_observation") {
            self.stats.stale_stock += 1;
        }
        self.stats.stock_commands += 1;
        self.send(shop, body, outcome, out);
        1
    }

    fn order_ref(order: &Order) -> Value {
        if order.by_number {
            json!({ "number": order.number })
        } else {
            json!({ "id": order.id })
        }
    }

    /// One command for the order (plus maybe a twin under another id); 0 when the order
    /// has nothing left to do.
    fn order_command(
        &mut self,
        shop: usize,
        index: usize,
        out: &mut Vec<OutgoingMessage>,
    ) -> usize {
        let ops = candidates(&self.orders[shop][index], false, &mut self.rng);
        if ops.is_empty() {
            return 0;
        }
        let op = ops[self.rng.below(ops.len())].clone();
        let tracking = format!("T-{shop}-{index}-{}", self.next());
        let order = &mut self.orders[shop][index];
        let reference = Self::order_ref(order);
        let sku = |order: &Order, i: usize| order.lines[i].sku.clone();
        let (kind, fields) = match op {
            Op::Pay => unreachable!("Afosto does not pay orders"),
            Op::Ship { lines, all } => {
                let fields = if all {
                    json!({ "order": reference, "allUnshipped": true,
                            "trackingCode": tracking, "carrier": "DHL" })
                } else {
                    let lines: Vec<Value> = lines
                        .iter()
                        .map(|&(i, n)| json!({ "sku": sku(order, i), "quantity": n }))
                        .collect();
                    json!({ "order": reference, "lines": lines, "trackingCode": tracking,
                            "shipmentReference": format!("parcel-{tracking}"),
                            "carrier": "POSTNL" })
                };
                order.ship(&lines, &tracking);
                ("ship", fields)
            }
            Op::Deliver(shipment) => {
                let code = order.shipments[shipment].tracking_code.clone();
                order.deliver(shipment);
                (
                    "deliver",
                    json!({ "order": reference, "trackingCode": code }),
                )
            }
            Op::CancelLines(lines) => {
                // Targets: the total canceled per line, earlier cancelations included.
                let targets: Vec<Value> = lines
                    .iter()
                    .map(|&(i, n)| {
                        json!({ "sku": sku(order, i),
                                "quantity": order.lines[i].buckets.canceled + n })
                    })
                    .collect();
                order.cancel(&lines);
                ("cancel", json!({ "order": reference, "lines": targets }))
            }
            Op::CancelWhole => {
                order.cancel_open();
                (
                    "cancel",
                    json!({ "order": reference, "wholeOrder": true,
                                   "comment": "chaos" }),
                )
            }
            Op::Return(lines) => {
                let targets: Vec<Value> = lines
                    .iter()
                    .map(|&(i, n, broken)| {
                        let b = order.lines[i].buckets;
                        let (already, decision) = if broken {
                            (b.broken, "rejected")
                        } else {
                            (b.returned, "accepted")
                        };
                        json!({ "sku": sku(order, i), "quantity": already + n,
                                "decision": decision })
                    })
                    .collect();
                order.take_back(&lines);
                ("return", json!({ "order": reference, "lines": targets }))
            }
            Op::Ready => {
                order.ready_for_pickup();
                ("ready_for_pickup", json!({ "order": reference }))
            }
            Op::PickedUp => {
                order.picked_up();
                ("picked_up", json!({ "order": reference }))
            }
        };
        let body = self.command_body(shop, kind, fields.clone());
        self.stats.order_commands += 1;
        self.send(shop, body, Outcome::Applied, out);
        let mut made = 1;
        if self.rng.chance(0.05) {
            // Afosto sends the same intent under a second id: it must find it in effect.
            let twin = self.command_body(shop, kind, fields);
            self.stats.twins += 1;
            self.send(shop, twin, Outcome::Skipped("already_in_effect"), out);
            made += 1;
        }
        made
    }

    /// Commands that can never succeed, each dead-lettered with its reason.
    fn permanent_failures(&mut self, shop: usize, out: &mut Vec<OutgoingMessage>) -> usize {
        let unknown = self.command_body(
            shop,
            "cancel",
            json!({ "order": { "id": Uuid::from_u128(0xdead_0000 + shop as u128) },
                    "wholeOrder": true }),
        );
        self.dead_letters.push(ExpectedDeadLetter {
            body: unknown.to_string(),
            reason_prefix: "unknown_order",
        });
        self.send_once(shop, unknown, Outcome::Failed("unknown_order"), out);
        let mut made = 1;
        let pickup = self.orders[shop]
            .iter()
            .find(|order| order.pickup && !order.wholly_canceled())
            .map(Self::order_ref);
        if let Some(reference) = pickup {
            let ship = self.command_body(
                shop,
                "ship",
                json!({ "order": reference, "allUnshipped": true, "trackingCode": "NOPE" }),
            );
            self.dead_letters.push(ExpectedDeadLetter {
                body: ship.to_string(),
                reason_prefix: "pickup_order",
            });
            self.send_once(shop, ship, Outcome::Failed("pickup_order"), out);
            made += 1;
        }
        let broken = format!("{{\"schemaVersion\": 1, \"id\": \"c-broken-{shop}\", \"tenant\": ");
        self.dead_letters.push(ExpectedDeadLetter {
            body: broken.clone(),
            reason_prefix: "malformed_json",
        });
        out.push(OutgoingMessage::fifo(
            broken,
            format!("raw-{shop}"),
            format!("raw-{shop}-broken"),
        ));
        self.stats.permanent_failures += made + 1;
        self.commands_sent += 1;
        made + 1
    }

    /// Without copies: a dead-lettered copy would be a second expected dead letter.
    fn send_once(
        &mut self,
        shop: usize,
        body: Value,
        outcome: Outcome,
        out: &mut Vec<OutgoingMessage>,
    ) {
        let text = body.to_string();
        let command = contracts::command::parse_command(text.as_bytes())
            .unwrap_or_else(|e| panic!("a valid command: {e}"));
        let id = command.id.to_string();
        assert!(
            self.results
                .insert((tenant(shop), id.clone()), outcome)
                .is_none()
        );
        self.commands_sent += 1;
        out.push(OutgoingMessage::fifo(text, command.message_group_id(), id));
    }

    /// A read of order `index` of `shop` now: the events it must produce, and, when it is
    /// the order's import, its pieces emitted to Afosto at `now_ms` (its stock SKUs). An
    /// order canceled before any read is never emitted.
    pub fn read(&mut self, shop: usize, index: usize, now_ms: i64) {
        let order = &mut self.orders[shop][index];
        let was_imported = order.imported;
        order.poll();
        if was_imported || !order.imported {
            return;
        }
        for line in &order.lines {
            if let Some(stock) = self.stock[shop].get_mut(&line.sku) {
                stock.order_emitted(i64::from(line.quantity), now_ms);
            }
        }
    }

    /// The scheduled poll after a round reads every order.
    pub fn poll_all(&mut self, now_ms: i64) {
        for shop in 0..SHOPS {
            for index in 0..self.orders[shop].len() {
                self.read(shop, index, now_ms);
            }
        }
    }
}

/// What an order can do next; `merchant` selects the shop-side actions.
fn candidates(order: &Order, merchant: bool, rng: &mut Rng) -> Vec<Op> {
    let mut ops = Vec::new();
    if order.wholly_canceled() {
        return ops;
    }
    // A cancelation or return re-opens or voids the payment; pay only untouched orders.
    let untouched = order
        .lines
        .iter()
        .all(|l| l.buckets.canceled + l.buckets.returned + l.buckets.broken == 0);
    if merchant && !order.paid && untouched {
        ops.push(Op::Pay);
    }
    let lines = order.lines.len();
    let cancelable: Vec<usize> = (0..lines).filter(|&i| order.cancelable(i) > 0).collect();
    if !cancelable.is_empty() {
        let mut some: Vec<(usize, u32)> = Vec::new();
        for &i in &cancelable {
            if rng.chance(0.7) {
                some.push((i, rng.upto(order.cancelable(i))));
            }
        }
        let some = if some.is_empty() {
            vec![(cancelable[0], 1)]
        } else {
            some
        };
        ops.push(Op::CancelLines(some));
        if !merchant || order.nothing_handed_out() {
            ops.push(Op::CancelWhole);
        }
    }
    if order.pickup {
        match order.pickup_process {
            None if order.open_pieces() > 0 => {
                ops.push(Op::Ready);
                if !merchant {
                    ops.push(Op::PickedUp);
                }
            }
            Some(super::model::PickupStatus::Ready) => ops.push(Op::PickedUp),
            _ => {}
        }
    } else {
        let unshipped = order.unshipped();
        if !unshipped.is_empty() {
            let mut partial: Vec<(usize, u32)> = Vec::new();
            for &(i, n) in &unshipped {
                if rng.chance(0.6) {
                    partial.push((i, rng.upto(n)));
                }
            }
            if !partial.is_empty() {
                ops.push(Op::Ship {
                    lines: partial,
                    all: false,
                });
            }
            ops.push(Op::Ship {
                lines: unshipped,
                all: true,
            });
        }
        let shipped = order.shipped_shipments();
        if !shipped.is_empty() {
            ops.push(Op::Deliver(shipped[rng.below(shipped.len())]));
        }
    }
    let returnable: Vec<usize> = (0..lines).filter(|&i| order.returnable(i) > 0).collect();
    if !returnable.is_empty() {
        let mut back = Vec::new();
        for &i in &returnable {
            let can = order.returnable(i);
            let pieces = rng.upto(can);
            if can > pieces && rng.chance(0.3) {
                // Both decisions for one line: some accepted, some rejected.
                back.push((i, pieces, false));
                back.push((i, rng.upto(can - pieces), true));
            } else {
                back.push((i, pieces, rng.chance(0.3)));
            }
        }
        ops.push(Op::Return(back));
    }
    ops
}
