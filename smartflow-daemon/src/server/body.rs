//! Reading request bodies within limits: the size is enforced while reading (a lying or absent
//! `Content-Length` cannot make us buffer more), and the whole body must arrive in time.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use smartflow_core::{Error, ErrorKind};

/// Limits for one body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub(crate) max_bytes: usize,
    pub(crate) timeout: Duration,
    pub(crate) max_json_depth: usize,
}

fn too_large(max: usize) -> Error {
    Error::new(ErrorKind::PayloadTooLarge, format!("request body exceeds the limit of {max} bytes"))
        .with_code("request_too_large")
}

/// Reads a JSON body: size, time and nesting depth checked before any parsing.
pub(crate) async fn read_json(headers: &http::HeaderMap, body: Incoming, limits: BodyLimits) -> Result<Bytes, Error> {
    if let Some(len) = headers.get(http::header::CONTENT_LENGTH) {
        let len: u64 = len
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Error::invalid_request("invalid Content-Length"))?;
        if len > limits.max_bytes as u64 {
            return Err(too_large(limits.max_bytes));
        }
    }
    let bytes = match tokio::time::timeout(limits.timeout, Limited::new(body, limits.max_bytes).collect()).await {
        Err(_) => {
            return Err(Error::invalid_request("the request body did not arrive in time")
                .with_status(408)
                .with_code("request_timeout"));
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large(limits.max_bytes)),
        Ok(Err(_)) => return Err(Error::invalid_request("the request body could not be read")),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    if bytes.is_empty() {
        return Err(Error::invalid_request("the request body is empty; send a JSON object"));
    }
    smartflow_core::types::validate::check_json_depth(&bytes, limits.max_json_depth)?;
    Ok(bytes)
}
