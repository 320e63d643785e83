//! Responses: Converse → chat completion, finish reasons and usage normalisation.

use serde_json::{Value, json};

use super::super::types::ConverseUsage;
use super::super::{finish_reason_from_stop_reason, from_converse_response, usage_from_converse};
use crate::error::ErrorKind;

fn converse(content: Value, stop_reason: &str, usage: Value) -> Value {
    json!({"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop_reason,
        "usage": usage, "metrics": {"latencyMs": 321}})
}

#[test]
fn text_tool_use_reasoning_and_cached_usage_map_to_a_chat_completion() {
    let body = converse(
        json!([
            {"reasoningContent": {"reasoningText": {"text": "Let me see.", "signature": "sig"}}},
            {"text": "Checking "},
            {"text": "both."},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
            {"citationsContent": {"citations": []}}]),
        "tool_use",
        json!({"inputTokens": 100, "outputTokens": 20, "totalTokens": 1070,
            "cacheReadInputTokens": 900, "cacheWriteInputTokens": 50}),
    );
    let resp = from_converse_response(&body, "assistant").unwrap();
    assert!(resp.id.starts_with("chatcmpl-") && resp.id.len() > 20, "{}", resp.id);
    assert_eq!((resp.model.as_str(), resp.object.as_str()), ("assistant", "chat.completion"));
    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(choice.message.text().as_deref(), Some("Checking both."));
    assert_eq!(
        choice.message.rest["tool_calls"],
        json!([{"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
    );
    assert_eq!(choice.message.rest["reasoning_content"], "Let me see.");
    let usage = resp.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1050, 20, 1070));
    let t = usage.tokens();
    assert_eq!((t.input, t.cached_input, t.cache_write_input), (1050, 900, 50));
}

#[test]
fn tool_only_answer_has_null_content() {
    let body = converse(
        json!([{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]),
        "tool_use",
        json!({"inputTokens": 3, "outputTokens": 4}),
    );
    let resp = from_converse_response(&body, "m").unwrap();
    assert!(resp.choices[0].message.content.is_none());
    assert_eq!(resp.choices[0].message.rest["tool_calls"][0]["function"]["arguments"], "{}");
    assert_eq!(resp.usage.as_ref().map(|u| (u.prompt_tokens, u.total_tokens)), Some((3, 7)));
}

#[test]
fn json_mode_tool_becomes_the_content() {
    let body = converse(
        json!([{"text": "Here you go:"}, {"toolUse": {"toolUseId": "t", "name": "json_response", "input": {"name": "Paris"}}}]),
        "tool_use",
        json!({"inputTokens": 5, "outputTokens": 7}),
    );
    let resp = from_converse_response(&body, "m").unwrap();
    let choice = &resp.choices[0];
    assert_eq!(choice.message.text().as_deref(), Some("{\"name\":\"Paris\"}"));
    assert_eq!(choice.finish_reason.as_deref(), Some("stop"));
    assert!(choice.message.rest.get("tool_calls").is_none());
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    let cases = [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_model_output", "stop"),
        ("something_new", "stop"),
    ];
    for (bedrock, openai) in cases {
        assert_eq!(finish_reason_from_stop_reason(bedrock), openai, "{bedrock}");
        let body = converse(json!([{"text": "x"}]), bedrock, json!({}));
        let resp = from_converse_response(&body, "m").unwrap();
        assert_eq!(resp.choices[0].finish_reason.as_deref(), Some(openai), "{bedrock}");
    }
}

#[test]
fn usage_counts_cache_reads_and_writes_as_prompt_tokens() {
    let cases = [
        (ConverseUsage::default(), (0, 0, 0, 0)),
        (ConverseUsage { input_tokens: Some(10), output_tokens: Some(5), ..Default::default() }, (10, 5, 0, 0)),
        (
            ConverseUsage {
                input_tokens: Some(10),
                output_tokens: Some(5),
                total_tokens: Some(999),
                cache_read_input_tokens: Some(100),
                cache_write_input_tokens: Some(7),
            },
            (117, 5, 100, 7),
        ),
    ];
    for (usage, (prompt, completion, cached, written)) in cases {
        let u = usage_from_converse(&usage);
        let t = u.tokens();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, t.cached_input, t.cache_write_input),
            (prompt, completion, cached, written)
        );
        assert_eq!(u.total_tokens, prompt + completion, "the total is recomputed, not Bedrock's");
    }
}

#[test]
fn bodies_that_are_not_converse_responses_are_protocol_errors() {
    for body in
        [json!({"message": "x"}), json!([]), json!({"output": {}}), json!({"output": {"message": {"content": 5}}})]
    {
        let err = from_converse_response(&body, "m").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{body}");
        assert_eq!(err.status_code(), 502);
    }
}
