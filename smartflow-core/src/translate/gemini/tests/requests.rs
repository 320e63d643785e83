//! Requests: canonical → Gemini, and the 400s for what cannot be translated.

use serde_json::{Value, json};

use super::super::{THOUGHT_SIGNATURE_FALLBACK, to_gemini_request};
use super::chat;

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
            "additionalProperties": false}}})
}

/// (case, canonical request, expected Gemini body).
fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            "system and developer lifted, roles mapped, same-role turns merged, sampling and limits",
            json!({"model": "assistant", "temperature": 0.3, "top_p": 0.9, "seed": 7, "max_tokens": 200,
                "user": "u-42", "logprobs": true, "presence_penalty": 0.5, "frequency_penalty": -0.5, "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"},
                {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
                {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
                {"role": "assistant", "content": "4"},
                {"role": "user", "content": "Thanks"}]}),
            json!({
                "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Answer in French."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "Hi"}, {"text": "What is 2+2?"}]},
                    {"role": "model", "parts": [{"text": "4"}]},
                    {"role": "user", "parts": [{"text": "Thanks"}]}],
                "generationConfig": {"maxOutputTokens": 200, "temperature": 0.3, "topP": 0.9, "seed": 7,
                    "presencePenalty": 0.5, "frequencyPenalty": -0.5}}),
        ),
        (
            "images: data URI → inlineData, https → fileData with the extension's type; audio, inline file",
            json!({"model": "m", "max_completion_tokens": 300, "max_tokens": 50, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Compare these"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.JPG?size=large"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/render"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
                {"type": "text", "text": ""}]}]}),
            json!({"contents": [{"role": "user", "parts": [
                {"text": "Compare these"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?size=large"}},
                {"fileData": {"fileUri": "https://example.com/render"}},
                {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
                {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}}]}],
              "generationConfig": {"maxOutputTokens": 300}}),
        ),
        (
            "tools round trip: declarations, calls with and without signatures, results merged in one turn",
            json!({"model": "m", "tool_choice": "required", "parallel_tool_calls": false, "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": "Checking.", "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                        "extra_content": {"google": {"thought_signature": "c2lnLTE="}}},
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
                {"role": "tool", "tool_call_id": "call_0", "content": "{\"temp_c\": 18}"},
                {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "21C, sunny"}]},
                {"role": "user", "content": "Which is warmer?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "now", "arguments": ""}}]},
                {"role": "tool", "tool_call_id": "call_0", "content": "12:00"}],
              "tools": [weather_tool(), {"type": "function", "function": {"name": "now"}}]}),
            json!({"contents": [
                {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
                {"role": "model", "parts": [
                    {"text": "Checking."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnLTE="},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp_c": 18}}},
                    {"functionResponse": {"name": "get_weather", "response": {"content": "21C, sunny"}}},
                    {"text": "Which is warmer?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "now", "args": {}}, "thoughtSignature": THOUGHT_SIGNATURE_FALLBACK}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "now", "response": {"content": "12:00"}}}]}],
              "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "Current weather", "parametersJsonSchema":
                    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}},
                {"name": "now"}]}],
              "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}),
        ),
        (
            "a named tool_choice restricts ANY to that function",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [weather_tool()],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Current weather",
                    "parametersJsonSchema": weather_tool()["function"]["parameters"]}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}}),
        ),
        (
            "tool_choice none and auto; a plain tool_choice without tools is dropped",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function",
                "function": {"name": "now"}}], "tool_choice": "none"}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                "tools": [{"functionDeclarations": [{"name": "now"}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "NONE"}}}),
        ),
        (
            "tool_choice without tools",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "auto"}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}]}),
        ),
        (
            "JSON mode without a schema",
            json!({"model": "m", "messages": [{"role": "user", "content": "A city as JSON"}],
                "response_format": {"type": "json_object"}}),
            json!({"contents": [{"role": "user", "parts": [{"text": "A city as JSON"}]}],
                "generationConfig": {"responseMimeType": "application/json"}}),
        ),
        (
            "JSON mode with a schema",
            json!({"model": "m", "messages": [{"role": "user", "content": "A city"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "city", "strict": true,
                    "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
                        "additionalProperties": false}}}}),
            json!({"contents": [{"role": "user", "parts": [{"text": "A city"}]}],
                "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema":
                    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
                        "additionalProperties": false}}}),
        ),
        (
            "response_format text is the default",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "text"}}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}]}),
        ),
        (
            "stop as an array, n → candidateCount, top_k",
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": ["END", "###"], "n": 3, "top_k": 40}),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                "generationConfig": {"stopSequences": ["END", "###"], "candidateCount": 3, "topK": 40}}),
        ),
        (
            "stop as a string; n = 1 is the default and not sent; an assistant refusal part is text",
            json!({"model": "m", "stop": "END", "n": 1, "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]},
                {"role": "user", "content": "why?"}]}),
            json!({"contents": [
                {"role": "user", "parts": [{"text": "x"}]},
                {"role": "model", "parts": [{"text": "I can't."}]},
                {"role": "user", "parts": [{"text": "why?"}]}],
              "generationConfig": {"stopSequences": ["END"]}}),
        ),
    ]
}

#[test]
fn requests_translate() {
    for (case, body, expected) in cases() {
        for stream in [false, true] {
            let got = to_gemini_request(&chat(&body), stream).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(got, expected, "{case}\n got: {got:#}");
        }
    }
}

#[test]
fn refusals_name_the_parameter() {
    let user = json!({"role": "user", "content": "x"});
    let call = |args: &str| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": args}}]})
    };
    let part = |p: Value| json!({"model": "m", "messages": [{"role": "user", "content": [p]}]});
    let cases = [
        (json!({"model": "m", "messages": [user], "n": 0}), "n"),
        (json!({"model": "m", "messages": [user], "n": "two"}), "n"),
        (json!({"model": "m", "messages": [user, call("{city:")]}), "messages[1].tool_calls[0].function.arguments"),
        (json!({"model": "m", "messages": [user, call("[1,2]")]}), "messages[1].tool_calls[0].function.arguments"),
        (
            json!({"model": "m", "messages": [user, call("{}"), {"role": "tool", "content": "r"}]}),
            "messages[2].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [user, call("{}"), {"role": "tool", "tool_call_id": "nope", "content": "r"}]}),
            "messages[2].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [user, {"role": "tool", "tool_call_id": "c1", "content": "r"}, call("{}")]}),
            "messages[1].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [user, {"role": "assistant", "content": null, "tool_calls": {"id": "c"}}]}),
            "messages[1].tool_calls",
        ),
        (
            json!({"model": "m", "messages": [user, {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}]}),
            "messages[1].function_call",
        ),
        (part(json!({"type": "video_url", "video_url": {"url": "https://x/v.mp4"}})), "messages[0].content[0].type"),
        (
            part(json!({"type": "image_url", "image_url": {"url": "ftp://example.com/a.png"}})),
            "messages[0].content[0].image_url.url",
        ),
        (part(json!({"type": "image_url", "image_url": {}})), "messages[0].content[0].image_url.url"),
        (part(json!({"type": "file", "file": {"file_id": "file-abc"}})), "messages[0].content[0].file.file_id"),
        (
            part(json!({"type": "file", "file": {"file_data": "not a data uri"}})),
            "messages[0].content[0].file.file_data",
        ),
        (
            part(json!({"type": "input_audio", "input_audio": {"data": "AAAA"}})),
            "messages[0].content[0].input_audio.format",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}, user]}),
            "messages[0].content[0].type",
        ),
        (json!({"model": "m", "messages": [{"role": "function", "name": "f", "content": "x"}]}), "messages[0].role"),
        (json!({"model": "m", "messages": [user], "functions": [{"name": "f"}]}), "functions"),
        (
            json!({"model": "m", "messages": [user], "tools": [{"type": "custom", "custom": {"name": "c"}}]}),
            "tools[0].type",
        ),
        (json!({"model": "m", "messages": [user], "tools": [{"type": "function"}]}), "tools[0].function"),
        (
            json!({"model": "m", "messages": [user], "tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]}),
            "tools[0].function.parameters",
        ),
        (json!({"model": "m", "messages": [user], "tools": {"type": "function"}}), "tools"),
        (
            json!({"model": "m", "messages": [user], "tools": [weather_tool()],
                "tool_choice": {"type": "function", "function": {"name": "other"}}}),
            "tool_choice",
        ),
        (json!({"model": "m", "messages": [user], "tool_choice": "sometimes"}), "tool_choice"),
        (json!({"model": "m", "messages": [user], "parallel_tool_calls": "yes"}), "parallel_tool_calls"),
        (json!({"model": "m", "messages": [user], "response_format": {"type": "xml"}}), "response_format.type"),
        (json!({"model": "m", "messages": [user], "response_format": "json"}), "response_format"),
        (json!({"model": "m", "messages": [user], "stop": 5}), "stop"),
        (json!({"model": "m", "messages": [user], "stop": ["a", 1]}), "stop"),
        (json!({"model": "m", "messages": [user], "temperature": "hot"}), "temperature"),
        (json!({"model": "m", "messages": [user], "top_k": -1}), "top_k"),
        (json!({"model": "m", "messages": [user], "seed": 1.5}), "seed"),
        (json!({"model": "m", "messages": [{"role": "system", "content": "only instructions"}]}), "messages"),
    ];
    for (body, param) in cases {
        let err = to_gemini_request(&chat(&body), false).err();
        let err = err.unwrap_or_else(|| panic!("{param}: accepted {body}"));
        assert_eq!((err.status_code(), err.param()), (400, Some(param)), "{body}: {err}");
        assert_eq!(err.openai_type(), "invalid_request_error");
    }
    let err = to_gemini_request(&chat(&json!({"model": "m", "messages": [user], "functions": []})), false).err();
    assert_eq!(err.and_then(|e| e.code().map(str::to_owned)).as_deref(), Some("unsupported_parameter"));
}

/// A tool result is named after the nearest earlier call with its id: ids repeat across turns.
#[test]
fn tool_results_take_the_name_of_the_nearest_earlier_call() {
    let call = |name: &str| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": name, "arguments": "{}"}}]})
    };
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "go"},
        call("first"),
        {"role": "tool", "tool_call_id": "call_0", "content": "1"},
        call("second"),
        {"role": "tool", "tool_call_id": "call_0", "content": "2"}]});
    let got = to_gemini_request(&chat(&body), false).unwrap();
    let names: Vec<&str> = got["contents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["parts"].as_array().unwrap())
        .filter_map(|p| p["functionResponse"]["name"].as_str())
        .collect();
    assert_eq!(names, ["first", "second"]);
    // `1` is valid JSON but not an object: it is wrapped.
    assert_eq!(got["contents"][2]["parts"][0]["functionResponse"]["response"], json!({"content": "1"}));
}
