//! `PriceTable`: what a model costs per token, and the cost of a request's usage — estimated at
//! admission, exact at settlement. Prices are integers (nano-dollars per thousand tokens), so
//! spend sums are exact.

use std::collections::HashMap;

use smartflow_core::types::TokenUsage;

use super::spec::NanoUsd;

/// Highest accepted price: $10,000 per million tokens (a typo guard; real prices are far lower).
const MAX_USD_PER_MILLION: f64 = 10_000.0;

/// Per-token prices of one model, in nano-dollars per thousand tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Price {
    /// Uncached prompt tokens.
    pub input: u64,
    /// Completion tokens (reasoning included).
    pub output: u64,
    /// Prompt tokens served from the provider's prompt cache.
    pub cached_input: u64,
}

/// A price outside the accepted range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a price is dollars per million tokens between 0 and {MAX_USD_PER_MILLION}")]
pub struct PriceError;

impl Price {
    /// From dollars per million tokens (how providers publish prices). `cached_input` defaults
    /// to the input price.
    pub fn per_million(input: f64, output: f64, cached_input: Option<f64>) -> Result<Self, PriceError> {
        let convert = |usd: f64| {
            // $1 per million tokens = 10⁹ nano-dollars per 10⁶ tokens = 10⁶ per thousand tokens.
            (usd.is_finite() && (0.0..=MAX_USD_PER_MILLION).contains(&usd))
                .then(|| (usd * 1_000_000.0).round() as u64)
                .ok_or(PriceError)
        };
        Ok(Self {
            input: convert(input)?,
            output: convert(output)?,
            cached_input: convert(cached_input.unwrap_or(input))?,
        })
    }

    /// What `usage` costs, rounded up to the nano-dollar.
    pub fn cost(&self, usage: &TokenUsage) -> NanoUsd {
        let cached = usage.cached_input.min(usage.input);
        let uncached = usage.input - cached;
        let milli = u128::from(uncached) * u128::from(self.input)
            + u128::from(cached) * u128::from(self.cached_input)
            + u128::from(usage.output) * u128::from(self.output);
        NanoUsd(u64::try_from(milli.div_ceil(1_000)).unwrap_or(u64::MAX))
    }

    /// The most a request with `prompt` tokens and up to `output` tokens of answer can cost
    /// (every prompt token at the uncached price).
    pub fn ceiling(&self, prompt: u64, output: u64) -> NanoUsd {
        self.cost(&TokenUsage { input: prompt, output, ..TokenUsage::default() })
    }
}

/// Prices by virtual model name.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    by_model: HashMap<String, Price>,
}

impl PriceTable {
    /// An empty table (every model free).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the price of `model`.
    pub fn insert(&mut self, model: impl Into<String>, price: Price) {
        self.by_model.insert(model.into(), price);
    }

    /// The price of `model`, if it has one.
    pub fn get(&self, model: &str) -> Option<&Price> {
        self.by_model.get(model)
    }

    /// Whether `model` has a price.
    pub fn contains(&self, model: &str) -> bool {
        self.by_model.contains_key(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_exact_and_cached_tokens_are_cheaper() {
        // $2.50 / $10 / $1.25 per million (gpt-4o list prices).
        let p = Price::per_million(2.5, 10.0, Some(1.25)).unwrap();
        let usage = TokenUsage { input: 1_000, output: 500, cached_input: 400, ..TokenUsage::default() };
        // 600 × 2.5e-6 + 400 × 1.25e-6 + 500 × 1e-5 = 0.0015 + 0.0005 + 0.005 = $0.007.
        assert_eq!(p.cost(&usage), NanoUsd(7_000_000));
        assert_eq!(p.ceiling(1_000, 500), NanoUsd(7_500_000));
        // $0.0375 per million: one token is 37.5 nano-dollars, rounded up; sub-nano costs are
        // never rounded down to free.
        let one = TokenUsage { input: 1, ..TokenUsage::default() };
        assert_eq!(Price::per_million(0.0375, 0.0, None).unwrap().cost(&one), NanoUsd(38));
        assert_eq!(Price::per_million(0.0001, 0.0, None).unwrap().cost(&one), NanoUsd(1));
    }

    #[test]
    fn absurd_prices_are_refused() {
        for bad in [-0.1, f64::NAN, 1e6] {
            assert_eq!(Price::per_million(bad, 1.0, None), Err(PriceError), "{bad}");
        }
    }
}
