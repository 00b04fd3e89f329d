//! Echo server on tokio-tungstenite, one tokio worker thread: see
//! [`rfc6455_benches::echo::tokio_tungstenite`].

fn main() {
    rfc6455_benches::server::run(
        "srv-tokio-tungstenite",
        rfc6455_benches::echo::tokio_tungstenite,
    );
}
