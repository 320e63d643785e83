//! `CircuitBreaker`: stops sending to a target that keeps failing, then lets a probe through
//! after a trip time to find out whether it recovered.
//!
//! Closed → Open on `consecutive_failures` failures in a row, or on a failure rate of at least
//! `failure_rate` over `window` once `min_requests` were seen. Open for `open_for` (or the
//! upstream's `retry-after`, if longer; doubled on each re-trip, capped at `max_open_for`). Then
//! half-open: one probe per `probe_interval` may go; a success closes the breaker, a failure
//! opens it again.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Breaker thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Failures in a row that open the breaker.
    pub consecutive_failures: u32,
    /// Failure share over the window that opens it.
    pub failure_rate: f64,
    /// Requests in the window before the rate counts.
    pub min_requests: u32,
    /// The rate window.
    pub window: Duration,
    /// How long it stays open the first time.
    pub open_for: Duration,
    /// The longest it stays open (re-trips double the time up to this).
    pub max_open_for: Duration,
    /// At most one half-open probe per this interval.
    pub probe_interval: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: 0.5,
            min_requests: 20,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(30),
            max_open_for: Duration::from_secs(300),
            probe_interval: Duration::from_secs(1),
        }
    }
}

/// What the breaker currently allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Traffic flows.
    Closed,
    /// No traffic until the trip time ends.
    Open,
    /// Probes may test the target.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open`, `half_open`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum State {
    Closed { consecutive: u32, window_start: Instant, total: u32, failures: u32 },
    Open { until: Instant, trips: u32 },
    HalfOpen { last_probe: Option<Instant>, trips: u32 },
}

/// A circuit breaker for one target.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self { config, state: Mutex::new(closed(Instant::now())) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent (every write is a
        // whole-value assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The state now, moving Open to HalfOpen when the trip time is over.
    pub fn state(&self) -> BreakerState {
        let now = Instant::now();
        let mut s = self.lock();
        if let State::Open { until, trips } = *s
            && now >= until
        {
            *s = State::HalfOpen { last_probe: None, trips };
        }
        match *s {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether a request may go now. In half-open, at most one caller per probe interval gets
    /// `true` (and is the probe).
    pub fn try_acquire(&self) -> bool {
        let now = Instant::now();
        let mut s = self.lock();
        match &mut *s {
            State::Closed { .. } => true,
            State::Open { until, trips } => {
                if now >= *until {
                    *s = State::HalfOpen { last_probe: Some(now), trips: *trips };
                    true
                } else {
                    false
                }
            }
            State::HalfOpen { last_probe, .. } => {
                let due = last_probe.is_none_or(|t| now.duration_since(t) >= self.config.probe_interval);
                if due {
                    *last_probe = Some(now);
                }
                due
            }
        }
    }

    /// When an open breaker will let a probe through (for `retry-after` when all are open).
    pub fn open_until(&self) -> Option<Instant> {
        match *self.lock() {
            State::Open { until, .. } => Some(until),
            _ => None,
        }
    }

    /// Records an attempt's result. `retry_after` (from a 429/503) lengthens the trip time.
    pub fn record(&self, ok: bool, retry_after: Option<Duration>) {
        let now = Instant::now();
        let c = &self.config;
        let mut s = self.lock();
        let next = match &mut *s {
            State::Closed { consecutive, window_start, total, failures } => {
                if now.duration_since(*window_start) >= c.window {
                    *window_start = now;
                    *total = 0;
                    *failures = 0;
                }
                *total += 1;
                if ok {
                    *consecutive = 0;
                    None
                } else {
                    *consecutive += 1;
                    *failures += 1;
                    let by_rate =
                        *total >= c.min_requests && f64::from(*failures) >= c.failure_rate * f64::from(*total);
                    (*consecutive >= c.consecutive_failures || by_rate).then(|| self.trip(now, 0, retry_after))
                }
            }
            State::HalfOpen { trips, .. } => {
                if ok {
                    Some(closed(now))
                } else {
                    Some(self.trip(now, *trips + 1, retry_after))
                }
            }
            // A late result from before the trip changes nothing.
            State::Open { .. } => None,
        };
        if let Some(next) = next {
            *s = next;
        }
    }

    fn trip(&self, now: Instant, trips: u32, retry_after: Option<Duration>) -> State {
        let c = &self.config;
        let backoff = c.open_for.saturating_mul(1u32 << trips.min(16)).min(c.max_open_for);
        let hold = retry_after.map_or(backoff, |r| r.min(c.max_open_for).max(backoff));
        State::Open { until: now + hold, trips }
    }
}

fn closed(now: Instant) -> State {
    State::Closed { consecutive: 0, window_start: now, total: 0, failures: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig {
            consecutive_failures: 3,
            open_for: Duration::from_secs(10),
            ..BreakerConfig::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_probes_after_the_trip_time() {
        let b = breaker();
        b.record(false, None);
        b.record(false, None);
        assert!(b.try_acquire());
        b.record(false, None);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.try_acquire());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(b.try_acquire(), "the probe goes");
        assert!(!b.try_acquire(), "only one probe per interval");
        b.record(false, None);
        assert_eq!(b.state(), BreakerState::Open, "a failed probe re-opens");
        tokio::time::advance(Duration::from_secs(19)).await;
        assert!(!b.try_acquire(), "the second trip is twice as long");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(b.try_acquire());
        b.record(true, None);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_sets_the_trip_time_and_successes_reset_the_count() {
        let b = breaker();
        b.record(false, None);
        b.record(false, None);
        b.record(true, None);
        b.record(false, None);
        assert_eq!(b.state(), BreakerState::Closed);
        b.record(false, None);
        b.record(false, Some(Duration::from_secs(60)));
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!b.try_acquire(), "retry-after 60 s holds longer than open_for");
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(b.try_acquire());
    }

    #[tokio::test(start_paused = true)]
    async fn failure_rate_opens_it_too() {
        let b = CircuitBreaker::new(BreakerConfig {
            consecutive_failures: 100,
            min_requests: 10,
            ..BreakerConfig::default()
        });
        for i in 0..10 {
            b.record(i % 2 == 0, None);
        }
        assert_eq!(b.state(), BreakerState::Open);
    }
}
