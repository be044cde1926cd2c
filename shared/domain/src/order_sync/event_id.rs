//! Deterministic event ids.
//!
//! `eventId = UUIDv5(ORDER_EVENT_NAMESPACE, "{tenant}|{orderId}|{type}|{state}")`, where
//! `state` is the cumulative state of the event's bucket *after* the change:
//!
//! - `order.created`: empty (an order is created once);
//! - `order.canceled`: `whole=0|1;` then the canceled lines;
//! - `order.returned`: each line as `{lineItemId}={returned}/{broken}`;
//! - the others: each line as `{lineItemId}={cumulative}`;
//!
//! lines sorted by line item id, only lines with a non-zero count, joined by `,`. Because
//! a bucket's cumulative state strictly grows with every event of that type, two different
//! changes never share an id, and the same change always gets the same one: a crash
//! after sending and before the ledger write re-sends identical ids, which SQS FIFO
//! (deduplication id = event id) and Afosto discard.

use std::fmt::Write;

use uuid::Uuid;

use contracts::order_event::EventKind;

use super::ledger::{Bucket, LedgerState};

/// `UUIDv5(NAMESPACE_URL, "urn:epages-sync:order-event:v1")`, fixed forever: changing it
/// would give every past event a new id.
pub const ORDER_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x46b8642b_96e5_5115_8afa_e3dcb1d14373);

/// The id of an event of `kind` for `order_id` whose bucket state after the change is
/// `state` (built by [`bucket_state`], [`canceled_state`] or [`returned_state`]).
pub fn event_id(tenant: &str, order_id: Uuid, kind: EventKind, state: &str) -> Uuid {
    let name = format!("{tenant}|{order_id}|{}|{state}", kind.as_str());
    Uuid::new_v5(&ORDER_EVENT_NAMESPACE, name.as_bytes())
}

/// `{lineItemId}={count}` for every line with a non-zero count in `bucket`.
pub fn bucket_state(ledger: &LedgerState, bucket: Bucket) -> String {
    join_lines(ledger, |counters| {
        let count = counters.get(bucket);
        (count > 0).then(|| count.to_string())
    })
}

pub fn canceled_state(ledger: &LedgerState) -> String {
    format!(
        "whole={};{}",
        u8::from(ledger.whole_order_canceled),
        bucket_state(ledger, Bucket::Canceled)
    )
}

pub fn returned_state(ledger: &LedgerState) -> String {
    join_lines(ledger, |counters| {
        (counters.returned > 0 || counters.broken > 0)
            .then(|| format!("{}/{}", counters.returned, counters.broken))
    })
}

fn join_lines(
    ledger: &LedgerState,
    value: impl Fn(&super::ledger::LineCounters) -> Option<String>,
) -> String {
    let mut text = String::new();
    // `lines` is a BTreeMap: iteration is sorted by line item id.
    for (line_item_id, counters) in &ledger.lines {
        if let Some(value) = value(counters) {
            if !text.is_empty() {
                text.push(',');
            }
            // Writing into a String cannot fail.
            let _ = write!(text, "{line_item_id}={value}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_sync::ledger::LineCounters;

    #[test]
    fn namespace_is_the_documented_v5_of_the_urn() {
        assert_eq!(
            ORDER_EVENT_NAMESPACE,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:epages-sync:order-event:v1")
        );
    }

    #[test]
    fn ids_follow_the_documented_recipe() {
        let order = Uuid::from_u128(1);
        let mut ledger = LedgerState::default();
        ledger.lines.insert(
            Uuid::from_u128(3),
            LineCounters {
                shipped: 2,
                ..LineCounters::default()
            },
        );
        ledger.lines.insert(
            Uuid::from_u128(2),
            LineCounters {
                shipped: 1,
                returned: 1,
                ..LineCounters::default()
            },
        );
        let state = bucket_state(&ledger, Bucket::Shipped);
        assert_eq!(
            state,
            "00000000-0000-0000-0000-000000000002=1,00000000-0000-0000-0000-000000000003=2"
        );
        assert_eq!(
            returned_state(&ledger),
            "00000000-0000-0000-0000-000000000002=1/0"
        );
        assert_eq!(canceled_state(&ledger), "whole=0;");
        let expected = Uuid::new_v5(
            &ORDER_EVENT_NAMESPACE,
            format!("shop-1|{order}|order.shipped|{state}").as_bytes(),
        );
        assert_eq!(
            event_id("shop-1", order, EventKind::Shipped, &state),
            expected
        );
        assert_ne!(
            event_id("shop-2", order, EventKind::Shipped, &state),
            expected
        );
        assert_ne!(
            event_id("shop-1", order, EventKind::Delivered, &state),
            expected
        );
    }
}
