//! Echo server on rfc6455, one tokio worker thread: see
//! [`rfc6455_benches::echo::rfc6455_deflate`].

fn main() {
    rfc6455_benches::server::run(
        "srv-rfc6455-deflate",
        rfc6455_benches::echo::rfc6455_deflate,
    );
}
