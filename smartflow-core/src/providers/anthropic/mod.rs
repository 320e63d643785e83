//! The Anthropic Messages dialect: `POST {base_url}/messages` with `x-api-key` and
//! `anthropic-version`, translated to and from the canonical chat shape by
//! [`crate::translate::anthropic`], streaming included.

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, header};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;
use crate::provider::{ChunkStream, Provider, ProviderCall, traceparent_header};
use crate::providers::http::{EventHandler, HttpConfig, UpstreamClient, chunk_stream, retry_after};
use crate::sse::SseEvent;
use crate::translate::anthropic::{
    AnthropicStreamDecoder, error_from_anthropic, from_anthropic_response, to_anthropic_request,
};
use crate::types::{ChatChunk, ChatResponse};

/// Settings of one Anthropic-dialect upstream.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// Where it is (base URL including `/v1`) and how long to wait.
    pub http: HttpConfig,
    /// Sent as `x-api-key`.
    pub api_key: Option<SecretString>,
    /// The `anthropic-version` header.
    pub version: String,
    /// `max_tokens` when the client set none (Anthropic requires one).
    pub default_max_tokens: u64,
}

impl AnthropicConfig {
    /// Settings for `base_url` (e.g. `https://api.anthropic.com/v1`), version `2023-06-01`,
    /// default `max_tokens` 4096.
    pub fn new(base_url: &str) -> Result<Self, Error> {
        Ok(Self {
            http: HttpConfig::new(base_url)?,
            api_key: None,
            version: "2023-06-01".to_owned(),
            default_max_tokens: 4096,
        })
    }
}

/// A provider speaking the Anthropic Messages wire format.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    name: String,
    config: AnthropicConfig,
    client: UpstreamClient,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl AnthropicProvider {
    /// Builds the provider and its pooled client.
    pub fn new(name: impl Into<String>, config: AnthropicConfig) -> Result<Self, Error> {
        let client = UpstreamClient::new(&config.http)?;
        let mut headers = vec![
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (
                HeaderName::from_static("anthropic-version"),
                HeaderValue::try_from(config.version.as_str())
                    .map_err(|_| Error::internal("anthropic version is not a valid header value"))?,
            ),
        ];
        if let Some(key) = &config.api_key {
            let mut v = HeaderValue::try_from(key.expose_secret())
                .map_err(|_| Error::internal("provider api key contains characters not allowed in a header"))?;
            v.set_sensitive(true);
            headers.push((HeaderName::from_static("x-api-key"), v));
        }
        Ok(Self { name: name.into(), config, client, headers })
    }

    fn url(&self) -> String {
        format!("{}/messages", self.config.http.base_url())
    }

    async fn send(
        &self,
        call: &ProviderCall<'_>,
        stream: bool,
    ) -> Result<http::Response<hyper::body::Incoming>, Error> {
        let body = to_anthropic_request(call.request, call.upstream_model, stream, self.config.default_max_tokens)?;
        let body = serde_json::to_vec(&body).map_err(|_| Error::internal("could not encode the upstream request"))?;
        let mut headers = self.headers.clone();
        headers.push((
            header::ACCEPT,
            HeaderValue::from_static(if stream { "text/event-stream" } else { "application/json" }),
        ));
        headers.extend(traceparent_header(call.traceparent));
        let response = self.client.post(&self.url(), Bytes::from(body), &headers).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let (status, headers, bytes) = self.client.error_parts(response).await;
        Err(error_from_anthropic(status, &bytes, retry_after(&headers)))
    }
}

/// Feeds Anthropic events to the translator.
struct AnthropicEvents(AnthropicStreamDecoder);

impl EventHandler for AnthropicEvents {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        self.0.decode_event(event, out)
    }

    fn is_done(&self) -> bool {
        self.0.is_done()
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        let (_, value) = self.client.exchange_json::<serde_json::Value>(self.send(&call, false), "message").await?;
        from_anthropic_response(&value, call.upstream_model)
    }

    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        let response = self.send(&call, true).await?;
        let decoder = AnthropicEvents(AnthropicStreamDecoder::new(call.upstream_model));
        Ok(chunk_stream(response.into_body(), self.client.idle_timeout(), self.client.max_event_bytes(), decoder))
    }
}
