//! The cost of one write to the embedded state (one SQLite database per state directory) as
//! the state grows: ledger puts, activity appends, idempotency claims and queue sends (and a
//! receive + delete) timed one by one on top of 1,000, 10,000 and 100,000 stored entries of
//! the same kind. Flat means the median at 100,000 is within noise of the median at 1,000.
//!
//! Run: `cargo bench -p epages-sync-tests --bench embedded_state`
//! (`BENCH_WRITES` writes are timed per size, default 2,000; `BENCH_SIZES` overrides the
//! sizes, comma-separated). Percentiles, not means: the machine is shared and noisy.

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use connector::ports::activity::Retention;
use connector::ports::idempotency::IdempotencyKey;
use connector::ports::queue::OutgoingMessage;
use connector::ports::{Clock, SystemClock};
use domain::activity::{ActivityEntry, ActivityOutcome, Correlation, Direction, EntityRef};
use domain::tenant::TenantId;
use serde_json::json;

/// Percentiles of `samples`, in microseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    (at(0.5), at(0.9), at(0.99))
}

async fn timed<F: std::future::Future>(samples: &mut Vec<Duration>, work: F) -> F::Output {
    let started = Instant::now();
    let output = work.await;
    samples.push(started.elapsed());
    output
}

fn entry(tenant: &TenantId, n: usize) -> ActivityEntry {
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: format!("entry-{n:08}"),
        at: Utc::now(),
        entity: EntityRef::order(format!("order-{n}"), Some(format!("{}", 10_000 + n))),
        direction: Direction::EpagesToAfosto,
        action: "order.import".to_owned(),
        outcome: ActivityOutcome::Ok,
        error: None,
        correlation: Correlation::default(),
    }
}

fn order_data(n: usize) -> serde_json::Value {
    json!({ "status": "CREATED", "number": format!("{}", 10_000 + n),
            "lines": [{ "sku": "MUG-001", "quantity": 1 }], "shipments": [] })
}

struct Row {
    store: &'static str,
    size: usize,
    p50: f64,
    p90: f64,
    p99: f64,
}

async fn measure(size: usize, writes: usize) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("state dir");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stores = ::embedded::open_state(dir.path(), Retention::default(), clock.clone())
        .await
        .expect("state");
    let queues = ::embedded::open_stage_queues(dir.path(), clock.clone())
        .await
        .expect("queues");
    let tenant = TenantId::parse("bench-tenant").expect("tenant");
    let now = Utc::now();

    // Fill: `size` entries of each kind (batched where the port takes batches).
    for n in 0..size {
        stores
            .order_ledger
            .put(&tenant, &format!("order-{n}"), order_data(n), 0, now)
            .await
            .expect("fill ledger");
        let key = IdempotencyKey::new(format!("fill-{n}")).expect("key");
        stores
            .idempotency
            .claim(
                &key,
                now + TimeDelta::seconds(30),
                now + TimeDelta::days(7),
                now,
            )
            .await
            .expect("fill idempotency");
    }
    let entries: Vec<ActivityEntry> = (0..size).map(|n| entry(&tenant, n)).collect();
    for chunk in entries.chunks(1000) {
        stores.activity.append(chunk).await.expect("fill activity");
    }
    let messages: Vec<OutgoingMessage> = (0..size)
        .map(|n| OutgoingMessage::new(json!({ "tenant": "bench-tenant", "n": n }).to_string()))
        .collect();
    for chunk in messages.chunks(1000) {
        queues
            .poll
            .send_batch(chunk.to_vec())
            .await
            .expect("fill queue");
    }

    let mut ledger = Vec::with_capacity(writes);
    let mut activity = Vec::with_capacity(writes);
    let mut idempotency = Vec::with_capacity(writes);
    let mut sends = Vec::with_capacity(writes);
    let mut takes = Vec::with_capacity(writes);
    for n in size..size + writes {
        let now = Utc::now();
        timed(
            &mut ledger,
            stores
                .order_ledger
                .put(&tenant, &format!("order-{n}"), order_data(n), 0, now),
        )
        .await
        .expect("ledger put");
        timed(&mut activity, stores.activity.append(&[entry(&tenant, n)]))
            .await
            .expect("append");
        let key = IdempotencyKey::new(format!("write-{n}")).expect("key");
        timed(
            &mut idempotency,
            stores.idempotency.claim(
                &key,
                now + TimeDelta::seconds(30),
                now + TimeDelta::days(7),
                now,
            ),
        )
        .await
        .expect("claim");
        timed(
            &mut sends,
            queues
                .poll
                .send_batch(vec![OutgoingMessage::new(format!("{{\"n\":{n}}}"))]),
        )
        .await
        .expect("send");
        let started = Instant::now();
        let got = queues
            .poll
            .receive(1, Duration::ZERO, None)
            .await
            .expect("receive");
        queues
            .poll
            .delete(&got[0].receipt_handle)
            .await
            .expect("delete");
        takes.push(started.elapsed());
    }
    [
        ("order ledger put", ledger),
        ("activity append (1 entry)", activity),
        ("idempotency claim", idempotency),
        ("queue send (1 message)", sends),
        ("queue receive + delete", takes),
    ]
    .into_iter()
    .map(|(store, samples)| {
        let (p50, p90, p99) = percentiles(samples);
        Row {
            store,
            size,
            p50,
            p90,
            p99,
        }
    })
    .collect()
}

fn main() {
    let writes = common::size("BENCH_WRITES", 2_000);
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|raw| {
            raw.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "embedded_state: one write, timed {writes} times per size, on top of N stored entries \
         of its kind (state dir on the default temp dir; microseconds)"
    );
    // A discarded round first: the first timed writes of a process pay for its warm-up
    // (thread pool, page faults), which would flatter the larger sizes.
    runtime.block_on(measure(sizes.first().copied().unwrap_or(1_000), writes));
    let mut rows = Vec::new();
    for size in &sizes {
        let started = Instant::now();
        let measured = runtime.block_on(measure(*size, writes));
        eprintln!("size {size}: {:.1} s", started.elapsed().as_secs_f64());
        rows.extend(measured);
    }
    println!(
        "{:<28} {:>8} {:>9} {:>9} {:>9}",
        "write", "stored", "p50 µs", "p90 µs", "p99 µs"
    );
    for row in &rows {
        println!(
            "{:<28} {:>8} {:>9.0} {:>9.0} {:>9.0}",
            row.store, row.size, row.p50, row.p90, row.p99
        );
    }
    if let (Some(first), Some(last)) = (sizes.first(), sizes.last()) {
        println!("\nmedian at {last} / median at {first} (1.0 = flat):");
        for store in rows.iter().filter(|r| r.size == *first) {
            if let Some(big) = rows
                .iter()
                .find(|r| r.size == *last && r.store == store.store)
            {
                println!("{:<28} {:>6.2}", store.store, big.p50 / store.p50);
            }
        }
    }
}
