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
use super::subject::{Callback, OnRuntime, runtime, to_tokio, tokio_operations};
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
    on: OnRuntime<Socket>,
    via: PhantomData<V>,
}

pub type Axum = Served<ViaAxum>;
pub type Hyper = Served<ViaHyper>;
pub type HyperUpgrade = Served<ViaHyperUpgrade>;

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
            on: OnRuntime { rt, ws },
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

    tokio_operations!(on);
}
