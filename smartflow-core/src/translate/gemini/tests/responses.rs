//! Responses: Gemini → canonical, finish reasons, usage, function calls, blocked prompts.

use serde_json::{Value, json};

use super::super::types::UsageMetadata;
use super::super::{finish_reason_from_gemini, from_gemini_response, to_gemini_request, usage_from_gemini};
use super::chat;
use crate::error::ErrorKind;

fn gemini_response(parts: Value, finish: &str, usage: Value) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]}],
        "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": "resp-abc"})
}

#[test]
fn text_thoughts_function_calls_and_usage_map_to_a_chat_completion() {
    let body = gemini_response(
        json!([
            {"text": "Let me think.", "thought": true},
            {"text": "Checking "},
            {"text": "both."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
            {"functionCall": {"name": "now"}},
            {"executableCode": {"language": "PYTHON", "code": "print(1)"}}]),
        "STOP",
        json!({"promptTokenCount": 1000, "candidatesTokenCount": 20, "totalTokenCount": 1050,
            "cachedContentTokenCount": 900, "thoughtsTokenCount": 30,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}]}),
    );
    let resp = from_gemini_response(&body, "assistant").unwrap();
    assert_eq!(
        (resp.id.as_str(), resp.model.as_str(), resp.object.as_str()),
        ("chatcmpl-resp-abc", "assistant", "chat.completion")
    );
    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(choice.message.text().as_deref(), Some("Checking both."));
    assert_eq!(choice.message.rest["reasoning_content"], "Let me think.");
    assert_eq!(
        choice.message.rest["tool_calls"],
        json!([
            {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                "extra_content": {"google": {"thought_signature": "c2ln"}}},
            {"id": "call_1", "type": "function", "function": {"name": "now", "arguments": "{}"}}])
    );
    let usage = resp.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1000, 50, 1050));
    let t = usage.tokens();
    assert_eq!((t.input, t.cached_input, t.output, t.reasoning), (1000, 900, 50, 30));
}

#[test]
fn only_calls_means_no_content_and_an_empty_model_takes_the_model_version() {
    let body = gemini_response(json!([{"functionCall": {"name": "f", "args": {}}}]), "STOP", json!({}));
    let resp = from_gemini_response(&body, "").unwrap();
    assert_eq!(resp.model, "gemini-2.5-flash");
    assert_eq!(resp.choices[0].message.content, None);
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("tool_calls"));
}

#[test]
fn finish_reasons_map() {
    let cases = [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("LANGUAGE", "stop"),
        ("OTHER", "stop"),
        ("MALFORMED_FUNCTION_CALL", "stop"),
        ("SOMETHING_NEW", "stop"),
    ];
    for (gemini, openai) in cases {
        assert_eq!(finish_reason_from_gemini(gemini), openai, "{gemini}");
        let body = gemini_response(json!([{"text": "x"}]), gemini, json!({}));
        let resp = from_gemini_response(&body, "m").unwrap();
        assert_eq!(resp.choices[0].finish_reason.as_deref(), Some(openai), "{gemini}");
    }
    // A call cut off by the limit stays `length`; a filtered candidate without content is an
    // empty answer, not an error.
    let body = gemini_response(json!([{"functionCall": {"name": "f", "args": {}}}]), "MAX_TOKENS", json!({}));
    assert_eq!(from_gemini_response(&body, "m").unwrap().choices[0].finish_reason.as_deref(), Some("length"));
    let body = json!({"candidates": [{"finishReason": "SAFETY", "index": 0}]});
    let resp = from_gemini_response(&body, "m").unwrap();
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("content_filter"));
    assert_eq!(resp.choices[0].message.text().as_deref(), Some(""));
    assert!(resp.usage.is_none() && resp.id.starts_with("chatcmpl-") && resp.id.len() > 20);
}

#[test]
fn candidates_become_choices_with_call_ids_unique_across_them() {
    let body = json!({"candidates": [
        {"content": {"parts": [{"functionCall": {"name": "a", "args": {"x": 1}}}]}, "finishReason": "STOP"},
        {"content": {"parts": [{"text": "two"}, {"functionCall": {"name": "b", "args": {}}}]}, "finishReason": "STOP", "index": 1},
        {"content": {"parts": [{"text": "three"}]}, "finishReason": "MAX_TOKENS", "index": 2}]});
    let resp = from_gemini_response(&body, "m").unwrap();
    let got: Vec<(u32, Option<String>, Option<&str>)> =
        resp.choices.iter().map(|c| (c.index, c.message.text(), c.finish_reason.as_deref())).collect();
    assert_eq!(
        got,
        [
            (0, None, Some("tool_calls")),
            (1, Some("two".into()), Some("tool_calls")),
            (2, Some("three".into()), Some("length"))
        ]
    );
    assert_eq!(resp.choices[0].message.rest["tool_calls"][0]["id"], "call_0");
    assert_eq!(resp.choices[1].message.rest["tool_calls"][0]["id"], "call_1");
}

#[test]
fn a_blocked_prompt_is_a_content_filter_error() {
    let body = json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "safetyRatings": []},
        "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}});
    let err = from_gemini_response(&body, "m").err().unwrap();
    assert_eq!(
        (err.kind(), err.status_code(), err.code()),
        (ErrorKind::UpstreamClientError, 400, Some("content_filter"))
    );
    assert!(!err.is_retryable());
    assert!(err.message().contains("PROHIBITED_CONTENT"), "{}", err.message());
}

#[test]
fn malformed_bodies_are_protocol_errors() {
    for body in [
        json!({}),
        json!({"candidates": "text"}),
        json!({"candidates": [{"content": {"parts": "x"}}]}),
        json!({"candidates": [{"index": "zero"}]}),
        json!({"candidates": [], "promptFeedback": {}}),
        json!([1, 2]),
        json!("hello"),
    ] {
        let err = from_gemini_response(&body, "m").err().unwrap_or_else(|| panic!("accepted {body}"));
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{body}");
        assert_eq!(err.status_code(), 502);
    }
    let err = from_gemini_response(&json!({"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}), "m");
    assert_eq!(err.err().map(|e| (e.kind(), e.is_retryable())), Some((ErrorKind::UpstreamServerError, true)));
}

/// (prompt, cached, candidates, thoughts, tool-use prompt) → (prompt, completion, cached, reasoning).
#[test]
fn usage_normalisation() {
    let cases = [
        ((0, 0, 0, 0, 0), (0, 0, 0, 0)),
        ((10, 0, 5, 0, 0), (10, 5, 0, 0)),
        ((1000, 900, 20, 30, 0), (1000, 50, 900, 30)),
        ((100, 0, 10, 0, 40), (140, 10, 0, 0)),
    ];
    for ((prompt, cached, candidates, thoughts, tool_use), want) in cases {
        let u = UsageMetadata {
            prompt_token_count: prompt,
            candidates_token_count: candidates,
            total_token_count: 0,
            cached_content_token_count: cached,
            thoughts_token_count: thoughts,
            tool_use_prompt_token_count: tool_use,
        };
        let usage = usage_from_gemini(&u);
        let t = usage.tokens();
        assert_eq!((t.input, t.output, t.cached_input, t.reasoning), want);
        assert_eq!(usage.total_tokens, want.0 + want.1);
        assert!(t.cached_input <= t.input && t.reasoning <= t.output);
    }
}

/// A tool call read from a response goes back as the same `functionCall` part, signature
/// included, when the client returns the assistant message in the next request.
#[test]
fn function_calls_survive_a_round_trip() {
    let part = json!({"functionCall": {"name": "get_weather", "args": {"city": "Paris", "days": [1, 2]}}, "thoughtSignature": "c2ln"});
    let body = gemini_response(json!([part.clone()]), "STOP", json!({}));
    let resp = from_gemini_response(&body, "m").unwrap();
    let assistant = serde_json::to_value(&resp.choices[0].message).unwrap();
    let next = json!({"model": "m", "messages": [
        {"role": "user", "content": "Weather?"},
        assistant,
        {"role": "tool", "tool_call_id": "call_0", "content": "sunny"}]});
    let req = to_gemini_request(&chat(&next), false).unwrap();
    assert_eq!(req["contents"][1], json!({"role": "model", "parts": [part]}));
    assert_eq!(
        req["contents"][2]["parts"][0],
        json!({"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}})
    );
}
