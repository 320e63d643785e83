//! Streams: a Gemini `streamGenerateContent?alt=sse` body decoded to chunks, split anywhere.

use serde_json::json;

use super::super::GeminiStreamDecoder;
use super::{collect, decode_gemini_sse, finishes};
use crate::error::ErrorKind;
use crate::types::{ChatChunk, Role};

/// A recorded-shape Gemini stream (CRLF framing, as the API sends it): a thought summary, text in
/// three events, a function call with a signature, then the finish with the final usage. Usage
/// is cumulative on every event.
const TOOL_STREAM: &str = concat!(
    r#"data: {"candidates": [{"content": {"parts": [{"text": "Weighing it up.","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 25,"totalTokenCount": 25},"modelVersion": "gemini-2.5-flash","responseId": "Rk2xaPqHB"}"#,
    "\r\n\r\n",
    r#"data: {"candidates": [{"content": {"parts": [{"text": "Let me "}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 25,"candidatesTokenCount": 2,"totalTokenCount": 27},"modelVersion": "gemini-2.5-flash","responseId": "Rk2xaPqHB"}"#,
    "\r\n\r\n",
    r#"data: {"candidates": [{"content": {"parts": [{"text": "check the wéather"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 25,"candidatesTokenCount": 6,"totalTokenCount": 31},"modelVersion": "gemini-2.5-flash","responseId": "Rk2xaPqHB"}"#,
    "\r\n\r\n",
    r#"data: {"candidates": [{"content": {"parts": [{"text": "."}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 25,"candidatesTokenCount": 7,"totalTokenCount": 32},"modelVersion": "gemini-2.5-flash","responseId": "Rk2xaPqHB"}"#,
    "\r\n\r\n",
    r#"data: {"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris"}},"thoughtSignature": "c2lnLTE="}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 25,"candidatesTokenCount": 19,"totalTokenCount": 86,"cachedContentTokenCount": 10,"thoughtsTokenCount": 42},"modelVersion": "gemini-2.5-flash","responseId": "Rk2xaPqHB"}"#,
    "\r\n\r\n",
);

#[test]
fn gemini_stream_decodes_to_chunks_at_any_split() {
    for piece in [1, 2, 3, 7, 64, 500, TOOL_STREAM.len()] {
        let (chunks, done) = decode_gemini_sse(TOOL_STREAM.as_bytes(), piece);
        assert!(done, "piece {piece}");
        let (text, tools) = collect(&chunks, 0);
        assert_eq!(text, "Let me check the wéather.", "piece {piece}");
        assert_eq!(tools, vec![("call_0".to_owned(), "get_weather".to_owned(), "{\"city\":\"Paris\"}".to_owned())]);
        assert!(chunks.iter().all(|c| c.id == "chatcmpl-Rk2xaPqHB" && c.model == "gw-model"));
        assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
        assert_eq!(chunks.iter().flat_map(|c| &c.choices).filter(|c| c.delta.role.is_some()).count(), 1);
        assert_eq!(finishes(&chunks), [(0, "tool_calls".to_owned())]);
        let reasoning: String = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .filter_map(|c| c.delta.rest.get("reasoning_content")?.as_str())
            .collect();
        assert_eq!(reasoning, "Weighing it up.");
        let call = chunks.iter().flat_map(|c| &c.choices).find_map(|c| c.delta.rest.get("tool_calls")).unwrap();
        assert_eq!(call[0]["index"], 0);
        assert_eq!(call[0]["extra_content"], json!({"google": {"thought_signature": "c2lnLTE="}}));
        let last = chunks.last().unwrap();
        assert!(last.is_usage_only());
        let usage = last.usage().unwrap();
        let t = usage.tokens();
        assert_eq!((t.input, t.output, t.cached_input, t.reasoning), (25, 61, 10, 42));
        assert_eq!(chunks.iter().filter(|c| c.usage.is_some()).count(), 1, "only the last chunk carries usage");
    }
}

#[test]
fn a_body_that_ends_before_a_finish_reason_is_not_done() {
    let cut = TOOL_STREAM.rfind("data: ").unwrap();
    let (chunks, done) = decode_gemini_sse(&TOOL_STREAM.as_bytes()[..cut], 5);
    assert!(!done);
    assert!(chunks.iter().all(|c| c.usage.is_none()), "no usage chunk for a truncated stream");
    assert_eq!(collect(&chunks, 0).0, "Let me check the wéather.");
    assert!(finishes(&chunks).is_empty());
}

fn decode_all(events: &[serde_json::Value]) -> (GeminiStreamDecoder, Vec<ChatChunk>) {
    let mut decoder = GeminiStreamDecoder::new("m");
    let mut chunks = Vec::new();
    for ev in events {
        decoder.decode(&ev.to_string(), &mut chunks).unwrap();
    }
    (decoder, chunks)
}

#[test]
fn usage_after_the_finish_is_kept_and_finish_is_idempotent() {
    let (mut decoder, mut chunks) = decode_all(&[
        json!({"candidates": [{"content": {"parts": [{"text": "Hi"}]}, "finishReason": "MAX_TOKENS"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}),
        json!({"candidates": [{"content": {"parts": [{"text": "ignored"}]}}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2}}),
    ]);
    assert!(decoder.is_done());
    assert_eq!(finishes(&chunks), [(0, "length".to_owned())]);
    assert_eq!(collect(&chunks, 0).0, "Hi", "content after the finish is dropped");
    decoder.finish(&mut chunks);
    decoder.finish(&mut chunks);
    let usage: Vec<_> =
        chunks.iter().filter_map(ChatChunk::usage).map(|u| (u.prompt_tokens, u.completion_tokens)).collect();
    assert_eq!(usage, [(3, 2)]);
    assert!(chunks.last().unwrap().choices.is_empty());
}

#[test]
fn several_candidates_stream_as_several_choices() {
    let mut early = GeminiStreamDecoder::new("m").expecting(2);
    let mut out = Vec::new();
    early
        .decode(r#"{"candidates": [{"content": {"parts": [{"text": "A"}]}, "finishReason": "STOP"}]}"#, &mut out)
        .unwrap();
    assert!(!early.is_done(), "the second candidate has not appeared yet");

    let (decoder, chunks) = decode_all(&[
        json!({"candidates": [{"content": {"parts": [{"text": "A1"}]}}, {"content": {"parts": [{"text": "B1"}]}, "index": 1}]}),
        json!({"candidates": [{"content": {"parts": [{"text": "A2"}]}, "finishReason": "STOP"}]}),
        json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}, "index": 1}]}),
    ]);
    assert!(!decoder.is_done(), "candidate 1 has not finished");
    let (mut decoder, mut chunks) = (decoder, chunks);
    decoder
        .decode(r#"{"candidates": [{"content": {"parts": []}, "finishReason": "STOP", "index": 1}]}"#, &mut chunks)
        .unwrap();
    assert!(decoder.is_done());
    assert_eq!(collect(&chunks, 0).0, "A1A2");
    assert_eq!(collect(&chunks, 1), ("B1".to_owned(), vec![("call_0".to_owned(), "f".to_owned(), "{}".to_owned())]));
    assert_eq!(finishes(&chunks), [(0, "stop".to_owned()), (1, "tool_calls".to_owned())]);
    let roles: Vec<u32> =
        chunks.iter().flat_map(|c| &c.choices).filter(|c| c.delta.role.is_some()).map(|c| c.index).collect();
    assert_eq!(roles, [0, 1]);
    decoder.finish(&mut chunks);
    assert!(!chunks.last().unwrap().is_usage_only(), "no usage reported, no usage chunk");
}

#[test]
fn stream_errors_blocked_prompts_and_garbage() {
    let mut decoder = GeminiStreamDecoder::new("m");
    let mut out = Vec::new();
    let err = decoder
        .decode(r#"{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}"#, &mut out)
        .err()
        .unwrap();
    assert_eq!((err.kind(), err.status_code(), err.is_retryable()), (ErrorKind::UpstreamServerError, 502, true));
    let err = decoder.decode(r#"{"error": {"message": "slow down", "status": "RESOURCE_EXHAUSTED"}}"#, &mut out);
    assert_eq!(err.err().map(|e| (e.status_code(), e.is_retryable())), Some((429, true)));
    let err = decoder.decode(r#"{"promptFeedback": {"blockReason": "SAFETY"}}"#, &mut out).err().unwrap();
    assert_eq!((err.status_code(), err.code()), (400, Some("content_filter")));
    for garbage in ["not json", "[1]", r#"{"candidates": {"index": 0}}"#, r#"{"candidates": [{"index": -1}]}"#, "42"] {
        let err = decoder.decode(garbage, &mut out).err().unwrap_or_else(|| panic!("accepted {garbage}"));
        assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "{garbage}");
    }
    decoder.decode("", &mut out).unwrap();
    decoder.decode("[DONE]", &mut out).unwrap();
    assert!(out.is_empty());
    assert!(!decoder.is_done());
    assert_eq!(decoder.usage(), None);
    decoder.finish(&mut out);
    assert!(out.is_empty(), "finish on an unfinished stream yields nothing");
}
