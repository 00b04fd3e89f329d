//! `deflate_connection`: a server connection with permessage-deflate
//! agreed, fed either raw bytes or messages that a peer compressed and
//! fragmented at fuzzer-chosen points.
//!
//! Input: `[flags, window, split, body…]`.
//! - `flags` bit 0: structured mode (else raw); bit 1: the peer resets its
//!   window per message (no context takeover); bits 2–3: the compression
//!   level.
//! - `window`: the peer's window bits, 8 + (`window` % 8).
//! - `split`: the fragment size in structured mode, and the chunk size in
//!   which bytes are fed (1 + `split`).
//! - raw mode: `body` is the wire stream.
//! - structured mode: `body` is messages separated by `0xff`; each is
//!   compressed by a `Deflater` with the peer's parameters, cut into
//!   fragments, masked, and must arrive identical — or, if larger than the
//!   limit, fail the connection with 1009.
//!
//! Invariants: no panic; `memory_usage()` within the configured limits plus
//! the codec's documented state; every message within `max_message_size`;
//! errors sticky.

use rfc6455::deflate::{DeflateParams, Deflater};
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};
use rfc6455::{Config, Connection, Event, Message, ProtocolError, Role};

const MAX_FRAME: usize = 16 << 10;
const MAX_MESSAGE: usize = 64 << 10;
/// Compressor and decompressor state at 15 window bits, with slack.
const CODEC_STATE: usize = 512 << 10;

pub fn run(data: &[u8]) {
    let [flags, window, split, body @ ..] = data else {
        return;
    };
    let mut peer = DeflateParams::default();
    peer.send_max_window_bits = 8 + window % 8;
    peer.send_no_context_takeover = flags & 2 != 0;
    peer.compression_level = u32::from((flags >> 2) & 3) * 3;
    let mut ours = DeflateParams::default();
    ours.receive_max_window_bits = peer.send_max_window_bits;
    ours.receive_no_context_takeover = peer.send_no_context_takeover;

    let config = Config::default()
        .max_frame_size(MAX_FRAME)
        .max_message_size(MAX_MESSAGE);
    let mut conn = Connection::new(Role::Server, config);
    conn.set_deflate(ours);

    let chunk = 1 + usize::from(*split);
    let (wire, expected) = if flags & 1 != 0 {
        structured(body, &peer, chunk)
    } else {
        (body.to_vec(), None)
    };
    let mut received = Vec::new();
    let mut error: Option<ProtocolError> = None;
    for piece in wire.chunks(chunk) {
        conn.receive_data(piece);
        loop {
            match conn.next_event() {
                Ok(Some(event)) => {
                    if let Event::Message(message) = &event {
                        assert!(message.len() <= MAX_MESSAGE);
                        received.push(message.clone());
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if let Some(first) = &error {
                        assert_eq!(first, &e, "errors are sticky");
                    }
                    error = Some(e);
                    break;
                }
            }
        }
        let output = conn.pending_output().len();
        conn.consume_output(output);
        let bound = MAX_FRAME + MAX_HEADER_LEN + MAX_MESSAGE + chunk + CODEC_STATE;
        assert!(
            conn.memory_usage() <= bound,
            "memory {} over {bound}",
            conn.memory_usage()
        );
    }
    if let Some(expected) = expected {
        match error {
            None => assert_eq!(received, expected),
            // A message over the limit fails the connection; everything
            // before it arrived intact.
            Some(ProtocolError::MessageTooBig { .. }) => {
                assert_eq!(received[..], expected[..received.len()]);
            }
            Some(other) => panic!("valid compressed stream refused: {other:?}"),
        }
    }
}

/// Compresses and frames the messages in `body`, as a client with the
/// `peer` parameters would. Messages are binary; frames carry at most
/// `fragment` bytes (and at most `MAX_FRAME`).
fn structured(
    body: &[u8],
    peer: &DeflateParams,
    fragment: usize,
) -> (Vec<u8>, Option<Vec<Message>>) {
    let mut deflater = Deflater::new(peer);
    let mut wire = Vec::new();
    let mut messages = Vec::new();
    for (i, message) in body.split(|&b| b == 0xff).enumerate() {
        let mut compressed = Vec::new();
        deflater.compress(message, &mut compressed);
        let pieces: Vec<&[u8]> = if compressed.is_empty() {
            vec![&[]]
        } else {
            compressed.chunks(fragment.min(MAX_FRAME)).collect()
        };
        let last = pieces.len() - 1;
        for (j, piece) in pieces.iter().enumerate() {
            let key = [i as u8, j as u8, 0x5a, 0xa5];
            let header = FrameHeader {
                fin: j == last,
                rsv: if j == 0 { FrameHeader::RSV1 } else { 0 },
                opcode: if j == 0 {
                    OpCode::Binary
                } else {
                    OpCode::Continuation
                },
                mask: Some(key),
                payload_len: piece.len() as u64,
            };
            let mut head = [0; MAX_HEADER_LEN];
            let n = header.encode(&mut head);
            wire.extend_from_slice(&head[..n]);
            let start = wire.len();
            wire.extend_from_slice(piece);
            apply_mask(&mut wire[start..], key, 0);
        }
        messages.push(Message::binary(message.to_vec()));
    }
    (wire, Some(messages))
}
