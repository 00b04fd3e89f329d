//! Echo server on yawc, one tokio worker thread: see
//! [`rfc6455_benches::echo::yawc_deflate`].

fn main() {
    rfc6455_benches::server::run("srv-yawc-deflate", rfc6455_benches::echo::yawc_deflate);
}
