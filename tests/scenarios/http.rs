//! The server side of the scenario suite through axum and through bare
//! hyper: the subject is our tokio `WebSocket` over the connection the
//! stack upgraded (`tests/upgrade/`). Only the server role applies, so
//! `connect` and `from_upgraded` are never called (`tests/adapters_http.rs`
//! instantiates the server cases only).

use std::marker::PhantomData;
use std::net::{TcpListener, TcpStream};
use std::thread;

use rfc6455::blocking::Error;
use rfc6455::handshake::{Accept, ClientRequest};
use rfc6455::{CloseCode, Config, Event, Message, MessageKind, Role};

use super::peer::PATIENCE;
use super::subject::Callback;
use super::upgrade::{Socket, Stack, choose, serve_one};

/// Which stack a [`Served`] subject goes through.
pub trait Via: Send + Sync + 'static {
    const STACK: Stack;
}

/// Through axum's router and [`rfc6455::axum::WebSocketUpgrade`].
pub struct ViaAxum;
/// Through a hyper service calling `rfc6455::http`.
pub struct ViaHyper;
/// Through `rfc6455::hyper::upgrade` as the hyper service.
pub struct ViaHyperUpgrade;

impl Via for ViaAxum {
    const STACK: Stack = Stack::Axum;
}
impl Via for ViaHyper {
    const STACK: Stack = Stack::Hyper;
}
impl Via for ViaHyperUpgrade {
    const STACK: Stack = Stack::HyperUpgrade;
}

/// A subject served by an HTTP stack, on a current-thread runtime of its
/// own.
pub struct Served<V> {
    rt: tokio::runtime::Runtime,
    ws: Socket,
    via: PhantomData<V>,
}

pub type Axum = Served<ViaAxum>;
pub type Hyper = Served<ViaHyper>;
pub type HyperUpgrade = Served<ViaHyperUpgrade>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn to_tokio(stream: TcpStream) -> tokio::net::TcpStream {
    stream.set_nonblocking(true).unwrap();
    tokio::net::TcpStream::from_std(stream).unwrap()
}

impl<V: Via> Served<V> {
    fn block_on<T>(&mut self, f: impl AsyncFnOnce(&mut Socket) -> T) -> T {
        let ws = &mut self.ws;
        self.rt.block_on(async move {
            tokio::time::timeout(PATIENCE, f(ws))
                .await
                .expect("served subject: no answer in time")
        })
    }
}

impl<V: Via> super::Subject for Served<V> {
    fn connect(_: ClientRequest, _: Config) -> Result<Self, Error> {
        unreachable!("the http stacks are tested as servers only")
    }

    fn accept(stream: TcpStream, config: Config, callback: Callback) -> Result<Self, Error> {
        // The cases that run here all accept; a refusing callback is the
        // byte adapters' business (`rejected`).
        let choose = choose(move |request| match callback(request) {
            Ok(accept) => accept,
            Err(_) => panic!("refusals are not tested through the http stacks"),
        });
        let rt = runtime();
        let ws = rt
            .block_on(async {
                serve_one(V::STACK, to_tokio(stream), config, choose, PATIENCE).await
            })
            .map_err(Error::Handshake)?;
        Ok(Served {
            rt,
            ws,
            via: PhantomData,
        })
    }

    fn from_upgraded(_: TcpStream, _: Role, _: Config, _: &[u8]) -> Self {
        unreachable!("the http stacks upgrade by themselves")
    }

    fn spawn_echo_server(listener: TcpListener, config: Config, connections: usize) {
        thread::spawn(move || {
            let rt = runtime();
            rt.block_on(async move {
                listener.set_nonblocking(true).unwrap();
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                for _ in 0..connections {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let config = config.clone();
                    tokio::spawn(async move {
                        let accept = choose(|_| Accept::new());
                        let served = serve_one(V::STACK, stream, config, accept, PATIENCE);
                        if let Ok(mut ws) = served.await {
                            while let Ok(message) = ws.read().await {
                                if ws.send(message).await.is_err() {
                                    break;
                                }
                            }
                        }
                    });
                }
            });
        });
    }

    fn read(&mut self) -> Result<Message, Error> {
        self.block_on(async |ws| ws.read().await)
    }

    fn read_event(&mut self) -> Result<Event, Error> {
        self.block_on(async |ws| ws.read_event().await)
    }

    fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.block_on(async |ws| ws.send_pong(payload).await)
    }

    fn send(&mut self, message: Message) -> Result<(), Error> {
        self.block_on(async |ws| ws.send(message).await)
    }

    fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), Error> {
        self.block_on(async |ws| ws.send_fragment(kind, data, fin).await)
    }

    fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.block_on(async |ws| ws.ping(payload).await)
    }

    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.block_on(async |ws| ws.close(code, reason).await)
    }

    fn subprotocol(&self) -> Option<String> {
        self.ws.subprotocol().map(str::to_owned)
    }
}
