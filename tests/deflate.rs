//! permessage-deflate (RFC 7692) through the connection: negotiation in both
//! handshakes, RSV1 ownership, compression on the wire, bounded inflation.
#![cfg(feature = "deflate")]

use rfc6455::deflate::{DeflateConfig, DeflateParams, Deflater};
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::handshake::Accept;
use rfc6455::{
    ClientHandshake, ClientRequest, CloseCode, Config, Connection, Event, Message, MessageKind,
    ProtocolError, Role, ServerHandshake,
};

/// A client and a server that completed the handshake with these configs.
fn pair(client: Config, server: Config) -> (Connection, Connection, Option<String>) {
    let request = ClientRequest::new("ws://localhost/").unwrap();
    let mut ch = ClientHandshake::new(request, &client).unwrap();
    let mut sh = ServerHandshake::new(&server);
    let request = sh.receive_data(ch.pending_output()).unwrap().unwrap();
    let n = ch.pending_output().len();
    ch.consume_output(n);
    let mut server = sh.accept(&request, Accept::default()).unwrap();
    let head = server.pending_output().to_vec();
    server.consume_output(head.len());
    let response = ch.receive_data(&head).unwrap().unwrap();
    let agreed = response
        .extensions()
        .first()
        .map(|extension| extension.to_string());
    (ch.into_connection().unwrap(), server, agreed)
}

fn deflating(deflate: DeflateConfig) -> Config {
    Config::default().deflate(deflate)
}

/// Moves `from`'s output into `to`, returning the frame headers it held.
fn pump(from: &mut Connection, to: &mut Connection) -> Vec<FrameHeader> {
    let wire = from.pending_output().to_vec();
    from.consume_output(wire.len());
    let mut headers = Vec::new();
    let mut rest = &wire[..];
    while let Some((header, len)) = FrameHeader::decode(rest).unwrap() {
        headers.push(header);
        rest = &rest[len + header.payload_len as usize..];
    }
    to.receive_data(&wire);
    headers
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event().unwrap()).collect()
}

fn compressible(len: usize, seed: u8) -> Vec<u8> {
    let phrase = format!("{{\"user\":{seed},\"text\":\"the quick brown fox\"}} ");
    phrase.bytes().cycle().take(len).collect()
}

#[test]
fn negotiated_through_the_config_and_compressed_on_the_wire() {
    let (mut client, mut server, agreed) = pair(
        deflating(DeflateConfig::default()),
        deflating(DeflateConfig::default()),
    );
    assert_eq!(agreed.as_deref(), Some("permessage-deflate"));
    let text = String::from_utf8(compressible(10_000, 1)).unwrap();
    client.send_text(&text).unwrap();
    let headers = pump(&mut client, &mut server);
    // RFC 7692 §6: RSV1 marks a compressed message.
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].rsv, FrameHeader::RSV1);
    assert!(headers[0].payload_len < 1_000, "{}", headers[0].payload_len);
    assert_eq!(
        events(&mut server),
        vec![Event::Message(Message::text(text.clone()))]
    );
    server.send_text(&text).unwrap();
    let headers = pump(&mut server, &mut client);
    assert_eq!(headers[0].rsv, FrameHeader::RSV1);
    assert_eq!(
        events(&mut client),
        vec![Event::Message(Message::text(text))]
    );
}

#[test]
fn not_negotiated_unless_both_ends_enable_it() {
    let (_, _, agreed) = pair(deflating(DeflateConfig::default()), Config::default());
    assert_eq!(agreed, None);
    let (mut client, mut server, agreed) =
        pair(Config::default(), deflating(DeflateConfig::default()));
    assert_eq!(agreed, None);
    client.send_binary(&compressible(4096, 0)).unwrap();
    assert_eq!(pump(&mut client, &mut server)[0].rsv, 0);
}

#[test]
fn every_window_size_and_context_takeover_mode_round_trips() {
    for client_bits in 8..=15 {
        for server_bits in [8, 11, 15] {
            for no_takeover in [false, true] {
                let config = DeflateConfig::default()
                    .client_max_window_bits(client_bits)
                    .server_max_window_bits(server_bits)
                    .client_no_context_takeover(no_takeover)
                    .server_no_context_takeover(no_takeover);
                let (mut client, mut server, agreed) =
                    pair(deflating(config.clone()), deflating(config));
                assert!(agreed.is_some());
                for i in 0..6u8 {
                    let data = compressible(300 + 1000 * usize::from(i), i);
                    client.send_binary(&data).unwrap();
                    server.send_binary(&data).unwrap();
                    pump(&mut client, &mut server);
                    pump(&mut server, &mut client);
                    let expect = vec![Event::Message(Message::binary(data))];
                    assert_eq!(events(&mut server), expect, "{client_bits}/{server_bits}");
                    assert_eq!(events(&mut client), expect, "{client_bits}/{server_bits}");
                }
            }
        }
    }
}

#[test]
fn context_takeover_makes_a_repeated_message_smaller() {
    let (mut client, mut server, _) = pair(
        deflating(DeflateConfig::default()),
        deflating(DeflateConfig::default()),
    );
    // Text without repeats of its own: only the previous message helps.
    let mut state = 0x2545_f491_u32;
    let data: Vec<u8> = (0..2000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            b'a' + (state % 26) as u8
        })
        .collect();
    client.send_binary(&data).unwrap();
    let first = pump(&mut client, &mut server)[0].payload_len;
    client.send_binary(&data).unwrap();
    let second = pump(&mut client, &mut server)[0].payload_len;
    assert!(second * 4 < first, "{first} then {second}");
    assert_eq!(events(&mut server).len(), 2);
}

#[test]
fn small_messages_fragments_and_control_frames_are_sent_plain() {
    let (mut client, mut server, _) = pair(
        deflating(DeflateConfig::default()),
        deflating(DeflateConfig::default()),
    );
    client.send_text("hi").unwrap(); // below min_message_size
    client.send_ping(&compressible(100, 0)).unwrap();
    client
        .send_fragment(MessageKind::Binary, &compressible(500, 0), true)
        .unwrap();
    client.send_close(CloseCode::NORMAL, "bye").unwrap();
    let headers = pump(&mut client, &mut server);
    assert_eq!(headers.len(), 4);
    assert!(headers.iter().all(|h| h.rsv == 0), "{headers:?}");
    assert_eq!(events(&mut server).len(), 4);
}

/// A server connection with deflate agreed and default parameters.
fn deflate_server(config: Config) -> Connection {
    let mut conn = Connection::new(Role::Server, config);
    conn.set_deflate(DeflateParams::default());
    conn
}

fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Deflater::new(&DeflateParams::default()).compress(data, &mut out);
    out
}

/// A masked client frame.
fn frame(fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut head = [0; 14];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

#[test]
fn a_compressed_message_in_fragments_with_a_ping_between() {
    let text = String::from_utf8(compressible(5000, 9)).unwrap();
    let wire = compress(text.as_bytes());
    let (a, rest) = wire.split_at(wire.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    let mut conn = deflate_server(Config::default());
    // RFC 7692 §6.1: RSV1 on the first frame only.
    conn.receive_data(&frame(false, FrameHeader::RSV1, OpCode::Text, a));
    conn.receive_data(&frame(false, 0, OpCode::Continuation, b));
    conn.receive_data(&frame(true, 0, OpCode::Ping, b"p"));
    conn.receive_data(&frame(true, 0, OpCode::Continuation, c));
    assert_eq!(
        events(&mut conn),
        vec![
            Event::Ping(bytes::Bytes::from_static(b"p")),
            Event::Message(Message::text(text)),
        ]
    );
    assert_eq!(conn.pending_output(), b"\x8a\x01p");
}

#[test]
fn rsv1_where_the_rfc_forbids_it_fails_with_1002() {
    let wire = compress(b"hello hello hello");
    let cases = [
        // On a continuation frame (RFC 7692 §6.1).
        vec![
            frame(false, FrameHeader::RSV1, OpCode::Binary, &wire[..4]),
            frame(true, FrameHeader::RSV1, OpCode::Continuation, &wire[4..]),
        ],
        // On a control frame.
        vec![frame(true, FrameHeader::RSV1, OpCode::Ping, b"")],
        // RSV2 and RSV3 belong to no extension.
        vec![frame(true, 0b010, OpCode::Binary, b"x")],
    ];
    for case in cases {
        let mut conn = deflate_server(Config::default());
        for f in &case {
            conn.receive_data(f);
        }
        let error = loop {
            match conn.next_event() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error"),
                Err(error) => break error,
            }
        };
        assert!(matches!(error, ProtocolError::ReservedBits(_)), "{error:?}");
        assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
    }
    // Without deflate negotiated, RSV1 is reserved too.
    let mut plain = Connection::new(Role::Server, Config::default());
    plain.receive_data(&frame(true, FrameHeader::RSV1, OpCode::Binary, &wire));
    assert!(matches!(
        plain.next_event(),
        Err(ProtocolError::ReservedBits(0b100))
    ));
}

#[test]
fn a_deflate_bomb_fails_with_1009_without_allocating_the_message() {
    let zeros = vec![0u8; 10 << 20];
    let bomb = compress(&zeros);
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    let limit = 1 << 20;
    let mut conn = deflate_server(Config::default().max_message_size(limit));
    conn.receive_data(&frame(true, FrameHeader::RSV1, OpCode::Binary, &bomb));
    let error = conn.next_event().unwrap_err();
    assert!(
        matches!(error, ProtocolError::MessageTooBig { .. }),
        "{error:?}"
    );
    assert_eq!(error.close_code(), CloseCode::MESSAGE_TOO_BIG);
    assert!(conn.memory_usage() < 2 * limit, "{}", conn.memory_usage());
}

#[test]
fn the_limit_applies_to_the_decompressed_size_across_fragments() {
    let data = compressible(3000, 4);
    let wire = compress(&data);
    let (a, b) = wire.split_at(wire.len() / 2);
    for (limit, ok) in [(3000, true), (2999, false)] {
        let mut conn = deflate_server(Config::default().max_message_size(limit));
        conn.receive_data(&frame(false, FrameHeader::RSV1, OpCode::Binary, a));
        conn.receive_data(&frame(true, 0, OpCode::Continuation, b));
        match conn.next_event() {
            Ok(Some(Event::Message(m))) if ok => assert_eq!(m.as_bytes(), &data[..]),
            Err(ProtocolError::MessageTooBig { .. }) if !ok => {}
            other => panic!("limit {limit}: {other:?}"),
        }
    }
}

#[test]
fn corrupt_compressed_data_fails_with_1007() {
    let mut conn = deflate_server(Config::default());
    // A reserved block type (BTYPE = 11) is never valid DEFLATE.
    conn.receive_data(&frame(
        true,
        FrameHeader::RSV1,
        OpCode::Binary,
        b"\xff\xff\xff",
    ));
    let error = conn.next_event().unwrap_err();
    assert_eq!(error, ProtocolError::InvalidCompressedData);
    assert_eq!(error.close_code(), CloseCode::INVALID_PAYLOAD);
}

#[test]
fn compressed_text_is_validated_after_decompression() {
    let mut conn = deflate_server(Config::default());
    let wire = compress(b"valid start \xff then invalid");
    conn.receive_data(&frame(true, FrameHeader::RSV1, OpCode::Text, &wire));
    assert_eq!(conn.next_event(), Err(ProtocolError::InvalidUtf8));
    // A code point split across the compressed stream is fine.
    let text = "é".repeat(1000);
    let mut conn = deflate_server(Config::default());
    conn.receive_data(&frame(
        true,
        FrameHeader::RSV1,
        OpCode::Text,
        &compress(text.as_bytes()),
    ));
    assert_eq!(
        conn.next_event().unwrap(),
        Some(Event::Message(Message::text(text)))
    );
}

#[test]
fn the_rfc_7692_examples_decode() {
    // RFC 7692 §7.2.3.1: "Hello" compressed in one frame, then §7.2.3.2:
    // the same in two fragments.
    let mut conn = Connection::new(Role::Client, Config::default());
    conn.set_deflate(DeflateParams::default());
    conn.receive_data(b"\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00");
    conn.receive_data(b"\x41\x03\xf2\x48\xcd\x80\x04\xc9\xc9\x07\x00");
    assert_eq!(
        events(&mut conn),
        vec![
            Event::Message(Message::text("Hello")),
            Event::Message(Message::text("Hello")),
        ]
    );
}
