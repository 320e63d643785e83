//! `RetryPolicy`: one attempt budget per request, spent across the plan's targets.
//!
//! The gateway walks the plan in order; a retryable failure moves on to the next target at once.
//! When every target of the plan has been tried, the next pass starts after a backoff (full
//! jitter, exponential per pass) that is never shorter than the largest `retry-after` the
//! upstreams asked for. The budget bounds the total number of upstream attempts, so a failover
//! chain cannot loop; a `retry-after` longer than `max_retry_after` ends the request at once with
//! that `retry-after` for the client.

use std::time::Duration;

/// Retry settings of a virtual model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total upstream attempts for one request, first attempt included.
    pub max_attempts: u32,
    /// Backoff before the second pass.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// Longest `retry-after` the gateway will wait for; longer ones go back to the client.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before pass `pass` (2 for the first retry pass): exponential with full jitter
    /// (between half and all of it), and at least `retry_after`.
    pub fn backoff(&self, pass: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.backoff_base.saturating_mul(1u32 << pass.saturating_sub(2).min(16)).min(self.backoff_max);
        let jittered = exp.mul_f64(0.5 + fastrand::f64() * 0.5);
        retry_after.map_or(jittered, |r| r.max(jittered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            let b2 = p.backoff(2, None);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200), "{b2:?}");
            let b4 = p.backoff(4, None);
            assert!(b4 >= Duration::from_millis(400) && b4 <= Duration::from_millis(800), "{b4:?}");
            assert!(p.backoff(2, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
            assert!(p.backoff(40, None) <= p.backoff_max);
        }
    }
}
