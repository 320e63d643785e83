//! Indexer acknowledgement: a random channel GUID per sink, and polling
//! `POST /services/collector/ack?channel=<guid>` with `{"acks":[id]}` until the batch's `ackId`
//! is reported indexed or the acknowledgement timeout passes.

use std::collections::HashMap;

use bytes::Bytes;
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::Deserialize;
use tokio::time::Instant;

use super::{SplunkError, SplunkHec, TransportError};

/// Polls at the base interval this many times before backing off.
const STEADY_POLLS: u32 = 4;
/// The backed-off interval never exceeds the base interval times this.
const MAX_BACKOFF: u32 = 8;

/// A random (version 4) GUID naming this sink's acknowledgement channel.
pub(super) fn new_channel() -> Result<String, SplunkError> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SplunkError::Config("no randomness for the acknowledgement channel".to_owned()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

#[derive(Deserialize)]
struct AckReply {
    acks: HashMap<String, bool>,
}

/// Waits until `id` is acknowledged; past the acknowledgement timeout the batch is retryable
/// (it may have been lost, or only be slow: resending gives at-least-once delivery).
pub(super) async fn wait(hec: &SplunkHec, id: u64) -> Result<(), TransportError> {
    let deadline = Instant::now() + hec.ack_timeout;
    let body = Bytes::from(format!("{{\"acks\":[{id}]}}"));
    let key = id.to_string();
    let mut delay = hec.ack_poll_interval;
    let mut polls = 0u32;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(TransportError::retryable(format!(
                "the Splunk HEC did not acknowledge the batch within {:?} ({polls} polls)",
                hec.ack_timeout
            )));
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        polls += 1;
        match hec.post(&hec.ack_uri, body.clone()).await {
            Ok((status, _)) if !status.is_success() => tracing::debug!(%status, "Splunk HEC ack poll refused"),
            Ok((_, reply)) => {
                let acked = serde_json::from_slice::<AckReply>(&reply).is_ok_and(|r| r.acks.get(&key) == Some(&true));
                if acked {
                    return Ok(());
                }
            }
            Err(error) => tracing::debug!(%error, "Splunk HEC ack poll failed"),
        }
        if polls >= STEADY_POLLS {
            delay = (delay * 2).min(hec.ack_poll_interval * MAX_BACKOFF);
        }
    }
}
