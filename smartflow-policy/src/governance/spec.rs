//! The vocabulary of limits and budgets: what is counted ([`Metric`]), over which window
//! ([`Period`]), how much is allowed ([`Limit`]), and money in integer nano-dollars
//! ([`NanoUsd`]) so sums never drift.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Requests admitted.
    Requests,
    /// Prompt plus completion tokens.
    Tokens,
    /// Spend, in nano-dollars.
    Spend,
}

impl Metric {
    /// A stable label (`requests`, `tokens`, `spend`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Tokens => "tokens",
            Self::Spend => "spend",
        }
    }
}

/// A counting window. Windows are fixed and aligned to UTC: minutes, hours, days, ISO weeks
/// (from Monday) and calendar months; `Total` never resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// One UTC minute.
    Minute,
    /// One UTC hour.
    Hour,
    /// One UTC day.
    Day,
    /// One ISO week (Monday 00:00 UTC).
    Week,
    /// One calendar month (UTC).
    Month,
    /// Forever.
    Total,
}

impl Period {
    /// A stable label (`minute`, `hour`...).
    pub fn label(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Total => "total",
        }
    }

    /// Parses a label.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "minute" => Self::Minute,
            "hour" => Self::Hour,
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "total" => Self::Total,
            _ => return None,
        })
    }
}

/// Whether exceeding a limit is a rate (429 with `retry-after`: wait for the window) or an
/// exhausted quota or budget (403: an operator must act or the period must end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// A rate: requests or tokens per minute, hour or day.
    Rate,
    /// A quota or budget for a period.
    Quota,
}

/// One limit: at most `amount` of `metric` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limit {
    /// What is counted.
    pub metric: Metric,
    /// Over which window.
    pub period: Period,
    /// How much (requests, tokens, or nano-dollars).
    pub amount: u64,
    /// Rate (429) or quota (403).
    pub kind: LimitKind,
}

impl Limit {
    /// A rate limit (429 when reached).
    pub fn rate(metric: Metric, period: Period, amount: u64) -> Self {
        Self { metric, period, amount, kind: LimitKind::Rate }
    }

    /// A quota (403 when exhausted).
    pub fn quota(metric: Metric, period: Period, amount: u64) -> Self {
        Self { metric, period, amount, kind: LimitKind::Quota }
    }

    /// A spend budget of `usd` per `period` (a quota on [`Metric::Spend`]).
    pub fn budget(usd: NanoUsd, period: Period) -> Self {
        Self::quota(Metric::Spend, period, usd.0)
    }
}

/// Money in nano-dollars (10⁻⁹ USD): a per-token price of $0.05 per million tokens is 50.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NanoUsd(pub u64);

impl NanoUsd {
    /// Converts dollars, refusing negative, non-finite and absurd (over $10¹⁰) amounts.
    pub fn from_usd(usd: f64) -> Option<Self> {
        (usd.is_finite() && (0.0..=1e10).contains(&usd)).then(|| Self((usd * 1e9).round() as u64))
    }

    /// As dollars (for display only).
    pub fn usd(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl fmt::Display for NanoUsd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.6}", self.usd())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_converts_exactly_and_refuses_nonsense() {
        assert_eq!(NanoUsd::from_usd(0.01), Some(NanoUsd(10_000_000)));
        assert_eq!(NanoUsd::from_usd(2.5e-6), Some(NanoUsd(2_500)));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e11] {
            assert_eq!(NanoUsd::from_usd(bad), None, "{bad}");
        }
        assert_eq!(NanoUsd(10_000_000).to_string(), "$0.010000");
    }

    #[test]
    fn periods_round_trip() {
        for p in [Period::Minute, Period::Hour, Period::Day, Period::Week, Period::Month, Period::Total] {
            assert_eq!(Period::parse(p.label()), Some(p));
        }
    }
}
