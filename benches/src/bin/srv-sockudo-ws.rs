//! Echo server on sockudo-ws, one tokio worker thread: see
//! [`rfc6455_benches::echo::sockudo_ws`].

fn main() {
    sockudo_ws::init_clock();
    rfc6455_benches::server::run("srv-sockudo-ws", rfc6455_benches::echo::sockudo_ws);
}
