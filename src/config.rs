//! Limits and behaviour switches shared by the handshake and the connection.

use std::time::Duration;

/// Which end of the connection this endpoint is.
///
/// The role decides the masking rules (RFC 6455 §5.1: a client masks every
/// frame it sends, a server never does) and who closes the TCP connection
/// first after the closing handshake (the server, §7.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the opening handshake request.
    Client,
    /// The end that answered the opening handshake.
    Server,
}

/// Limits and behaviour of a connection and of its opening handshake.
///
/// Build one with [`Config::default`] and the builder-style methods:
///
/// ```
/// use std::time::Duration;
/// use rfc6455::Config;
///
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .keepalive(Some(Duration::from_secs(30)), Duration::from_secs(10));
/// assert_eq!(config.max_message_size, 1 << 20);
/// ```
///
/// Every limit that bounds memory is enforced before the memory is
/// allocated: a frame header announcing more than `max_frame_size` bytes is
/// refused from the header alone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload accepted in a single received frame. A larger frame
    /// fails the connection with close code 1009 as soon as its header is
    /// read. Default: 16 MiB.
    pub max_frame_size: usize,
    /// Largest message accepted, summed over all of its fragments. Checked
    /// against each frame header before its payload is buffered (close code
    /// 1009). Default: 64 MiB.
    pub max_message_size: usize,
    /// Largest opening-handshake head (request or response line plus
    /// headers), in bytes. A server answers a longer head with 431. Default:
    /// 16 KiB.
    pub max_handshake_size: usize,
    /// Largest number of header fields in the opening handshake head.
    /// Default: 100.
    pub max_handshake_headers: usize,
    /// Largest response body kept when a server refuses the client's
    /// handshake (the rest is dropped). Default: 4 KiB.
    pub max_rejection_body: usize,
    /// Messages longer than this are sent as several frames of at most this
    /// many payload bytes (zero counts as one). `None` sends every message
    /// as one frame.
    /// Default: `None`.
    pub send_frame_size: Option<usize>,
    /// Answer every received ping with a pong carrying the same payload.
    /// When off, pings are still reported as events and the application
    /// answers them with [`Connection::send_pong`](crate::Connection::send_pong).
    /// Default: on.
    pub auto_pong: bool,
    /// After this long without receiving anything, send a ping. `None`
    /// disables keepalive pings. Default: 20 s, so that a peer that
    /// vanished without closing (a browser tab put to sleep, a cable
    /// pulled) is found within 40 s instead of never. On the tokio
    /// adapter the armed timer costs an idle connection about 70 bytes
    /// (measured over 5,000 idle connections; see the README). The timers
    /// run only for a caller that passes the time in
    /// ([`Connection::handle_timeout`](crate::Connection::handle_timeout)),
    /// as both adapters do.
    pub keepalive_interval: Option<Duration>,
    /// After a keepalive ping, how long to wait for the peer to send
    /// anything before failing the connection with close code 1011.
    /// Default: 20 s.
    pub keepalive_timeout: Duration,
    /// After sending a close frame, how long to wait for the peer's close
    /// frame (and, for a client, the server's end of the TCP stream) before
    /// giving up on the closing handshake. Default: 10 s.
    pub close_timeout: Duration,
    /// How long an adapter gives the peer to complete the opening handshake,
    /// so that a client trickling its request byte by byte, or sending
    /// nothing, cannot hold a connection open. The core has no clock: this
    /// is applied by the blocking and tokio adapters. Default: 10 s.
    pub handshake_timeout: Duration,
    /// How long a client's `connect` waits for each resolved address to
    /// accept the TCP connection before it tries the next one. The opening
    /// handshake's own time ([`handshake_timeout`](Config::handshake_timeout))
    /// starts once a connection is made. Applied by the adapters. Default:
    /// 10 s.
    pub connect_timeout: Duration,
    /// How many redirects (301, 302, 303, 307, 308 with a `Location`) a
    /// client's `connect` follows, each on a new connection. `0`, the
    /// default, follows none: the redirect is returned as an error
    /// ([`HandshakeError::redirect`](crate::handshake::HandshakeError::redirect)
    /// gives its `Location`). A redirect from `wss://` to `ws://` is never
    /// followed. Applied by the adapters.
    pub max_redirects: usize,
    /// Streaming receive: `Some(limit)` delivers data messages piece by
    /// piece as they arrive ([`Event::Piece`](crate::Event::Piece)) instead
    /// of whole, and allows a message of up to `limit` bytes (decoded)
    /// whatever [`max_message_size`](Config::max_message_size) and
    /// [`max_frame_size`](Config::max_frame_size) say: no data frame is
    /// held whole, so memory stays bounded by the size of the reads (and,
    /// with permessage-deflate, by `max_message_size` for what one read
    /// inflates to). Default: `None`, whole messages.
    pub streaming: Option<u64>,
    /// permessage-deflate (RFC 7692): offered by a client, accepted by a
    /// server when the client offers it. `None` (the default) leaves
    /// messages uncompressed: compression costs CPU and about 45–420 KiB
    /// per connection while in use (see [`deflate`](crate::deflate)), a
    /// trade to choose knowingly.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
    /// Output buffer size above which [`Connection::is_write_buffer_full`]
    /// reports that the writer should drain before more data is queued.
    /// Adapters use it for back-pressure. Default: 1 MiB.
    ///
    /// [`Connection::is_write_buffer_full`]: crate::Connection::is_write_buffer_full
    pub write_buffer_high_water: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_handshake_size: 16 << 10,
            max_handshake_headers: 100,
            max_rejection_body: 4 << 10,
            send_frame_size: None,
            auto_pong: true,
            keepalive_interval: Some(Duration::from_secs(20)),
            keepalive_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            streaming: None,
            max_redirects: 0,
            #[cfg(feature = "deflate")]
            deflate: None,
            write_buffer_high_water: 1 << 20,
        }
    }
}

impl Config {
    /// Sets [`max_frame_size`](Config::max_frame_size).
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`max_message_size`](Config::max_message_size).
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`max_handshake_size`](Config::max_handshake_size).
    #[must_use]
    pub fn max_handshake_size(mut self, bytes: usize) -> Self {
        self.max_handshake_size = bytes;
        self
    }

    /// Sets [`max_handshake_headers`](Config::max_handshake_headers).
    #[must_use]
    pub fn max_handshake_headers(mut self, count: usize) -> Self {
        self.max_handshake_headers = count;
        self
    }

    /// Sets [`max_rejection_body`](Config::max_rejection_body).
    #[must_use]
    pub fn max_rejection_body(mut self, bytes: usize) -> Self {
        self.max_rejection_body = bytes;
        self
    }

    /// Sets [`send_frame_size`](Config::send_frame_size). A size of zero is
    /// treated as one byte.
    #[must_use]
    pub fn send_frame_size(mut self, bytes: Option<usize>) -> Self {
        self.send_frame_size = bytes;
        self
    }

    /// The configuration as a connection holds it: validated, and shared
    /// with the other connections that use the same one, so that an idle
    /// connection does not carry a copy of its 192 bytes. The default
    /// configuration is one allocation for the whole process; another is
    /// shared with the last connection made on the same thread with an
    /// equal configuration (a server that gives every connection the same
    /// `Config` makes one per worker thread).
    pub(crate) fn shared(self) -> std::sync::Arc<Config> {
        use std::sync::{Arc, OnceLock};
        static DEFAULT: OnceLock<Arc<Config>> = OnceLock::new();
        thread_local! {
            static LAST: std::cell::RefCell<Option<Arc<Config>>> =
                const { std::cell::RefCell::new(None) };
        }
        let config = self.validated();
        let default = DEFAULT.get_or_init(|| Arc::new(Config::default().validated()));
        if config == **default {
            return Arc::clone(default);
        }
        LAST.with_borrow_mut(|last| match last {
            Some(shared) if **shared == config => Arc::clone(shared),
            _ => Arc::clone(last.insert(Arc::new(config))),
        })
    }

    /// The configuration as it is used: the one place where values out of
    /// range are brought into it (a frame size of zero counts as one, the
    /// deflate window bits and level are clamped; see
    /// [`DeflateConfig`](crate::deflate::DeflateConfig)). The fields are
    /// public, so nothing before this point may assume a value is in
    /// range; connections and handshakes apply it when they are made.
    pub(crate) fn validated(mut self) -> Self {
        self.send_frame_size = self.send_frame_size.map(|n| n.max(1));
        #[cfg(feature = "deflate")]
        {
            self.deflate = self
                .deflate
                .as_ref()
                .map(crate::deflate::DeflateConfig::validated);
        }
        self
    }

    /// Sets [`auto_pong`](Config::auto_pong).
    #[must_use]
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Sets [`keepalive_interval`](Config::keepalive_interval) and
    /// [`keepalive_timeout`](Config::keepalive_timeout).
    #[must_use]
    pub fn keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.keepalive_interval = interval;
        self.keepalive_timeout = timeout;
        self
    }

    /// Sets [`close_timeout`](Config::close_timeout).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`handshake_timeout`](Config::handshake_timeout).
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`connect_timeout`](Config::connect_timeout).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`streaming`](Config::streaming): `Some(limit)` to receive
    /// messages of up to `limit` bytes piece by piece.
    #[must_use]
    pub fn streaming(mut self, limit: Option<u64>) -> Self {
        self.streaming = limit;
        self
    }

    /// Sets [`max_redirects`](Config::max_redirects).
    #[must_use]
    pub fn max_redirects(mut self, redirects: usize) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// Enables permessage-deflate with these parameters, or disables it
    /// with `None`; see [`deflate`](Config::deflate).
    ///
    /// ```
    /// use rfc6455::Config;
    /// use rfc6455::deflate::DeflateConfig;
    ///
    /// let config = Config::default().deflate(DeflateConfig::default().client_no_context_takeover(true));
    /// assert!(config.deflate.is_some());
    /// ```
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(mut self, deflate: impl Into<Option<crate::deflate::DeflateConfig>>) -> Self {
        self.deflate = deflate.into();
        self
    }

    /// Sets [`write_buffer_high_water`](Config::write_buffer_high_water).
    #[must_use]
    pub fn write_buffer_high_water(mut self, bytes: usize) -> Self {
        self.write_buffer_high_water = bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Connection, Role};

    /// Connections with equal configurations share one copy (the default
    /// one process-wide, another per thread); a different one gets its
    /// own, validated like any other.
    #[test]
    fn equal_configurations_are_shared() {
        let conn = |config: Config| Connection::new(Role::Server, config);
        let (a, b) = (conn(Config::default()), conn(Config::default()));
        assert!(std::ptr::eq(a.config(), b.config()));
        let small = || Config::default().max_message_size(1 << 10);
        let (c, d) = (conn(small()), conn(small()));
        assert!(std::ptr::eq(c.config(), d.config()));
        assert!(!std::ptr::eq(a.config(), c.config()));
        assert_eq!(c.config().max_message_size, 1 << 10);
        let e = conn(small().send_frame_size(Some(0)));
        assert!(!std::ptr::eq(c.config(), e.config()));
        assert_eq!(e.config().send_frame_size, Some(1));
        // Another thread's connections do not wait on this one's copy.
        let f = std::thread::spawn(move || conn(small()).config().max_message_size);
        assert_eq!(f.join().unwrap(), 1 << 10);
    }

    /// Fields set directly, past the setters, are brought into range
    /// where the configuration is used.
    #[test]
    fn out_of_range_fields_are_validated_once_where_used() {
        let config = Config {
            send_frame_size: Some(0),
            ..Config::default()
        };
        let mut conn = Connection::new(Role::Server, config);
        assert_eq!(conn.config().send_frame_size, Some(1));
        conn.send_binary(b"ab").unwrap();
        // Two frames of one byte: 0x02 0x01 'a', 0x80 0x01 'b'.
        assert_eq!(conn.pending_output(), &[0x02, 1, b'a', 0x80, 1, b'b']);
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn deflate_fields_are_clamped_once_where_used() {
        use crate::deflate::{DeflateConfig, client_offer};

        let deflate = DeflateConfig {
            server_max_window_bits: 3,
            client_max_window_bits: 200,
            compression_level: 42,
            ..DeflateConfig::default()
        };
        let offer = client_offer(&deflate).to_string();
        assert_eq!(
            offer,
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits"
        );
        let config = Config::default().deflate(deflate);
        let conn = Connection::new(Role::Client, config);
        let used = conn.config().deflate.as_ref().unwrap();
        assert_eq!(
            (
                used.server_max_window_bits,
                used.client_max_window_bits,
                used.compression_level
            ),
            (8, 15, 9)
        );
    }
}
