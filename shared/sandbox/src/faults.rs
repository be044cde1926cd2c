//! Fault injection: make matching API requests fail with 429 + `Retry-After`, a 5xx, added
//! latency, or a dropped connection, either for the next N matching calls or at a rate drawn
//! from a seeded RNG (so a run is reproducible).

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FaultKind {
    /// 429 with a `Retry-After` header in seconds.
    #[serde(rename_all = "camelCase")]
    TooManyRequests { retry_after_seconds: u64 },
    /// Any status (typically 500, 502, 503, 504), optionally with `Retry-After`.
    #[serde(rename_all = "camelCase")]
    Status {
        status: u16,
        #[serde(default)]
        retry_after_seconds: Option<u64>,
    },
    /// Wait this long, then handle the request normally. Latency faults stack with others.
    Latency { millis: u64 },
    /// Close the TCP connection after the request was read, sending no response. `applied`
    /// says whether the operation takes effect first; it defaults to `true` for writes (the
    /// ambiguous case a client must survive) and is irrelevant for reads.
    Drop {
        #[serde(default)]
        applied: Option<bool>,
    },
}

/// When a matching request is hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FaultTrigger {
    /// The next `count` matching requests.
    Next { count: u32 },
    /// Each matching request with `probability`, drawn from an RNG seeded with `seed`.
    Rate { probability: f64, seed: u64 },
    /// Every matching request until the fault is cleared.
    Always,
}

impl Default for FaultTrigger {
    fn default() -> Self {
        FaultTrigger::Next { count: 1 }
    }
}

/// A fault as registered through the handle or `POST /_sandbox/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    /// Only this shop; any shop when absent.
    #[serde(default)]
    pub shop: Option<String>,
    /// Only this HTTP method; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// A glob over the path below the shop's API root, e.g. `/orders/*/processes/shippings`
    /// or `/oauth/token`. `*` matches within one segment, `**` any number of segments.
    pub path: String,
    pub kind: FaultKind,
    #[serde(default)]
    pub trigger: FaultTrigger,
}

impl FaultSpec {
    pub fn new(path: &str, kind: FaultKind) -> Self {
        Self {
            shop: None,
            method: None,
            path: path.to_owned(),
            kind,
            trigger: FaultTrigger::default(),
        }
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    pub fn shop(mut self, shop: &str) -> Self {
        self.shop = Some(shop.to_owned());
        self
    }

    pub fn times(mut self, count: u32) -> Self {
        self.trigger = FaultTrigger::Next { count };
        self
    }

    pub fn rate(mut self, probability: f64, seed: u64) -> Self {
        self.trigger = FaultTrigger::Rate { probability, seed };
        self
    }

    pub fn always(mut self) -> Self {
        self.trigger = FaultTrigger::Always;
        self
    }

    fn matches(&self, shop: Option<&str>, method: &str, path: &str) -> bool {
        self.shop
            .as_deref()
            .is_none_or(|wanted| Some(wanted) == shop)
            && self
                .method
                .as_deref()
                .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
            && glob_matches(&self.path, path)
    }
}

/// A registered fault with its progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultStatus {
    pub id: u64,
    pub spec: FaultSpec,
    /// How many requests it has shaped so far.
    pub fired: u64,
    /// For `Next` triggers: how many hits are left.
    pub remaining: Option<u32>,
}

/// The decision for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultDecision {
    /// Total injected latency.
    pub delay: Duration,
    /// The terminal fault to apply (status or drop) and the id of the fault it came from.
    pub terminal: Option<(u64, FaultKind)>,
    /// The id of the first fault that shaped the request (latency or terminal).
    pub fault_id: Option<u64>,
}

#[derive(Debug)]
struct ActiveFault {
    id: u64,
    spec: FaultSpec,
    fired: u64,
    remaining: Option<u32>,
    rng: Option<StdRng>,
}

impl ActiveFault {
    /// Whether this matching request is hit; consumes a count or an RNG draw.
    fn fires(&mut self) -> bool {
        let fires = match (&self.spec.trigger, &mut self.rng) {
            (FaultTrigger::Always, _) => true,
            (FaultTrigger::Next { .. }, _) => match self.remaining {
                Some(left) if left > 0 => {
                    self.remaining = Some(left - 1);
                    true
                }
                _ => false,
            },
            (FaultTrigger::Rate { probability, .. }, Some(rng)) => {
                rng.random::<f64>() < probability.clamp(0.0, 1.0)
            }
            (FaultTrigger::Rate { .. }, None) => false,
        };
        if fires {
            self.fired += 1;
        }
        fires
    }
}

#[derive(Debug, Default)]
pub struct FaultInjector {
    inner: Mutex<FaultsInner>,
}

#[derive(Debug, Default)]
struct FaultsInner {
    next_id: u64,
    faults: Vec<ActiveFault>,
}

impl FaultInjector {
    pub fn add(&self, spec: FaultSpec) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.next_id += 1;
        let id = inner.next_id;
        let remaining = match spec.trigger {
            FaultTrigger::Next { count } => Some(count),
            _ => None,
        };
        let rng = match spec.trigger {
            FaultTrigger::Rate { seed, .. } => Some(StdRng::seed_from_u64(seed)),
            _ => None,
        };
        inner.faults.push(ActiveFault {
            id,
            spec,
            fired: 0,
            remaining,
            rng,
        });
        id
    }

    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let before = inner.faults.len();
        inner.faults.retain(|fault| fault.id != id);
        inner.faults.len() != before
    }

    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .faults
            .clear();
    }

    pub fn list(&self) -> Vec<FaultStatus> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .faults
            .iter()
            .map(|fault| FaultStatus {
                id: fault.id,
                spec: fault.spec.clone(),
                fired: fault.fired,
                remaining: fault.remaining,
            })
            .collect()
    }

    /// Decides what happens to one request. Faults are consulted in registration order:
    /// latency faults add up, the first status/drop fault that fires ends the search.
    pub fn decide(&self, shop: Option<&str>, method: &str, path: &str) -> FaultDecision {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut decision = FaultDecision::default();
        for fault in inner.faults.iter_mut() {
            if !fault.spec.matches(shop, method, path) || !fault.fires() {
                continue;
            }
            decision.fault_id.get_or_insert(fault.id);
            match &fault.spec.kind {
                FaultKind::Latency { millis } => {
                    decision.delay += Duration::from_millis(*millis);
                }
                terminal => {
                    decision.terminal = Some((fault.id, terminal.clone()));
                    break;
                }
            }
        }
        decision
    }
}

/// Matches a path against a glob: `*` matches any characters within one segment, a `**`
/// segment matches any number (including zero) of segments. A trailing slash is ignored.
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let path: Vec<&str> = path
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    segments_match(&pattern, &path)
}

fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments_match(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                segment_matches(first, segment) && segments_match(rest, path_rest)
            }
            None => false,
        },
    }
}

fn segment_matches(pattern: &str, segment: &str) -> bool {
    let Some((prefix, rest)) = pattern.split_once('*') else {
        return pattern == segment;
    };
    let Some(remaining) = segment.strip_prefix(prefix) else {
        return false;
    };
    (0..=remaining.len())
        .filter(|&at| remaining.is_char_boundary(at))
        .any(|at| segment_matches(rest, &remaining[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_segments() {
        assert!(glob_matches(
            "/orders/*/processes/shippings",
            "/orders/42/processes/shippings"
        ));
        assert!(!glob_matches(
            "/orders/*/processes/shippings",
            "/orders/42/processes/shippings/7/mark-shipped"
        ));
        assert!(glob_matches("/orders/**", "/orders/42/processes/shippings"));
        assert!(glob_matches("/orders/**", "/orders"));
        assert!(glob_matches("**", "/anything/at/all"));
        assert!(glob_matches(
            "/products/*/avail*",
            "/products/1/availability"
        ));
        assert!(glob_matches("/orders/", "/orders"));
        assert!(!glob_matches("/orders", "/products"));
    }

    #[test]
    fn next_n_fires_exactly_n_times_for_matching_requests() {
        let faults = FaultInjector::default();
        faults.add(
            FaultSpec::new(
                "/orders",
                FaultKind::TooManyRequests {
                    retry_after_seconds: 1,
                },
            )
            .method("GET")
            .times(2),
        );
        assert!(
            faults
                .decide(Some("s"), "POST", "/orders")
                .terminal
                .is_none()
        );
        assert!(
            faults
                .decide(Some("s"), "GET", "/orders")
                .terminal
                .is_some()
        );
        assert!(
            faults
                .decide(Some("s"), "GET", "/orders")
                .terminal
                .is_some()
        );
        assert!(
            faults
                .decide(Some("s"), "GET", "/orders")
                .terminal
                .is_none()
        );
        assert_eq!(faults.list()[0].fired, 2);
    }

    #[test]
    fn rate_is_reproducible_for_a_seed() {
        let run = || {
            let faults = FaultInjector::default();
            faults.add(FaultSpec::new("/**", FaultKind::Drop { applied: None }).rate(0.3, 7));
            (0..200)
                .map(|_| faults.decide(None, "GET", "/orders").terminal.is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|hit| **hit).count();
        assert!((30..=90).contains(&hits), "{hits} hits of 200 at p=0.3");
    }

    #[test]
    fn latency_stacks_with_a_terminal_fault() {
        let faults = FaultInjector::default();
        faults.add(FaultSpec::new("/orders", FaultKind::Latency { millis: 50 }).always());
        faults.add(FaultSpec::new(
            "/orders",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        ));
        let decision = faults.decide(None, "GET", "/orders");
        assert_eq!(decision.delay, Duration::from_millis(50));
        assert!(matches!(
            decision.terminal,
            Some((_, FaultKind::Status { status: 503, .. }))
        ));
        let next = faults.decide(None, "GET", "/orders");
        assert!(next.terminal.is_none());
        assert_eq!(next.delay, Duration::from_millis(50));
    }

    #[test]
    fn shop_filter_limits_a_fault_to_one_shop() {
        let faults = FaultInjector::default();
        faults.add(
            FaultSpec::new("/orders", FaultKind::Drop { applied: None })
                .shop("a")
                .always(),
        );
        assert!(
            faults
                .decide(Some("b"), "GET", "/orders")
                .terminal
                .is_none()
        );
        assert!(
            faults
                .decide(Some("a"), "GET", "/orders")
                .terminal
                .is_some()
        );
    }
}
