//! The request journal: every API request the sandbox answered (or dropped), and every webhook
//! delivery it attempted, in order. Tests read it to assert what a client actually sent, how
//! often it retried, and which faults it saw.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::glob_matches;

/// What happened to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outcome {
    /// An HTTP response with this status was sent.
    Responded { status: u16 },
    /// The connection was closed without a response. `applied` says whether the operation
    /// took effect before the drop.
    Dropped { applied: bool },
    /// A webhook delivery: `status` is the receiver's answer, absent when the POST failed.
    Delivered {
        status: Option<u16>,
        error: Option<String>,
    },
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Responded { status } => Some(*status),
            Outcome::Delivered { status, .. } => *status,
            Outcome::Dropped { .. } => None,
        }
    }

    pub fn is_dropped(&self) -> bool {
        matches!(self, Outcome::Dropped { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// The shop the request addressed; `None` for requests outside `/shops/{shop}/api`.
    pub shop: Option<String>,
    /// `GET`, `POST`, ... or `WEBHOOK` for an outgoing delivery.
    pub method: String,
    /// The path below the shop's API root (e.g. `/orders/abc/processes/shippings`), or the
    /// full path for requests outside a shop; the callback URI for webhook deliveries.
    pub path: String,
    pub query: Option<String>,
    pub outcome: Outcome,
    /// The request body of writes (parsed as JSON when possible).
    pub request_body: Option<Value>,
    /// The id of the injected fault that shaped this response, if any.
    pub fault_id: Option<u64>,
    /// For webhook deliveries: the event type.
    pub event_type: Option<String>,
}

/// Filters for reading the journal; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JournalFilter {
    pub shop: Option<String>,
    pub method: Option<String>,
    /// A glob over `path` (`*` = one segment, `**` = any number of segments).
    pub path: Option<String>,
    /// Only entries with `seq` greater than this.
    pub after_seq: Option<u64>,
    /// Only API requests (`false`) or only webhook deliveries (`true`).
    pub webhooks: Option<bool>,
}

impl JournalFilter {
    pub fn matches(&self, entry: &JournalEntry) -> bool {
        let is_webhook = entry.method == WEBHOOK_METHOD;
        self.shop
            .as_ref()
            .is_none_or(|shop| entry.shop.as_ref() == Some(shop))
            && self
                .method
                .as_ref()
                .is_none_or(|method| method.eq_ignore_ascii_case(&entry.method))
            && self
                .path
                .as_ref()
                .is_none_or(|pattern| glob_matches(pattern, &entry.path))
            && self.after_seq.is_none_or(|after| entry.seq > after)
            && self.webhooks.is_none_or(|webhooks| webhooks == is_webhook)
    }
}

pub const WEBHOOK_METHOD: &str = "WEBHOOK";

/// An entry before it gets its sequence number.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at: DateTime<Utc>,
    pub shop: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub outcome: Outcome,
    pub request_body: Option<Value>,
    pub fault_id: Option<u64>,
    pub event_type: Option<String>,
}

#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<JournalInner>,
}

/// The journal keeps the latest entries only, so long benchmark runs stay bounded.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default)]
struct JournalInner {
    next_seq: u64,
    entries: VecDeque<JournalEntry>,
}

impl Journal {
    pub fn record(&self, entry: NewEntry) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.next_seq += 1;
        let seq = inner.next_seq;
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.pop_front();
        }
        inner.entries.push_back(JournalEntry {
            seq,
            at: entry.at,
            shop: entry.shop,
            method: entry.method,
            path: entry.path,
            query: entry.query,
            outcome: entry.outcome,
            request_body: entry.request_body,
            fault_id: entry.fault_id,
            event_type: entry.event_type,
        });
        seq
    }

    pub fn entries(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .entries
            .iter()
            .filter(|entry| filter.matches(entry))
            .cloned()
            .collect()
    }

    /// Forgets all entries. Sequence numbers keep counting so `after_seq` stays meaningful.
    pub fn reset(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(shop: &str, method: &str, path: &str) -> NewEntry {
        NewEntry {
            at: Utc::now(),
            shop: Some(shop.to_owned()),
            method: method.to_owned(),
            path: path.to_owned(),
            query: None,
            outcome: Outcome::Responded { status: 200 },
            request_body: None,
            fault_id: None,
            event_type: None,
        }
    }

    #[test]
    fn filters_by_shop_method_path_and_sequence() {
        let journal = Journal::default();
        journal.record(entry("a", "GET", "/orders"));
        let second = journal.record(entry("a", "POST", "/orders/1/processes/shippings"));
        journal.record(entry("b", "POST", "/orders/2/processes/shippings"));

        let shippings = JournalFilter {
            path: Some("/orders/*/processes/shippings".into()),
            ..JournalFilter::default()
        };
        assert_eq!(journal.entries(&shippings).len(), 2);
        let shop_a_posts = JournalFilter {
            shop: Some("a".into()),
            method: Some("post".into()),
            ..JournalFilter::default()
        };
        assert_eq!(journal.entries(&shop_a_posts)[0].seq, second);
        let after = JournalFilter {
            after_seq: Some(second),
            ..JournalFilter::default()
        };
        assert_eq!(journal.entries(&after).len(), 1);
    }

    #[test]
    fn reset_keeps_sequence_numbers_increasing() {
        let journal = Journal::default();
        let first = journal.record(entry("a", "GET", "/orders"));
        journal.reset();
        assert!(journal.entries(&JournalFilter::default()).is_empty());
        assert!(journal.record(entry("a", "GET", "/orders")) > first);
    }
}
