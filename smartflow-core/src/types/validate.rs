//! Input checks that run before any parsing or routing: JSON nesting depth, conversation size,
//! and the rule that a request never chooses where it is sent (no `api_base` from clients).

use super::Extra;
use crate::error::Error;

/// Deepest JSON nesting accepted in a request body.
pub const MAX_JSON_DEPTH: usize = 64;

/// Most messages accepted in one conversation.
pub const MAX_MESSAGES: usize = 2_000;

/// Field names that would let a client pick the upstream or its credentials. Smartflow never
/// honours them: upstreams come from configuration only.
const UPSTREAM_OVERRIDE_FIELDS: &[&str] = &[
    "api_base",
    "base_url",
    "api_url",
    "api_key",
    "custom_host",
    "azure_endpoint",
    "aws_endpoint_url",
    "vertex_location",
];

/// Top-level fields whose nested keys belong to the user's own schema (tool parameters,
/// metadata), where a property named `base_url` is legitimate data.
const USER_SCHEMA_FIELDS: &[&str] = &["tools", "functions", "response_format", "metadata", "tool_choice", "prediction"];

/// Rejects a body whose JSON nests deeper than `max_depth`, without parsing it.
///
/// Runs in one pass over the bytes, tracking strings and escapes, so a body of ten thousand `[`
/// is refused before serde sees it.
pub fn check_json_depth(body: &[u8], max_depth: usize) -> Result<(), Error> {
    // Fast path: a body with no more openers than the limit cannot nest deeper than it. The
    // count is a simple loop the compiler vectorises; typical chat bodies take only this path.
    let openers = body.iter().filter(|&&b| b == b'[' || b == b'{').count();
    if openers <= max_depth {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Error::invalid_request(format!(
                        "request JSON is nested deeper than {max_depth} levels"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses client-supplied upstream URLs or credentials anywhere in the request's extra fields.
pub fn reject_client_upstream_overrides(rest: &Extra) -> Result<(), Error> {
    for (key, value) in rest {
        if is_override(key) {
            return Err(override_error(key));
        }
        if USER_SCHEMA_FIELDS.contains(&key.as_str()) {
            continue;
        }
        if let Some(obj) = value.as_object() {
            for nested in obj.keys() {
                if is_override(nested) {
                    return Err(override_error(&format!("{key}.{nested}")));
                }
            }
        }
    }
    Ok(())
}

fn is_override(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    UPSTREAM_OVERRIDE_FIELDS.contains(&lower.as_str())
}

fn override_error(param: &str) -> Error {
    Error::invalid_request(
        "requests may not choose the upstream or its credentials; upstreams come from the gateway's configuration",
    )
    .with_param(param.to_owned())
    .with_code("upstream_override_not_allowed")
}

/// Parses a JSON body. The fast path is plain serde; only a body that fails is parsed again,
/// tracking the path, so the error can name the parameter at fault (`messages[0].role`).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(_) => {
            let de = &mut serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, T>(de) {
                Ok(v) => Ok(v),
                Err(e) => {
                    let path = e.path().to_string();
                    let err = Error::invalid_request(describe_json_error(&e.into_inner()));
                    Err(if path.is_empty() || path == "." { err } else { err.with_param(path) })
                }
            }
        }
    }
}

/// Refuses a request whose query string or headers try to choose the upstream: a query
/// parameter named like an upstream override (`?api_base=`), or a header such as
/// `x-portkey-custom-host`, `x-api-base`, `x-base-url`. Nothing is ever sent to a URL taken from a
/// request.
pub fn reject_upstream_overrides_outside_body(query: Option<&str>, headers: &http::HeaderMap) -> Result<(), Error> {
    for pair in query.unwrap_or("").split('&') {
        let name = pair.split('=').next().unwrap_or("");
        if !name.is_empty() && is_override(name) {
            return Err(override_error(name));
        }
    }
    for name in headers.keys() {
        let n = name.as_str();
        let stem = n.strip_prefix("x-").unwrap_or(n).replace('-', "_");
        // `x-api-key` is a credential (the Anthropic convention), not an override.
        let chooses_upstream = is_override(&stem) && stem != "api_key";
        if chooses_upstream || n.ends_with("-custom-host") || (n.starts_with("x-") && stem.ends_with("_api_base")) {
            return Err(override_error(n));
        }
    }
    Ok(())
}

/// A client-facing description of a serde_json error, without echoing the body.
pub(crate) fn describe_json_error(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match err.classify() {
        Category::Eof => "request body is truncated JSON".to_owned(),
        Category::Syntax => format!("request body is not valid JSON (line {}, column {})", err.line(), err.column()),
        Category::Data | Category::Io => {
            // serde's data messages name types and fields, never values beyond a short literal.
            let text = err.to_string();
            match text.find(" at line ") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings_only() {
        let deep = "[".repeat(65);
        assert!(check_json_depth(deep.as_bytes(), 64).is_err());
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(check_json_depth(ok.as_bytes(), 64).is_ok());
        let quoted = format!("{{\"a\":\"{}\"}}", "[".repeat(500));
        assert!(check_json_depth(quoted.as_bytes(), 64).is_ok());
        let escaped = format!("{{\"a\":\"\\\"{}\"}}", "[".repeat(500));
        assert!(check_json_depth(escaped.as_bytes(), 64).is_ok());
    }

    #[test]
    fn overrides_in_query_and_headers_are_refused() {
        let mut h = http::HeaderMap::new();
        assert!(reject_upstream_overrides_outside_body(Some("a=1&b=2"), &h).is_ok());
        assert!(reject_upstream_overrides_outside_body(Some("api_base=http://evil"), &h).is_err());
        assert!(reject_upstream_overrides_outside_body(Some("x=1&BASE_URL=y"), &h).is_err());
        for name in ["x-portkey-custom-host", "x-api-base", "x-base-url", "api-base", "x-litellm-api-base"] {
            h.clear();
            h.insert(http::HeaderName::from_static(name), http::HeaderValue::from_static("http://evil"));
            assert!(reject_upstream_overrides_outside_body(None, &h).is_err(), "{name}");
        }
        h.clear();
        h.insert("x-request-id", http::HeaderValue::from_static("abc"));
        h.insert("x-api-key", http::HeaderValue::from_static("sf-key"));
        assert!(reject_upstream_overrides_outside_body(None, &h).is_ok(), "credentials are not overrides");
    }

    #[test]
    fn upstream_overrides_are_refused_but_tool_schemas_are_data() {
        let bad: Extra = serde_json::from_str(r#"{"api_base":"http://evil"}"#).unwrap_or_default();
        assert!(reject_client_upstream_overrides(&bad).is_err());
        let nested: Extra =
            serde_json::from_str(r#"{"litellm_embedding_config":{"api_base":"http://evil"}}"#).unwrap_or_default();
        let e = reject_client_upstream_overrides(&nested).err();
        assert_eq!(e.and_then(|e| e.param().map(str::to_owned)).as_deref(), Some("litellm_embedding_config.api_base"));
        let tools: Extra = serde_json::from_str(
            r#"{"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"base_url":{}}}}}]}"#,
        )
        .unwrap_or_default();
        assert!(reject_client_upstream_overrides(&tools).is_ok());
    }
}
