//! The test's own model of every order and stock level, written from the contracts
//! (docs/COMMANDS.md, docs/ORDER-EVENTS.md, shared/sandbox/README.md) and not from the connector's
//! code: what each merchant action and each Afosto command does to an order's pieces, and
//! which order events a poll after each round must produce, with their deterministic ids.

use std::collections::BTreeMap;

use uuid::Uuid;

/// `UUIDv5(NAMESPACE_URL, "urn:epages-sync:order-event:v1")`, as docs/ORDER-EVENTS.md gives it.
const ORDER_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x46b8642b_96e5_5115_8afa_e3dcb1d14373);

/// Where the pieces of one line are (the sandbox's partition of the ordered quantity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Buckets {
    pub unshipped: u32,
    pub pending: u32,
    pub shipped: u32,
    pub delivered: u32,
    pub not_picked_up: u32,
    pub ready_for_pickup: u32,
    pub picked_up: u32,
    pub canceled: u32,
    pub returned: u32,
    pub broken: u32,
}

/// How many pieces of a line ever reached each state (the table in ORDER-EVENTS.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub canceled: u32,
    pub shipped: u32,
    pub delivered: u32,
    pub ready_for_pickup: u32,
    pub picked_up: u32,
    pub returned: u32,
    pub broken: u32,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub id: Uuid,
    pub sku: String,
    pub quantity: u32,
    pub buckets: Buckets,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShipStatus {
    Shipped,
    Delivered,
}

#[derive(Clone, Debug)]
pub struct Shipment {
    pub tracking_code: String,
    pub status: ShipStatus,
    /// `(line index, pieces)`.
    pub lines: Vec<(usize, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickupStatus {
    Ready,
    PickedUp,
}

/// One event the poller must emit, as Afosto would key it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedEvent {
    pub kind: &'static str,
    pub sequence: u64,
    pub event_id: Uuid,
    pub whole_order: bool,
    /// Per line: `[new, cumulative]`, or for returns `[new returned, new broken,
    /// cumulative returned, cumulative broken]`.
    pub lines: BTreeMap<Uuid, Vec<u32>>,
    /// Tracking codes of the shipments first reported by this event.
    pub shipments: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub tenant: String,
    pub id: Uuid,
    pub number: String,
    pub pickup: bool,
    /// Commands name this order by number instead of id (always the same way).
    pub by_number: bool,
    pub created_round: usize,
    pub lines: Vec<Line>,
    pub shipments: Vec<Shipment>,
    pub pickup_process: Option<PickupStatus>,
    pub paid: bool,
    /// What the connector has emitted so far (the model's ledger).
    pub imported: bool,
    pub emitted: Vec<Counters>,
    pub whole_emitted: bool,
    pub reported_shipments: usize,
    pub expected: Vec<ExpectedEvent>,
}

impl Order {
    pub fn new(
        tenant: &str,
        id: Uuid,
        number: String,
        pickup: bool,
        lines: Vec<(Uuid, String, u32)>,
        created_round: usize,
    ) -> Self {
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|(id, sku, quantity)| Line {
                id,
                sku,
                quantity,
                buckets: if pickup {
                    Buckets {
                        not_picked_up: quantity,
                        ..Buckets::default()
                    }
                } else {
                    Buckets {
                        unshipped: quantity,
                        ..Buckets::default()
                    }
                },
            })
            .collect();
        let emitted = vec![Counters::default(); lines.len()];
        Self {
            tenant: tenant.to_owned(),
            id,
            number,
            pickup,
            by_number: false,
            created_round,
            lines,
            shipments: Vec::new(),
            pickup_process: None,
            paid: false,
            imported: false,
            emitted,
            whole_emitted: false,
            reported_shipments: 0,
            expected: Vec::new(),
        }
    }

    // ---- questions the workload asks ------------------------------------------------

    pub fn wholly_canceled(&self) -> bool {
        self.lines
            .iter()
            .all(|line| line.buckets.canceled == line.quantity)
    }

    /// Pieces a cancelation can take from line `i` (never pieces ready for pickup: the
    /// workload does not cancel after "ready", whose reporting is a documented corner).
    pub fn cancelable(&self, i: usize) -> u32 {
        let b = self.lines[i].buckets;
        if self.pickup_process.is_some() {
            0
        } else {
            b.unshipped + b.not_picked_up
        }
    }

    pub fn open_pieces(&self) -> u32 {
        (0..self.lines.len()).map(|i| self.cancelable(i)).sum()
    }

    /// Nothing handed out yet: Beyond's whole-order cancel is still offered.
    pub fn nothing_handed_out(&self) -> bool {
        self.shipments.is_empty()
            && self.pickup_process.is_none()
            && self
                .lines
                .iter()
                .all(|line| line.buckets.returned + line.buckets.broken == 0)
    }

    /// Returns are generated only once every piece is out of the shop and delivered (or
    /// picked up), so that where a returned piece is taken from is never in question.
    pub fn returnable(&self, i: usize) -> u32 {
        let settled = if self.pickup {
            self.pickup_process == Some(PickupStatus::PickedUp)
        } else {
            self.lines.iter().all(|line| line.buckets.unshipped == 0)
                && self
                    .shipments
                    .iter()
                    .all(|shipment| shipment.status == ShipStatus::Delivered)
        };
        if !settled {
            return 0;
        }
        let b = self.lines[i].buckets;
        b.delivered + b.picked_up
    }

    pub fn shipped_shipments(&self) -> Vec<usize> {
        (0..self.shipments.len())
            .filter(|&i| self.shipments[i].status == ShipStatus::Shipped)
            .collect()
    }

    // ---- effects ---------------------------------------------------------------------

    /// A shipment of `lines` (`(line, pieces)`), created and marked shipped.
    pub fn ship(&mut self, lines: &[(usize, u32)], tracking_code: &str) {
        for &(i, pieces) in lines {
            let b = &mut self.lines[i].buckets;
            assert!(
                b.unshipped >= pieces,
                "the workload ships only unshipped pieces"
            );
            b.unshipped -= pieces;
            b.shipped += pieces;
        }
        self.shipments.push(Shipment {
            tracking_code: tracking_code.to_owned(),
            status: ShipStatus::Shipped,
            lines: lines.to_vec(),
        });
    }

    /// Every unshipped piece, as `(line, pieces)`.
    pub fn unshipped(&self) -> Vec<(usize, u32)> {
        (0..self.lines.len())
            .filter(|&i| self.lines[i].buckets.unshipped > 0)
            .map(|i| (i, self.lines[i].buckets.unshipped))
            .collect()
    }

    pub fn deliver(&mut self, shipment: usize) {
        let lines = self.shipments[shipment].lines.clone();
        self.shipments[shipment].status = ShipStatus::Delivered;
        for (i, pieces) in lines {
            let b = &mut self.lines[i].buckets;
            b.shipped -= pieces;
            b.delivered += pieces;
        }
    }

    pub fn deliver_all(&mut self) {
        for shipment in self.shipped_shipments() {
            self.deliver(shipment);
        }
    }

    /// Cancels `pieces` more of each listed line.
    pub fn cancel(&mut self, lines: &[(usize, u32)]) {
        for &(i, pieces) in lines {
            assert!(self.cancelable(i) >= pieces);
            let b = &mut self.lines[i].buckets;
            if self.pickup {
                b.not_picked_up -= pieces;
            } else {
                b.unshipped -= pieces;
            }
            b.canceled += pieces;
        }
    }

    /// Cancels every open piece (Beyond's cancel, or the connector's cancelation process
    /// for a partly fulfilled order).
    pub fn cancel_open(&mut self) {
        let open: Vec<(usize, u32)> = (0..self.lines.len())
            .map(|i| (i, self.cancelable(i)))
            .filter(|&(_, pieces)| pieces > 0)
            .collect();
        self.cancel(&open);
    }

    /// Takes back `(line, pieces, broken)`.
    pub fn take_back(&mut self, lines: &[(usize, u32, bool)]) {
        for &(i, pieces, broken) in lines {
            assert!(self.returnable(i) >= pieces);
            let b = &mut self.lines[i].buckets;
            if self.pickup {
                b.picked_up -= pieces;
            } else {
                b.delivered -= pieces;
            }
            if broken {
                b.broken += pieces;
            } else {
                b.returned += pieces;
            }
        }
    }

    pub fn ready_for_pickup(&mut self) {
        self.pickup_process = Some(PickupStatus::Ready);
        for line in &mut self.lines {
            line.buckets.ready_for_pickup += line.buckets.not_picked_up;
            line.buckets.not_picked_up = 0;
        }
    }

    pub fn picked_up(&mut self) {
        if self.pickup_process.is_none() {
            self.ready_for_pickup();
        }
        self.pickup_process = Some(PickupStatus::PickedUp);
        for line in &mut self.lines {
            line.buckets.picked_up += line.buckets.ready_for_pickup;
            line.buckets.ready_for_pickup = 0;
        }
    }

    // ---- what ePages shows, as shared/sandbox/README.md derives it --------------------

    pub fn shipping_status(&self) -> &'static str {
        let sum = self.lines.iter().fold(Buckets::default(), |a, l| {
            let b = l.buckets;
            Buckets {
                shipped: a.shipped + b.shipped,
                delivered: a.delivered + b.delivered,
                ready_for_pickup: a.ready_for_pickup + b.ready_for_pickup,
                picked_up: a.picked_up + b.picked_up,
                canceled: a.canceled + b.canceled,
                returned: a.returned + b.returned,
                broken: a.broken + b.broken,
                pending: a.pending + b.pending,
                ..Buckets::default()
            }
        });
        let total: u32 = self.lines.iter().map(|l| l.quantity).sum();
        if self.wholly_canceled() {
            return "CANCELED";
        }
        let active = total - sum.canceled;
        let back = sum.returned + sum.broken;
        if back > 0 {
            return if back == active {
                "RETURNED"
            } else {
                "PARTIALLY_RETURNED"
            };
        }
        if self.pickup {
            return if sum.picked_up == active {
                "PICKED_UP"
            } else if sum.ready_for_pickup > 0 {
                "READY_FOR_PICKUP"
            } else {
                "NOT_PICKED_UP"
            };
        }
        let out = sum.shipped + sum.delivered;
        if sum.delivered == active {
            "DELIVERED"
        } else if out == active {
            "SHIPPED"
        } else if out > 0 {
            "PARTIALLY_SHIPPED"
        } else if sum.pending > 0 {
            "PENDING"
        } else {
            "UNSHIPPED"
        }
    }

    fn counters(&self, i: usize) -> Counters {
        let line = &self.lines[i];
        let b = line.buckets;
        let back = b.returned + b.broken;
        let not_canceled = line.quantity - b.canceled;
        let mut counters = Counters {
            canceled: b.canceled,
            returned: b.returned,
            broken: b.broken,
            ..Counters::default()
        };
        if self.pickup {
            counters.picked_up = (b.picked_up + back).min(not_canceled);
            counters.ready_for_pickup = (b.ready_for_pickup + counters.picked_up).min(not_canceled);
        } else {
            counters.shipped = (b.shipped + b.delivered + back).min(not_canceled);
            counters.delivered = (b.delivered + back).min(counters.shipped);
        }
        counters
    }

    // ---- the poll after a round --------------------------------------------------------

    /// The events a poll now must emit (and records them as emitted).
    pub fn poll(&mut self) {
        if !self.imported {
            if self.wholly_canceled() {
                // Canceled before import: Afosto never hears of it.
                return;
            }
            self.imported = true;
            self.push(
                "order.created",
                String::new(),
                false,
                BTreeMap::new(),
                Vec::new(),
            );
        }
        let now: Vec<Counters> = (0..self.lines.len()).map(|i| self.counters(i)).collect();
        let ids: Vec<Uuid> = self.lines.iter().map(|l| l.id).collect();

        let newly_whole = self.wholly_canceled() && !self.whole_emitted;
        let canceled = self.advance(&now, &ids, |c| c.canceled, |c, v| c.canceled = v);
        if newly_whole || !canceled.is_empty() {
            self.whole_emitted |= newly_whole;
            let state = format!(
                "whole={};{}",
                u8::from(self.whole_emitted),
                self.state(|c| c.canceled)
            );
            self.push("order.canceled", state, newly_whole, canceled, Vec::new());
        }
        let shipped = self.advance(&now, &ids, |c| c.shipped, |c, v| c.shipped = v);
        if !shipped.is_empty() {
            let codes = self.shipments[self.reported_shipments..]
                .iter()
                .map(|s| s.tracking_code.clone())
                .collect();
            self.reported_shipments = self.shipments.len();
            let state = self.state(|c| c.shipped);
            self.push("order.shipped", state, false, shipped, codes);
        }
        type Get = fn(&Counters) -> u32;
        type Set = fn(&mut Counters, u32);
        let simple: [(&'static str, Get, Set); 3] = [
            ("order.delivered", |c| c.delivered, |c, v| c.delivered = v),
            (
                "order.ready_for_pickup",
                |c| c.ready_for_pickup,
                |c, v| c.ready_for_pickup = v,
            ),
            ("order.picked_up", |c| c.picked_up, |c, v| c.picked_up = v),
        ];
        for (kind, get, set) in simple {
            let lines = self.advance(&now, &ids, get, set);
            if !lines.is_empty() {
                let state = self.state(get);
                self.push(kind, state, false, lines, Vec::new());
            }
        }
        let mut returns: BTreeMap<Uuid, Vec<u32>> = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            let (before, after) = (self.emitted[i], now[i]);
            if after.returned > before.returned || after.broken > before.broken {
                returns.insert(
                    *id,
                    vec![
                        after.returned - before.returned,
                        after.broken - before.broken,
                        after.returned,
                        after.broken,
                    ],
                );
                self.emitted[i].returned = after.returned;
                self.emitted[i].broken = after.broken;
            }
        }
        if !returns.is_empty() {
            let state = self.joined(|c| {
                (c.returned > 0 || c.broken > 0).then(|| format!("{}/{}", c.returned, c.broken))
            });
            self.push("order.returned", state, false, returns, Vec::new());
        }
    }

    /// Lines whose counter grew: `[new, cumulative]`; the ledger takes the new values.
    fn advance(
        &mut self,
        now: &[Counters],
        ids: &[Uuid],
        get: impl Fn(&Counters) -> u32,
        set: impl Fn(&mut Counters, u32),
    ) -> BTreeMap<Uuid, Vec<u32>> {
        let mut lines = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            let (before, after) = (get(&self.emitted[i]), get(&now[i]));
            if after > before {
                lines.insert(*id, vec![after - before, after]);
                set(&mut self.emitted[i], after);
            }
        }
        lines
    }

    fn state(&self, get: impl Fn(&Counters) -> u32) -> String {
        self.joined(|c| {
            let count = get(c);
            (count > 0).then(|| count.to_string())
        })
    }

    /// `{lineItemId}={value}` over the emitted counters, sorted by line id, zeros left out.
    fn joined(&self, value: impl Fn(&Counters) -> Option<String>) -> String {
        let mut lines: Vec<(Uuid, String)> = self
            .lines
            .iter()
            .zip(&self.emitted)
            .filter_map(|(line, c)| value(c).map(|v| (line.id, v)))
            .collect();
        lines.sort();
        lines
            .iter()
            .map(|(id, v)| format!("{id}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn push(
        &mut self,
        kind: &'static str,
        state: String,
        whole_order: bool,
        lines: BTreeMap<Uuid, Vec<u32>>,
        shipments: Vec<String>,
    ) {
        let name = format!("{}|{}|{kind}|{state}", self.tenant, self.id);
        self.expected.push(ExpectedEvent {
            kind,
            sequence: self.expected.len() as u64 + 1,
            event_id: Uuid::new_v5(&ORDER_EVENT_NAMESPACE, name.as_bytes()),
            whole_order,
            lines,
            shipments,
        });
    }
}

/// What a command must end in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Skipped(&'static str),
    Failed(&'static str),
}
