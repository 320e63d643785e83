//! An incremental decoder of the AWS event-stream binary framing
//! (`application/vnd.amazon.eventstream`), the body of Bedrock's `ConverseStream`.
//!
//! Each message is: a 12-byte prelude (total length u32 BE, headers length u32 BE, CRC32 of
//! those 8 bytes), the headers, the payload, and a CRC32 of everything before it. A header is a
//! name (u8 length + UTF-8), a value type (u8) and a value whose size the type decides (0/1
//! booleans carry none, 2 byte, 3 i16, 4 i32, 5 i64, 6 bytes and 7 string with a u16 BE length,
//! 8 timestamp i64, 9 UUID 16 bytes). Both CRCs are checked; the total length is bounded before
//! anything is buffered for it, so a corrupt or hostile length never causes a large allocation.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{Error, ErrorKind};

/// The default largest frame accepted (16 MiB).
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// Prelude (12 bytes) plus message CRC (4 bytes): the size of a frame with no headers or payload.
const OVERHEAD: usize = 16;
const PRELUDE: usize = 12;

/// One decoded event-stream message, with the headers Smartflow reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// `:event-type` (`messageStart`, `contentBlockDelta`, `metadata`...).
    pub event_type: Option<String>,
    /// `:message-type`: `event`, `exception` or `error`.
    pub message_type: Option<String>,
    /// `:exception-type` of an `exception` message (`throttlingException`...), or
    /// `:error-code` of an `error` message.
    pub exception_type: Option<String>,
    /// `:error-message` of an `error` message.
    pub error_message: Option<String>,
    /// The payload (JSON for Bedrock events and exceptions).
    pub payload: Bytes,
}

/// Incremental event-stream decoder: feed it bytes split anywhere, get whole frames out.
///
/// After an error it stays failed: every later [`feed`](Self::feed) returns the same kind of
/// error (the stream cannot be resynchronised once a length or CRC is wrong).
#[derive(Debug)]
pub struct EventStreamDecoder {
    buf: BytesMut,
    max_frame_bytes: usize,
    failed: bool,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        Self::new(MAX_FRAME_BYTES)
    }
}

impl EventStreamDecoder {
    /// A decoder refusing frames larger than `max_frame_bytes` (at least the 16-byte overhead).
    pub fn new(max_frame_bytes: usize) -> Self {
        Self { buf: BytesMut::new(), max_frame_bytes: max_frame_bytes.max(OVERHEAD), failed: false }
    }

    /// Whether no partial frame is buffered (a body that ends now ends on a frame boundary).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Feeds bytes and appends every frame they complete to `out`.
    ///
    /// # Errors
    /// [`ErrorKind::UpstreamProtocol`] (`invalid_upstream_response`) for a prelude or message
    /// CRC mismatch, a length out of bounds (including a frame over the size limit), or malformed
    /// headers. Frames completed before the bad one are still appended.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<(), Error> {
        if self.failed {
            return Err(protocol("upstream sent an invalid event stream"));
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match self.next_frame() {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.failed = true;
                    self.buf.clear();
                    return Err(e);
                }
            }
        }
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        if self.buf.len() < PRELUDE {
            return Ok(None);
        }
        let total = be_u32(&self.buf[0..4]) as usize;
        let headers_len = be_u32(&self.buf[4..8]) as usize;
        if crc32fast::hash(&self.buf[0..8]) != be_u32(&self.buf[8..12]) {
            return Err(protocol("upstream event stream frame failed its prelude CRC check"));
        }
        if total < OVERHEAD || headers_len > total - OVERHEAD {
            return Err(protocol("upstream event stream frame has inconsistent lengths"));
        }
        if total > self.max_frame_bytes {
            return Err(protocol("upstream event stream frame exceeds the size limit"));
        }
        if self.buf.len() < total {
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        let message = self.buf.split_to(total).freeze();
        if crc32fast::hash(&message[..total - 4]) != be_u32(&message[total - 4..]) {
            return Err(protocol("upstream event stream frame failed its message CRC check"));
        }
        let mut frame = Frame::default();
        parse_headers(&message[PRELUDE..PRELUDE + headers_len], &mut frame)?;
        frame.payload = message.slice(PRELUDE + headers_len..total - 4);
        Ok(Some(frame))
    }
}

fn be_u32(b: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&b[..4]);
    u32::from_be_bytes(word)
}

fn parse_headers(mut headers: &[u8], frame: &mut Frame) -> Result<(), Error> {
    let bad = || protocol("upstream event stream frame has malformed headers");
    while headers.has_remaining() {
        let name_len = usize::from(headers.get_u8());
        if name_len == 0 || headers.remaining() < name_len + 1 {
            return Err(bad());
        }
        let name = std::str::from_utf8(&headers[..name_len]).map_err(|_| bad())?.to_owned();
        headers.advance(name_len);
        let value_type = headers.get_u8();
        let fixed = match value_type {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            4 => 4,
            5 | 8 => 8,
            9 => 16,
            6 | 7 => {
                if headers.remaining() < 2 {
                    return Err(bad());
                }
                let len = usize::from(headers.get_u16());
                if headers.remaining() < len {
                    return Err(bad());
                }
                if value_type == 7 {
                    let value = std::str::from_utf8(&headers[..len]).map_err(|_| bad())?.to_owned();
                    match name.as_str() {
                        ":event-type" => frame.event_type = Some(value),
                        ":message-type" => frame.message_type = Some(value),
                        ":exception-type" | ":error-code" => frame.exception_type = Some(value),
                        ":error-message" => frame.error_message = Some(value),
                        _ => {}
                    }
                }
                headers.advance(len);
                continue;
            }
            _ => return Err(bad()),
        };
        if headers.remaining() < fixed {
            return Err(bad());
        }
        headers.advance(fixed);
    }
    Ok(())
}

fn protocol(message: &'static str) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, message).with_code("invalid_upstream_response")
}
