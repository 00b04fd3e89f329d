//! Echo server on rfc6455, one tokio worker thread: see
//! [`rfc6455_benches::echo::rfc6455`].

fn main() {
    rfc6455_benches::server::run("srv-rfc6455", rfc6455_benches::echo::rfc6455);
}
