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
    //! What every echo server binary shares: a listener on loopback, one
    //! task per connection. One tokio worker thread (`current_thread`
    //! runtime) by default; `--threads N` serves on a multi-threaded
    //! runtime with N workers instead. The server prints `LISTENING <addr>`
    //! once it accepts. (`srv-rfc6455-uring` runs its own runtime and
    //! shares only [`args`] and [`announce`].)

    use std::future::Future;
    use std::io::Write;
    use std::net::SocketAddr;

    use tokio::net::{TcpListener, TcpStream};

    /// The command line every server takes.
    pub struct Args {
        /// `--addr` (default `127.0.0.1:0`), a loopback address.
        pub addr: SocketAddr,
        /// `--threads` (default 1): worker threads.
        pub threads: usize,
    }

    /// Parses the command line of server `name`.
    pub fn args(name: &str) -> Args {
        let mut parsed = Args {
            addr: "127.0.0.1:0".parse().unwrap(),
            threads: 1,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .unwrap_or_else(|| panic!("{name}: {arg} needs a value"))
            };
            match arg.as_str() {
                "--addr" => parsed.addr = value().parse().expect("--addr"),
                "--threads" => parsed.threads = value().parse().expect("--threads"),
                other => panic!("{name}: unknown argument {other:?}"),
            }
        }
        assert!(
            parsed.addr.ip().is_loopback(),
            "{name}: loopback addresses only"
        );
        parsed
    }

    /// Tells `bench-e2e` where the server listens (its first line out).
    pub fn announce(addr: SocketAddr) {
        let mut out = std::io::stdout();
        writeln!(out, "LISTENING {addr}").unwrap();
        out.flush().unwrap();
    }

    /// Serves `handler` on `--addr`, on `--threads` worker threads.
    pub fn run<F, Fut>(name: &str, handler: F)
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Args { addr, threads } = args(name);
        if threads > 1 {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(addr, handler, |task| {
                tokio::spawn(task);
            }));
        } else {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let local = tokio::task::LocalSet::new();
            local.block_on(
                &runtime,
                serve(addr, handler, |task| {
                    tokio::task::spawn_local(task);
                }),
            );
        }
    }

    /// Accepts connections for ever, handing each to `handler` in a task
    /// started by `spawn`.
    async fn serve<F, Fut>(addr: SocketAddr, handler: F, spawn: impl Fn(Fut))
    where
        F: Fn(TcpStream) -> Fut,
    {
        let listener = TcpListener::bind(addr).await.expect("bind");
        announce(listener.local_addr().unwrap());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            spawn(handler(stream));
        }
    }
}
