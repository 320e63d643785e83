//! The OpenAI chat-completions dialect: OpenAI itself and every OpenAI-compatible server
//! (vLLM, Ollama, TGI, LM Studio, llama.cpp) through one adapter. A provider is configuration:
//! base URL, credentials, timeouts.

mod client;
mod config;
mod errors;
mod stream;

use async_trait::async_trait;
use bytes::Bytes;

pub use config::OpenAiConfig;

use crate::error::{Error, ErrorKind};
use crate::provider::{ChunkStream, EmbedCall, Provider, ProviderCall};
use crate::types::{ChatChunk, ChatRequest, ChatResponse, EmbeddingResponse, StreamOptions};
use client::UpstreamClient;

/// A provider speaking the OpenAI chat-completions wire format.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    name: String,
    config: OpenAiConfig,
    client: UpstreamClient,
}

impl OpenAiProvider {
    /// Builds the provider and its pooled HTTPS client. Fails on an invalid base URL or TLS set-up.
    pub fn new(name: impl Into<String>, config: OpenAiConfig) -> Result<Self, Error> {
        let client = UpstreamClient::new(&config)?;
        Ok(Self { name: name.into(), config, client })
    }

    fn body(call: &ProviderCall<'_>, stream: bool) -> Result<Bytes, Error> {
        let mut req: ChatRequest = call.request.clone();
        req.model = call.upstream_model.to_owned();
        if stream {
            req.stream = Some(true);
            let opts = req.stream_options.get_or_insert_with(StreamOptions::default);
            opts.include_usage = Some(true);
        } else {
            req.stream = None;
            req.stream_options = None;
        }
        serde_json::to_vec(&req).map(Bytes::from).map_err(|_| Error::internal("could not encode the upstream request"))
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        let body = Self::body(&call, false)?;
        let bytes = self.client.post_json(&self.config.chat_path(), body, call.request_id).await?;
        serde_json::from_slice(&bytes).map_err(|_| {
            Error::new(ErrorKind::UpstreamProtocol, "upstream returned an invalid chat completion")
                .with_code("invalid_upstream_response")
        })
    }

    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        let body = Self::body(&call, true)?;
        let response = self.client.post_stream(&self.config.chat_path(), body, call.request_id).await?;
        let is_json = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            // A server that ignored `stream: true`: turn its answer into chunks.
            let bytes = self.client.collect(response.into_body()).await?;
            let full: ChatResponse = serde_json::from_slice(&bytes)
                .map_err(|_| Error::new(ErrorKind::UpstreamProtocol, "upstream returned an invalid chat completion"))?;
            let chunks: Vec<Result<ChatChunk, Error>> = ChatChunk::from_response(&full).into_iter().map(Ok).collect();
            return Ok(Box::pin(futures_util::stream::iter(chunks)));
        }
        Ok(stream::chunk_stream(response.into_body(), self.config.idle_timeout, self.config.max_event_bytes))
    }

    async fn embed(&self, call: EmbedCall<'_>) -> Result<EmbeddingResponse, Error> {
        let mut req = call.request.clone();
        req.model = call.upstream_model.to_owned();
        let body = serde_json::to_vec(&req).map_err(|_| Error::internal("could not encode the upstream request"))?;
        let bytes = self.client.post_json(&self.config.embeddings_path(), body.into(), call.request_id).await?;
        serde_json::from_slice(&bytes).map_err(|_| {
            Error::new(ErrorKind::UpstreamProtocol, "upstream returned an invalid embeddings response")
                .with_code("invalid_upstream_response")
        })
    }
}
