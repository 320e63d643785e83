//! Provider adapters: one per wire dialect. `openai` serves OpenAI, every OpenAI-compatible
//! server (vLLM, Ollama, TGI, LM Studio) and Azure OpenAI; `anthropic` the Messages API; `mock`
//! answers in-process for quickstarts and tests.

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
pub mod http;
pub mod mock;
pub mod openai;

pub use anthropic::{AnthropicConfig, AnthropicProvider};
pub use bedrock::{BedrockConfig, BedrockProvider};
pub use gemini::{GeminiConfig, GeminiProvider};
pub use http::HttpConfig;
pub use mock::{MockBehavior, MockConfig, MockProvider};
pub use openai::{OpenAiConfig, OpenAiProvider};

/// A rough token count for text when no tokenizer is at hand: one token per four bytes,
/// rounded up (OpenAI's rule of thumb for English).
pub fn estimate_tokens(text_bytes: usize) -> u64 {
    text_bytes.div_ceil(4) as u64
}
