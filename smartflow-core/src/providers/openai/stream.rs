//! The OpenAI dialect's stream events: `data: {chunk}` lines ending with `data: [DONE]`, and
//! `data: {"error": ...}` for failures after the first byte.

use crate::error::{Error, ErrorKind};
use crate::providers::http::{EventHandler, protocol};
use crate::sse::SseEvent;
use crate::types::ChatChunk;

/// Decodes OpenAI `chat.completion.chunk` events.
#[derive(Debug, Default)]
pub(super) struct OpenAiEvents {
    done: bool,
}

impl EventHandler for OpenAiEvents {
    fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let value: serde_json::Value =
            serde_json::from_str(data).map_err(|_| protocol("upstream sent an invalid stream event"))?;
        if ev.event.as_deref() == Some("error") || value.get("error").is_some() {
            let message = value
                .get("error")
                .and_then(|e| e.get("message"))
                .and_then(serde_json::Value::as_str)
                .map(|m| {
                    format!(
                        "upstream provider reported an error mid-stream: {}",
                        m.chars().take(500).collect::<String>()
                    )
                })
                .unwrap_or_else(|| "upstream provider reported an error mid-stream".to_owned());
            return Err(Error::new(ErrorKind::UpstreamServerError, message).with_code("upstream_error"));
        }
        out.push(serde_json::from_value(value).map_err(|_| protocol("upstream sent an invalid stream chunk"))?);
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
