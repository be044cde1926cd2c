//! Helpers every bench binary uses (included with `#[path]`: bench targets share no crate).

use std::time::Duration;

use chrono::{DateTime, Utc};
use connector::ports::MessageQueue;

/// A size from the environment (`BENCH_*`), or `default`.
pub fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(default)
}

/// A fixed instant, so shop data and event ids are the same run after run.
#[allow(dead_code)] // not every bench seeds a shop (the latency bench runs on the real clock)
pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// Receives and deletes everything on `queue`; how many messages.
#[allow(dead_code)] // not every bench drains a queue
pub async fn drain(queue: &dyn MessageQueue) -> usize {
    let mut count = 0;
    loop {
        let batch = queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive");
        if batch.is_empty() {
            return count;
        }
        for message in &batch {
            queue.delete(&message.receipt_handle).await.expect("delete");
        }
        count += batch.len();
    }
}
