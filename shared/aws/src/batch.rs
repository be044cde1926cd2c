//! Bounded retries of the items a DynamoDB batch call leaves unprocessed.

use std::time::Duration;

/// Attempts per batch before the remaining items are reported as unprocessed.
pub(crate) const BATCH_ATTEMPTS: u32 = 8;

/// Exponential backoff with full jitter, capped at about one second: unprocessed items
/// mean the table is throttling, and hammering it again at once only repeats that.
pub(crate) async fn backoff(attempt: u32) {
    let cap_ms = (25u64 << attempt.min(6)).min(1000);
    let wait = rand::random_range(0..=cap_ms);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}
