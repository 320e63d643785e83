//! `Usage` as OpenAI reports it, and `TokenUsage`, the one normalised count the pipeline uses.

use serde::{Deserialize, Serialize};

use super::Extra;

/// OpenAI's `usage` object (chat completions). Other dialects convert into it at the edge.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens, cached ones included.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Output tokens, reasoning included.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Their sum.
    #[serde(default)]
    pub total_tokens: u64,
    /// `cached_tokens`, `audio_tokens`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<Extra>,
    /// `reasoning_tokens`, `audio_tokens`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<Extra>,
    /// Every other field.
    #[serde(flatten)]
    pub rest: Extra,
}

impl Usage {
    /// A usage with only the three totals.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, ..Self::default() }
    }

    /// The normalised counts (OpenAI semantics: cached tokens are a subset of input).
    pub fn tokens(&self) -> TokenUsage {
        let detail = |d: &Option<Extra>, k: &str| {
            d.as_ref().and_then(|d| d.get(k)).and_then(serde_json::Value::as_u64).unwrap_or(0)
        };
        TokenUsage {
            input: self.prompt_tokens,
            output: self.completion_tokens,
            cached_input: detail(&self.prompt_tokens_details, "cached_tokens"),
            cache_write_input: detail(&self.prompt_tokens_details, "cache_write_tokens"),
            reasoning: detail(&self.completion_tokens_details, "reasoning_tokens"),
        }
    }
}

/// Token counts normalised once, whatever the provider's dialect: `input` includes cached and
/// cache-write tokens (Anthropic's `input_tokens` excludes them and is converted on the way in).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// All input tokens.
    pub input: u64,
    /// All output tokens.
    pub output: u64,
    /// Input tokens served from the provider's prompt cache (subset of `input`).
    pub cached_input: u64,
    /// Input tokens written to the provider's prompt cache (subset of `input`).
    pub cache_write_input: u64,
    /// Output tokens spent on reasoning (subset of `output`).
    pub reasoning: u64,
}

impl TokenUsage {
    /// Input plus output.
    pub fn total(&self) -> u64 {
        self.input + self.output
    }
}
