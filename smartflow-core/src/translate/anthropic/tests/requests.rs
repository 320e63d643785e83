//! Requests: canonical → Anthropic (outbound), Anthropic → canonical (inbound), round trips and
//! the 400s for what cannot be translated.

use serde_json::{Value, json};

use super::super::{from_anthropic_request, to_anthropic_request};
use super::chat;

/// (case, canonical request, stream, expected Anthropic body) with model `claude-x` and a
/// default output limit of 1024.
fn outbound_cases() -> Vec<(&'static str, Value, bool, Value)> {
    vec![
        (
            "system and developer lifted, same-role turns merged, temperature clamped, stop, user",
            json!({"model": "assistant", "seed": 7, "temperature": 1.5, "stop": "END", "user": "u-42", "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"},
                {"role": "developer", "content": "Answer in French."},
                {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
                {"role": "assistant", "content": "4"},
                {"role": "user", "content": "Thanks"}]}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024, "system": "You are terse.\n\nAnswer in French.",
                "temperature": 1.0, "stop_sequences": ["END"], "metadata": {"user_id": "u-42"}, "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "What is 2+2?"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "4"}]},
                {"role": "user", "content": [{"type": "text", "text": "Thanks"}]}]}),
        ),
        (
            "multi-part images: data URI → base64, https → url; max_completion_tokens wins",
            json!({"model": "m", "max_completion_tokens": 300, "max_tokens": 50, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Compare these"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}]}),
            false,
            json!({"model": "claude-x", "max_tokens": 300, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Compare these"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}]}]}),
        ),
        (
            "tools, tool calls, tool results merged into one user turn, required + no parallel",
            json!({"model": "m", "tool_choice": "required", "parallel_tool_calls": false, "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
                {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "21C"}]},
                {"role": "user", "content": "Which is warmer?"}],
              "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
                {"type": "function", "function": {"name": "now"}}]}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024, "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Rome"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "21C"}]},
                    {"type": "text", "text": "Which is warmer?"}]}],
              "tools": [
                {"name": "get_weather", "description": "Current weather",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
                {"name": "now", "input_schema": {"type": "object", "properties": {}}}],
              "tool_choice": {"type": "any", "disable_parallel_tool_use": true}}),
        ),
        (
            "JSON mode with a schema: forced json_response tool",
            json!({"model": "m", "messages": [{"role": "user", "content": "Give me a city"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "city", "description": "A city",
                    "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "Give me a city"}]}],
                "tools": [{"name": "json_response", "description": "A city",
                    "input_schema": {"type": "object", "properties": {"name": {"type": "string"}}}}],
                "tool_choice": {"type": "tool", "name": "json_response"}}),
        ),
        (
            "JSON object mode, streamed",
            json!({"model": "m", "messages": [{"role": "user", "content": "JSON please"}],
                "response_format": {"type": "json_object"}, "stream": true, "stream_options": {"include_usage": true}}),
            true,
            json!({"model": "claude-x", "max_tokens": 1024, "stream": true,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "JSON please"}]}],
                "tools": [{"name": "json_response",
                    "description": "Give the final answer as a JSON object matching the input schema.",
                    "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "tool", "name": "json_response"}}),
        ),
        (
            "JSON mode beside the caller's tools: both offered, the caller's choice kept",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "auto",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "response_format": {"type": "json_object"}}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                "tools": [{"name": "f", "input_schema": {"type": "object"}}, {"name": "json_response",
                    "description": "Give the final answer as a JSON object matching the input schema.",
                    "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "auto"}}),
        ),
        (
            "JSON mode with tool_choice none: the JSON tool is forced",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "none",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "response_format": {"type": "json_object"}}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                "tools": [{"name": "f", "input_schema": {"type": "object"}}, {"name": "json_response",
                    "description": "Give the final answer as a JSON object matching the input schema.",
                    "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "tool", "name": "json_response"}}),
        ),
        (
            "named tool choice without parallel calls, top_p, top_k, stop list, safety_identifier",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": 0.9, "top_k": 40, "stop": ["a", "b"],
                "safety_identifier": "s-1", "parallel_tool_calls": false,
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "tool_choice": {"type": "function", "function": {"name": "f"}}}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024, "top_p": 0.9, "top_k": 40, "stop_sequences": ["a", "b"],
                "metadata": {"user_id": "s-1"},
                "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                "tools": [{"name": "f", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true}}),
        ),
        (
            "parallel_tool_calls false alone → auto without parallel calls",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "parallel_tool_calls": false,
                "tools": [{"type": "function", "function": {"name": "f"}}]}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                "tools": [{"name": "f", "input_schema": {"type": "object", "properties": {}}}],
                "tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}),
        ),
        (
            "system cache_control keeps system blocks; prefill loses trailing whitespace; tool_choice without tools dropped",
            json!({"model": "m", "tool_choice": "auto", "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Long policy", "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": "Say hi"},
                {"role": "assistant", "content": "Hi there  \n"}]}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024,
                "system": [{"type": "text", "text": "Long policy", "cache_control": {"type": "ephemeral"}}],
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Say hi"}]},
                    {"role": "assistant", "content": [{"type": "text", "text": "Hi there"}]}]}),
        ),
        (
            "base64 PDF file part → document; empty text parts dropped",
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": ""},
                {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
                {"type": "text", "text": "Summarise"}]}]}),
            false,
            json!({"model": "claude-x", "max_tokens": 1024, "messages": [{"role": "user", "content": [
                {"type": "document", "title": "a.pdf",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
                {"type": "text", "text": "Summarise"}]}]}),
        ),
    ]
}

#[test]
fn outbound_requests_translate() {
    for (case, body, stream, expected) in outbound_cases() {
        let got =
            to_anthropic_request(&chat(&body), "claude-x", stream, 1024).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(got, expected, "{case}\n got: {got:#}");
    }
}

#[test]
fn outbound_refusals_name_the_parameter() {
    let user = json!({"role": "user", "content": "x"});
    let call = |args: &str| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": args}}]})
    };
    let cases = [
        (json!({"model": "m", "messages": [user], "n": 2}), "n"),
        (json!({"model": "m", "messages": [user, call("{city:")]}), "messages[1].tool_calls[0].function.arguments"),
        (json!({"model": "m", "messages": [user, call("[1,2]")]}), "messages[1].tool_calls[0].function.arguments"),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "ftp://example.com/a.png"}}]}]}),
            "messages[0].content[0].image_url.url",
        ),
        (json!({"model": "m", "messages": [{"role": "function", "name": "f", "content": "x"}]}), "messages[0].role"),
        (
            json!({"model": "m", "messages": [user, call("{}"), {"role": "tool", "content": "r"}]}),
            "messages[2].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [user], "tools": [{"type": "function", "function": {"name": "json_response"}}]}),
            "tools[0].function.name",
        ),
        (
            json!({"model": "m", "messages": [user], "tools": [{"type": "custom", "custom": {"name": "c"}}]}),
            "tools[0].type",
        ),
        (json!({"model": "m", "messages": [user], "functions": [{"name": "f"}]}), "functions"),
        (json!({"model": "m", "messages": [user], "response_format": {"type": "xml"}}), "response_format.type"),
        (json!({"model": "m", "messages": [user], "stop": 5}), "stop"),
        (json!({"model": "m", "messages": [user], "temperature": "hot"}), "temperature"),
        (json!({"model": "m", "messages": [{"role": "system", "content": "only instructions"}]}), "messages"),
    ];
    for (body, param) in cases {
        let err = to_anthropic_request(&chat(&body), "claude-x", false, 1024).err();
        let err = err.unwrap_or_else(|| panic!("{param}: accepted {body}"));
        assert_eq!((err.status_code(), err.param()), (400, Some(param)), "{body}: {err}");
        assert_eq!(err.openai_type(), "invalid_request_error");
    }
    let err = to_anthropic_request(&chat(&json!({"model": "m", "messages": [user], "n": 2})), "c", false, 1).err();
    assert_eq!(err.and_then(|e| e.code().map(str::to_owned)).as_deref(), Some("unsupported_parameter"));
    // n = 1 is what Anthropic does anyway.
    assert!(to_anthropic_request(&chat(&json!({"model": "m", "messages": [user], "n": 1})), "c", false, 1).is_ok());
}

/// An Anthropic request in the form the outbound translator produces, for round trips.
fn anthropic_fixture() -> Value {
    json!({"model": "claude-x", "max_tokens": 512, "system": "Be brief.", "stream": true,
        "stop_sequences": ["###"], "temperature": 0.5, "top_p": 0.9, "metadata": {"user_id": "u1"},
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Look"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "a"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "found"},
                {"type": "text", "text": "and?"}]}],
        "tools": [{"name": "lookup", "description": "Look up",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true}})
}

#[test]
fn inbound_request_translates() {
    let (req, opts) = from_anthropic_request(anthropic_fixture().to_string().as_bytes()).unwrap();
    assert_eq!((opts.model.as_str(), opts.stream), ("claude-x", true));
    let expected = json!({"model": "claude-x", "stream": true, "stream_options": {"include_usage": true},
        "max_completion_tokens": 512, "temperature": 0.5, "top_p": 0.9, "stop": ["###"], "user": "u1",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"a\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "found"},
            {"role": "user", "content": "and?"}],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "Look up",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
        "tool_choice": "required", "parallel_tool_calls": false});
    assert_eq!(serde_json::to_value(&req).unwrap(), expected);
}

#[test]
fn inbound_edge_shapes() {
    let body = json!({"model": "m", "max_tokens": 10, "unknown_field": {"x": 1}, "top_k": 5,
        "system": [{"type": "text", "text": "A"}, {"type": "text", "text": "B", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}], "tool_choice": {"type": "tool", "name": "t"},
        "messages": [
            {"role": "user", "content": "plain"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "tool_use", "id": "toolu_9", "name": "t", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_9", "is_error": true, "content": [
                    {"type": "text", "text": "failed"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]},
                {"type": "document", "title": "d.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}]}]});
    let (req, opts) = from_anthropic_request(body.to_string().as_bytes()).unwrap();
    assert!(!opts.stream);
    let got = serde_json::to_value(&req).unwrap();
    let expected_messages = json!([
        {"role": "system", "content": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}]},
        {"role": "user", "content": "plain"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "toolu_9", "type": "function", "function": {"name": "t", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "toolu_9", "content": "failed"},
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "d.pdf"}}]}]);
    assert_eq!(got["messages"], expected_messages, "{got:#}");
    assert_eq!(got["tool_choice"], json!({"type": "function", "function": {"name": "t"}}));
    assert!(got.get("top_k").is_none() && got.get("unknown_field").is_none() && got.get("stream").is_none());
}

#[test]
fn inbound_refusals_name_the_parameter() {
    let msgs = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (json!({"model": "m", "messages": msgs}), "max_tokens"),
        (json!({"model": "m", "max_tokens": 0, "messages": msgs}), "max_tokens"),
        (json!({"model": "m", "max_tokens": -1, "messages": msgs}), "max_tokens"),
        (json!({"max_tokens": 5, "messages": msgs}), "model"),
        (json!({"model": "m", "max_tokens": 5, "messages": []}), "messages"),
        (json!({"model": "m", "max_tokens": 5}), "messages"),
        (json!({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}), "messages[0].role"),
        (json!({"model": "m", "max_tokens": 5, "messages": [{"role": "tool", "content": "x"}]}), "messages[0].role"),
        (
            json!({"model": "m", "max_tokens": 5, "messages": msgs, "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            "tools[0].type",
        ),
        (json!({"model": "m", "max_tokens": 5, "messages": msgs, "tools": [{"name": "t"}]}), "tools[0].input_schema"),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "tool_use", "id": "t", "name": "n", "input": {}}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "file", "file_id": "f"}}]}]}),
            "messages[0].content[0].source.type",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": [
                {"type": "image", "source": {"type": "url", "url": "https://x"}}]}]}),
            "messages[0].content[0].type",
        ),
    ];
    for (body, param) in cases {
        let err = from_anthropic_request(body.to_string().as_bytes()).err();
        let err = err.unwrap_or_else(|| panic!("{param}: accepted {body}"));
        assert_eq!((err.status_code(), err.param()), (400, Some(param)), "{body}: {err}");
    }
    let broken_block =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text"}]}]});
    let err = from_anthropic_request(broken_block.to_string().as_bytes()).err().unwrap();
    assert_eq!((err.param(), err.message()), (Some("messages[0].content"), "missing field `text`"));
    let err = from_anthropic_request(b"{not json").err().map(|e| e.status_code());
    assert_eq!(err, Some(400));
}

#[test]
fn anthropic_requests_survive_a_round_trip() {
    let original = anthropic_fixture();
    let (req, opts) = from_anthropic_request(original.to_string().as_bytes()).unwrap();
    let back = to_anthropic_request(&req, "claude-x", opts.stream, 1).unwrap();
    assert_eq!(back, original, "{back:#}");
}

#[test]
fn canonical_requests_survive_a_round_trip() {
    let original = json!({"model": "claude-x", "max_completion_tokens": 100, "temperature": 0.2, "stop": ["x"],
        "user": "u", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "user", "content": "Thanks"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}});
    let anthropic = to_anthropic_request(&chat(&original), "claude-x", false, 1024).unwrap();
    let (back, _) = from_anthropic_request(anthropic.to_string().as_bytes()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), original);
}
