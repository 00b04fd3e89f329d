//! The interface between the connection and the extensions negotiated in
//! the opening handshake (RFC 6455 §9).
//!
//! An extension owns some RSV bits and transforms whole data messages: the
//! connection asks it to encode a message before framing it, and feeds it a
//! received message's payload as it arrives. Negotiation happens in the
//! handshake through [`client_offers`], [`client_agree`] and
//! [`server_agree`]; what was agreed travels to the connection as an
//! [`Agreed`] value. The frame and message code never names a particular
//! extension.

use crate::handshake::{ExtensionOffer, HandshakeError};
use crate::{Config, ProtocolError};

/// One negotiated extension, as the connection drives it.
pub(crate) trait Extension: Send + Sync {
    /// The RSV bits the extension may set on the first frame of a data
    /// message (never on continuation or control frames).
    fn rsv_bits(&self) -> u8;

    /// Whether to encode an outgoing message of `len` bytes; if not, it is
    /// sent as is, with no RSV bit.
    fn should_encode(&self, len: usize) -> bool;

    /// Appends the encoded form of a whole outgoing message to `out`.
    fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>);

    /// Decodes the next piece of a received message whose first frame had
    /// the extension's RSV bits, appending to `out`, which must never grow
    /// past `limit` bytes.
    fn decode(
        &mut self,
        piece: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError>;

    /// Ends the received message (after its last frame's payload).
    fn finish_decode(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError>;

    /// Bytes of memory the extension holds.
    fn memory_usage(&self) -> usize;
}

/// What the opening handshake agreed on.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Agreed {
    /// No extension.
    #[default]
    None,
    /// permessage-deflate (RFC 7692) with these parameters.
    #[cfg(feature = "deflate")]
    Deflate(crate::deflate::DeflateParams),
}

impl Agreed {
    /// The extension that runs what was agreed.
    pub(crate) fn instantiate(self) -> Option<Box<dyn Extension>> {
        match self {
            Agreed::None => None,
            #[cfg(feature = "deflate")]
            Agreed::Deflate(params) => Some(Box::new(deflate::PerMessageDeflate::new(&params))),
        }
    }
}

/// The extensions a client offers with this configuration.
pub(crate) fn client_offers(config: &Config) -> Vec<ExtensionOffer> {
    #[cfg(feature = "deflate")]
    if let Some(deflate) = &config.deflate {
        return vec![crate::deflate::client_offer(deflate)];
    }
    let _ = config;
    Vec::new()
}

/// Checks the extensions a server accepted (each already known to have
/// been offered) and returns what was agreed.
pub(crate) fn client_agree(
    accepted: &[ExtensionOffer],
    config: &Config,
) -> Result<Agreed, HandshakeError> {
    let refuse =
        |response: &ExtensionOffer, reason: &str| HandshakeError::InvalidExtensionResponse {
            name: response.name.clone(),
            reason: reason.to_string(),
        };
    let response = match accepted {
        [] => return Ok(Agreed::None),
        [response] => response,
        // The one extension this crate runs can be accepted once.
        [_, second, ..] => return Err(refuse(second, "more than one extension accepted")),
    };
    #[cfg(feature = "deflate")]
    if response
        .name
        .eq_ignore_ascii_case(crate::deflate::EXTENSION_NAME)
    {
        let Some(deflate) = &config.deflate else {
            return Err(refuse(
                response,
                "permessage-deflate is not enabled in the Config",
            ));
        };
        return Ok(Agreed::Deflate(crate::deflate::client_accept(
            response, deflate,
        )?));
    }
    let _ = config;
    // An extension the application offered by hand: nothing here could
    // run it, and its frames would fail the connection.
    Err(refuse(response, "no implementation of this extension"))
}

/// Picks, from a client's offers, the extensions this server runs, and
/// the `Sec-WebSocket-Extensions` entries that say so.
pub(crate) fn server_agree(
    offers: &[ExtensionOffer],
    config: &Config,
) -> (Agreed, Vec<ExtensionOffer>) {
    #[cfg(feature = "deflate")]
    if let Some((params, response)) = config
        .deflate
        .as_ref()
        .and_then(|deflate| crate::deflate::server_accept(offers, deflate))
    {
        return (Agreed::Deflate(params), vec![response]);
    }
    let _ = (offers, config);
    (Agreed::None, Vec::new())
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::Extension;
    use crate::ProtocolError;
    use crate::deflate::{DeflateParams, Deflater, InflateError, Inflater};
    use crate::frame::FrameHeader;

    /// permessage-deflate as a connection extension: RSV1 marks a
    /// compressed message (RFC 7692 §6).
    pub(crate) struct PerMessageDeflate {
        deflater: Deflater,
        inflater: Inflater,
    }

    impl PerMessageDeflate {
        pub(crate) fn new(params: &DeflateParams) -> Self {
            PerMessageDeflate {
                deflater: Deflater::new(params),
                inflater: Inflater::new(params),
            }
        }
    }

    fn protocol_error(error: InflateError, limit: usize) -> ProtocolError {
        match error {
            InflateError::TooBig => ProtocolError::MessageTooBig {
                size: limit as u64 + 1,
                limit,
            },
            _ => ProtocolError::InvalidCompressedData,
        }
    }

    impl Extension for PerMessageDeflate {
        fn rsv_bits(&self) -> u8 {
            FrameHeader::RSV1
        }

        fn should_encode(&self, len: usize) -> bool {
            self.deflater.should_compress(len)
        }

        fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
            self.deflater.compress(payload, out);
        }

        fn decode(
            &mut self,
            piece: &[u8],
            out: &mut Vec<u8>,
            limit: usize,
        ) -> Result<(), ProtocolError> {
            self.inflater
                .feed(piece, out, limit)
                .map_err(|e| protocol_error(e, limit))
        }

        fn finish_decode(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
            self.inflater
                .finish(out, limit)
                .map_err(|e| protocol_error(e, limit))
        }

        fn memory_usage(&self) -> usize {
            self.deflater.memory_usage() + self.inflater.memory_usage()
        }
    }
}
