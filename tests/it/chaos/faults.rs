//! What goes wrong: the sandbox's faults (20 % of all shop requests, every kind) and the
//! handler crashes between steps (poll hooks, the apply step hook), each decided from the
//! seed so a failing run can be replayed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use connector::pipeline::apply::StepHook;
use connector::pipeline::poll::{PollHooks, PollStep};
use domain::tenant::TenantId;
use sandbox::{FaultKind, FaultSpec, SandboxHandle};

/// The client's request timeout; the "timeout" fault delays a request well past it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(250);
const TIMEOUT_DELAY_MS: u64 = 400;

/// `(name, kind, share of all requests)`. The shares add up to 20 %.
fn kinds() -> Vec<(&'static str, FaultKind, f64)> {
    vec![
        (
            "timeout",
            FaultKind::Latency {
                millis: TIMEOUT_DELAY_MS,
            },
            0.04,
        ),
        (
            "429",
            FaultKind::TooManyRequests {
                retry_after_seconds: 1,
            },
            0.04,
        ),
        (
            "500",
            FaultKind::Status {
                status: 500,
                retry_after_seconds: None,
            },
            0.03,
        ),
        (
            "503",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: Some(1),
            },
            0.03,
        ),
        (
            "drop-before-apply",
            FaultKind::Drop {
                applied: Some(false),
            },
            0.03,
        ),
        (
            "drop-after-apply",
            FaultKind::Drop {
                applied: Some(true),
            },
            0.03,
        ),
    ]
}

/// Registers every fault on every shop path (token endpoint included). The sandbox asks
/// them in order and the first terminal one wins, so each rate is conditional on the
/// earlier ones not having fired; latency stacks, so it is drawn on its own.
pub fn install(sandbox: &SandboxHandle, seed: u64) -> Vec<(&'static str, u64)> {
    let mut ids = Vec::new();
    let mut left = 1.0;
    for (index, (name, kind, share)) in kinds().into_iter().enumerate() {
        let terminal = !matches!(kind, FaultKind::Latency { .. });
        let probability = if terminal { share / left } else { share };
        if terminal {
            left -= share;
        }
        let spec = FaultSpec::new("**", kind).rate(probability, seed ^ ((index as u64 + 1) * 7919));
        ids.push((name, sandbox.add_fault(spec)));
    }
    ids
}

/// How often each fault fired.
pub fn fired(sandbox: &SandboxHandle, ids: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
    let statuses = sandbox.faults();
    ids.iter()
        .map(|(name, id)| {
            let fired = statuses
                .iter()
                .find(|status| status.id == *id)
                .map_or(0, |status| status.fired);
            (*name, fired)
        })
        .collect()
}

/// A stable hash of the seed and a key, as a fraction in `[0, 1)`.
fn draw(seed: u64, key: &str) -> f64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for byte in key.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = super::workload::Rng::new(hash);
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Crashes handlers between their steps: a poll at a [`PollStep`], a command after one of
/// its calls. Each (tenant, round, step) and each command crashes at most once, so every
/// message still succeeds within the queue's five receives.
pub struct Crashes {
    seed: u64,
    poll_rate: f64,
    apply_rate: f64,
    round: AtomicUsize,
    fired: Mutex<HashSet<String>>,
    pub poll_crashes: AtomicUsize,
    pub apply_crashes: AtomicUsize,
}

impl Crashes {
    pub fn new(seed: u64, poll_rate: f64, apply_rate: f64) -> Self {
        Self {
            seed,
            poll_rate,
            apply_rate,
            round: AtomicUsize::new(0),
            fired: Mutex::new(HashSet::new()),
            poll_crashes: AtomicUsize::new(0),
            apply_crashes: AtomicUsize::new(0),
        }
    }

    pub fn set_round(&self, round: usize) {
        self.round.store(round, Ordering::SeqCst);
    }

    fn first_time(&self, key: String) -> bool {
        self.fired
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key)
    }
}

impl PollHooks for Crashes {
    fn at(&self, tenant: &TenantId, step: PollStep) -> Result<(), String> {
        let key = format!(
            "poll|{tenant}|{}|{step:?}",
            self.round.load(Ordering::SeqCst)
        );
        if draw(self.seed, &key) < self.poll_rate && self.first_time(key) {
            self.poll_crashes.fetch_add(1, Ordering::SeqCst);
            return Err(format!("chaos: poller crashed at {step:?}"));
        }
        Ok(())
    }
}

impl StepHook for Crashes {
    fn crash_after(&self, command_id: &str, step: &str) -> bool {
        let key = format!("apply|{command_id}|{step}");
        if draw(self.seed, &key) < self.apply_rate && self.first_time(format!("apply|{command_id}"))
        {
            self.apply_crashes.fetch_add(1, Ordering::SeqCst);
            return true;
        }
        false
    }
}
