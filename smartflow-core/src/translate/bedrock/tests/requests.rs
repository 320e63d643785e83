//! Requests: canonical → Converse body, and the 400s for what cannot be translated.

use serde_json::{Value, json};

use super::super::to_converse_request;
use super::chat;

/// (case, canonical request, expected Converse body) with a default output limit of 1024.
fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            "system and developer lifted, same-role turns merged, temperature clamped, stop, top_p",
            json!({"model": "m", "seed": 7, "temperature": 1.5, "top_p": 0.9, "stop": "END", "user": "u-1", "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"},
                {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
                {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
                {"role": "assistant", "content": "4"},
                {"role": "user", "content": "Thanks"}]}),
            json!({"system": [{"text": "You are terse."}, {"text": "Answer in French."}],
                "inferenceConfig": {"maxTokens": 1024, "temperature": 1.0, "topP": 0.9, "stopSequences": ["END"]},
                "messages": [
                    {"role": "user", "content": [{"text": "Hi"}, {"text": "What is 2+2?"}]},
                    {"role": "assistant", "content": [{"text": "4"}]},
                    {"role": "user", "content": [{"text": "Thanks"}]}]}),
        ),
        (
            "images from data URIs, a PDF file, max_completion_tokens wins, empty text dropped",
            json!({"model": "m", "max_completion_tokens": 300, "max_tokens": 50, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Compare these"},
                {"type": "text", "text": ""},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
                {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/4AAQ"}},
                {"type": "file", "file": {"filename": "Q3 report.v2.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}]}]}),
            json!({"inferenceConfig": {"maxTokens": 300}, "messages": [{"role": "user", "content": [
                {"text": "Compare these"},
                {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}},
                {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}},
                {"document": {"format": "pdf", "name": "Q3 report-v2", "source": {"bytes": "JVBERi0="}}}]}]}),
        ),
        (
            "tool calls with parsed arguments, tool results merged into one user turn first, required",
            json!({"model": "m", "tool_choice": "required", "parallel_tool_calls": false, "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call.2", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
                {"role": "user", "content": "Which is warmer?"},
                {"role": "tool", "tool_call_id": "call.2", "content": [{"type": "text", "text": "21C"}]}],
              "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
                {"type": "function", "function": {"name": "now"}}]}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [
                {"role": "user", "content": [{"text": "Weather in Paris and Rome?"}]},
                {"role": "assistant", "content": [
                    {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "call_2", "name": "get_weather", "input": {}}}]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C"}]}},
                    {"toolResult": {"toolUseId": "call_2", "content": [{"text": "21C"}]}},
                    {"text": "Which is warmer?"}]}],
              "toolConfig": {"tools": [
                {"toolSpec": {"name": "get_weather", "description": "Current weather", "inputSchema": {"json":
                    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}},
                {"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}}],
                "toolChoice": {"any": {}}}}),
        ),
        (
            "named tool choice; auto sends no toolChoice",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "tool_choice": {"type": "function", "function": {"name": "f"}}}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [{"role": "user", "content": [{"text": "x"}]}],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}],
                    "toolChoice": {"tool": {"name": "f"}}}}),
        ),
        (
            "tool_choice auto: tools without toolChoice",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "auto",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [{"role": "user", "content": [{"text": "x"}]}],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]}}),
        ),
        (
            "tool_choice none without tool history: tools withheld",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "none",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [{"role": "user", "content": [{"text": "x"}]}]}),
        ),
        (
            "tool_choice none with tool history: tools kept (Converse needs them), no toolChoice",
            json!({"model": "m", "tool_choice": "none", "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": ""}],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [
                {"role": "user", "content": [{"text": "x"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "c", "name": "f", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "c", "content": []}}]}],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]}}),
        ),
        (
            "JSON mode with a schema: forced json_response tool",
            json!({"model": "m", "messages": [{"role": "user", "content": "Give me a city"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "city", "description": "A city",
                    "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
            json!({"inferenceConfig": {"maxTokens": 1024},
                "messages": [{"role": "user", "content": [{"text": "Give me a city"}]}],
                "toolConfig": {"tools": [{"toolSpec": {"name": "json_response", "description": "A city",
                    "inputSchema": {"json": {"type": "object", "properties": {"name": {"type": "string"}}}}}}],
                    "toolChoice": {"tool": {"name": "json_response"}}}}),
        ),
        (
            "JSON object mode beside the caller's tools: both offered, the caller's required kept",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "required",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "response_format": {"type": "json_object"}}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [{"role": "user", "content": [{"text": "x"}]}],
                "toolConfig": {"tools": [
                    {"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}},
                    {"toolSpec": {"name": "json_response",
                        "description": "Give the final answer as a JSON object matching the input schema.",
                        "inputSchema": {"json": {"type": "object"}}}}],
                    "toolChoice": {"any": {}}}}),
        ),
        (
            "JSON mode with tool_choice none: the JSON tool is forced; response_format text ignored otherwise",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "none",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "response_format": {"type": "json_object"}}),
            json!({"inferenceConfig": {"maxTokens": 1024}, "messages": [{"role": "user", "content": [{"text": "x"}]}],
                "toolConfig": {"tools": [
                    {"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}},
                    {"toolSpec": {"name": "json_response",
                        "description": "Give the final answer as a JSON object matching the input schema.",
                        "inputSchema": {"json": {"type": "object"}}}}],
                    "toolChoice": {"tool": {"name": "json_response"}}}}),
        ),
        (
            "cache_control → cachePoint; prefill loses trailing whitespace; refusal part kept as text",
            json!({"model": "m", "response_format": {"type": "text"}, "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Long policy", "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": [{"type": "text", "text": "Say hi", "cache_control": {"type": "ephemeral"}}]},
                {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}, {"type": "text", "text": "Hi there  \n"}]}]}),
            json!({"inferenceConfig": {"maxTokens": 1024},
                "system": [{"text": "Long policy"}, {"cachePoint": {"type": "default"}}],
                "messages": [
                    {"role": "user", "content": [{"text": "Say hi"}, {"cachePoint": {"type": "default"}}]},
                    {"role": "assistant", "content": [{"text": "No."}, {"text": "Hi there"}]}]}),
        ),
        (
            "n = 1 accepted, stop list, tool result with an image",
            json!({"model": "m", "n": 1, "stop": ["a", "b"], "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "shot", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": [
                    {"type": "text", "text": "here"},
                    {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}}]}],
              "tools": [{"type": "function", "function": {"name": "shot"}}]}),
            json!({"inferenceConfig": {"maxTokens": 1024, "stopSequences": ["a", "b"]}, "messages": [
                {"role": "user", "content": [{"text": "x"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "c", "name": "shot", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "c", "content": [
                    {"text": "here"}, {"image": {"format": "webp", "source": {"bytes": "UklGRg=="}}}]}}]}],
              "toolConfig": {"tools": [{"toolSpec": {"name": "shot", "inputSchema": {"json": {"type": "object", "properties": {}}}}}]}}),
        ),
    ]
}

#[test]
fn canonical_requests_translate_to_converse() {
    for (case, req, want) in cases() {
        let got = to_converse_request(&chat(&req), 1024).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(got, want, "{case}\n got: {got:#}\nwant: {want:#}");
    }
}

/// (case, canonical request, parameter named by the 400, whether the code is `unsupported_parameter`).
#[test]
fn untranslatable_requests_are_400s_naming_the_parameter() {
    let user = json!({"role": "user", "content": "x"});
    let cases = [
        ("n > 1", json!({"model": "m", "n": 2, "messages": [user]}), "n", true),
        ("n not a number", json!({"model": "m", "n": "two", "messages": [user]}), "n", false),
        (
            "arguments not JSON",
            json!({"model": "m", "messages": [user, {"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]}),
            "messages[1].tool_calls[0].function.arguments",
            false,
        ),
        (
            "arguments a JSON array",
            json!({"model": "m", "messages": [user, {"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]}),
            "messages[1].tool_calls[0].function.arguments",
            false,
        ),
        (
            "tool call without a function",
            json!({"model": "m", "messages": [user, {"role": "assistant", "tool_calls": [{"id": "c"}]}]}),
            "messages[1].tool_calls[0]",
            false,
        ),
        (
            "http image",
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
            "messages[0].content[0].image_url.url",
            true,
        ),
        (
            "svg image",
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/svg+xml;base64,PHN2Zz4="}}]}]}),
            "messages[0].content[0].image_url.url",
            true,
        ),
        (
            "audio part",
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
            "messages[0].content[0].type",
            true,
        ),
        (
            "file by id",
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "f-1"}}]}]}),
            "messages[0].content[0].file.file_data",
            true,
        ),
        (
            "zip file",
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "file", "file": {"file_data": "data:application/zip;base64,UEs="}}]}]}),
            "messages[0].content[0].file.file_data",
            true,
        ),
        (
            "tool message without tool_call_id",
            json!({"model": "m", "messages": [user, {"role": "tool", "content": "r"}]}),
            "messages[1].tool_call_id",
            false,
        ),
        (
            "function role",
            json!({"model": "m", "messages": [user, {"role": "function", "name": "f", "content": "r"}]}),
            "messages[1].role",
            true,
        ),
        (
            "legacy functions",
            json!({"model": "m", "functions": [{"name": "f"}], "messages": [user]}),
            "functions",
            true,
        ),
        (
            "non-function tool",
            json!({"model": "m", "messages": [user], "tools": [{"type": "web_search"}]}),
            "tools[0].type",
            true,
        ),
        (
            "reserved tool name",
            json!({"model": "m", "messages": [user], "tools": [{"type": "function", "function": {"name": "json_response"}}]}),
            "tools[0].function.name",
            false,
        ),
        (
            "bad tool_choice",
            json!({"model": "m", "messages": [user], "tool_choice": "sometimes"}),
            "tool_choice",
            false,
        ),
        (
            "bad parallel_tool_calls",
            json!({"model": "m", "messages": [user], "parallel_tool_calls": "no"}),
            "parallel_tool_calls",
            false,
        ),
        (
            "bad response_format",
            json!({"model": "m", "messages": [user], "response_format": {"type": "yaml"}}),
            "response_format.type",
            true,
        ),
        (
            "temperature not a number",
            json!({"model": "m", "messages": [user], "temperature": "hot"}),
            "temperature",
            false,
        ),
        ("stop with a number", json!({"model": "m", "messages": [user], "stop": ["a", 1]}), "stop", false),
        (
            "system image",
            json!({"model": "m", "messages": [{"role": "system", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}, user]}),
            "messages[0].content[0].type",
            true,
        ),
        (
            "only a system message",
            json!({"model": "m", "messages": [{"role": "system", "content": "s"}]}),
            "messages",
            false,
        ),
    ];
    for (case, req, param, unsupported) in cases {
        let err = to_converse_request(&chat(&req), 1024).expect_err(case);
        assert_eq!(err.status_code(), 400, "{case}");
        assert_eq!(err.param(), Some(param), "{case}: {}", err.message());
        assert_eq!(err.code() == Some("unsupported_parameter"), unsupported, "{case}: {:?}", err.code());
    }
}
