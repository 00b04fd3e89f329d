//! Prepared messages: framed (and compressed) once, sent to many
//! connections.

use rfc6455::{Config, Connection, Event, Message, MessageKind, PreparedMessage, Role};

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event().unwrap()).collect()
}

fn pump(from: &mut Connection, to: &mut Connection) -> Vec<u8> {
    let wire = from.pending_output().to_vec();
    from.consume_output(wire.len());
    to.receive_data(&wire);
    wire
}

#[test]
fn a_server_sends_the_same_bytes_to_every_connection() {
    let prepared = PreparedMessage::new(Message::binary(vec![7u8; 300]));
    let mut expected = vec![0x82, 126, 0x01, 0x2c];
    expected.extend([7u8; 300]);
    for _ in 0..3 {
        let mut server = Connection::new(Role::Server, Config::default());
        let mut client = Connection::new(Role::Client, Config::default());
        server.send_prepared(&prepared).unwrap();
        assert_eq!(pump(&mut server, &mut client), expected);
        assert_eq!(
            events(&mut client),
            vec![Event::Message(Message::binary(vec![7u8; 300]))]
        );
    }
}

#[test]
fn a_client_masks_a_prepared_message_afresh() {
    let prepared = PreparedMessage::new("hello");
    let mut keys = [[1, 2, 3, 4], [5, 6, 7, 8]].into_iter();
    let mut client = Connection::new(Role::Client, Config::default());
    client.set_mask_key_source(move || keys.next().unwrap_or([9; 4]));
    let mut server = Connection::new(Role::Server, Config::default());
    client.send_prepared(&prepared).unwrap();
    client.send_prepared(&prepared).unwrap();
    let wire = pump(&mut client, &mut server);
    assert_eq!(&wire[2..6], &[1, 2, 3, 4]);
    assert_eq!(&wire[13..17], &[5, 6, 7, 8]);
    assert_eq!(events(&mut server).len(), 2);
    assert_eq!(prepared.kind(), MessageKind::Text);
}

#[test]
fn prepared_messages_follow_the_rules_of_sending() {
    let prepared = PreparedMessage::new("x");
    let mut conn = Connection::new(Role::Server, Config::default());
    conn.send_fragment(MessageKind::Text, b"a", false).unwrap();
    assert!(conn.send_prepared(&prepared).is_err());
    conn.send_fragment(MessageKind::Text, b"b", true).unwrap();
    conn.send_close(rfc6455::CloseCode::NORMAL, "").unwrap();
    assert!(conn.send_prepared(&prepared).is_err());
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use rfc6455::deflate::DeflateParams;
    use rfc6455::frame::FrameHeader;

    fn pair(params: DeflateParams) -> (Connection, Connection) {
        let mut server = Connection::new(Role::Server, Config::default());
        server.set_deflate(params);
        // The client's view of the same agreement.
        let mut mirror = DeflateParams::default();
        mirror.receive_no_context_takeover = params.send_no_context_takeover;
        mirror.receive_max_window_bits = params.send_max_window_bits;
        let mut client = Connection::new(Role::Client, Config::default());
        client.set_deflate(mirror);
        (server, client)
    }

    fn no_takeover(window_bits: u8) -> DeflateParams {
        let mut params = DeflateParams::default();
        params.send_no_context_takeover = true;
        params.send_max_window_bits = window_bits;
        params
    }

    #[test]
    fn compressed_once_and_reused_where_the_agreement_allows() {
        let text = "a live dashboard update, ".repeat(40);
        let prepared = PreparedMessage::deflated(Message::text(text.clone()), 6, 12);
        let mut wires = Vec::new();
        for bits in [12, 15] {
            let (mut server, mut client) = pair(no_takeover(bits));
            for _ in 0..2 {
                server.send_prepared(&prepared).unwrap();
                let wire = pump(&mut server, &mut client);
                let (header, _) = FrameHeader::decode(&wire).unwrap().unwrap();
                assert_eq!(header.rsv, FrameHeader::RSV1);
                assert!(wire.len() < text.len() / 4);
                wires.push(wire);
                assert_eq!(
                    events(&mut client),
                    vec![Event::Message(Message::text(text.clone()))]
                );
            }
        }
        // The same bytes for every connection and every time.
        assert!(wires.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn connections_that_cannot_share_compress_for_themselves() {
        let text = "an order book delta; ".repeat(40);
        let prepared = PreparedMessage::deflated(Message::text(text.clone()), 6, 15);
        let shared = prepared.clone();
        // Context takeover, or a smaller window than the prepared one.
        for params in [DeflateParams::default(), no_takeover(10)] {
            let (mut server, mut client) = pair(params);
            server.send_prepared(&shared).unwrap();
            server.send_prepared(&shared).unwrap();
            pump(&mut server, &mut client);
            assert_eq!(
                events(&mut client),
                vec![Event::Message(Message::text(text.clone())); 2]
            );
        }
    }
}
