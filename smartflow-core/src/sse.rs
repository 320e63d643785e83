//! Server-sent events: an incremental decoder for upstream streams and the encoder for clients.
//!
//! The decoder accepts bytes split anywhere (mid-line, mid-UTF-8, between `\r` and `\n`), all
//! three line endings, comment lines and `event:`/`id:`/`retry:` fields, and bounds its buffer:
//! an event larger than the limit is an error, never an unbounded allocation.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, ErrorKind};

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental SSE decoder.
#[derive(Debug)]
pub struct SseDecoder {
    buf: BytesMut,
    /// Bytes of `buf` already scanned for a line end.
    scanned: usize,
    /// A `\r` ended the last line; a `\n` right after it belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    max_event_bytes: usize,
    /// No line has been read yet (a leading byte-order mark is dropped from the first one).
    first_line: bool,
}

impl SseDecoder {
    /// A decoder refusing events (and lines) larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            scanned: 0,
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            max_event_bytes,
            first_line: true,
        }
    }

    /// Feeds bytes and appends every event they complete to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        let mut input = bytes;
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                input = &bytes[1..];
            }
        }
        self.buf.extend_from_slice(input);
        loop {
            let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n' || b == b'\r') else {
                self.scanned = self.buf.len();
                if self.buf.len() + self.data.len() > self.max_event_bytes {
                    return Err(too_large());
                }
                return Ok(());
            };
            let end = self.scanned + pos;
            let line = self.buf.split_to(end + 1);
            self.scanned = 0;
            let terminator = line[end];
            if terminator == b'\r' {
                if self.buf.first() == Some(&b'\n') {
                    let _ = self.buf.split_to(1);
                } else if self.buf.is_empty() {
                    self.after_cr = true;
                }
            }
            self.line(&line[..end], out)?;
        }
    }

    /// Ends the input: returns an event left without its closing blank line, if any.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buf.is_empty() {
            let line = self.buf.split();
            let mut out = Vec::new();
            let _ = self.line(&line, &mut out);
        }
        self.scanned = 0;
        self.take_event()
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        let line = if std::mem::take(&mut self.first_line) {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            if let Some(ev) = self.take_event() {
                out.push(ev);
            }
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
                if self.data.len() > self.max_event_bytes {
                    return Err(too_large());
                }
            }
            b"event" => self.event = Some(value.into_owned()),
            _ => {}
        }
        Ok(())
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent { event, data: std::mem::take(&mut self.data) })
    }
}

fn too_large() -> Error {
    Error::new(ErrorKind::UpstreamProtocol, "upstream stream event exceeds the size limit")
}

/// Encodes one `data:` event. JSON never contains a raw newline, so one line suffices; any
/// newline in `data` starts a new `data:` line so it cannot break framing.
pub fn encode_data(data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 8);
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\n");
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
    }
    out.extend_from_slice(b"\n\n");
    out.freeze()
}

/// The terminating `data: [DONE]` event.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut d = SseDecoder::new(1 << 20);
        let mut out = Vec::new();
        for chunk in input.chunks(piece.max(1)) {
            d.feed(chunk, &mut out).unwrap();
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn any_split_gives_the_same_events() {
        let input = b": comment\r\ndata: {\"a\":1}\r\n\r\nevent: error\ndata: x\ndata: y\n\ndata: [DONE]\r\r";
        let expect = vec![
            SseEvent { event: None, data: "{\"a\":1}".into() },
            SseEvent { event: Some("error".into()), data: "x\ny".into() },
            SseEvent { event: None, data: "[DONE]".into() },
        ];
        for piece in 1..input.len() {
            assert_eq!(decode_in_pieces(input, piece), expect, "piece size {piece}");
        }
    }

    #[test]
    fn residual_event_without_blank_line_is_flushed() {
        assert_eq!(decode_in_pieces(b"data: last", 3), vec![SseEvent { event: None, data: "last".into() }]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        let input = b"\xEF\xBB\xBFdata: a\n\ndata: \xEF\xBB\xBFb\n\n";
        for piece in 1..input.len() {
            let events = decode_in_pieces(input, piece);
            assert_eq!(events.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(), ["a", "\u{feff}b"], "piece {piece}");
        }
    }

    #[test]
    fn oversized_event_is_refused() {
        let mut d = SseDecoder::new(16);
        let mut out = Vec::new();
        assert!(d.feed(&[b'x'; 64], &mut out).is_err());
        let mut d = SseDecoder::new(16);
        assert!(d.feed(b"data: 0123456789\ndata: 0123456789\n", &mut out).is_err());
    }

    #[test]
    fn encoder_keeps_framing() {
        assert_eq!(&encode_data(b"a\n\ndata: [DONE]")[..], b"data: a\ndata: \ndata: data: [DONE]\n\n");
    }
}
