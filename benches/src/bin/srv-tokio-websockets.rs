//! Echo server on tokio-websockets, one tokio worker thread: see
//! [`rfc6455_benches::echo::tokio_websockets`].

fn main() {
    rfc6455_benches::server::run(
        "srv-tokio-websockets",
        rfc6455_benches::echo::tokio_websockets,
    );
}
