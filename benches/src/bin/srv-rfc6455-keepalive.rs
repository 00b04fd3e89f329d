//! Echo server on rfc6455 with keepalive pings on, one tokio worker
//! thread: see [`rfc6455_benches::echo::rfc6455_keepalive`].

fn main() {
    rfc6455_benches::server::run(
        "srv-rfc6455-keepalive",
        rfc6455_benches::echo::rfc6455_keepalive,
    );
}
