//! Streams: a Converse event stream (encoded here) decoded to chunks, split at many sizes;
//! tool indexes, JSON mode, exceptions and truncation.

use serde_json::{Value, json};

use super::super::{ConverseStreamDecoder, Frame};
use super::{HeaderValue, collect, decode_stream, encode_frame, event, exception};
use crate::error::ErrorKind;
use crate::types::Role;

/// A recorded-shape ConverseStream: text, reasoning, two tool calls whose input arrives in
/// fragments, ending in `tool_use`, then metadata with cached usage.
fn tool_stream() -> Vec<u8> {
    let events = [
        ("messageStart", json!({"role": "assistant", "p": "abcdefgh"})),
        ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Think."}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig"}}})),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("contentBlockDelta", json!({"contentBlockIndex": 1, "delta": {"text": "Let me check "}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 1, "delta": {"text": "the weather."}})),
        ("contentBlockStop", json!({"contentBlockIndex": 1})),
        ("someFutureEvent", json!({"x": 1})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_A", "name": "get_weather"}}}),
        ),
        ("contentBlockDelta", json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"city\": \"Par"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "is\"}"}}})),
        ("contentBlockStop", json!({"contentBlockIndex": 2})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 3, "start": {"toolUse": {"toolUseId": "tooluse_B", "name": "now"}}}),
        ),
        ("contentBlockDelta", json!({"contentBlockIndex": 3, "delta": {"toolUse": {"input": ""}}})),
        ("contentBlockStop", json!({"contentBlockIndex": 3})),
        ("messageStop", json!({"stopReason": "tool_use"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 25, "outputTokens": 42, "totalTokens": 167, "cacheReadInputTokens": 100,
                "cacheWriteInputTokens": 0}, "metrics": {"latencyMs": 812}}),
        ),
    ];
    events.iter().flat_map(|(name, payload)| event(name, payload)).collect()
}

#[test]
fn converse_stream_decodes_to_chunks_at_any_split() {
    let bytes = tool_stream();
    for piece in (1..=33).chain([64, 100, 257, 1000, bytes.len()]) {
        let (chunks, err, done) = decode_stream(&bytes, piece);
        assert!(err.is_none(), "piece {piece}: {err:?}");
        assert!(done, "piece {piece}");
        let (text, tools) = collect(&chunks);
        assert_eq!(text, "Let me check the weather.");
        assert_eq!(
            tools,
            [
                ("tooluse_A".to_owned(), "get_weather".to_owned(), "{\"city\": \"Paris\"}".to_owned()),
                ("tooluse_B".to_owned(), "now".to_owned(), String::new()),
            ]
        );
        let id = &chunks[0].id;
        assert!(id.starts_with("chatcmpl-"));
        assert!(chunks.iter().all(|c| &c.id == id && c.model == "gw-model" && c.object == "chat.completion.chunk"));
        assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
        let reasoning: String = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .filter_map(|c| c.delta.rest.get("reasoning_content")?.as_str())
            .collect();
        assert_eq!(reasoning, "Think.");
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

fn decode_events(decoder: &mut ConverseStreamDecoder, events: &[(&str, Value)]) -> Vec<crate::types::ChatChunk> {
    let mut chunks = Vec::new();
    for (name, payload) in events {
        decoder.decode_event(name, payload.to_string().as_bytes(), &mut chunks).unwrap();
    }
    chunks
}

#[test]
fn json_mode_stream_becomes_content_and_a_plain_stop() {
    let events = [
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "json_response"}}}),
        ),
        ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"name\":"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "\"Paris\"}"}}})),
        ("messageStop", json!({"stopReason": "tool_use"})),
        ("metadata", json!({"usage": {"inputTokens": 3, "outputTokens": 4}})),
    ];
    let mut decoder = ConverseStreamDecoder::new("m").with_id("chatcmpl-fixed");
    let chunks = decode_events(&mut decoder, &events);
    let (text, tools) = collect(&chunks);
    assert_eq!(text, "{\"name\":\"Paris\"}");
    assert!(tools.is_empty());
    let finishes: Vec<_> = chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.as_deref()).collect();
    assert_eq!(finishes, ["stop"]);
    assert!(chunks.iter().all(|c| c.id == "chatcmpl-fixed"));
    assert_eq!(decoder.usage().map(|u| (u.prompt_tokens, u.completion_tokens)), Some((3, 4)));
}

#[test]
fn finish_reasons_are_mapped_in_streams() {
    for (stop, want) in [("end_turn", "stop"), ("max_tokens", "length"), ("guardrail_intervened", "content_filter")] {
        let events = [
            ("messageStart", json!({"role": "assistant"})),
            ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "x"}})),
            ("messageStop", json!({"stopReason": stop})),
            ("messageStop", json!({"stopReason": "end_turn"})),
        ];
        let chunks = decode_events(&mut ConverseStreamDecoder::new("m"), &events);
        let finishes: Vec<_> =
            chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.as_deref()).collect();
        assert_eq!(finishes, [want], "{stop}: one finish chunk only");
    }
}

#[test]
fn exceptions_end_the_stream_with_the_mapped_error() {
    // (exception type, kind, client status, retryable, message passed through)
    let cases = [
        ("throttlingException", ErrorKind::UpstreamClientError, 429, true, true),
        ("validationException", ErrorKind::UpstreamClientError, 400, false, true),
        ("modelStreamErrorException", ErrorKind::UpstreamServerError, 502, true, false),
        ("internalServerException", ErrorKind::UpstreamServerError, 502, true, false),
        ("serviceUnavailableException", ErrorKind::UpstreamServerError, 502, true, false),
        ("modelTimeoutException", ErrorKind::UpstreamTimeout, 504, true, false),
        ("somethingNewException", ErrorKind::UpstreamServerError, 502, true, false),
    ];
    for (kind, want_kind, status, retryable, passes_message) in cases {
        let mut bytes = event("messageStart", &json!({"role": "assistant"}));
        bytes.extend(event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "partial"}})));
        bytes.extend(exception(kind, "the detail"));
        bytes.extend(event("messageStop", &json!({"stopReason": "end_turn"})));
        let (chunks, err, done) = decode_stream(&bytes, 11);
        let err = err.unwrap_or_else(|| panic!("{kind}: no error"));
        assert!(!done);
        assert_eq!((err.kind(), err.status_code(), err.is_retryable()), (want_kind, status, retryable), "{kind}");
        assert_eq!(err.message().contains("the detail"), passes_message, "{kind}: {}", err.message());
        assert_eq!(collect(&chunks).0, "partial", "{kind}: chunks before the exception are kept");
    }
    // `:message-type` `error` frames carry the code and message as headers.
    let error_frame = encode_frame(
        &[
            (":message-type", HeaderValue::Str("error")),
            (":error-code", HeaderValue::Str("ThrottlingException")),
            (":error-message", HeaderValue::Str("Too many tokens")),
        ],
        b"",
    );
    let (_, err, _) = decode_stream(&error_frame, 3);
    let err = err.unwrap();
    assert_eq!((err.status_code(), err.message()), (429, "Too many tokens"));
}

#[test]
fn truncated_streams_and_the_end_marker() {
    let start = event("messageStart", &json!({"role": "assistant"}));
    let text = event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "x"}}));
    let stop = event("messageStop", &json!({"stopReason": "end_turn"}));
    let meta = event("metadata", &json!({"usage": {"inputTokens": 1, "outputTokens": 1}}));

    // Ends before messageStop: truncated.
    let (_, err, done) = decode_stream(&[start.clone(), text.clone()].concat(), 5);
    assert!(!done);
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::UpstreamProtocol));

    // Ends after messageStop without metadata: complete, but no usage chunk.
    let (chunks, err, done) = decode_stream(&[start.clone(), text.clone(), stop.clone()].concat(), 5);
    assert!(err.is_none() && done);
    assert!(chunks.iter().all(|c| c.usage.is_none()));

    // Ends in the middle of a frame: not complete.
    let full = [start.clone(), text.clone(), stop.clone(), meta.clone()].concat();
    let (_, err, done) = decode_stream(&full[..full.len() - 3], 5);
    assert!(err.is_none() && !done);

    // Frames after metadata are ignored; is_done flips on metadata.
    let mut decoder = ConverseStreamDecoder::new("m");
    let mut chunks = Vec::new();
    let frames: Vec<Frame> = {
        let mut out = Vec::new();
        super::super::EventStreamDecoder::default()
            .feed(&[start, text.clone(), stop, meta, text, exception("throttlingException", "late")].concat(), &mut out)
            .unwrap();
        out
    };
    for (i, frame) in frames.iter().enumerate() {
        decoder.decode(frame, &mut chunks).unwrap();
        assert_eq!(decoder.is_done(), i >= 3, "frame {i}");
    }
    assert_eq!(collect(&chunks).0, "x");
    assert!(decoder.finish().is_ok());
}

#[test]
fn invalid_event_payloads_are_protocol_errors() {
    for (name, payload) in [
        ("messageStart", &b"not json"[..]),
        ("contentBlockDelta", br#"{"contentBlockIndex": "zero"}"#),
        ("metadata", br#"{"usage": {"inputTokens": -1}}"#),
    ] {
        let err = ConverseStreamDecoder::new("m").decode_event(name, payload, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{name}");
    }
}
