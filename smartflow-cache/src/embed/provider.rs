//! [`ProviderEmbedder`]: embeddings from an OpenAI-compatible `/v1/embeddings` upstream, through
//! the gateway's own [`Provider`] objects (their credentials, timeouts and error mapping).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use smartflow_core::types::Extra;
use smartflow_core::{EmbedCall, Embedder, EmbeddingRequest, EmbeddingResponse, Error, ErrorKind, Provider};

/// Embeds through `provider` with the upstream model `model`.
///
/// The dimension is the configured one, or is learnt from the first answer; until then
/// [`dimension`](Embedder::dimension) is 0 (call [`probe`](Self::probe) at start-up to learn
/// it early). Every answer must have one vector per text, all of that dimension; anything else
/// is an `UpstreamProtocol` error. Vectors are L2-normalised here whatever the upstream does.
/// Upstream errors are the provider's own [`Error`]s, passed through.
pub struct ProviderEmbedder {
    provider: Arc<dyn Provider>,
    model: String,
    model_id: String,
    dimension: AtomicUsize,
    calls: AtomicU64,
}

impl fmt::Debug for ProviderEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderEmbedder")
            .field("model_id", &self.model_id)
            .field("dimension", &self.dimension.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ProviderEmbedder {
    /// Embeds with `provider`'s upstream `model`; `dimension` when known.
    pub fn new(provider: Arc<dyn Provider>, model: impl Into<String>, dimension: Option<usize>) -> Self {
        let model = model.into();
        let model_id = format!("provider:{}/{}", provider.name(), model);
        Self {
            provider,
            model,
            model_id,
            dimension: AtomicUsize::new(dimension.unwrap_or(0)),
            calls: AtomicU64::new(0),
        }
    }

    /// Embeds one short text to learn (or check) the dimension, and returns it.
    ///
    /// # Errors
    ///
    /// As [`Embedder::embed`].
    pub async fn probe(&self) -> Result<usize, Error> {
        self.embed(&["dimension probe".to_owned()]).await?;
        Ok(self.dimension.load(Ordering::Acquire))
    }

    /// Records `dim` as the dimension (first answer) or checks it against the known one.
    fn check_dimension(&self, dim: usize) -> Result<(), Error> {
        match self.dimension.compare_exchange(0, dim, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Ok(()),
            Err(known) if known == dim => Ok(()),
            Err(known) => {
                Err(protocol(format!("the embeddings upstream answered with {dim} dimensions, {known} were expected")))
            }
        }
    }
}

fn protocol(message: String) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, message)
}

/// The vectors of an OpenAI embeddings answer, in input order (by `index` when present).
fn vectors(response: &EmbeddingResponse, expected: usize) -> Result<Vec<Vec<f32>>, Error> {
    let data = response
        .rest
        .get("data")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| protocol("the embeddings answer has no `data` array".into()))?;
    if data.len() != expected {
        return Err(protocol(format!("the embeddings answer has {} vectors for {expected} inputs", data.len())));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (position, item) in data.iter().enumerate() {
        let index = match item.get("index") {
            None => position,
            Some(i) => i
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| protocol("an embedding `index` is not a number".into()))?,
        };
        let values = item
            .get("embedding")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| protocol("an embedding is not an array of numbers".into()))?;
        let mut v = Vec::with_capacity(values.len());
        for x in values {
            let x = x.as_f64().ok_or_else(|| protocol("an embedding holds a non-number".into()))?;
            #[expect(clippy::cast_possible_truncation, reason = "embeddings are f32 by nature")]
            v.push(x as f32);
        }
        let slot = out.get_mut(index).ok_or_else(|| protocol(format!("embedding index {index} is out of range")))?;
        if slot.replace(v).is_some() {
            return Err(protocol(format!("embedding index {index} appears twice")));
        }
    }
    out.into_iter().map(|v| v.ok_or_else(|| protocol("an embedding index is missing".into()))).collect()
}

#[async_trait]
impl Embedder for ProviderEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension.load(Ordering::Acquire)
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let request = EmbeddingRequest {
            model: self.model.clone(),
            input: serde_json::Value::Array(texts.iter().map(|t| serde_json::Value::String(t.clone())).collect()),
            rest: Extra::new(),
        };
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("cache-embed-{n}");
        let call =
            EmbedCall { request: &request, upstream_model: &self.model, request_id: &request_id, traceparent: "" };
        let response = self.provider.embed(call).await?;
        let mut vectors = vectors(&response, texts.len())?;
        for v in &mut vectors {
            if v.is_empty() {
                return Err(protocol("the embeddings upstream answered with an empty vector".into()));
            }
            self.check_dimension(v.len())?;
            if !v.iter().all(|x| x.is_finite()) || v.iter().all(|x| *x == 0.0) {
                return Err(protocol("the embeddings upstream answered with a zero or non-finite vector".into()));
            }
            super::normalize_or_basis(v);
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use smartflow_core::providers::{MockConfig, MockProvider};
    use smartflow_core::{ChatResponse, ChunkStream, ProviderCall};

    use super::*;

    #[tokio::test]
    async fn mock_provider_vectors_are_unit_and_the_dimension_is_learnt() {
        let mock = MockProvider::new("mock", MockConfig { embedding_dimension: 48, ..MockConfig::default() });
        let e = ProviderEmbedder::new(Arc::new(mock), "embed-small", None);
        assert_eq!(e.model_id(), "provider:mock/embed-small");
        assert_eq!(e.dimension(), 0);
        let texts = vec!["hello".to_owned(), "world".to_owned(), "hello".to_owned()];
        let v = e.embed(&texts).await.unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(e.dimension(), 48);
        for x in &v {
            let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
        }
        assert_eq!(v[0], v[2]);
        assert_ne!(v[0], v[1]);
        assert_eq!(e.probe().await.unwrap(), 48);
        assert!(e.embed(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_configured_dimension_is_enforced() {
        let mock = MockProvider::new("mock", MockConfig { embedding_dimension: 16, ..MockConfig::default() });
        let e = ProviderEmbedder::new(Arc::new(mock), "m", Some(32));
        assert_eq!(e.dimension(), 32);
        let err = e.embed(&["x".to_owned()]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol);
    }

    /// A provider that answers with a fixed JSON `data` array (or an error) and records requests.
    struct Canned {
        data: Result<serde_json::Value, Error>,
        seen: Mutex<Vec<EmbeddingRequest>>,
    }

    #[async_trait]
    impl Provider for Canned {
        fn name(&self) -> &str {
            "canned"
        }
        async fn chat(&self, _call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
            Err(Error::internal("not here"))
        }
        async fn chat_stream(&self, _call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
            Err(Error::internal("not here"))
        }
        async fn embed(&self, call: EmbedCall<'_>) -> Result<EmbeddingResponse, Error> {
            self.seen.lock().unwrap().push(call.request.clone());
            let data = self.data.clone()?;
            let mut rest = Extra::new();
            rest.insert("data".into(), data);
            Ok(EmbeddingResponse { model: call.upstream_model.into(), usage: None, rest })
        }
    }

    fn canned(data: Result<serde_json::Value, Error>) -> (Arc<Canned>, ProviderEmbedder) {
        let p = Arc::new(Canned { data, seen: Mutex::new(Vec::new()) });
        let e = ProviderEmbedder::new(Arc::clone(&p) as Arc<dyn Provider>, "text-embedding-3-small", None);
        (p, e)
    }

    #[tokio::test]
    async fn answers_are_reordered_by_index_and_normalised() {
        let (p, e) = canned(Ok(serde_json::json!([
            {"index": 1, "embedding": [0.0, 2.0]},
            {"index": 0, "embedding": [3.0, 4.0]},
        ])));
        let v = e.embed(&["a".to_owned(), "b".to_owned()]).await.unwrap();
        assert_eq!(v, vec![vec![0.6, 0.8], vec![0.0, 1.0]]);
        let seen = p.seen.lock().unwrap();
        assert_eq!(seen[0].model, "text-embedding-3-small");
        assert_eq!(seen[0].input, serde_json::json!(["a", "b"]));
    }

    #[tokio::test]
    async fn malformed_answers_are_protocol_errors_and_upstream_errors_pass_through() {
        let texts = ["a".to_owned(), "b".to_owned()];
        for bad in [
            serde_json::json!([{"index": 0, "embedding": [1.0]}]),
            serde_json::json!([{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]),
            serde_json::json!([{"index": 0, "embedding": [1.0]}, {"index": 5, "embedding": [1.0]}]),
            serde_json::json!([{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": [1.0]}]),
            serde_json::json!([{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": [1.0]}]),
            serde_json::json!([{"index": 0, "embedding": [0.0]}, {"index": 1, "embedding": [1.0]}]),
        ] {
            let (_, e) = canned(Ok(bad.clone()));
            let err = e.embed(&texts).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{bad}");
        }
        let (_, e) = canned(Err(Error::new(ErrorKind::RateLimited, "slow down")));
        assert_eq!(e.embed(&texts).await.unwrap_err().kind(), ErrorKind::RateLimited);
    }

    #[tokio::test]
    async fn a_provider_without_embeddings_says_so() {
        struct ChatOnly;
        #[async_trait]
        impl Provider for ChatOnly {
            fn name(&self) -> &str {
                "chat-only"
            }
            async fn chat(&self, _call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
                Err(Error::internal("not here"))
            }
            async fn chat_stream(&self, _call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
                Err(Error::internal("not here"))
            }
        }
        let e = ProviderEmbedder::new(Arc::new(ChatOnly), "m", None);
        assert_eq!(e.embed(&["x".to_owned()]).await.unwrap_err().kind(), ErrorKind::NotFound);
    }
}
