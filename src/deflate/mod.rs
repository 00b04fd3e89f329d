//! The `permessage-deflate` extension (RFC 7692): negotiation and codec.
//!
//! Two independent halves, both without I/O:
//!
//! - **Negotiation** ([`client_offer`], [`client_accept`], [`server_accept`]):
//!   pure functions from a [`DeflateConfig`] and the parsed
//!   `Sec-WebSocket-Extensions` entries
//!   ([`ExtensionOffer`](crate::handshake::ExtensionOffer)) to the
//!   [`DeflateParams`] both ends agreed on (RFC 7692 §5, §7.1).
//! - **Codec** ([`Deflater`], [`Inflater`]): compresses a whole message and
//!   decompresses one whose bytes arrive in pieces, under a size limit that
//!   is enforced while inflating (RFC 7692 §7.2).
//!
//! ```
//! use rfc6455::deflate::{self, DeflateConfig, Deflater, Inflater};
//! use rfc6455::handshake::parse_extensions;
//!
//! // The client offers, the server picks, the client checks the answer.
//! let config = DeflateConfig::default();
//! let offer = deflate::client_offer(&config);
//! assert_eq!(offer.to_string(), "permessage-deflate; client_max_window_bits");
//! let offers = parse_extensions(offer.to_string().as_bytes())?;
//! let (server, response) = deflate::server_accept(&offers, &config).unwrap();
//! let client = deflate::client_accept(&response, &config)?;
//!
//! // The client compresses a message, the server inflates it.
//! let mut deflater = Deflater::new(&client);
//! let mut inflater = Inflater::new(&server);
//! let mut wire = Vec::new();
//! deflater.compress(b"Hello", &mut wire);
//! let mut message = Vec::new();
//! inflater.feed(&wire, &mut message, 1 << 20).unwrap();
//! inflater.finish(&mut message, 1 << 20).unwrap();
//! assert_eq!(message, b"Hello");
//! # Ok::<(), rfc6455::HandshakeError>(())
//! ```
//!
//! # Memory held per connection
//!
//! Measured with the `zlib-rs` backend (flate2 1.1, zlib-rs 0.6), which
//! allocates everything when a compressor or decompressor is created. Both
//! are created lazily, on the first message that needs them, then reused
//! for the life of the connection (reset, never re-created).
//!
//! | window bits | compressor | decompressor |
//! |-------------|-----------:|-------------:|
//! | 8 (uses 9)  | 245 KiB    | 46 KiB       |
//! | 9           | 245 KiB    | 46 KiB       |
//! | 10          | 247 KiB    | 46 KiB       |
//! | 11          | 251 KiB    | 46 KiB       |
//! | 12          | 259 KiB    | 46 KiB       |
//! | 13          | 275 KiB    | 46 KiB       |
//! | 14          | 307 KiB    | 46 KiB       |
//! | 15          | 371 KiB    | 46 KiB       |
//!
//! The compressor holds about `245 KiB + 4 × 2^bits`: a fixed 128 KiB hash
//! table and 112 KiB of block buffers (zlib's `memLevel` 8, which flate2
//! does not let us lower), plus the window and its chain table. The
//! decompressor always allocates a 32 KiB window, whatever the window
//! bits, so it is always built for 15 bits, which decodes streams made with
//! any smaller window. The compressor exists only once a message of at
//! least [`DeflateConfig::min_message_size`] bytes is sent; the
//! decompressor only once a compressed message is received.
//!
//! With no context takeover for what we send, messages of up to 16 KiB
//! are compressed without zlib: resetting zlib-rs clears 176 KiB of tables
//! per message (~240,000 instructions, tens of microseconds out of cache),
//! more than compressing a few kilobytes costs. A built-in encoder (greedy
//! matching over hash chains, dynamic or fixed Huffman codes) does them
//! with memory in proportion to the message (up to about 117 KiB for a
//! 16 KiB message) and output about as small as zlib's at level 3. zlib is
//! then created only for longer messages. At level 0, zlib is never used
//! (stored blocks).
//!
//! # Window bits 8
//!
//! zlib cannot build a raw-deflate compressor with an 8-bit window (and
//! flate2 refuses one), yet a peer may ask for `server_max_window_bits=8`
//! or `client_max_window_bits=8`, and declining would lose compression for
//! peers such as the Autobahn testsuite (cases 13.3–13.7). A zlib-style
//! compressor never emits a distance longer than `2^bits − 262` (its
//! `MAX_DIST`: the window minus the longest match and lookahead), so a
//! 9-bit compressor never refers back more than 250 bytes — within the 256
//! bytes an 8-bit peer keeps, including across messages with context
//! takeover. The tests check this on the compressor's output at every
//! level with an independent decoder that records every distance.

mod codec;
mod negotiate;
#[cfg(test)]
mod reference;
mod small;

pub use codec::{Deflater, InflateError, Inflater};
pub use negotiate::{EXTENSION_NAME, client_accept, client_offer, server_accept};

/// What an endpoint asks for and accepts when negotiating
/// `permessage-deflate`, and how it compresses.
///
/// The parameter names are RFC 7692's: `server_*` is about what the server
/// compresses (and the client decompresses), `client_*` about what the
/// client compresses. The same config serves both roles; each field says
/// what it does for each.
///
/// ```
/// use rfc6455::deflate::{DeflateConfig, client_offer};
///
/// let config = DeflateConfig::default()
///     .server_max_window_bits(10)
///     .client_no_context_takeover(true);
/// assert_eq!(
///     client_offer(&config).to_string(),
///     "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// The server starts every message with an empty window (RFC 7692
    /// §7.1.1.1), so the client need not keep the window between messages.
    ///
    /// - Client: when on, the offer includes `server_no_context_takeover`,
    ///   and a response without it fails the handshake.
    /// - Server: when on, the response always includes it, even if the
    ///   offer did not. When off, an offer that includes it is still
    ///   accepted (and honoured).
    ///
    /// Default: off.
    pub server_no_context_takeover: bool,
    /// The client starts every message with an empty window (RFC 7692
    /// §7.1.1.2), so the server need not keep the window between messages.
    ///
    /// - Client: when on, the offer includes `client_no_context_takeover`
    ///   and the client resets its compressor after every message, whatever
    ///   the server answers.
    /// - Server: when on, the response always includes it. When off, it is
    ///   included only if the client offered it.
    ///
    /// Default: off.
    pub client_no_context_takeover: bool,
    /// Base-2 logarithm of the largest window the server compresses with,
    /// 8 to 15 (RFC 7692 §7.1.2.1).
    ///
    /// - Client: below 15, the offer includes `server_max_window_bits=N`,
    ///   and a response with a larger value (or none) fails the handshake.
    /// - Server: the server compresses with at most this window, and with
    ///   less if the offer asks; below 15 the response always states it.
    ///
    /// Default: 15.
    pub server_max_window_bits: u8,
    /// Base-2 logarithm of the largest window the client compresses with,
    /// 8 to 15 (RFC 7692 §7.1.2.2).
    ///
    /// - Client: the offer always includes `client_max_window_bits` (we
    ///   support any value the server picks), with this value if below 15;
    ///   the client then compresses with at most this window.
    /// - Server: below 15, the response asks the client for at most this
    ///   window, and an offer without `client_max_window_bits` is declined
    ///   (the client could not be limited).
    ///
    /// Default: 15.
    pub client_max_window_bits: u8,
    /// DEFLATE compression level, 0 (stored, no compression) to 9 (best).
    ///
    /// Default: 3. Measured on JSON messages of 100 B to 60 KB with
    /// zlib-rs, level 3 compresses within 1–5 % of level 6 at 1.5–2.3 times
    /// its speed. Level 1 is much faster (it only uses fixed Huffman codes)
    /// but its output is 30–60 % larger on messages of a few kilobytes,
    /// which is what a network protocol enables compression for.
    pub compression_level: u32,
    /// Messages shorter than this many bytes are sent uncompressed (RSV1
    /// clear), which RFC 7692 §6 allows per message: compressing a few
    /// bytes costs time and rarely saves any. Default: 32.
    pub min_message_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            compression_level: 3,
            min_message_size: 32,
        }
    }
}

impl DeflateConfig {
    /// Sets [`server_no_context_takeover`](Self::server_no_context_takeover).
    #[must_use]
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`client_no_context_takeover`](Self::client_no_context_takeover).
    #[must_use]
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets [`server_max_window_bits`](Self::server_max_window_bits); a
    /// value outside 8–15 counts as the nearest one.
    #[must_use]
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits;
        self
    }

    /// Sets [`client_max_window_bits`](Self::client_max_window_bits); a
    /// value outside 8–15 counts as the nearest one.
    #[must_use]
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits;
        self
    }

    /// Sets [`compression_level`](Self::compression_level); a level above
    /// 9 counts as 9.
    #[must_use]
    pub fn compression_level(mut self, level: u32) -> Self {
        self.compression_level = level;
        self
    }

    /// The one place where the ranges are applied: window bits to 8–15,
    /// the level to 0–9. Every use of a `DeflateConfig` goes through
    /// [`Config::validated`](crate::Config), so the fields may be set
    /// directly too.
    pub(crate) fn validated(&self) -> Self {
        DeflateConfig {
            server_max_window_bits: clamp_bits(self.server_max_window_bits),
            client_max_window_bits: clamp_bits(self.client_max_window_bits),
            compression_level: clamp_level(self.compression_level),
            ..self.clone()
        }
    }

    /// Sets [`min_message_size`](Self::min_message_size).
    #[must_use]
    pub fn min_message_size(mut self, bytes: usize) -> Self {
        self.min_message_size = bytes;
        self
    }
}

/// The parameters agreed for one connection, from this endpoint's point
/// of view: what it compresses with ("send") and what its peer compresses
/// with ("receive"). [`client_accept`] and [`server_accept`] map RFC 7692's
/// `server_*` / `client_*` parameters onto these by role.
///
/// The default is what applies when no parameter was exchanged: 15-bit
/// windows and context takeover both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateParams {
    /// Largest window this endpoint may compress with, 8 to 15.
    pub send_max_window_bits: u8,
    /// This endpoint starts every message it compresses with an empty
    /// window.
    pub send_no_context_takeover: bool,
    /// Largest window the peer may compress with, 8 to 15.
    pub receive_max_window_bits: u8,
    /// The peer starts every message it compresses with an empty window,
    /// so this endpoint may forget its window between messages.
    pub receive_no_context_takeover: bool,
    /// DEFLATE level this endpoint compresses with, 0 to 9.
    pub compression_level: u32,
    /// Messages shorter than this are sent uncompressed.
    pub min_message_size: usize,
}

impl Default for DeflateParams {
    fn default() -> Self {
        let config = DeflateConfig::default();
        DeflateParams {
            send_max_window_bits: 15,
            send_no_context_takeover: false,
            receive_max_window_bits: 15,
            receive_no_context_takeover: false,
            compression_level: config.compression_level,
            min_message_size: config.min_message_size,
        }
    }
}

impl DeflateParams {
    /// The ranges applied once, where parameters enter a compressor or a
    /// decompressor: window bits to 8–15, the level to 0–9.
    pub(crate) fn validated(self) -> Self {
        DeflateParams {
            send_max_window_bits: clamp_bits(self.send_max_window_bits),
            receive_max_window_bits: clamp_bits(self.receive_max_window_bits),
            compression_level: clamp_level(self.compression_level),
            ..self
        }
    }
}

/// RFC 7692 §7.1.2: window bits are 8 to 15.
pub(crate) fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(8, 15)
}

/// DEFLATE levels are 0 to 9.
fn clamp_level(level: u32) -> u32 {
    level.min(9)
}
