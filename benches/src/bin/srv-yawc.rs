//! Echo server on yawc, one tokio worker thread: see
//! [`rfc6455_benches::echo::yawc`].

fn main() {
    rfc6455_benches::server::run("srv-yawc", rfc6455_benches::echo::yawc);
}
