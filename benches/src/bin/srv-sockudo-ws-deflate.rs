//! Echo server on sockudo-ws, one tokio worker thread: see
//! [`rfc6455_benches::echo::sockudo_ws_deflate`].

fn main() {
    sockudo_ws::init_clock();
    rfc6455_benches::server::run(
        "srv-sockudo-ws-deflate",
        rfc6455_benches::echo::sockudo_ws_deflate,
    );
}
