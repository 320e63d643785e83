//! Streams: an Anthropic upstream stream decoded to chunks, and chunks encoded as an Anthropic
//! stream that decodes back to the same text and tool arguments.

use serde_json::{Value, json};

use super::super::{AnthropicStreamDecoder, AnthropicStreamEncoder};
use super::{collect, decode_anthropic_sse};
use crate::error::ErrorKind;
use crate::sse::SseDecoder;
use crate::types::ChatChunk;

/// A recorded-shape Anthropic stream: text, then a tool call whose input arrives in two
/// fragments, ending in `tool_use`, with pings and an unknown event mixed in.
const TOOL_STREAM: &str = concat!(
    "event: message_start\n",
    r#"data: {"type":"message_start","message":{"id":"msg_01XYZ","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":100,"cache_creation_input_tokens":0,"output_tokens":1}}}"#,
    "\n\n",
    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check "}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the weather."}}"#,
    "\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: some_future_event\ndata: {\"type\":\"some_future_event\",\"x\":1}\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{}}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\"}"}}"#,
    "\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
    "event: message_delta\n",
    r#"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}"#,
    "\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

#[test]
fn anthropic_stream_decodes_to_chunks() {
    for piece in [1, 7, 64, TOOL_STREAM.len()] {
        let (chunks, done) = decode_anthropic_sse(TOOL_STREAM.as_bytes(), piece);
        assert!(done, "piece {piece}");
        let (text, tools) = collect(&chunks);
        assert_eq!(text, "Let me check the weather.");
        assert_eq!(tools, vec![("toolu_01A".to_owned(), "get_weather".to_owned(), "{\"city\": \"Paris\"}".to_owned())]);
        assert!(chunks.iter().all(|c| c.id == "msg_01XYZ" && c.model == "gw-model"));
        assert_eq!(chunks[0].choices[0].delta.role, Some(crate::types::Role::Assistant));
        let finishes: Vec<_> =
            chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.as_deref()).collect();
        assert_eq!(finishes, ["tool_calls"]);
        let last = chunks.last().unwrap();
        assert!(last.is_usage_only());
        let usage = last.usage().unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.tokens().cached_input), (125, 42, 100));
        assert_eq!(chunks.iter().filter(|c| c.usage.is_some()).count(), 1, "only the last chunk carries usage");
    }
}

#[test]
fn tool_indexes_count_tool_blocks_not_content_blocks() {
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_1", "content": [], "usage": {"input_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "s"}}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Two calls."}}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "t_a", "name": "a", "input": {}}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        json!({"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "t_b", "name": "b", "input": {}}}),
        json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{\"k\":1}"}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ];
    let mut decoder = AnthropicStreamDecoder::new("");
    let mut chunks = Vec::new();
    for ev in &events {
        decoder.decode(None, &ev.to_string(), &mut chunks).unwrap();
    }
    let (text, tools) = collect(&chunks);
    assert_eq!(text, "Two calls.");
    assert_eq!(
        tools.iter().map(|t| (t.1.as_str(), t.2.as_str())).collect::<Vec<_>>(),
        [("a", "{}"), ("b", "{\"k\":1}")]
    );
    let reasoning: String = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.rest.get("reasoning_content")?.as_str())
        .collect();
    assert_eq!(reasoning, "hmm");
    assert_eq!(decoder.usage().map(|u| (u.prompt_tokens, u.completion_tokens)), Some((1, 9)));
}

#[test]
fn json_mode_stream_becomes_content() {
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_j", "content": [], "usage": {"input_tokens": 3}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "json_response", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"name\":"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}}),
        json!({"type": "message_stop"}),
    ];
    let mut decoder = AnthropicStreamDecoder::new("m");
    let mut chunks = Vec::new();
    for ev in &events {
        let name = ev["type"].as_str();
        decoder.decode(name, &ev.to_string(), &mut chunks).unwrap();
    }
    let (text, tools) = collect(&chunks);
    assert_eq!((text.as_str(), tools.len()), ("{\"name\":\"Paris\"}", 0));
    let finish: Vec<_> = chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.clone()).collect();
    assert_eq!(finish, ["stop"]);
}

#[test]
fn stream_errors_and_garbage() {
    let mut decoder = AnthropicStreamDecoder::new("m");
    let mut out = Vec::new();
    let err = decoder
        .decode(
            Some("error"),
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            &mut out,
        )
        .err()
        .unwrap();
    assert_eq!((err.kind(), err.status_code(), err.is_retryable()), (ErrorKind::UpstreamServerError, 502, true));
    let err = decoder.decode(
        Some("error"),
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"#,
        &mut out,
    );
    assert_eq!(err.err().map(|e| (e.status_code(), e.is_retryable())), Some((429, true)));
    let err = decoder.decode(Some("error"), r#"{"error":{"type":"invalid_request_error","message":"bad"}}"#, &mut out);
    assert_eq!(err.err().map(|e| (e.kind(), e.status_code())), Some((ErrorKind::UpstreamClientError, 400)));
    for garbage in ["not json", r#"{"type":"content_block_delta","index":"zero"}"#, r#"{"type":"message_start"}"#] {
        let err = decoder.decode(None, garbage, &mut out).err().unwrap_or_else(|| panic!("accepted {garbage}"));
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{garbage}");
    }
    decoder.decode(Some("ping"), "", &mut out).unwrap();
    decoder.decode(None, r#"{"type":"brand_new","payload":{}}"#, &mut out).unwrap();
    assert!(out.is_empty());
    assert!(!decoder.is_done());
    assert_eq!(decoder.usage(), None);
}

/// The chunks an OpenAI upstream sends for text plus one tool call, with the usage chunk last.
fn openai_chunks() -> Vec<ChatChunk> {
    let base = |choices: Value, usage: Value| {
        serde_json::from_value::<ChatChunk>(json!({"id": "chatcmpl-42", "object": "chat.completion.chunk",
            "created": 1, "model": "gpt-x", "choices": choices, "usage": usage}))
        .unwrap()
    };
    let delta = |d: Value| json!([{"index": 0, "delta": d, "finish_reason": null}]);
    vec![
        base(delta(json!({"role": "assistant", "content": ""})), Value::Null),
        base(delta(json!({"content": "Sure, "})), Value::Null),
        base(delta(json!({"content": "checking."})), Value::Null),
        base(
            delta(json!({"tool_calls": [{"index": 0, "id": "call_9", "type": "function",
                "function": {"name": "get_weather", "arguments": ""}}]})),
            Value::Null,
        ),
        base(delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})), Value::Null),
        base(delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Rome\"}"}}]})), Value::Null),
        base(json!([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]), Value::Null),
        base(
            json!([]),
            json!({"prompt_tokens": 130, "completion_tokens": 17, "total_tokens": 147,
                "prompt_tokens_details": {"cached_tokens": 100}}),
        ),
    ]
}

fn encode_all(chunks: &[ChatChunk]) -> Vec<u8> {
    let mut encoder = AnthropicStreamEncoder::new("claude-alias");
    let mut bytes = Vec::new();
    for chunk in chunks {
        bytes.extend_from_slice(&encoder.encode(chunk));
    }
    bytes.extend_from_slice(&encoder.finish());
    assert!(encoder.finish().is_empty(), "finish is idempotent");
    assert!(encoder.encode(&chunks[0]).is_empty(), "nothing after finish");
    bytes
}

#[test]
fn encoded_stream_decodes_back_to_the_same_answer() {
    let chunks = openai_chunks();
    let bytes = encode_all(&chunks);
    let (decoded, done) = decode_anthropic_sse(&bytes, 5);
    assert!(done);
    assert_eq!(collect(&decoded), collect(&chunks));
    let (text, tools) = collect(&decoded);
    assert_eq!(text, "Sure, checking.");
    assert_eq!(tools[0].2, "{\"city\":\"Rome\"}");
    let finishes: Vec<_> = decoded.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.as_deref()).collect();
    assert_eq!(finishes, ["tool_calls"]);
    let usage = decoded.last().and_then(ChatChunk::usage).unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.tokens().cached_input), (130, 17, 100));
    assert!(decoded.iter().all(|c| c.id == "msg_42"));
}

#[test]
fn encoded_events_are_well_formed_anthropic() {
    let bytes = encode_all(&openai_chunks());
    let mut sse = SseDecoder::new(1 << 20);
    let mut events = Vec::new();
    sse.feed(&bytes, &mut events).unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap_or("")).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = events.iter().map(|e| serde_json::from_str(&e.data).unwrap()).collect();
    for (name, value) in names.iter().zip(&data) {
        assert_eq!(value["type"], *name, "data.type equals the event name");
    }
    assert_eq!(data[0]["message"]["id"], "msg_42");
    assert_eq!(data[0]["message"]["model"], "claude-alias");
    assert_eq!(data[0]["message"]["usage"], json!({"input_tokens": 0, "output_tokens": 0}));
    assert_eq!(
        data[1],
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    assert_eq!(
        data[5],
        json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {}}})
    );
    assert_eq!(data[6]["delta"], json!({"type": "input_json_delta", "partial_json": "{\"city\":"}));
    assert_eq!(
        data[9],
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"input_tokens": 30, "output_tokens": 17, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 100}})
    );
}

#[test]
fn encoder_without_usage_or_chunks_still_closes_the_message() {
    let mut encoder = AnthropicStreamEncoder::new("m");
    let text = serde_json::from_value::<ChatChunk>(json!({"id": "chatcmpl-1",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "length"}]}))
    .unwrap();
    let mut bytes = encoder.encode(&text).to_vec();
    bytes.extend_from_slice(&encoder.finish());
    let body = String::from_utf8(bytes).unwrap();
    assert!(body.contains(r#""stop_reason":"max_tokens""#), "{body}");
    assert!(body.contains(r#""usage":{"output_tokens":0}"#), "{body}");
    assert!(body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    let empty = String::from_utf8(AnthropicStreamEncoder::new("m").finish().to_vec()).unwrap();
    let names: Vec<&str> = empty.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(names, ["message_start", "message_delta", "message_stop"]);
    assert!(empty.contains(r#""stop_reason":"end_turn""#));
    assert_eq!(&AnthropicStreamEncoder::ping()[..], b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

#[test]
fn parallel_tool_calls_get_one_block_each() {
    let chunk = |delta: Value, finish: Value| {
        serde_json::from_value::<ChatChunk>(json!({"id": "chatcmpl-p",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}))
        .unwrap()
    };
    let call = |index: u32, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut function = json!({"arguments": args});
        if let Some(name) = name {
            function["name"] = json!(name);
        }
        let mut call = json!({"index": index, "function": function});
        if let Some(id) = id {
            call["id"] = json!(id);
            call["type"] = json!("function");
        }
        json!({"tool_calls": [call]})
    };
    let chunks = vec![
        chunk(json!({"role": "assistant"}), Value::Null),
        chunk(call(0, Some("call_a"), Some("a"), "{\"x\":1}"), Value::Null),
        chunk(call(1, Some("call_b"), Some("b"), ""), Value::Null),
        chunk(call(1, None, None, "{\"y\":"), Value::Null),
        chunk(call(1, None, None, "2}"), Value::Null),
        chunk(json!({}), json!("tool_calls")),
    ];
    let bytes = encode_all(&chunks);
    let body = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(body.matches("event: content_block_start").count(), 2);
    assert_eq!(body.matches("event: content_block_stop").count(), 2);
    assert!(!body.contains(r#""type":"text""#), "no empty text block: {body}");
    let (decoded, done) = decode_anthropic_sse(&bytes, 3);
    assert!(done);
    assert_eq!(collect(&decoded), collect(&chunks));
    assert_eq!(collect(&decoded).1[1], ("call_b".to_owned(), "b".to_owned(), "{\"y\":2}".to_owned()));
}

#[test]
fn message_stop_without_message_delta_still_finishes() {
    let mut decoder = AnthropicStreamDecoder::new("m");
    let mut out = Vec::new();
    let start = r#"{"type":"message_start","message":{"id":"msg_s","content":[],"usage":{"input_tokens":2}}}"#;
    decoder.decode(Some("message_start"), start, &mut out).unwrap();
    decoder.decode(Some("message_stop"), r#"{"type":"message_stop"}"#, &mut out).unwrap();
    let finishes: Vec<_> = out.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.as_deref()).collect();
    assert_eq!(finishes, ["stop"]);
    assert!(decoder.is_done() && out.last().is_some_and(ChatChunk::is_usage_only));
    // Events after message_stop are ignored.
    decoder.decode(None, "garbage", &mut out).unwrap();
}
