//! The AWS Bedrock Converse dialect: `POST {endpoint}/model/{modelId}/converse` (and
//! `/converse-stream`, an AWS event stream), signed with AWS Signature Version 4 (service
//! `bedrock`), translated to and from the canonical chat shape by
//! [`crate::translate::bedrock`]. No AWS SDK: signing is [`sigv4`], the framing
//! [`EventStreamDecoder`](crate::translate::bedrock::EventStreamDecoder).
//!
//! Credentials are static (long-term keys, or temporary ones with a session token); refreshing
//! temporary credentials is the embedding service's job (build a new provider).

pub mod sigv4;
mod stream;

#[cfg(test)]
mod tests;

use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, header};

pub use sigv4::AwsCredentials;

use crate::error::Error;
use crate::provider::{ChunkStream, Provider, ProviderCall, traceparent_header};
use crate::providers::http::{HttpConfig, UpstreamClient, retry_after};
use crate::translate::bedrock::{
    ConverseStreamDecoder, error_from_bedrock, from_converse_response, to_converse_request,
};
use crate::types::ChatResponse;

/// The SigV4 service name of Bedrock Runtime.
pub const SIGNING_SERVICE: &str = "bedrock";

/// Settings of one Bedrock Runtime upstream.
#[derive(Debug, Clone)]
pub struct BedrockConfig {
    /// The endpoint as base URL (`https://bedrock-runtime.us-east-1.amazonaws.com`, a VPC
    /// endpoint, or a test server) and how long to wait.
    pub http: HttpConfig,
    /// The AWS region signed into every request (`us-east-1`).
    pub region: String,
    /// The credentials requests are signed with.
    pub credentials: AwsCredentials,
    /// `inferenceConfig.maxTokens` when the client set no limit.
    pub default_max_tokens: u64,
}

impl BedrockConfig {
    /// Settings for the public endpoint of `region`
    /// (`https://bedrock-runtime.{region}.amazonaws.com`), default `maxTokens` 4096. Set `http`
    /// to another `HttpConfig` for a VPC endpoint or a proxy-side URL.
    pub fn new(region: &str, credentials: AwsCredentials) -> Result<Self, Error> {
        validate_region(region)?;
        Ok(Self {
            http: HttpConfig::new(&format!("https://bedrock-runtime.{region}.amazonaws.com"))?,
            region: region.to_owned(),
            credentials,
            default_max_tokens: 4096,
        })
    }
}

fn validate_region(region: &str) -> Result<(), Error> {
    let ok = !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err(Error::internal("bedrock region must be a region name such as us-east-1")) }
}

/// Where requests go: the parts of the endpoint URL that signing needs.
#[derive(Debug, Clone)]
struct Endpoint {
    scheme: String,
    /// The `Host` header value: host, plus the port when it is not the scheme's default.
    host: String,
    /// The endpoint's path prefix without a trailing slash (usually empty).
    base_path: String,
}

impl Endpoint {
    fn parse(base_url: &str) -> Result<Self, Error> {
        let uri: http::Uri = base_url.parse().map_err(|_| Error::internal("provider base_url is not a valid URL"))?;
        let scheme = uri.scheme_str().unwrap_or("https").to_owned();
        let host = uri.host().ok_or_else(|| Error::internal("provider base_url has no host"))?;
        let host = match (uri.port_u16(), scheme.as_str()) {
            (None, _) | (Some(443), "https") | (Some(80), "http") => host.to_owned(),
            (Some(port), _) => format!("{host}:{port}"),
        };
        Ok(Self { scheme, host, base_path: uri.path().trim_end_matches('/').to_owned() })
    }

    /// The request path (as sent) for `model`: the model id is one URI-encoded segment, so
    /// `:` is `%3A` and an ARN's `/` is `%2F`.
    fn path(&self, model: &str, stream: bool) -> String {
        let action = if stream { "converse-stream" } else { "converse" };
        format!("{}/model/{}/{action}", self.base_path, sigv4::uri_encode(model, true))
    }
}

/// A provider speaking the Bedrock Converse API.
#[derive(Debug, Clone)]
pub struct BedrockProvider {
    name: String,
    config: BedrockConfig,
    client: UpstreamClient,
    endpoint: Endpoint,
}

impl BedrockProvider {
    /// Builds the provider and its pooled client.
    pub fn new(name: impl Into<String>, config: BedrockConfig) -> Result<Self, Error> {
        validate_region(&config.region)?;
        let client = UpstreamClient::new(&config.http)?;
        let endpoint = Endpoint::parse(config.http.base_url())?;
        Ok(Self { name: name.into(), config, client, endpoint })
    }

    /// Translates, signs and sends the call; a non-2xx answer becomes the mapped error.
    async fn send(
        &self,
        call: &ProviderCall<'_>,
        stream: bool,
    ) -> Result<http::Response<hyper::body::Incoming>, Error> {
        let body = to_converse_request(call.request, self.config.default_max_tokens)?;
        let body = serde_json::to_vec(&body).map_err(|_| Error::internal("could not encode the upstream request"))?;
        let path = self.endpoint.path(call.upstream_model, stream);
        let content_type = (header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let signature = sigv4::sign(
            "POST",
            &self.endpoint.host,
            &path,
            "",
            std::slice::from_ref(&content_type),
            &sigv4::sha256_hex(&body),
            &self.config.credentials,
            &self.config.region,
            SIGNING_SERVICE,
            SystemTime::now(),
        )?;
        let accept = if stream { "application/vnd.amazon.eventstream" } else { "application/json" };
        let mut headers: Vec<(HeaderName, HeaderValue)> =
            vec![content_type, (header::ACCEPT, HeaderValue::from_static(accept))];
        headers.extend(signature);
        // Not signed (SigV4 covers only the headers it lists), so tracing never breaks signing.
        headers.extend(traceparent_header(call.traceparent));
        let url = format!("{}://{}{path}", self.endpoint.scheme, self.endpoint.host);
        let response = self.client.post(&url, Bytes::from(body), &headers).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let (status, headers, bytes) = self.client.error_parts(response).await;
        Err(error_from_bedrock(status, &headers, &bytes, retry_after(&headers)))
    }
}

/// `chatcmpl-<x-amzn-RequestId>`, when Bedrock sent a request id.
fn chat_id(headers: &http::HeaderMap) -> Option<String> {
    let id = headers.get("x-amzn-requestid")?.to_str().ok()?.trim();
    let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| format!("chatcmpl-{id}"))
}

#[async_trait]
impl Provider for BedrockProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        let (headers, value) =
            self.client.exchange_json::<serde_json::Value>(self.send(&call, false), "Converse response").await?;
        let mut response = from_converse_response(&value, call.upstream_model)?;
        if let Some(id) = chat_id(&headers) {
            response.id = id;
        }
        Ok(response)
    }

    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        let response = self.send(&call, true).await?;
        let mut decoder = ConverseStreamDecoder::new(call.upstream_model);
        if let Some(id) = chat_id(response.headers()) {
            decoder = decoder.with_id(id);
        }
        Ok(stream::converse_chunk_stream(
            response.into_body(),
            self.client.idle_timeout(),
            self.client.max_event_bytes(),
            decoder,
        ))
    }
}
