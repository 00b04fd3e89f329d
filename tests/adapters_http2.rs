//! The scenario suite (`tests/scenarios/`) over HTTP/2 (RFC 8441): our
//! tokio `WebSocket` on an h2c stream, as server (`rfc6455::http2::serve`)
//! and as client (`rfc6455::http2::Http2Client`), against the suite's
//! HTTP/1.1 peer through a relay that translates the opening handshake
//! and copies the frames (`tests/scenarios/h2.rs`).
//!
//! Every peer scenario runs in both roles. Of the handshake scenarios only
//! `subprotocols` applies: the others test HTTP/1.1's handshake bytes and
//! timeouts, or `from_upgraded`; HTTP/2's own handshake rules (statuses,
//! refusals on a stream, a server without extended CONNECT) are in
//! `tests/http2.rs` and the core's unit tests.

mod scenarios;

use scenarios::h2::Http2;
use scenarios::{run_client, run_server};

macro_rules! both_roles {
    ($($name:ident: $case:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[test]
                fn as_server() {
                    run_server::<Http2, _>(scenarios::cases::$case::default());
                }

                #[test]
                fn as_client() {
                    run_client::<Http2, _>(scenarios::cases::$case::default());
                }
            }
        )*
    };
}

scenarios::peer_cases!(both_roles!());

#[test]
fn subprotocols() {
    scenarios::cases::subprotocols::<Http2>();
}
