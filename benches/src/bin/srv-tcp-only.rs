//! The idle-memory floor, one tokio worker thread: a hand-written
//! handshake, then a task holding only its `TcpStream`; see
//! [`rfc6455_benches::echo::tcp_only`]. Echoes nothing.

fn main() {
    rfc6455_benches::server::run("srv-tcp-only", rfc6455_benches::echo::tcp_only);
}
