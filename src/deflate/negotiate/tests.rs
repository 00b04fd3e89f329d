use super::*;
use crate::handshake::parse_extensions;

fn parse(header: &str) -> Vec<ExtensionOffer> {
    parse_extensions(header.as_bytes()).unwrap()
}

fn one(header: &str) -> ExtensionOffer {
    let mut list = parse(header);
    assert_eq!(list.len(), 1, "{header}");
    list.remove(0)
}

fn server(header: &str, config: &DeflateConfig) -> Option<(DeflateParams, String)> {
    server_accept(&parse(header), config).map(|(p, r)| (p, r.to_string()))
}

fn client(response: &str, config: &DeflateConfig) -> Result<DeflateParams, HandshakeError> {
    client_accept(&one(response), config)
}

fn params(send: (u8, bool), receive: (u8, bool)) -> DeflateParams {
    DeflateParams {
        send_max_window_bits: send.0,
        send_no_context_takeover: send.1,
        receive_max_window_bits: receive.0,
        receive_no_context_takeover: receive.1,
        ..DeflateParams::default()
    }
}

#[test]
fn window_bits_values() {
    for bits in 8..=15u8 {
        assert_eq!(window_bits(&bits.to_string()), Some(bits));
    }
    for bad in [
        "", "7", "16", "0", "08", "015", "abc", "+9", "-9", " 9", "9 ", "1e1", "255", "256",
    ] {
        assert_eq!(window_bits(bad), None, "{bad:?}");
    }
}

#[test]
fn offers_follow_the_config() {
    let offer = |c: DeflateConfig| client_offer(&c).to_string();
    let base = DeflateConfig::default();
    assert_eq!(
        offer(base.clone()),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        offer(
            base.clone()
                .server_no_context_takeover(true)
                .client_no_context_takeover(true)
                .server_max_window_bits(9)
                .client_max_window_bits(8)
        ),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=9; client_max_window_bits=8"
    );
    // Out-of-range values are clamped, by the builder and on use.
    assert_eq!(
        offer(base.clone().server_max_window_bits(3)),
        offer(base.clone().server_max_window_bits(8))
    );
    let mut raw = base;
    raw.client_max_window_bits = 200;
    assert_eq!(offer(raw), "permessage-deflate; client_max_window_bits");
}

#[test]
fn server_accepts_a_plain_offer() {
    let config = DeflateConfig::default();
    assert_eq!(
        server("permessage-deflate", &config),
        Some((
            params((15, false), (15, false)),
            "permessage-deflate".into()
        ))
    );
    assert_eq!(
        server("permessage-deflate; client_max_window_bits", &config),
        Some((
            params((15, false), (15, false)),
            "permessage-deflate".into()
        ))
    );
}

#[test]
fn server_takes_every_parameter() {
    let config = DeflateConfig::default();
    assert_eq!(
        server(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12",
            &config
        ),
        Some((
            params((10, true), (12, true)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
                .into()
        ))
    );
    // Names are case-insensitive; quoted values are allowed (the
    // parser unquotes them).
    assert_eq!(
        server(
            "Permessage-Deflate; SERVER_MAX_WINDOW_BITS=\"9\"; client_max_window_bits=\"15\"",
            &config
        ),
        Some((
            params((9, false), (15, false)),
            "permessage-deflate; server_max_window_bits=9".into()
        ))
    );
}

#[test]
fn server_window_eight_is_accepted() {
    // Autobahn 13.3-13.7 negotiate 8-bit windows both ways.
    let config = DeflateConfig::default();
    assert_eq!(
        server(
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
            &config
        ),
        Some((
            params((8, false), (8, false)),
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8".into()
        ))
    );
}

#[test]
fn server_config_limits_apply() {
    let config = DeflateConfig::default()
        .server_max_window_bits(11)
        .client_max_window_bits(10)
        .server_no_context_takeover(true)
        .client_no_context_takeover(true);
    // Stated in the response even though not offered.
    assert_eq!(
        server("permessage-deflate; client_max_window_bits", &config),
        Some((
            params((11, true), (10, true)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=11; client_max_window_bits=10"
                .into()
        ))
    );
    // The smaller of the offer and the config wins, each way.
    assert_eq!(
        server(
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits=12",
            &config
        )
        .map(|(p, _)| (p.send_max_window_bits, p.receive_max_window_bits)),
        Some((9, 10))
    );
    assert_eq!(
        server(
            "permessage-deflate; server_max_window_bits=15; client_max_window_bits=8",
            &config
        )
        .map(|(p, _)| (p.send_max_window_bits, p.receive_max_window_bits)),
        Some((11, 8))
    );
    // Without client_max_window_bits the client cannot be limited.
    assert_eq!(server("permessage-deflate", &config), None);
    assert!(
        server(
            "permessage-deflate, permessage-deflate; client_max_window_bits",
            &config
        )
        .is_some()
    );
}

#[test]
fn server_echoes_a_client_hint() {
    let config = DeflateConfig::default();
    // A value is a hint the server may confirm; no value leaves 15.
    assert_eq!(
        server("permessage-deflate; client_max_window_bits=10", &config),
        Some((
            params((15, false), (10, false)),
            "permessage-deflate; client_max_window_bits=10".into()
        ))
    );
    assert_eq!(
        server("permessage-deflate; client_no_context_takeover", &config),
        Some((
            params((15, false), (15, true)),
            "permessage-deflate; client_no_context_takeover".into()
        ))
    );
}

#[test]
fn server_declines_malformed_offers() {
    let config = DeflateConfig::default();
    for bad in [
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=\"x\"",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"true\"",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; Server_Max_Window_Bits=10",
        "permessage-deflate; x-unknown",
        "permessage-deflate; x-unknown=1",
        "x-other; client_max_window_bits",
    ] {
        assert_eq!(server(bad, &config), None, "{bad}");
    }
    // An empty value cannot be parsed from a header, but is still
    // refused if built by hand.
    let mut empty = ExtensionOffer::new(EXTENSION_NAME);
    empty
        .params
        .push((SERVER_MAX_WINDOW_BITS.into(), Some(String::new())));
    assert!(server_accept(&[empty], &config).is_none());
}

#[test]
fn server_falls_back_to_a_later_offer() {
    let config = DeflateConfig::default();
    let header = "x-foo, permessage-deflate; server_max_window_bits=16, \
                  permessage-deflate; unknown, \
                  permessage-deflate; server_max_window_bits=10; client_max_window_bits, \
                  permessage-deflate";
    assert_eq!(
        server(header, &config),
        Some((
            params((10, false), (15, false)),
            "permessage-deflate; server_max_window_bits=10".into()
        ))
    );
    assert_eq!(server("x-foo, x-bar", &config), None);
    assert_eq!(server("", &config), None);
}

#[test]
fn server_response_is_accepted_by_our_client() {
    // Every combination of client and server config: the client
    // accepts what the server answers, and both sides agree.
    for mask in 0..16u32 {
        for (c_bits, s_bits) in [(15, 15), (8, 8), (12, 9), (9, 14)] {
            let flag = |bit: u32| mask & (1 << bit) != 0;
            let client_config = DeflateConfig::default()
                .server_no_context_takeover(flag(0))
                .client_no_context_takeover(flag(1))
                .server_max_window_bits(s_bits)
                .client_max_window_bits(c_bits);
            let server_config = DeflateConfig::default()
                .server_no_context_takeover(flag(2))
                .client_no_context_takeover(flag(3))
                .server_max_window_bits(s_bits.max(c_bits))
                .client_max_window_bits(s_bits.min(c_bits));
            let offer = parse(&client_offer(&client_config).to_string());
            let (at_server, response) = server_accept(&offer, &server_config).unwrap();
            let response = one(&response.to_string());
            let at_client = client_accept(&response, &client_config).unwrap();
            assert_eq!(
                at_client.send_max_window_bits,
                at_server.receive_max_window_bits
            );
            assert_eq!(
                at_client.receive_max_window_bits,
                at_server.send_max_window_bits
            );
            assert!(at_client.send_max_window_bits <= c_bits);
            assert!(at_server.send_max_window_bits <= s_bits);
            assert_eq!(
                at_client.receive_no_context_takeover,
                at_server.send_no_context_takeover
            );
            // The client may promise more than the server asked.
            assert!(at_client.send_no_context_takeover >= at_server.receive_no_context_takeover);
            assert_eq!(at_client.receive_no_context_takeover, flag(0) || flag(2));
        }
    }
}

#[test]
fn client_accepts_valid_responses() {
    let config = DeflateConfig::default();
    assert_eq!(
        client("permessage-deflate", &config).unwrap(),
        params((15, false), (15, false))
    );
    assert_eq!(
        client(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=8; client_max_window_bits=9",
            &config
        )
        .unwrap(),
        params((9, true), (8, true))
    );
    // Quoted values, any case.
    assert_eq!(
        client("PERMESSAGE-DEFLATE; Client_Max_Window_Bits=\"11\"", &config).unwrap(),
        params((11, false), (15, false))
    );
}

#[test]
fn client_keeps_its_promises() {
    let config = DeflateConfig::default()
        .client_max_window_bits(10)
        .client_no_context_takeover(true);
    // A larger window in the response does not lift our own limit, and
    // the promised reset holds without the server asking.
    assert_eq!(
        client("permessage-deflate; client_max_window_bits=13", &config).unwrap(),
        params((10, true), (15, false))
    );
    assert_eq!(
        client("permessage-deflate", &config).unwrap(),
        params((10, true), (15, false))
    );
    assert_eq!(
        client("permessage-deflate; client_max_window_bits=9", &config).unwrap(),
        params((9, true), (15, false))
    );
}

#[test]
fn client_checks_what_it_asked_for() {
    let config = DeflateConfig::default()
        .server_max_window_bits(10)
        .server_no_context_takeover(true);
    let ok = client(
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
        &config,
    );
    assert_eq!(ok.unwrap(), params((15, false), (9, true)));
    for bad in [
        // Larger than offered.
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
        // Not accepted.
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10",
    ] {
        assert!(client(bad, &config).is_err(), "{bad}");
    }
    // Unasked server parameters are fine (RFC 7692 §7.1.1.1, §7.1.2.1).
    assert_eq!(
        client(
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
            &DeflateConfig::default()
        )
        .unwrap(),
        params((15, false), (12, true))
    );
}

#[test]
fn client_rejects_malformed_responses() {
    let config = DeflateConfig::default();
    for bad in [
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; server_max_window_bits=09",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits=9; client_max_window_bits=9",
        "permessage-deflate; mystery",
        "x-other",
    ] {
        let error = client(bad, &config).unwrap_err();
        assert!(
            matches!(error, HandshakeError::InvalidExtensionResponse { .. }),
            "{bad}: {error:?}"
        );
        assert_eq!(error.status(), None);
    }
    let mut empty = ExtensionOffer::new(EXTENSION_NAME);
    empty
        .params
        .push((CLIENT_MAX_WINDOW_BITS.into(), Some(String::new())));
    assert!(client_accept(&empty, &config).is_err());
}

#[test]
fn client_rejects_unoffered_client_max_window_bits() {
    // Our own offers always include client_max_window_bits; an offer
    // written without it must not see it in the response.
    let offered = parse_params(&one("permessage-deflate")).unwrap();
    let config = DeflateConfig::default();
    let error = accept_response(
        &offered,
        &one("permessage-deflate; client_max_window_bits=10"),
        &config,
    );
    assert!(error.unwrap_err().contains("not offered"));
    assert!(accept_response(&offered, &one("permessage-deflate"), &config).is_ok());
}

#[test]
fn errors_name_the_problem() {
    let config = DeflateConfig::default();
    let error = client("permessage-deflate; foo=1", &config).unwrap_err();
    assert_eq!(
        error.to_string(),
        "server's response for extension \"permessage-deflate\" is invalid: \
         unknown parameter \"foo\" (RFC 7692 §7)"
    );
    let error = client("permessage-deflate; server_max_window_bits=16", &config).unwrap_err();
    assert!(
        error.to_string().contains("invalid value \"16\""),
        "{error}"
    );
}
