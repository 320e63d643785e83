//! `PiiPolicy` through the real pipeline: what reaches the upstream is redacted, reversible
//! tokens come back restored to the caller, blocked kinds refuse the request, and the audit
//! records carry the rule, never the value.

#![expect(clippy::unwrap_used, reason = "test code")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::StreamExt as _;
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::types::{ChatChunk, Choice, Delta, MessageContent};
use smartflow_core::{
    Audit, AuditRecord, ChatRequest, ChatResponse, ChunkStream, Endpoint, Error, ErrorKind, Gateway, GatewayOptions,
    Message, ModelKind, Principal, Provider, ProviderCall, RequestContext, Role, Target,
};
use smartflow_policy::compliance::PiiPolicy;
use smartflow_policy::compliance::pii::{Detector, EntityKind, Finding, Recognizer};
use smartflow_policy::compliance::redact::{PiiAction, Redactor};

/// A minimal e-mail and card recognizer, so this test does not depend on the built-ins.
struct Simple;

impl Recognizer for Simple {
    fn name(&self) -> &'static str {
        "simple"
    }
    fn patterns(&self) -> Vec<String> {
        vec![r"[a-z]+@[a-z]+\.io".to_owned(), r"\b4[0-9]{15}\b".to_owned()]
    }
    fn check(&self, _text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let kind = if pattern == 0 { EntityKind::Email } else { EntityKind::CreditCard };
        Some(Finding { kind, start, end, score: 0.9, recognizer: "simple" })
    }
}

/// Records what it was sent and answers with the last user message.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

#[async_trait]
impl Provider for Recorder {
    fn name(&self) -> &str {
        "rec"
    }
    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        let text = call.request.last_user_text().unwrap_or_default();
        self.0.lock().unwrap().push(serde_json::to_string(call.request).unwrap());
        Ok(ChatResponse {
            id: "r".into(),
            object: "chat.completion".into(),
            created: 0,
            model: "up".into(),
            choices: vec![Choice {
                index: 0,
                message: Message::text_message(Role::Assistant, format!("You said: {text}")),
                finish_reason: Some("stop".into()),
                rest: Default::default(),
            }],
            usage: None,
            rest: Default::default(),
        })
    }
    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        // Streams the answer three bytes at a time, so values and placeholders are split.
        let text =
            format!("Contact {} or card 4111111111111111 today", call.request.last_user_text().unwrap_or_default());
        self.0.lock().unwrap().push(serde_json::to_string(call.request).unwrap());
        let bytes: Vec<char> = text.chars().collect();
        let mut chunks: Vec<Result<ChatChunk, Error>> = bytes
            .chunks(3)
            .map(|c| {
                let delta = Delta { content: Some(c.iter().collect()), ..Delta::default() };
                Ok(ChatChunk::single("c", 0, "up", delta, None))
            })
            .collect();
        chunks.push(Ok(ChatChunk::single("c", 0, "up", Delta::default(), Some("stop".into()))));
        Ok(Box::pin(futures_util::stream::iter(chunks)))
    }
}

#[derive(Default)]
struct Records(Mutex<Vec<AuditRecord>>);

#[async_trait]
impl Audit for Records {
    fn name(&self) -> &str {
        "records"
    }
    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        self.0.lock().unwrap().push(record.clone());
        Ok(())
    }
}

fn setup(email: PiiAction, card: PiiAction) -> (Gateway, Arc<Recorder>, Arc<Records>) {
    setup_with(email, card, None)
}

fn setup_with(email: PiiAction, card: PiiAction, output: Option<PiiAction>) -> (Gateway, Arc<Recorder>, Arc<Records>) {
    let detector = Arc::new(Detector::builder().recognizer(Box::new(Simple)).build().unwrap());
    let actions = HashMap::from([(EntityKind::Email, email), (EntityKind::CreditCard, card)]);
    let output = output.map(|a| Redactor::new(HashMap::from([(EntityKind::CreditCard, a)]), PiiAction::Audit, b"key"));
    let policy = PiiPolicy::new("pii", detector, Some(Redactor::new(actions, PiiAction::Audit, b"key")), output);
    let recorder = Arc::new(Recorder::default());
    let records = Arc::new(Records::default());
    let mut table = ModelTable::new("t");
    table.insert(VirtualModel::new("m", ModelKind::Chat, vec![Arc::new(Target::new(recorder.clone(), "up"))])).unwrap();
    let gw = Gateway::builder()
        .router(table)
        .policy(policy)
        .shared_audit(records.clone())
        .options(GatewayOptions { record_prompts: true })
        .build()
        .unwrap();
    (gw, recorder, records)
}

fn ctx() -> RequestContext {
    RequestContext::new("r1", Arc::new(Principal::new("k1")), Endpoint::ChatCompletions)
}

fn req(text: &str) -> ChatRequest {
    ChatRequest::from_slice(
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]}).to_string().as_bytes(),
    )
    .unwrap()
}

fn answer(resp: &ChatResponse) -> String {
    match &resp.choices[0].message.content {
        Some(MessageContent::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn tokenized_values_never_reach_the_upstream_and_come_back_to_the_caller() {
    let (gw, upstream, records) = setup(PiiAction::Tokenize, PiiAction::Redact);
    let served = gw.chat(ctx(), req("write to ann@corp.io about card 4111111111111111")).await.unwrap();
    let sent = upstream.0.lock().unwrap().join("\n");
    assert!(!sent.contains("ann@corp.io") && !sent.contains("4111111111111111"), "{sent}");
    assert!(sent.contains("[EMAIL_1]") && sent.contains("[CREDIT_CARD_1]"));
    let text = answer(&served.value);
    assert!(text.contains("ann@corp.io"), "the caller gets its own value back: {text}");
    assert!(text.contains("[CREDIT_CARD_1]"), "redacted values are not restored: {text}");
    let rules: Vec<String> = records.0.lock().unwrap()[0].decisions.iter().map(|d| d.rule.clone()).collect();
    assert_eq!(rules, vec!["pii.redact.CREDIT_CARD", "pii.tokenize.EMAIL"]);
    // The prompt and the completion are recorded, with the restored value as its placeholder.
    let record = records.0.lock().unwrap()[0].clone();
    assert_eq!(record.completion.as_deref(), Some("You said: write to [EMAIL_1] about card [CREDIT_CARD_1]"));
    let audit = serde_json::to_string(&record).unwrap();
    assert!(!audit.contains("ann@corp.io") && !audit.contains("4111111111111111"), "{audit}");
}

#[tokio::test]
async fn a_blocked_kind_refuses_the_request_before_any_upstream_call() {
    let (gw, upstream, records) = setup(PiiAction::Audit, PiiAction::Block);
    let e = gw.chat(ctx(), req("card 4111111111111111")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PolicyDenied);
    assert!(!e.message().contains("4111"), "the error never echoes the value");
    assert!(upstream.0.lock().unwrap().is_empty());
    assert_eq!(records.0.lock().unwrap()[0].decisions[0].rule, "pii.block.CREDIT_CARD");
}

#[tokio::test]
async fn t15_pii_split_across_stream_chunks_is_caught_and_tokens_split_across_chunks_are_restored() {
    let (gw, upstream, _records) = setup_with(PiiAction::Tokenize, PiiAction::Redact, Some(PiiAction::Redact));
    let mut r = req("ann@corp.io");
    r.stream = Some(true);
    let stream = gw.chat_stream(ctx(), r).await.unwrap().value;
    let chunks: Vec<ChatChunk> = stream.map(|c| c.unwrap()).collect().await;
    let text: String = chunks.iter().filter_map(|c| c.choices.first()?.delta.content.clone()).collect();
    assert_eq!(text, "Contact ann@corp.io or card [CREDIT_CARD_1] today");
    assert!(chunks.len() > 5, "still streamed in pieces");
    let sent = upstream.0.lock().unwrap().join("\n");
    assert!(!sent.contains("ann@corp.io"));
}

#[tokio::test]
async fn t15_disguised_values_split_across_stream_chunks_are_redacted_in_the_answer_and_the_audit() {
    let detector = Arc::new(Detector::builtin().unwrap());
    let output = Redactor::new(HashMap::new(), PiiAction::Redact, b"key");
    let policy = PiiPolicy::new("pii", detector, None, Some(output));
    let recorder = Arc::new(Recorder::default());
    let records = Arc::new(Records::default());
    let mut table = ModelTable::new("t");
    table.insert(VirtualModel::new("m", ModelKind::Chat, vec![Arc::new(Target::new(recorder.clone(), "up"))])).unwrap();
    let gw = Gateway::builder().router(table).policy(policy).shared_audit(records.clone()).build().unwrap();

    // Zero-width characters inside the address, full-width digits, en dashes in the SSN.
    let prompt = "ann.lee\u{200B}@corp-mail.io, ４１１１ １１１１ １１１１ １１１１, ssn 536–22–8741";
    let mut r = req(prompt);
    r.stream = Some(true);
    let stream = gw.chat_stream(ctx(), r).await.unwrap().value;
    let chunks: Vec<ChatChunk> = stream.map(|c| c.unwrap()).collect().await;
    let text: String = chunks.iter().filter_map(|c| c.choices.first()?.delta.content.clone()).collect();
    for raw in ["ann.lee", "corp-mail", "１１１１", "4111", "8741"] {
        assert!(!text.contains(raw), "{raw:?} reached the caller: {text}");
    }
    for placeholder in ["[EMAIL_1]", "[CREDIT_CARD_1]", "[CREDIT_CARD_2]", "[US_SSN_1]"] {
        assert!(text.contains(placeholder), "{placeholder} missing: {text}");
    }
    assert!(!text.contains('\u{200B}'), "no invisible remnant: {text:?}");
    assert!(chunks.len() > 5, "still streamed in pieces");
    let audit = serde_json::to_string(&*records.0.lock().unwrap()).unwrap();
    for raw in ["ann.lee", "１１１１", "4111", "8741"] {
        assert!(!audit.contains(raw), "{raw:?} in the audit record");
    }
}
