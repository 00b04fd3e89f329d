//! Keepalive and close timers, driven by the time the caller passes in.
//!
//! The core never reads a clock. It learns the time from
//! [`Connection::handle_timeout`], which the caller invokes before every
//! wait, and says when it next needs to be woken through
//! [`Connection::poll_timeout`]. Tests move time forward by passing later
//! instants, without sleeping.

use std::time::Instant;

use super::{Connection, Outcome, State};
use crate::ProtocolError;
use crate::frame::OpCode;

#[derive(Default)]
pub(super) struct Timers {
    /// The latest time passed to `handle_timeout`.
    now: Option<Instant>,
    /// Bytes arrived since the last `handle_timeout`.
    heard: bool,
    /// When the peer was last known to be alive.
    last_heard: Option<Instant>,
    /// A keepalive ping is out; the peer must show life before this.
    ping_deadline: Option<Instant>,
    keepalive_on: bool,
    /// A close timer was requested; it starts at the next `handle_timeout`.
    close_requested: bool,
    close_deadline: Option<Instant>,
}

impl Timers {
    pub(super) fn heard_from_peer(&mut self) {
        self.heard = true;
    }

    pub(super) fn arm_close(&mut self) {
        if self.close_deadline.is_none() {
            self.close_requested = true;
        }
    }

    pub(super) fn stop_close(&mut self) {
        self.close_requested = false;
        self.close_deadline = None;
    }

    pub(super) fn stop_keepalive(&mut self) {
        self.keepalive_on = false;
        self.ping_deadline = None;
    }
}

impl Connection {
    /// Whether [`handle_timeout`](Self::handle_timeout) can have anything
    /// to do: a timer is running or may start.
    ///
    /// Keepalive pings run only when [`Config::keepalive_interval`] is set,
    /// and the close timer only once the closing handshake has begun, so an
    /// open connection without keepalive never needs the time: a caller
    /// may then skip reading the clock before it waits.
    ///
    /// [`Config::keepalive_interval`]: crate::Config::keepalive_interval
    pub fn needs_clock(&self) -> bool {
        self.state != State::Open || self.config.keepalive_interval.is_some()
    }

    /// When the connection next needs [`handle_timeout`](Self::handle_timeout),
    /// or `None` if no timer is running.
    ///
    /// The instant may already be past (a timer was started since the last
    /// `handle_timeout`): call `handle_timeout` at once then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = &self.timers;
        let close = if t.close_requested {
            t.now
        } else {
            t.close_deadline
        };
        let keepalive = match self.config.keepalive_interval {
            Some(interval) if t.keepalive_on => {
                t.ping_deadline.or(t.last_heard.map(|at| at + interval))
            }
            _ => None,
        };
        match (close, keepalive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Tells the connection the current time, and acts on the timers that
    /// have run out.
    ///
    /// Call it before each wait for the transport and whenever the instant
    /// from [`poll_timeout`](Self::poll_timeout) passes. It may queue output
    /// (a keepalive ping), fail the connection (no answer to a ping: the
    /// next [`next_event`](Self::next_event) returns
    /// [`ProtocolError::KeepaliveTimeout`]), or end the closing handshake
    /// (the next event is [`Event::Abnormal`](crate::Event::Abnormal), and
    /// [`should_close_transport`](Self::should_close_transport) turns true).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let config = Config::default().keepalive(Some(Duration::from_secs(30)), Duration::from_secs(5));
    /// let mut conn = Connection::new(Role::Server, config);
    /// let start = Instant::now();
    /// conn.handle_timeout(start);
    /// assert_eq!(conn.poll_timeout(), Some(start + Duration::from_secs(30)));
    /// conn.handle_timeout(start + Duration::from_secs(30));
    /// assert_eq!(conn.pending_output(), &[0x89, 0x00]); // a ping
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = &mut self.timers;
        if t.now.is_none() && self.state == State::Open {
            t.keepalive_on = true;
        }
        t.now = Some(now);
        if t.heard || t.last_heard.is_none() {
            t.heard = false;
            t.last_heard = Some(now);
            t.ping_deadline = None;
        }
        if t.close_requested {
            t.close_requested = false;
            t.close_deadline = Some(now + self.config.close_timeout);
        }
        if t.close_deadline.is_some_and(|at| now >= at) {
            t.close_deadline = None;
            self.close_timed_out();
        }
        let Some(interval) = self.config.keepalive_interval else {
            return;
        };
        let t = &mut self.timers;
        if !t.keepalive_on || self.state != State::Open {
            return;
        }
        match (t.ping_deadline, t.last_heard) {
            (Some(deadline), _) if now >= deadline => self.fail(ProtocolError::KeepaliveTimeout),
            (None, Some(heard)) if now >= heard + interval => {
                t.ping_deadline = Some(now + self.config.keepalive_timeout);
                self.write_frame(OpCode::Ping, true, 0, &[]);
            }
            _ => {}
        }
    }

    fn close_timed_out(&mut self) {
        match self.state {
            State::Open => {}
            State::Closing => {
                // RFC 6455 §7.1.5: closed without receiving a close frame,
                // the close code is considered to be 1006.
                self.outcome = Some(Box::new(Outcome::Abnormal));
                self.abnormal_pending = true;
                self.closed();
                self.close_transport = true;
                self.timers.stop_close();
            }
            // A client waited long enough for the server's end of stream.
            State::Closed => self.close_transport = true,
        }
    }
}
