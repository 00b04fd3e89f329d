//! One scenario suite for both adapters, over real loopback TCP.
//!
//! A scenario has two sides: the adapter under test (a [`Subject`]) and a
//! [`Peer`] driven by the raw sans-IO core on a thread of its own. Each
//! scenario runs with the adapter as client and as server, for each
//! adapter: `tests/adapters.rs` instantiates the matrix (and
//! `tests/adapters_http.rs` and `tests/adapters_http2.rs` the cases that
//! apply through axum and hyper, and over HTTP/2).
#![allow(dead_code, unused_imports)]

pub mod cases;
#[cfg(feature = "http2")]
pub mod h2;
#[cfg(feature = "axum")]
pub mod http;
pub mod peer;
pub mod subject;
#[cfg(feature = "axum")]
#[path = "../upgrade/mod.rs"]
pub mod upgrade;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use rfc6455::Config;
use rfc6455::handshake::{Accept, ClientRequest};

pub use peer::Peer;
pub use subject::{Blocking, Subject, Tokio};

/// Every peer scenario, as `test_name: Case`, appended to the arguments of
/// the macro call it is given: the one list that `tests/adapters*.rs`
/// instantiate, e.g. `peer_cases!(suite!(@peer Subject;))`.
#[allow(unused_macros)] // not every test crate that has the suite runs it
macro_rules! peer_cases {
    ($then:ident!($($args:tt)*)) => {
        $then!($($args)* text: Text, binary: Binary, fragmented: Fragmented,
            large_16_mib: Large, burst: Burst, ping_pong: PingPong,
            close_by_subject: CloseBySubject, close_by_peer: CloseByPeer,
            reset_after_close: ResetAfterClose,
            reset_while_writing: ResetWhileWriting,
            abrupt_eof: AbruptEof, protocol_violation: ProtocolViolation,
            invalid_utf8: InvalidUtf8, back_pressure: BackPressure,
            keepalive_timeout: KeepaliveTimeout, keepalive_answered: KeepaliveAnswered,
            close_timeout: CloseTimeout, manual_pong: ManualPong, streaming: Streaming);
    };
}
pub(crate) use peer_cases;

/// Both sides of a scenario.
pub trait Scenario: Send + Sync + 'static {
    /// The adapter's configuration.
    fn config(&self) -> Config {
        Config::default()
    }
    /// What the peer does.
    fn peer(&self, peer: &mut Peer);
    /// What the adapter under test does.
    fn subject<T: Subject>(&self, ws: &mut T);
}

/// Runs `scenario` with the adapter as server: the peer connects as client.
pub fn run_server<T: Subject, S: Scenario>(scenario: S) {
    let scenario = Arc::new(scenario);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer_side = Arc::clone(&scenario);
    let peer = thread::spawn(move || {
        let mut peer = Peer::client(port, &[]);
        peer_side.peer(&mut peer);
    });
    let stream = listener.accept().unwrap().0;
    let mut ws = T::accept(stream, scenario.config(), |_| Ok(Accept::new())).unwrap();
    scenario.subject(&mut ws);
    drop(ws);
    peer.join().expect("the peer side failed");
}

/// Runs `scenario` with the adapter as client: the peer serves.
pub fn run_client<T: Subject, S: Scenario>(scenario: S) {
    let scenario = Arc::new(scenario);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer_side = Arc::clone(&scenario);
    let peer = thread::spawn(move || {
        let mut peer = Peer::server(listener.accept().unwrap().0, &[]);
        peer_side.peer(&mut peer);
    });
    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    let mut ws = T::connect(request, scenario.config()).unwrap();
    scenario.subject(&mut ws);
    drop(ws);
    peer.join().expect("the peer side failed");
}
