//! The adapter under test, behind one trait so that each scenario is
//! written once and runs against both adapters.

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{Error, Reject};
use rfc6455::handshake::{Accept, ClientRequest, Request};
use rfc6455::{CloseCode, Config, Event, Message, MessageKind, Role};

use super::peer::PATIENCE;

/// An accept callback.
pub type Callback = fn(&Request) -> Result<Accept, Reject>;

/// Both adapters, driven synchronously.
pub trait Subject: Sized {
    /// Connects as a client.
    fn connect(request: ClientRequest, config: Config) -> Result<Self, Error>;
    /// Accepts as a server, deciding with `callback`.
    fn accept(stream: TcpStream, config: Config, callback: Callback) -> Result<Self, Error>;
    /// Wraps a stream whose handshake was done by hand.
    fn from_upgraded(stream: TcpStream, role: Role, config: Config, leftover: &[u8]) -> Self;
    /// Serves `listener` with an echo server until `connections` connections
    /// were accepted, one thread or task per connection.
    fn spawn_echo_server(listener: TcpListener, config: Config, connections: usize);

    fn read(&mut self) -> Result<Message, Error>;
    fn read_event(&mut self) -> Result<Event, Error>;
    fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error>;
    fn send(&mut self, message: Message) -> Result<(), Error>;
    fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), Error>;
    fn ping(&mut self, payload: &[u8]) -> Result<(), Error>;
    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error>;
    fn subprotocol(&self) -> Option<String>;
}

/// Echoes until the connection ends (the body of both echo servers is
/// adapter-specific, the rule is the same).
fn echo_blocking(mut ws: rfc6455::blocking::WebSocket<TcpStream>) {
    while let Ok(message) = ws.read() {
        if ws.send(message).is_err() {
            break;
        }
    }
}

/// The blocking adapter. Its socket gets a short read timeout, so every
/// scenario also checks that timeouts interrupt `read` without losing
/// anything, and the keepalive and close timers can run.
pub struct Blocking(rfc6455::blocking::WebSocket<TcpStream>);

const TICK: Duration = Duration::from_millis(20);

impl Blocking {
    fn wrap(ws: rfc6455::blocking::WebSocket<TcpStream>) -> Self {
        ws.get_ref().set_read_timeout(Some(TICK)).unwrap();
        Blocking(ws)
    }
}

impl Subject for Blocking {
    fn connect(request: ClientRequest, config: Config) -> Result<Self, Error> {
        // Over a stream the test opened: the scenarios run the client
        // handshake through `client_with_config` (connect's own dialing is
        // tested in tests/adapters_*.rs).
        let stream = TcpStream::connect((request.host(), request.port()))?;
        rfc6455::blocking::client_with_config(stream, request, config).map(|(ws, _)| Self::wrap(ws))
    }

    fn accept(stream: TcpStream, config: Config, callback: Callback) -> Result<Self, Error> {
        rfc6455::blocking::accept_with_config(stream, config, callback).map(Self::wrap)
    }

    fn from_upgraded(stream: TcpStream, role: Role, config: Config, leftover: &[u8]) -> Self {
        let ws = rfc6455::blocking::WebSocket::from_upgraded(stream, role, config, leftover);
        Self::wrap(ws)
    }

    fn spawn_echo_server(listener: TcpListener, config: Config, connections: usize) {
        thread::spawn(move || {
            for stream in listener.incoming().take(connections) {
                let config = config.clone();
                let Ok(stream) = stream else { continue };
                thread::spawn(move || {
                    if let Ok(ws) =
                        rfc6455::blocking::accept_with_config(stream, config, |_| Ok(Accept::new()))
                    {
                        echo_blocking(ws);
                    }
                });
            }
        });
    }

    fn read(&mut self) -> Result<Message, Error> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.0.read() {
                Err(e) if e.is_would_block() && Instant::now() < deadline => continue,
                result => return result,
            }
        }
    }

    fn read_event(&mut self) -> Result<Event, Error> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.0.read_event() {
                Err(e) if e.is_would_block() && Instant::now() < deadline => continue,
                result => return result,
            }
        }
    }

    fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.0.send_pong(payload)
    }

    fn send(&mut self, message: Message) -> Result<(), Error> {
        self.0.send(message)
    }

    fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), Error> {
        self.0.send_fragment(kind, data, fin)
    }

    fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.0.ping(payload)
    }

    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.0.close(code, reason)
    }

    fn subprotocol(&self) -> Option<String> {
        self.0.connection().subprotocol().map(str::to_owned)
    }
}

/// A tokio WebSocket (over any stream) driven synchronously on a
/// current-thread runtime of its own: what every tokio-based subject holds.
/// The runtime runs only inside [`block_on`](Self::block_on), as an
/// application's would while it awaits the socket.
pub struct OnRuntime<W> {
    pub rt: tokio::runtime::Runtime,
    pub ws: W,
}

impl<W> OnRuntime<W> {
    pub fn block_on<T>(&mut self, f: impl AsyncFnOnce(&mut W) -> T) -> T {
        let ws = &mut self.ws;
        self.rt.block_on(async move {
            tokio::time::timeout(PATIENCE, f(ws))
                .await
                .expect("tokio subject: no answer in time")
        })
    }
}

/// The operations of [`Subject`] for a subject whose field `$on` is an
/// [`OnRuntime`] holding a `rfc6455::tokio::WebSocket`: written once for
/// the tokio adapter over TCP, over the HTTP/1.1 stacks and over HTTP/2.
macro_rules! tokio_operations {
    ($on:tt) => {
        fn read(&mut self) -> Result<rfc6455::Message, rfc6455::blocking::Error> {
            self.$on.block_on(async |ws| ws.read().await)
        }

        fn read_event(&mut self) -> Result<rfc6455::Event, rfc6455::blocking::Error> {
            self.$on.block_on(async |ws| ws.read_event().await)
        }

        fn send_pong(&mut self, payload: &[u8]) -> Result<(), rfc6455::blocking::Error> {
            self.$on.block_on(async |ws| ws.send_pong(payload).await)
        }

        fn send(&mut self, message: rfc6455::Message) -> Result<(), rfc6455::blocking::Error> {
            self.$on.block_on(async |ws| ws.send(message).await)
        }

        fn send_fragment(
            &mut self,
            kind: rfc6455::MessageKind,
            data: &[u8],
            fin: bool,
        ) -> Result<(), rfc6455::blocking::Error> {
            self.$on
                .block_on(async |ws| ws.send_fragment(kind, data, fin).await)
        }

        fn ping(&mut self, payload: &[u8]) -> Result<(), rfc6455::blocking::Error> {
            self.$on.block_on(async |ws| ws.ping(payload).await)
        }

        fn close(
            &mut self,
            code: rfc6455::CloseCode,
            reason: &str,
        ) -> Result<(), rfc6455::blocking::Error> {
            self.$on.block_on(async |ws| ws.close(code, reason).await)
        }

        fn subprotocol(&self) -> Option<String> {
            self.$on.ws.subprotocol().map(str::to_owned)
        }
    };
}
pub(crate) use tokio_operations;

/// The tokio adapter over TCP.
pub struct Tokio(OnRuntime<rfc6455::tokio::WebSocket<tokio::net::TcpStream>>);

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn to_tokio(stream: TcpStream) -> tokio::net::TcpStream {
    stream.set_nonblocking(true).unwrap();
    tokio::net::TcpStream::from_std(stream).unwrap()
}

impl Subject for Tokio {
    fn connect(request: ClientRequest, config: Config) -> Result<Self, Error> {
        let rt = runtime();
        let (ws, _) = rt.block_on(async {
            let stream = tokio::net::TcpStream::connect((request.host(), request.port())).await?;
            rfc6455::tokio::client_with_config(stream, request, config).await
        })?;
        Ok(Tokio(OnRuntime { rt, ws }))
    }

    fn accept(stream: TcpStream, config: Config, callback: Callback) -> Result<Self, Error> {
        let rt = runtime();
        let ws = rt.block_on(async {
            rfc6455::tokio::accept_with_config(to_tokio(stream), config, callback).await
        })?;
        Ok(Tokio(OnRuntime { rt, ws }))
    }

    fn from_upgraded(stream: TcpStream, role: Role, config: Config, leftover: &[u8]) -> Self {
        let rt = runtime();
        let stream = rt.block_on(async { to_tokio(stream) });
        let ws = rfc6455::tokio::WebSocket::from_upgraded(stream, role, config, leftover);
        Tokio(OnRuntime { rt, ws })
    }

    fn spawn_echo_server(listener: TcpListener, config: Config, connections: usize) {
        thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std({
                    listener.set_nonblocking(true).unwrap();
                    listener
                })
                .unwrap();
                let mut tasks = Vec::new();
                for _ in 0..connections {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let config = config.clone();
                    tasks.push(tokio::spawn(async move {
                        let accepted = rfc6455::tokio::accept_with_config(stream, config, |_| {
                            Ok(Accept::new())
                        });
                        if let Ok(mut ws) = accepted.await {
                            while let Ok(message) = ws.read().await {
                                if ws.send(message).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }));
                }
                for task in tasks {
                    let _ = tokio::time::timeout(PATIENCE, task).await;
                }
            });
        });
    }

    tokio_operations!(0);
}
