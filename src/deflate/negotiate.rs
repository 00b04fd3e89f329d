//! Negotiating `permessage-deflate` (RFC 7692 §5, §7.1): the client's
//! offer, the server's choice among the offers, the client's check of the
//! server's response.

use super::{DeflateConfig, DeflateParams};
use crate::handshake::{ExtensionOffer, HandshakeError};

/// The extension's registered name (RFC 7692 §7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// The parameters of one offer or response, checked for the rules common
/// to both.
#[derive(Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// Present, with or without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// Reads the four parameters of RFC 7692 §7.1. Parameter names compare
/// ASCII case-insensitively, as everywhere in the header.
///
/// RFC 7692 §7: an offer (or a response) is bad if it "contains an
/// extension parameter not defined for use in an offer", one "with an
/// invalid value", or "multiple extension parameters with the same name".
fn parse_params(entry: &ExtensionOffer) -> Result<Params, String> {
    let mut params = Params::default();
    let mut seen: Vec<String> = Vec::with_capacity(entry.params.len());
    for (name, value) in &entry.params {
        let key = name.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(format!("parameter {name} appears twice (RFC 7692 §7)"));
        }
        let value = value.as_deref();
        let invalid = || match value {
            Some(value) => format!("invalid value {value:?} for {name} (RFC 7692 §7.1)"),
            None => format!("{name} needs a value (RFC 7692 §7.1)"),
        };
        // RFC 7692 §7.1.1.1, §7.1.1.2: the no_context_takeover parameters
        // have no value.
        let no_value = || value.is_none().then_some(true).ok_or_else(invalid);
        match key.as_str() {
            SERVER_NO_CONTEXT_TAKEOVER => params.server_no_context_takeover = no_value()?,
            CLIENT_NO_CONTEXT_TAKEOVER => params.client_no_context_takeover = no_value()?,
            // RFC 7692 §7.1.2.1: server_max_window_bits has a value.
            SERVER_MAX_WINDOW_BITS => {
                params.server_max_window_bits =
                    Some(value.and_then(window_bits).ok_or_else(invalid)?);
            }
            // RFC 7692 §7.1.2.2: client_max_window_bits may have no value
            // in an offer (the caller checks a response).
            CLIENT_MAX_WINDOW_BITS => {
                params.client_max_window_bits = Some(match value {
                    None => None,
                    Some(value) => Some(window_bits(value).ok_or_else(invalid)?),
                });
            }
            _ => return Err(format!("unknown parameter {name:?} (RFC 7692 §7)")),
        }
        seen.push(key);
    }
    Ok(params)
}

/// RFC 7692 §7.1.2: "a decimal integer value without leading zeroes
/// between 8 to 15, inclusive". A quoted value arrives here unquoted, as
/// RFC 6455 §9.1 allows either form.
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || !(1..=2).contains(&value.len()) {
        return None;
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// What a client built from a config offers (and therefore accepts).
fn offered_params(config: &DeflateConfig) -> Params {
    let server_bits = config.server_max_window_bits;
    let client_bits = config.client_max_window_bits;
    Params {
        server_no_context_takeover: config.server_no_context_takeover,
        client_no_context_takeover: config.client_no_context_takeover,
        server_max_window_bits: (server_bits < 15).then_some(server_bits),
        // Always offered: whatever value the server picks, we can
        // compress with it.
        client_max_window_bits: Some((client_bits < 15).then_some(client_bits)),
    }
}

/// Writes parameters as a `Sec-WebSocket-Extensions` entry.
fn entry(params: &Params) -> ExtensionOffer {
    let mut entry = ExtensionOffer::new(EXTENSION_NAME);
    let flag = |name: &str| (name.to_owned(), None);
    let bits = |name: &str, bits: u8| (name.to_owned(), Some(bits.to_string()));
    if params.server_no_context_takeover {
        entry.params.push(flag(SERVER_NO_CONTEXT_TAKEOVER));
    }
    if params.client_no_context_takeover {
        entry.params.push(flag(CLIENT_NO_CONTEXT_TAKEOVER));
    }
    if let Some(value) = params.server_max_window_bits {
        entry.params.push(bits(SERVER_MAX_WINDOW_BITS, value));
    }
    match params.client_max_window_bits {
        Some(Some(value)) => entry.params.push(bits(CLIENT_MAX_WINDOW_BITS, value)),
        Some(None) => entry.params.push(flag(CLIENT_MAX_WINDOW_BITS)),
        None => {}
    }
    entry
}

/// The `permessage-deflate` entry a client puts in its
/// `Sec-WebSocket-Extensions` request header.
///
/// It always includes `client_max_window_bits` (with the configured value
/// when below 15), telling the server that it may limit the client's
/// window (RFC 7692 §7.1.2.2); the other parameters follow the config.
///
/// ```
/// use rfc6455::deflate::{DeflateConfig, client_offer};
///
/// let config = DeflateConfig::default().client_max_window_bits(12);
/// assert_eq!(
///     client_offer(&config).to_string(),
///     "permessage-deflate; client_max_window_bits=12"
/// );
/// ```
pub fn client_offer(config: &DeflateConfig) -> ExtensionOffer {
    entry(&offered_params(&config.validated()))
}

/// Checks the server's `permessage-deflate` response to
/// [`client_offer(config)`](client_offer) and returns what the client
/// agreed to.
///
/// # Errors
///
/// [`HandshakeError::InvalidExtensionResponse`] when the response is not
/// for `permessage-deflate`, has an unknown, repeated or invalid parameter,
/// or does not match the offer. RFC 7692 §7: the client then "MUST _Fail
/// the WebSocket Connection_".
///
/// ```
/// use rfc6455::deflate::{DeflateConfig, client_accept};
/// use rfc6455::handshake::parse_extensions;
///
/// let config = DeflateConfig::default();
/// let response = &parse_extensions(b"permessage-deflate; client_max_window_bits=10")?[0];
/// let params = client_accept(response, &config)?;
/// assert_eq!(params.send_max_window_bits, 10);
///
/// let bad = &parse_extensions(b"permessage-deflate; server_max_window_bits=16")?[0];
/// assert!(client_accept(bad, &config).is_err());
/// # Ok::<(), rfc6455::HandshakeError>(())
/// ```
pub fn client_accept(
    response: &ExtensionOffer,
    config: &DeflateConfig,
) -> Result<DeflateParams, HandshakeError> {
    let config = &config.validated();
    accept_response(&offered_params(config), response, config).map_err(|reason| {
        HandshakeError::InvalidExtensionResponse {
            name: response.name.clone(),
            reason,
        }
    })
}

/// [`client_accept`] against the parameters actually offered.
fn accept_response(
    offered: &Params,
    response: &ExtensionOffer,
    config: &DeflateConfig,
) -> Result<DeflateParams, String> {
    if !response.name.eq_ignore_ascii_case(EXTENSION_NAME) {
        return Err(format!("not a {EXTENSION_NAME} response"));
    }
    let answer = parse_params(response)?;
    // RFC 7692 §7.1.2.2: in a response, client_max_window_bits "has a
    // decimal integer value".
    if answer.client_max_window_bits == Some(None) {
        return Err(format!(
            "{CLIENT_MAX_WINDOW_BITS} without a value (RFC 7692 §7.1.2.2)"
        ));
    }
    // RFC 7692 §7.1.2.2: "If a received extension negotiation offer
    // doesn't have the client_max_window_bits extension parameter, the
    // corresponding extension negotiation response to the offer MUST NOT
    // include the client_max_window_bits extension parameter."
    if answer.client_max_window_bits.is_some() && offered.client_max_window_bits.is_none() {
        return Err(format!(
            "{CLIENT_MAX_WINDOW_BITS} was not offered (RFC 7692 §7.1.2.2)"
        ));
    }
    // RFC 7692 §7.1.1.1: a server accepts an offer with
    // server_no_context_takeover by including it in the response.
    if offered.server_no_context_takeover && !answer.server_no_context_takeover {
        return Err(format!(
            "{SERVER_NO_CONTEXT_TAKEOVER} was offered but not accepted (RFC 7692 §7.1.1.1)"
        ));
    }
    // RFC 7692 §7.1.2.1: a server accepts an offer with
    // server_max_window_bits by including it in the response "with the
    // same or smaller value as the offer".
    if let Some(limit) = offered.server_max_window_bits {
        match answer.server_max_window_bits {
            None => {
                return Err(format!(
                    "{SERVER_MAX_WINDOW_BITS} was offered but not accepted (RFC 7692 §7.1.2.1)"
                ));
            }
            Some(bits) if bits > limit => {
                return Err(format!(
                    "{SERVER_MAX_WINDOW_BITS}={bits} is above the {limit} offered (RFC 7692 §7.1.2.1)"
                ));
            }
            Some(_) => {}
        }
    }
    // RFC 7692 §7.1.2.2: a value in our offer is a promise not to use a
    // larger window, even if the response names a larger one.
    let send_bits = answer
        .client_max_window_bits
        .flatten()
        .unwrap_or(15)
        .min(offered.client_max_window_bits.flatten().unwrap_or(15));
    Ok(DeflateParams {
        send_max_window_bits: send_bits,
        // RFC 7692 §7.1.1.2: offering client_no_context_takeover is a
        // promise not to use context takeover, whatever the response.
        send_no_context_takeover: answer.client_no_context_takeover
            || offered.client_no_context_takeover,
        receive_max_window_bits: answer.server_max_window_bits.unwrap_or(15),
        receive_no_context_takeover: answer.server_no_context_takeover,
        compression_level: config.compression_level,
        min_message_size: config.min_message_size,
    })
}

/// Picks the first acceptable `permessage-deflate` offer from a client's
/// `Sec-WebSocket-Extensions` entries (other extensions are skipped) and
/// returns what the server agreed to with the entry to put in the response.
///
/// `None` when no offer is acceptable: the server then runs without the
/// extension. RFC 7692 §7: "A server MUST decline an extension negotiation
/// offer for this extension if" it has an unknown parameter, an invalid
/// value, a repeated parameter, or a configuration the server does not
/// support; the next offer, if any, is then tried (a client may list a
/// preferred offer and fallbacks, RFC 7692 §5, §7.1.3).
///
/// ```
/// use rfc6455::deflate::{DeflateConfig, server_accept};
/// use rfc6455::handshake::parse_extensions;
///
/// let offers = parse_extensions(
///     b"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits",
/// )?;
/// let (params, response) = server_accept(&offers, &DeflateConfig::default()).unwrap();
/// assert_eq!(response.to_string(), "permessage-deflate"); // the first offer was declined
/// assert_eq!(params.send_max_window_bits, 15);
/// # Ok::<(), rfc6455::HandshakeError>(())
/// ```
pub fn server_accept(
    offers: &[ExtensionOffer],
    config: &DeflateConfig,
) -> Option<(DeflateParams, ExtensionOffer)> {
    let config = &config.validated();
    offers
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case(EXTENSION_NAME))
        .filter_map(|offer| parse_params(offer).ok())
        .find_map(|offer| accept_offer(&offer, config))
}

/// The server's answer to one well-formed offer, or `None` to decline it.
fn accept_offer(offer: &Params, config: &DeflateConfig) -> Option<(DeflateParams, ExtensionOffer)> {
    let server_limit = config.server_max_window_bits;
    let client_limit = config.client_max_window_bits;

    // RFC 7692 §7.1.2.1: the response carries "the same or smaller value
    // as the offer"; a server MAY include it even if it was not offered.
    let server_bits = offer
        .server_max_window_bits
        .map_or(server_limit, |b| b.min(server_limit));
    let respond_server_bits =
        (offer.server_max_window_bits.is_some() || server_bits < 15).then_some(server_bits);

    let (client_bits, respond_client_bits) = match offer.client_max_window_bits {
        // RFC 7692 §7.1.2.2: without client_max_window_bits in the offer,
        // the response MUST NOT include it, so the client cannot be
        // limited: decline if we need it to be.
        None if client_limit < 15 => return None,
        None => (15, None),
        // RFC 7692 §7.1.2.2: the server may limit the client's window
        // ("a value equal to or smaller than the received value").
        Some(hint) => {
            let bits = hint.unwrap_or(15).min(client_limit);
            (bits, (bits < 15).then_some(bits))
        }
    };

    // RFC 7692 §7.1.1.1: accept server_no_context_takeover by echoing it;
    // the server MAY include it unasked.
    let server_no_context_takeover =
        offer.server_no_context_takeover || config.server_no_context_takeover;
    // RFC 7692 §7.1.1.2: a server MAY include client_no_context_takeover;
    // echoing the client's hint makes it part of the agreement.
    let client_no_context_takeover =
        offer.client_no_context_takeover || config.client_no_context_takeover;

    let response = entry(&Params {
        server_no_context_takeover,
        client_no_context_takeover,
        server_max_window_bits: respond_server_bits,
        client_max_window_bits: respond_client_bits.map(Some),
    });
    let params = DeflateParams {
        send_max_window_bits: server_bits,
        send_no_context_takeover: server_no_context_takeover,
        receive_max_window_bits: client_bits,
        receive_no_context_takeover: client_no_context_takeover,
        compression_level: config.compression_level,
        min_message_size: config.min_message_size,
    };
    Some((params, response))
}

#[cfg(test)]
mod tests;
