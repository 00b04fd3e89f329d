//! Streaming receive (`Config::streaming`): messages handed out piece by
//! piece as they arrive, text pieces ending on code point boundaries, a
//! limit of their own, and memory bounded by the reads, not the message.

mod common;

use common::*;
use proptest::prelude::*;
use rfc6455::{Config, Connection, Event, Message, MessageKind, ProtocolError};

const LIMIT: u64 = 1 << 40;

fn streaming_server() -> Connection {
    server_with(Config::default().streaming(Some(LIMIT)))
}

/// The pieces' data, whether each is text, and which are last.
fn pieces(events: &[Event]) -> Vec<(Message, bool)> {
    events
        .iter()
        .map(|event| match event {
            Event::Piece { data, last } => (data.clone(), *last),
            other => panic!("not a piece: {other:?}"),
        })
        .collect()
}

/// Feeds `wire` in `cuts`-sized reads and collects every event.
fn feed_split(conn: &mut Connection, wire: &[u8], step: usize) -> Vec<Event> {
    let mut events = Vec::new();
    for chunk in wire.chunks(step.max(1)) {
        events.extend(feed_ok(conn, chunk));
    }
    events
}

/// A text message as a client sends it, in fragments of `frame` bytes
/// (which may split code points).
fn fragmented(kind: u8, payload: &[u8], frame_size: usize) -> Vec<u8> {
    if payload.is_empty() {
        return masked(kind, b"");
    }
    let chunks: Vec<&[u8]> = payload.chunks(frame_size.max(1)).collect();
    let mut wire = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let opcode = if i == 0 { kind } else { CONT };
        wire.extend(common::frame(
            i + 1 == chunks.len(),
            opcode,
            Some(KEY),
            chunk,
        ));
    }
    wire
}

/// Checks the pieces of one message: all of its kind, only the last
/// marked, and together the payload.
fn assert_pieces(events: &[Event], kind: MessageKind, payload: &[u8]) {
    let pieces = pieces(events);
    assert!(!pieces.is_empty());
    let mut joined = Vec::new();
    for (i, (data, last)) in pieces.iter().enumerate() {
        assert_eq!(data.kind(), kind);
        assert_eq!(
            *last,
            i + 1 == pieces.len(),
            "piece {i} of {}",
            pieces.len()
        );
        if !last {
            assert!(
                !data.as_bytes().is_empty(),
                "an empty piece before the last"
            );
        }
        if let Message::Text(text) = data {
            // Each text piece is whole code points on its own.
            assert!(std::str::from_utf8(text.as_bytes()).is_ok());
        }
        joined.extend_from_slice(data.as_bytes());
    }
    assert_eq!(joined, payload);
}

#[test]
fn a_single_frame_arrives_in_pieces_as_its_bytes_do() {
    let mut conn = streaming_server();
    let payload = vec![7u8; 10_000];
    let wire = masked(BINARY, &payload);
    let events = feed_split(&mut conn, &wire, 1000);
    assert!(pieces(&events).len() >= 10);
    assert_pieces(&events, MessageKind::Binary, &payload);
}

#[test]
fn text_pieces_end_on_code_points_across_reads_and_frames() {
    let text = "aé€😀".repeat(50);
    for frame_size in [1, 2, 3, 5, 7, 64, 1000] {
        for read in [1, 2, 3, 4, 13, 100, 10_000] {
            let mut conn = streaming_server();
            let wire = fragmented(TEXT, text.as_bytes(), frame_size);
            let events = feed_split(&mut conn, &wire, read);
            assert_pieces(&events, MessageKind::Text, text.as_bytes());
        }
    }
}

#[test]
fn an_empty_message_is_one_empty_last_piece() {
    let mut conn = streaming_server();
    let events = feed_ok(&mut conn, &masked(TEXT, b""));
    assert_eq!(pieces(&events), vec![(Message::text(""), true)]);
    // An empty final fragment ends a fragmented message.
    let mut wire = common::frame(false, BINARY, Some(KEY), b"ab");
    wire.extend(masked(CONT, b""));
    let events = feed_ok(&mut conn, &wire);
    assert_eq!(
        pieces(&events),
        vec![
            (Message::binary(&b"ab"[..]), false),
            (Message::binary(&b""[..]), true)
        ]
    );
}

#[test]
fn control_frames_come_between_pieces() {
    let mut conn = streaming_server();
    let mut wire = common::frame(false, TEXT, Some(KEY), b"one ");
    wire.extend(masked(PING, b"p"));
    wire.extend(common::frame(true, CONT, Some(KEY), b"two"));
    let events = feed_ok(&mut conn, &wire);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[1], ping(b"p"));
    assert_pieces(
        &[events[0].clone(), events[2].clone()],
        MessageKind::Text,
        b"one two",
    );
}

#[test]
fn invalid_utf8_fails_at_once_and_is_never_handed_out() {
    let mut conn = streaming_server();
    // Valid start, then a byte that cannot follow, in the middle of a
    // frame whose end never arrives.
    let mut wire = common::header(true, 0, TEXT, Some(KEY), 100);
    wire.extend(mask(b"fine \xff", KEY));
    let events = feed_err(&mut conn, &wire, ProtocolError::InvalidUtf8);
    for (data, _) in pieces(&events) {
        assert!(!data.as_bytes().contains(&0xff));
    }
    // A message that ends inside a code point.
    let mut conn = streaming_server();
    feed_err(
        &mut conn,
        &masked(TEXT, b"ok \xe2\x82"),
        ProtocolError::InvalidUtf8,
    );
}

#[test]
fn the_streaming_limit_replaces_the_message_and_frame_limits() {
    let config = Config::default()
        .max_frame_size(1024)
        .max_message_size(1024)
        .streaming(Some(10_000));
    // Larger than both whole-message limits: allowed.
    let mut conn = server_with(config.clone());
    let payload = vec![1u8; 8000];
    let events = feed_split(&mut conn, &masked(BINARY, &payload), 512);
    assert_pieces(&events, MessageKind::Binary, &payload);

    // Over the streaming limit: refused from the header, 1009.
    let mut conn = server_with(config.clone());
    let header = common::header(true, 0, BINARY, Some(KEY), 10_001);
    feed_err(
        &mut conn,
        &header,
        ProtocolError::MessageTooBig {
            size: 10_001,
            limit: 10_000,
        },
    );
    assert_single_close(&take_output(&mut conn), 1009, false);

    // The same across fragments: refused at the fragment that passes it.
    let mut conn = server_with(config);
    let piece = vec![2u8; 6000];
    let mut wire = common::frame(false, BINARY, Some(KEY), &piece);
    wire.extend(common::frame(true, CONT, Some(KEY), &piece));
    let drained = feed(&mut conn, &wire);
    assert_eq!(
        drained.error,
        Some(ProtocolError::MessageTooBig {
            size: 12_000,
            limit: 10_000
        })
    );
}

#[test]
fn a_huge_message_passes_through_bounded_memory() {
    // 64 MiB in one frame and in 1 MiB frames, read 64 KiB at a time; the
    // pieces are dropped as they come, as an application relaying them
    // would.
    let total: usize = 64 << 20;
    for frame_size in [total, 1 << 20] {
        let mut conn = streaming_server();
        let chunk = vec![0x5au8; 64 << 10];
        let mut received = 0usize;
        let mut peak = 0usize;
        let mut sent = 0usize;
        let mut frame_left = 0usize;
        let mut key_offset = 0usize;
        while sent < total {
            let mut wire = Vec::with_capacity(chunk.len() + 14);
            let mut room = chunk.len();
            while room > 0 && sent < total {
                if frame_left == 0 {
                    frame_left = frame_size.min(total - sent);
                    let opcode = if sent == 0 { BINARY } else { CONT };
                    wire.extend(common::header(
                        sent + frame_left == total,
                        0,
                        opcode,
                        Some(KEY),
                        frame_left as u64,
                    ));
                    key_offset = 0;
                }
                let n = room.min(frame_left);
                wire.extend(
                    chunk[..n]
                        .iter()
                        .enumerate()
                        .map(|(i, b)| b ^ KEY[(key_offset + i) % 4]),
                );
                key_offset += n;
                frame_left -= n;
                sent += n;
                room -= n;
            }
            conn.receive_data(&wire);
            while let Some(event) = conn.next_event().unwrap() {
                let Event::Piece { data, .. } = event else {
                    panic!("{event:?}")
                };
                assert!(data.as_bytes().iter().all(|&b| b == 0x5a));
                received += data.as_bytes().len();
            }
            peak = peak.max(conn.memory_usage());
        }
        assert_eq!(received, total);
        assert!(
            peak < 4 << 20,
            "peak {peak} bytes for frames of {frame_size}"
        );
    }
}

#[cfg(feature = "deflate")]
#[test]
fn compressed_messages_stream_too() {
    use rfc6455::deflate::DeflateParams;

    let text = "streamed and compressed, ünïcödé included. ".repeat(4000);
    let mut sender = client_with(Config::default().send_frame_size(Some(1000)));
    sender.set_deflate(DeflateParams::default());
    sender.send_text(&text).unwrap();
    let wire = take_output(&mut sender);
    assert!(wire.len() < text.len() / 4, "compressed");

    for read in [1, 7, 100, 4096] {
        let mut conn = streaming_server();
        conn.set_deflate(DeflateParams::default());
        let events = feed_split(&mut conn, &wire, read);
        assert_pieces(&events, MessageKind::Text, text.as_bytes());
    }

    // The streaming limit counts inflated bytes.
    let mut conn = server_with(Config::default().streaming(Some(10_000)));
    conn.set_deflate(DeflateParams::default());
    let drained = feed(&mut conn, &wire);
    assert!(
        matches!(drained.error, Some(ProtocolError::MessageTooBig { .. })),
        "{drained:?}"
    );
}

proptest! {
    /// Any text, fragmented anyhow, read in any pieces: the pieces are
    /// the text, each whole code points.
    #[test]
    fn any_split_gives_the_message(
        text in "[a-zé€😀 ]{0,300}",
        frame_size in 1usize..40,
        read in 1usize..50,
    ) {
        let mut conn = streaming_server();
        let wire = fragmented(TEXT, text.as_bytes(), frame_size);
        let events = feed_split(&mut conn, &wire, read);
        assert_pieces(&events, MessageKind::Text, text.as_bytes());
    }
}
