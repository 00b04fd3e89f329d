//! Echo server on fastwebsockets, one tokio worker thread: see
//! [`rfc6455_benches::echo::fastwebsockets`].

fn main() {
    rfc6455_benches::server::run("srv-fastwebsockets", rfc6455_benches::echo::fastwebsockets);
}
