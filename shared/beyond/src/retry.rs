//! Retry policy and request classification, as pure functions.
//!
//! Every operation is SAFE (a read), REPEATABLE (a state transition whose repeat is
//! harmless or fails cleanly) or UNSAFE (creates something or adjusts stock, so a repeat
//! may double it). Beyond offers no idempotency keys (beyond-api.md §2.4), so an UNSAFE
//! request is repeated only when the failure proves the server did not act.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;
use rand::Rng;

use super::disposition::Disposition;
use super::error::classify_status;

/// How safe it is to send a request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSafety {
    /// Reads, and the token endpoint.
    Safe,
    /// Transitions whose repeat is harmless or fails cleanly: mark shipped / delivered /
    /// picked up, cancel order, enable/disable stock management, deletes.
    Repeatable,
    /// Creates a process, order, product, signer or subscription, or adjusts stock.
    Unsafe,
}

/// Capped, jittered exponential backoff with bounded attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// The first backoff step.
    pub base_delay: Duration,
    /// No wait is longer, not even one asked for by `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The exponential step before retry number `retry` (1-based), without jitter:
    /// `base · 2^(retry-1)`, capped at `max_delay`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        self.base_delay
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The wait before retry number `retry`: `Retry-After` when the server sent one
    /// (capped at `max_delay`), otherwise "equal jitter" backoff, uniformly in
    /// `[ceiling/2, ceiling]`, so clients that failed together do not retry together.
    pub fn delay<R: Rng + ?Sized>(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_delay);
        }
        let ceiling = self.backoff_ceiling(retry);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rng.random_range(0..=spread))
    }
}

/// What one failed attempt looked like, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptFailure<'a> {
    /// Beyond answered with this non-success status.
    Status {
        status: StatusCode,
        error_id: Option<&'a str>,
    },
    /// Nothing reached the server (connection refused, DNS, connect timeout).
    NotSent,
    /// The request may have reached the server, but no complete answer came back
    /// (timeout after sending, connection dropped, unreadable body).
    LostAfterSend,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry,
    /// Return the error as it is.
    Fail,
    /// Return [`super::BeyondError::AmbiguousUnsafeRequest`]: the caller must reconcile.
    Ambiguous,
}

/// Decides after attempt number `attempt` (1-based) failed.
pub fn decide(
    policy: &RetryPolicy,
    safety: RequestSafety,
    failure: AttemptFailure<'_>,
    attempt: u32,
) -> Decision {
    let attempts_left = attempt < policy.max_attempts;
    let retry_if_allowed = if attempts_left {
        Decision::Retry
    } else {
        Decision::Fail
    };
    match failure {
        AttemptFailure::NotSent => retry_if_allowed,
        AttemptFailure::LostAfterSend => match safety {
            RequestSafety::Unsafe => Decision::Ambiguous,
            RequestSafety::Safe | RequestSafety::Repeatable => retry_if_allowed,
        },
        AttemptFailure::Status { status, error_id } => {
            if classify_status(status, error_id) != Disposition::Retry {
                return Decision::Fail;
            }
            match safety {
                RequestSafety::Safe | RequestSafety::Repeatable => retry_if_allowed,
                // A 429 is the one answer that proves the request was not processed.
                RequestSafety::Unsafe if status == StatusCode::TOO_MANY_REQUESTS => {
                    retry_if_allowed
                }
                // A 409 is a definite answer: the write was rejected; not repeated blindly.
                RequestSafety::Unsafe if status == StatusCode::CONFLICT => Decision::Fail,
                // 5xx and 408 leave it open whether the server acted.
                RequestSafety::Unsafe => Decision::Ambiguous,
            }
        }
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (a date in the past means "now").
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const OK_POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
    };

    fn status(code: u16) -> AttemptFailure<'static> {
        AttemptFailure::Status {
            status: StatusCode::from_u16(code).unwrap(),
            error_id: None,
        }
    }

    #[test]
    fn safe_and_repeatable_requests_retry_every_transient_failure() {
        for safety in [RequestSafety::Safe, RequestSafety::Repeatable] {
            for failure in [
                status(429),
                status(500),
                status(502),
                status(503),
                status(504),
                AttemptFailure::NotSent,
                AttemptFailure::LostAfterSend,
            ] {
                assert_eq!(decide(&OK_POLICY, safety, failure, 1), Decision::Retry);
                assert_eq!(decide(&OK_POLICY, safety, failure, 3), Decision::Fail);
            }
        }
    }

    #[test]
    fn permanent_answers_are_never_retried() {
        for safety in [
            RequestSafety::Safe,
            RequestSafety::Repeatable,
            RequestSafety::Unsafe,
        ] {
            for code in [400, 401, 403, 404, 409, 422] {
                assert_eq!(decide(&OK_POLICY, safety, status(code), 1), Decision::Fail);
            }
        }
    }

    #[test]
    fn unsafe_requests_retry_only_when_the_server_provably_did_not_act() {
        let unsafe_ = RequestSafety::Unsafe;
        assert_eq!(decide(&OK_POLICY, unsafe_, status(429), 1), Decision::Retry);
        assert_eq!(decide(&OK_POLICY, unsafe_, status(429), 3), Decision::Fail);
        assert_eq!(
            decide(&OK_POLICY, unsafe_, AttemptFailure::NotSent, 1),
            Decision::Retry
        );
        for failure in [
            status(500),
            status(502),
            status(503),
            status(504),
            status(408),
            AttemptFailure::LostAfterSend,
        ] {
            assert_eq!(decide(&OK_POLICY, unsafe_, failure, 1), Decision::Ambiguous);
        }
        let locked = AttemptFailure::Status {
            status: StatusCode::CONFLICT,
            error_id: Some("optimistic-locking-failure"),
        };
        assert_eq!(decide(&OK_POLICY, unsafe_, locked, 1), Decision::Fail);
        assert_eq!(
            decide(&OK_POLICY, RequestSafety::Safe, locked, 1),
            Decision::Retry
        );
    }

    #[test]
    fn no_retries_policy_fails_at_once() {
        let policy = RetryPolicy::no_retries();
        assert_eq!(
            decide(&policy, RequestSafety::Safe, status(503), 1),
            Decision::Fail
        );
    }

    #[test]
    fn backoff_grows_exponentially_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(policy.backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(policy.backoff_ceiling(4), Duration::from_millis(800));
        assert_eq!(policy.backoff_ceiling(5), Duration::from_secs(1));
        assert_eq!(policy.backoff_ceiling(200), Duration::from_secs(1));
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let delay = policy.delay(3, None, &mut rng);
            assert!(delay >= Duration::from_millis(200) && delay <= Duration::from_millis(400));
            seen.insert(delay);
        }
        assert!(seen.len() > 10, "jitter must spread the delays");
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            OK_POLICY.delay(1, Some(Duration::from_secs(1)), &mut rng),
            Duration::from_secs(1)
        );
        assert_eq!(
            OK_POLICY.delay(1, Some(Duration::from_secs(600)), &mut rng),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
