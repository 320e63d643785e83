//! The OpenAI chat-completions dialect: OpenAI itself and every OpenAI-compatible server
//! (vLLM, Ollama, TGI, LM Studio, llama.cpp) through one adapter. A provider is configuration:
//! base URL, credentials, timeouts.

mod client;
mod config;
mod errors;
mod stream;

use async_trait::async_trait;
use bytes::Bytes;
use serde::ser::{Serialize, SerializeMap, Serializer};

pub use config::OpenAiConfig;

use crate::error::{Error, ErrorKind};
use crate::provider::{ChunkStream, EmbedCall, Provider, ProviderCall};
use crate::types::{ChatChunk, ChatRequest, ChatResponse, EmbeddingResponse};
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
        let body = UpstreamChat { req: call.request, model: call.upstream_model, stream };
        serde_json::to_vec(&body).map(Bytes::from).map_err(|_| Error::internal("could not encode the upstream request"))
    }
}

/// The request as the upstream gets it, serialised straight from the client's request without
/// copying it: the upstream model name, `stream` set as asked, and on streams
/// `stream_options.include_usage` forced on so accounting is exact.
struct UpstreamChat<'a> {
    req: &'a ChatRequest,
    model: &'a str,
    stream: bool,
}

impl Serialize for UpstreamChat<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.req;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("model", self.model)?;
        m.serialize_entry("messages", &r.messages)?;
        if self.stream {
            m.serialize_entry("stream", &true)?;
            let mut options = r.stream_options.clone().unwrap_or_default();
            options.include_usage = Some(true);
            m.serialize_entry("stream_options", &options)?;
        }
        if let Some(v) = r.max_tokens {
            m.serialize_entry("max_tokens", &v)?;
        }
        if let Some(v) = r.max_completion_tokens {
            m.serialize_entry("max_completion_tokens", &v)?;
        }
        for (k, v) in &r.rest {
            m.serialize_entry(k, v)?;
        }
        m.end()
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
