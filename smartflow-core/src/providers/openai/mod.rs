//! The OpenAI chat-completions dialect: OpenAI itself and every OpenAI-compatible server
//! (vLLM, Ollama, TGI, LM Studio, llama.cpp) through one adapter. A provider is configuration:
//! base URL, credentials, timeouts.

mod config;
mod errors;
mod stream;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, header};
use secrecy::ExposeSecret;
use serde::ser::{Serialize, SerializeMap, Serializer};

pub use config::{OpenAiConfig, is_safe_segment};

use crate::error::Error;
use crate::provider::{ChunkStream, EmbedCall, Provider, ProviderCall, traceparent_header};
use crate::providers::http::{UpstreamClient, chunk_stream};
use crate::types::{ChatChunk, ChatRequest, ChatResponse, EmbeddingResponse};

/// A provider speaking the OpenAI chat-completions wire format.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    name: String,
    config: OpenAiConfig,
    client: UpstreamClient,
    auth: Option<(HeaderName, HeaderValue)>,
}

impl OpenAiProvider {
    /// Builds the provider and its pooled HTTPS client. Fails on an invalid base URL or TLS set-up.
    pub fn new(name: impl Into<String>, config: OpenAiConfig) -> Result<Self, Error> {
        let client = UpstreamClient::new(&config.http)?;
        let auth = match &config.api_key {
            None => None,
            Some(key) => {
                let (name, value) = match &config.key_header {
                    None => (header::AUTHORIZATION, format!("Bearer {}", key.expose_secret())),
                    Some(h) => (h.clone(), key.expose_secret().to_owned()),
                };
                let mut value = HeaderValue::try_from(value)
                    .map_err(|_| Error::internal("provider api key contains characters not allowed in a header"))?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Self { name: name.into(), config, client, auth })
    }

    fn headers(&self, request_id: &str, traceparent: &str, accept: &'static str) -> Vec<(HeaderName, HeaderValue)> {
        let mut h = vec![
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::ACCEPT, HeaderValue::from_static(accept)),
        ];
        if let Ok(id) = HeaderValue::from_str(request_id) {
            h.push((HeaderName::from_static("x-request-id"), id));
        }
        h.extend(traceparent_header(traceparent));
        h.extend(self.auth.clone());
        h
    }

    /// POSTs and returns the 2xx response; other statuses become OpenAI-dialect errors.
    async fn send(
        &self,
        url: &str,
        body: Bytes,
        request_id: &str,
        traceparent: &str,
        accept: &'static str,
    ) -> Result<http::Response<hyper::body::Incoming>, Error> {
        let response = self.client.post(url, body, &self.headers(request_id, traceparent, accept)).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let (status, headers, bytes) = self.client.error_parts(response).await;
        Err(errors::from_status(status, &headers, &bytes))
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
        let url = self.config.url("chat/completions", call.upstream_model)?;
        let send = self.send(&url, body, call.request_id, call.traceparent, "application/json");
        Ok(self.client.exchange_json(send, "chat completion").await?.1)
    }

    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        let body = Self::body(&call, true)?;
        let url = self.config.url("chat/completions", call.upstream_model)?;
        let response = self.send(&url, body, call.request_id, call.traceparent, "text/event-stream").await?;
        let is_json = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            // A server that ignored `stream: true`: turn its answer into chunks.
            let bytes = self.client.collect(response.into_body()).await?;
            let full: ChatResponse = UpstreamClient::parse_json(&bytes, "chat completion")?;
            let chunks: Vec<Result<ChatChunk, Error>> = ChatChunk::from_response(&full).into_iter().map(Ok).collect();
            return Ok(Box::pin(futures_util::stream::iter(chunks)));
        }
        Ok(chunk_stream(
            response.into_body(),
            self.client.idle_timeout(),
            self.client.max_event_bytes(),
            stream::OpenAiEvents::default(),
        ))
    }

    async fn embed(&self, call: EmbedCall<'_>) -> Result<EmbeddingResponse, Error> {
        let mut req = call.request.clone();
        req.model = call.upstream_model.to_owned();
        let body = serde_json::to_vec(&req).map_err(|_| Error::internal("could not encode the upstream request"))?;
        let url = self.config.url("embeddings", call.upstream_model)?;
        let send = self.send(&url, body.into(), call.request_id, call.traceparent, "application/json");
        Ok(self.client.exchange_json(send, "embeddings response").await?.1)
    }
}
