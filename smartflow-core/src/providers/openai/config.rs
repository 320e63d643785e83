//! `OpenAiConfig`: an OpenAI-dialect upstream — connection settings, credentials, and the
//! quirks of the servers that speak the dialect (Azure OpenAI deployment URLs, key headers).

use http::HeaderName;
use secrecy::SecretString;

use crate::error::Error;
use crate::providers::http::HttpConfig;

/// Settings of one OpenAI-dialect upstream.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Where it is and how long to wait.
    pub http: HttpConfig,
    /// The key sent upstream, if the server needs one.
    pub api_key: Option<SecretString>,
    /// The header that carries the key: `None` sends `Authorization: Bearer <key>`; Azure
    /// OpenAI uses `api-key`, an Azure API Management front `Ocp-Apim-Subscription-Key`.
    pub key_header: Option<HeaderName>,
    /// Azure OpenAI: deployment URLs (`{base}/openai/deployments/{model}/chat/completions`)
    /// with this `api-version` query parameter. The target's model is the deployment name.
    pub azure_api_version: Option<String>,
}

impl OpenAiConfig {
    /// Settings for an OpenAI-compatible server at `base_url` (including its `/v1`).
    pub fn new(base_url: &str) -> Result<Self, Error> {
        Ok(Self { http: HttpConfig::new(base_url)?, api_key: None, key_header: None, azure_api_version: None })
    }

    /// Settings for an Azure OpenAI resource (`https://NAME.openai.azure.com`) or an API
    /// Management front: deployment URLs, `api-version`, and the key in the `api-key` header.
    pub fn azure(base_url: &str, api_version: &str) -> Result<Self, Error> {
        if api_version.is_empty() || !api_version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
            return Err(Error::internal("azure api_version must look like 2024-10-21"));
        }
        Ok(Self {
            http: HttpConfig::new(base_url)?,
            api_key: None,
            key_header: Some(HeaderName::from_static("api-key")),
            azure_api_version: Some(api_version.to_owned()),
        })
    }

    /// The URL for `operation` (`chat/completions`, `embeddings`) on `model`. Azure deployment
    /// names are checked so a model name can never change the URL's host or path.
    pub(super) fn url(&self, operation: &str, model: &str) -> Result<String, Error> {
        let base = self.http.base_url();
        match &self.azure_api_version {
            None => Ok(format!("{base}/{operation}")),
            Some(version) => {
                if !is_safe_segment(model) {
                    return Err(Error::internal(
                        "an azure deployment name may only use letters, digits, '.', '_' and '-'",
                    ));
                }
                Ok(format!("{base}/openai/deployments/{model}/{operation}?api-version={version}"))
            }
        }
    }
}

/// A URL path segment that cannot escape its place: `[A-Za-z0-9._-]{1,128}`, not `.`/`..`.
pub fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_per_dialect_and_no_injection() {
        let c = OpenAiConfig::new("https://h/v1/").unwrap();
        assert_eq!(c.url("chat/completions", "gpt").unwrap(), "https://h/v1/chat/completions");
        let a = OpenAiConfig::azure("https://res.openai.azure.com", "2024-10-21").unwrap();
        assert_eq!(
            a.url("chat/completions", "gpt-4o-prod").unwrap(),
            "https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
        );
        for bad in ["a/b", "a#b", "a?b", "a@b", "%2f", "..", "", "a b"] {
            assert!(a.url("chat/completions", bad).is_err(), "{bad:?}");
        }
        assert!(OpenAiConfig::azure("https://h", "2024/../x").is_err());
    }
}
