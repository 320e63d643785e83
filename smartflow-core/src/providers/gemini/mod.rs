//! The Google Gemini API dialect: `POST {base_url}/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, with the key in the `x-goog-api-key` header (never in the
//! URL, where it would reach access logs), translated to and from the canonical chat shape by
//! [`crate::translate::gemini`], streaming included.

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, header};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;
use crate::provider::{ChunkStream, Provider, ProviderCall, traceparent_header};
use crate::providers::http::{EventHandler, HttpConfig, UpstreamClient, chunk_stream, retry_after};
use crate::providers::openai::is_safe_segment;
use crate::sse::SseEvent;
use crate::translate::gemini::{GeminiStreamDecoder, error_from_gemini, from_gemini_response, to_gemini_request};
use crate::types::{ChatChunk, ChatResponse};

/// Settings of one Gemini-dialect upstream.
#[derive(Debug, Clone)]
pub struct GeminiConfig {
    /// Where it is (base URL including `/v1beta`) and how long to wait.
    pub http: HttpConfig,
    /// Sent as `x-goog-api-key`.
    pub api_key: Option<SecretString>,
}

impl GeminiConfig {
    /// Settings for `base_url` (e.g. `https://generativelanguage.googleapis.com/v1beta`).
    pub fn new(base_url: &str) -> Result<Self, Error> {
        Ok(Self { http: HttpConfig::new(base_url)?, api_key: None })
    }
}

/// A provider speaking the Gemini `generateContent` wire format.
#[derive(Debug, Clone)]
pub struct GeminiProvider {
    name: String,
    config: GeminiConfig,
    client: UpstreamClient,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl GeminiProvider {
    /// Builds the provider and its pooled client.
    pub fn new(name: impl Into<String>, config: GeminiConfig) -> Result<Self, Error> {
        let client = UpstreamClient::new(&config.http)?;
        let mut headers = vec![(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))];
        if let Some(key) = &config.api_key {
            let mut v = HeaderValue::try_from(key.expose_secret())
                .map_err(|_| Error::internal("provider api key contains characters not allowed in a header"))?;
            v.set_sensitive(true);
            headers.push((HeaderName::from_static("x-goog-api-key"), v));
        }
        Ok(Self { name: name.into(), config, client, headers })
    }

    /// The URL of `model`'s `generateContent` or `streamGenerateContent?alt=sse`. The model name
    /// goes into the path, so it must be one safe segment (a `models/` prefix is accepted and
    /// dropped); anything else is refused before a request is made.
    fn url(&self, model: &str, stream: bool) -> Result<String, Error> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        if !is_safe_segment(model) {
            return Err(Error::internal("a gemini model name may only use letters, digits, '.', '_' and '-'"));
        }
        let base = self.config.http.base_url();
        Ok(if stream {
            format!("{base}/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}/models/{model}:generateContent")
        })
    }

    async fn send(
        &self,
        call: &ProviderCall<'_>,
        stream: bool,
    ) -> Result<http::Response<hyper::body::Incoming>, Error> {
        let url = self.url(call.upstream_model, stream)?;
        let body = to_gemini_request(call.request, stream)?;
        let body = serde_json::to_vec(&body).map_err(|_| Error::internal("could not encode the upstream request"))?;
        let mut headers = self.headers.clone();
        headers.push((
            header::ACCEPT,
            HeaderValue::from_static(if stream { "text/event-stream" } else { "application/json" }),
        ));
        headers.extend(traceparent_header(call.traceparent));
        let response = self.client.post(&url, Bytes::from(body), &headers).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let (status, headers, bytes) = self.client.error_parts(response).await;
        Err(error_from_gemini(status, &bytes, retry_after(&headers)))
    }
}

/// Feeds Gemini events to the translator.
///
/// Gemini has no end marker: the stream is complete once every candidate carried a
/// `finishReason`, and the usage-only final chunk is emitted right then, from the usage of that
/// event (Gemini sends the final counts with it). [`chunk_stream`] delivers no events after
/// [`is_done`](EventHandler::is_done), and a body that ends before it is a truncated stream.
struct GeminiEvents(GeminiStreamDecoder);

impl EventHandler for GeminiEvents {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        self.0.decode_event(event, out)?;
        if self.0.is_done() {
            self.0.finish(out);
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.0.is_done()
    }
}

#[async_trait]
impl Provider for GeminiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        let (_, value) =
            self.client.exchange_json::<serde_json::Value>(self.send(&call, false), "generateContent response").await?;
        from_gemini_response(&value, call.upstream_model)
    }

    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        let response = self.send(&call, true).await?;
        let candidates = call.request.rest.get("n").and_then(serde_json::Value::as_u64).unwrap_or(1);
        let decoder = GeminiStreamDecoder::new(call.upstream_model).expecting(u32::try_from(candidates).unwrap_or(1));
        let decoder = GeminiEvents(decoder);
        Ok(chunk_stream(response.into_body(), self.client.idle_timeout(), self.client.max_event_bytes(), decoder))
    }
}

#[cfg(test)]
mod tests;
