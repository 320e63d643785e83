//! The `Provider` trait: one upstream API dialect (OpenAI chat, Anthropic Messages...) behind
//! one interface. A provider instance is configuration: dialect, base URL, credentials, quirks.

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::Stream;

use crate::error::{Error, ErrorKind};
use crate::types::{ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse};

/// A stream of chunks from a provider. It ends with `None` only after the upstream's own end of
/// stream (`[DONE]`); a truncated or failed upstream stream ends with an `Err` item.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<ChatChunk, Error>> + Send>>;

/// One chat call to a provider.
#[derive(Debug, Clone, Copy)]
pub struct ProviderCall<'a> {
    /// The request as the client sent it (after request policies).
    pub request: &'a ChatRequest,
    /// The model name the upstream knows.
    pub upstream_model: &'a str,
    /// The gateway's request id, forwarded for correlation.
    pub request_id: &'a str,
    /// The W3C `traceparent` to send upstream (the request's trace, the gateway's span as the
    /// parent; see [`TraceContext::traceparent`](crate::types::TraceContext::traceparent)), so
    /// the provider's spans join the caller's trace. HTTP providers send it as the `traceparent`
    /// header; an empty or malformed value is not sent.
    pub traceparent: &'a str,
}

/// One embeddings call to a provider.
#[derive(Debug, Clone, Copy)]
pub struct EmbedCall<'a> {
    /// The request as the client sent it.
    pub request: &'a EmbeddingRequest,
    /// The model name the upstream knows.
    pub upstream_model: &'a str,
    /// The gateway's request id.
    pub request_id: &'a str,
    /// The W3C `traceparent` to send upstream (see [`ProviderCall::traceparent`]).
    pub traceparent: &'a str,
}

/// The `traceparent` header of an upstream request; `None` (nothing sent) for an empty value
/// or one a header cannot carry.
pub(crate) fn traceparent_header(value: &str) -> Option<(http::HeaderName, http::HeaderValue)> {
    let value = http::HeaderValue::from_str(value).ok().filter(|v| !v.is_empty())?;
    Some((http::HeaderName::from_static("traceparent"), value))
}

/// An upstream LLM API.
///
/// Implementations enforce their own connect, first-byte, idle and total timeouts, map upstream
/// failures to [`Error`] kinds (so the router knows what is retryable), and never put secrets or
/// upstream URLs in error messages. Dropping a returned future or stream cancels the upstream
/// request.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The configured provider name (`openai-eu`, `mock`).
    fn name(&self) -> &str;

    /// A complete chat completion.
    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error>;

    /// A streamed chat completion. Implementations ask the upstream for usage in the stream
    /// (`stream_options.include_usage`) so accounting is exact; the gateway strips the extra
    /// chunk when the client did not ask for it.
    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error>;

    /// Embeddings. Default: this provider serves none.
    async fn embed(&self, _call: EmbedCall<'_>) -> Result<EmbeddingResponse, Error> {
        Err(Error::new(ErrorKind::NotFound, "this provider does not serve embeddings"))
    }
}
