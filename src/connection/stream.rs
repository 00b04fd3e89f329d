//! Streaming receive ([`Config::streaming`](crate::Config::streaming)): a
//! data message handed out piece by piece as its bytes arrive, so that a
//! message of any size passes through bounded memory.
//!
//! The frame rules are those of `recv.rs`, which calls this once the bytes
//! that arrived of a data frame are unmasked, checked (text) and, for a
//! compressed message, inflated. What is handed out is what was checked:
//! a text piece never ends inside a code point.

use bytes::Bytes;

use super::recv::FrameInProgress;
use super::{Connection, Event};
use crate::{Message, MessageKind, ProtocolError, Utf8Bytes};

impl Connection {
    /// Hands out what has arrived of the data frame in progress, `frame`,
    /// whose first `frame.done` bytes in the input are ready.
    ///
    /// Returns the piece, if there is one to give; otherwise `None`, with
    /// `reader.frame` set if the frame still needs bytes (and cleared if it
    /// is complete, so that decoding goes on with the next frame).
    pub(super) fn stream_piece(
        &mut self,
        mut frame: FrameInProgress,
    ) -> Result<Option<Event>, ProtocolError> {
        let complete = frame.done == frame.len;
        let ready = frame.done;
        let fresh = if complete {
            self.input.take_payload(ready)
        } else {
            self.input.take_front(ready)
        };
        frame.taken += ready;
        frame.len -= ready;
        frame.done = 0;
        self.reader.frame = (!complete).then_some(frame);

        let last = complete && frame.header.fin;
        let limit = self.limits.max_message_size;
        let stream_limit = self.limits.streaming.unwrap_or(u64::MAX);
        let Some(partial) = self.reader.message.as_mut() else {
            return Ok(None); // check_header opens the message of every data frame
        };
        let fresh = if partial.encoded {
            // The compressed bytes were consumed by the decoder; what it
            // produced waits in `partial.data`.
            if last && let Some(extension) = self.extension.as_mut() {
                let start = partial.data.len();
                extension.finish_decode(&mut partial.data, limit)?;
                let tail = &partial.data[start..];
                partial.size += tail.len() as u64;
                if partial.kind == MessageKind::Text {
                    self.reader
                        .utf8
                        .feed(tail)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
            }
            // A plain message's size is checked from its frame headers; a
            // compressed one's only as it inflates.
            if partial.size > stream_limit {
                return Err(ProtocolError::MessageTooBig {
                    size: partial.size,
                    limit: usize::try_from(stream_limit).unwrap_or(usize::MAX),
                });
            }
            Bytes::new()
        } else {
            fresh
        };
        let pending = match partial.kind {
            MessageKind::Text => self.reader.utf8.pending_len(),
            MessageKind::Binary => 0,
        };
        // RFC 6455 §8.1: a text message that ends inside a code point is
        // not UTF-8; the connection MUST be failed.
        if last && pending != 0 {
            return Err(ProtocolError::InvalidUtf8);
        }
        let data = split_piece(&mut partial.data, fresh, pending);
        let kind = partial.kind;
        if last {
            self.reader.message = None;
        }
        if data.is_empty() && !last {
            return Ok(None);
        }
        let data = match kind {
            MessageKind::Binary => Message::Binary(data),
            MessageKind::Text => Message::Text(Utf8Bytes::from_validated(data)),
        };
        Ok(Some(Event::Piece { data, last }))
    }
}

/// The bytes ready to hand out: those held back (`held`) followed by
/// `fresh`, less the last `pending` bytes, which begin a code point that
/// has not arrived whole and are held back for the next piece. Without
/// bytes held back, `fresh` is handed out without a copy.
fn split_piece(held: &mut Vec<u8>, fresh: Bytes, pending: usize) -> Bytes {
    if held.is_empty() && pending <= fresh.len() {
        let cut = fresh.len() - pending;
        held.extend_from_slice(&fresh[cut..]);
        return fresh.slice(..cut);
    }
    let mut all = std::mem::take(held);
    all.extend_from_slice(&fresh);
    let cut = all.len().saturating_sub(pending);
    held.extend_from_slice(&all[cut..]);
    all.truncate(cut);
    Bytes::from(all)
}
