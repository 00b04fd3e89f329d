//! Shared pieces of the rfc6455 benchmark package: payloads and pre-built
//! frames, an in-memory stream that every library reads from and writes to
//! the same way, a runtime-free `block_on`, and the tiny HTTP handshake used
//! by the load client and by the servers of libraries that ship none.
//!
//! Nothing here depends on which WebSocket library is measured.

pub mod codecs;
pub mod deflate;
pub mod deflate_load;
pub mod echo;
pub mod frames;
pub mod handshake;
pub mod load;
pub mod mem;

pub use frames::{Kind, SIZES};
pub use mem::{MemStream, READ_CHUNK, WRITE_CHUNK, block_on};

/// The libraries compared, in the order used by every table. The first is
/// ours; ratios are "ours / peer".
pub const LIBS: [&str; 6] = [
    "rfc6455",
    "tokio-tungstenite",
    "fastwebsockets",
    "tokio-websockets",
    "sockudo-ws",
    "yawc",
];

pub mod server {
    //! What every echo server binary shares: one tokio worker thread
    //! (`current_thread` runtime), a listener on loopback, one task per
    //! connection. The server prints `LISTENING <addr>` once it accepts.

    use std::future::Future;
    use std::io::Write;
    use std::net::SocketAddr;

    use tokio::net::{TcpListener, TcpStream};

    /// Serves `handler` on `--addr` (default `127.0.0.1:0`).
    pub fn run<F, Fut>(name: &str, handler: F)
    where
        F: Fn(TcpStream) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let mut addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => addr = args.next().expect("--addr value").parse().expect("--addr"),
                other => panic!("{name}: unknown argument {other:?}"),
            }
        }
        assert!(addr.ip().is_loopback(), "{name}: loopback addresses only");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let listener = TcpListener::bind(addr).await.expect("bind");
            let mut out = std::io::stdout();
            writeln!(out, "LISTENING {}", listener.local_addr().unwrap()).unwrap();
            out.flush().unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::task::spawn_local(handler(stream));
            }
        });
    }
}
