//! Responses in both directions, and usage normalisation (OpenAI `prompt_tokens` includes cached
//! tokens, Anthropic `input_tokens` excludes them).

use serde_json::{Value, json};

use super::super::types::AnthropicUsage;
use super::super::{
    finish_reason_from_stop_reason, from_anthropic_response, stop_reason_from_finish_reason, to_anthropic_response,
    usage_from_anthropic, usage_to_anthropic,
};
use crate::error::ErrorKind;
use crate::types::{ChatResponse, Usage};

fn anthropic_message(content: Value, stop_reason: &str, usage: Value) -> Value {
    json!({"id": "msg_01ABC", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null, "usage": usage})
}

#[test]
fn text_tool_use_and_cached_usage_map_to_a_chat_completion() {
    let body = anthropic_message(
        json!([
            {"type": "thinking", "thinking": "Let me see.", "signature": "sig"},
            {"type": "text", "text": "Checking "},
            {"type": "text", "text": "both.", "citations": []},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}]),
        "tool_use",
        json!({"input_tokens": 100, "cache_read_input_tokens": 900, "cache_creation_input_tokens": 50,
            "output_tokens": 20, "service_tier": "standard"}),
    );
    let resp = from_anthropic_response(&body, "assistant").unwrap();
    assert_eq!(
        (resp.id.as_str(), resp.model.as_str(), resp.object.as_str()),
        ("msg_01ABC", "assistant", "chat.completion")
    );
    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(choice.message.text().as_deref(), Some("Checking both."));
    assert_eq!(
        choice.message.rest["tool_calls"],
        json!([{"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
    );
    assert_eq!(choice.message.rest["reasoning_content"], "Let me see.");
    let usage = resp.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1050, 20, 1070));
    let t = usage.tokens();
    assert_eq!((t.input, t.cached_input, t.cache_write_input), (1050, 900, 50));
}

#[test]
fn json_mode_tool_becomes_the_content() {
    let body = anthropic_message(
        json!([{"type": "tool_use", "id": "toolu_j", "name": "json_response", "input": {"name": "Paris"}}]),
        "tool_use",
        json!({"input_tokens": 5, "output_tokens": 7}),
    );
    let resp = from_anthropic_response(&body, "m").unwrap();
    let choice = &resp.choices[0];
    assert_eq!(choice.message.text().as_deref(), Some("{\"name\":\"Paris\"}"));
    assert_eq!(choice.finish_reason.as_deref(), Some("stop"));
    assert!(choice.message.rest.get("tool_calls").is_none());
}

#[test]
fn stop_reasons_map_both_ways() {
    let cases = [
        ("end_turn", "stop", "end_turn"),
        ("stop_sequence", "stop", "end_turn"),
        ("pause_turn", "stop", "end_turn"),
        ("max_tokens", "length", "max_tokens"),
        ("model_context_window_exceeded", "length", "max_tokens"),
        ("tool_use", "tool_calls", "tool_use"),
        ("refusal", "content_filter", "refusal"),
        ("something_new", "stop", "end_turn"),
    ];
    for (anthropic, openai, back) in cases {
        assert_eq!(finish_reason_from_stop_reason(anthropic), openai, "{anthropic}");
        assert_eq!(stop_reason_from_finish_reason(openai), back, "{openai}");
        let body = anthropic_message(json!([{"type": "text", "text": "x"}]), anthropic, json!({}));
        let resp = from_anthropic_response(&body, "m").unwrap();
        assert_eq!(resp.choices[0].finish_reason.as_deref(), Some(openai));
    }
}

#[test]
fn malformed_bodies_are_protocol_errors() {
    for body in [
        json!({"id": "msg_1", "type": "message"}),
        json!({"id": "msg_1", "type": "message", "content": "text"}),
        json!({"id": "msg_1", "type": "message", "content": [{"type": "text"}]}),
        json!({"type": "completion", "content": []}),
        json!([1, 2]),
        json!("hello"),
    ] {
        let err = from_anthropic_response(&body, "m").err().unwrap_or_else(|| panic!("accepted {body}"));
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{body}");
        assert_eq!(err.status_code(), 502);
    }
    let err = from_anthropic_response(
        &json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
        "m",
    );
    assert_eq!(err.err().map(|e| (e.kind(), e.is_retryable())), Some((ErrorKind::UpstreamServerError, true)));
}

#[test]
fn chat_completion_maps_to_an_anthropic_message() {
    let resp: ChatResponse = serde_json::from_value(json!({
        "id": "chatcmpl-xyz", "object": "chat.completion", "created": 1, "model": "gpt-x",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "On it.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": ""}}]}}],
        "usage": {"prompt_tokens": 1050, "completion_tokens": 20, "total_tokens": 1070,
            "prompt_tokens_details": {"cached_tokens": 900, "cache_write_tokens": 50}}}))
    .unwrap();
    let got = to_anthropic_response(&resp, "claude-alias");
    assert_eq!(
        got,
        json!({"id": "msg_xyz", "type": "message", "role": "assistant", "model": "claude-alias",
            "content": [
                {"type": "text", "text": "On it."},
                {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
                {"type": "tool_use", "id": "call_2", "name": "g", "input": {}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 50,
                "cache_read_input_tokens": 900}})
    );
}

#[test]
fn refusals_and_missing_usage_still_make_a_valid_message() {
    let resp: ChatResponse = serde_json::from_value(json!({"id": "msg_keep", "choices": [{"index": 0,
        "finish_reason": "content_filter", "message": {"role": "assistant", "content": null, "refusal": "I can't."}}]}))
    .unwrap();
    let got = to_anthropic_response(&resp, "m");
    assert_eq!(got["id"], "msg_keep");
    assert_eq!(got["stop_reason"], "refusal");
    assert_eq!(got["content"], json!([{"type": "text", "text": "I can't."}]));
    assert_eq!(got["usage"]["input_tokens"], 0);
    assert_eq!(got["usage"]["output_tokens"], 0);
}

#[test]
fn anthropic_responses_survive_a_round_trip() {
    let original = anthropic_message(
        json!([
            {"type": "text", "text": "Here."},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": [1, 2], "y": "z"}}]),
        "tool_use",
        json!({"input_tokens": 10, "output_tokens": 3, "cache_creation_input_tokens": 4, "cache_read_input_tokens": 6}),
    );
    let chat = from_anthropic_response(&original, "claude-sonnet-4-5").unwrap();
    assert_eq!(to_anthropic_response(&chat, "claude-sonnet-4-5"), original);
}

/// (Anthropic input, cache read, cache write, output) ↔ (OpenAI prompt, cached, completion).
#[test]
fn usage_normalisation_is_invertible() {
    let cases = [
        (0, 0, 0, 0, 0, 0, 0),
        (10, 0, 0, 5, 10, 0, 5),
        (100, 900, 50, 20, 1050, 900, 20),
        (0, 2048, 0, 1, 2048, 2048, 1),
    ];
    for (input, read, write, output, prompt, cached, completion) in cases {
        let anthropic = AnthropicUsage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_creation_input_tokens: Some(write),
            cache_read_input_tokens: Some(read),
        };
        let openai = usage_from_anthropic(&anthropic);
        assert_eq!((openai.prompt_tokens, openai.completion_tokens), (prompt, completion));
        assert_eq!(openai.total_tokens, prompt + completion);
        let t = openai.tokens();
        assert_eq!((t.cached_input, t.cache_write_input), (cached, write));
        assert!(t.cached_input + t.cache_write_input <= t.input, "OpenAI prompt tokens include the cache");
        assert_eq!(usage_to_anthropic(&openai), anthropic, "Anthropic input tokens exclude the cache");
    }
    // An OpenAI usage whose details disagree with its total never yields negative input tokens.
    let mut odd = Usage::new(10, 1);
    odd.prompt_tokens_details = serde_json::from_value(json!({"cached_tokens": 8, "cache_write_tokens": 8})).unwrap();
    let back = usage_to_anthropic(&odd);
    assert_eq!(
        (back.input_tokens, back.cache_read_input_tokens, back.cache_creation_input_tokens),
        (Some(0), Some(8), Some(2))
    );
}
