//! Sizes that bound the idle memory of a connection: each echo handler's
//! future (what a spawned task holds for its whole life, handshake state
//! included, since a future is as large as its largest state) and a few
//! of rfc6455's types.

use std::mem::size_of;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut keep = Vec::new();
        let accepted = || async {
            let client = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            (client, server)
        };
        println!("| echo handler future | bytes |");
        println!("|---|---:|");
        macro_rules! size {
            ($name:expr, $f:path) => {{
                let (client, server) = accepted().await;
                let future = $f(server);
                println!("| {} | {} |", $name, std::mem::size_of_val(&future));
                keep.push(client);
            }};
        }
        size!("rfc6455", rfc6455_benches::echo::rfc6455);
        size!(
            "tcp-only (no WebSocket: the floor)",
            rfc6455_benches::echo::tcp_only
        );
        size!(
            "tokio-tungstenite",
            rfc6455_benches::echo::tokio_tungstenite
        );
        {
            // The parts of rfc6455's echo task: the socket, and the futures
            // of a read and of a send, which the task holds in turn.
            let (client, server) = accepted().await;
            let mut ws = rfc6455::tokio::WebSocket::from_connection(
                server,
                rfc6455::Connection::new(rfc6455::Role::Server, rfc6455::Config::default()),
            );
            println!(
                "| rfc6455: `tokio::WebSocket<TcpStream>` | {} |",
                std::mem::size_of_val(&ws)
            );
            println!(
                "| rfc6455: `WebSocket::read` future | {} |",
                std::mem::size_of_val(&ws.read())
            );
            println!(
                "| rfc6455: `WebSocket::send` future | {} |",
                std::mem::size_of_val(&ws.send(rfc6455::Message::binary(Vec::new())))
            );
            keep.push(client);
        }
        size!("fastwebsockets", rfc6455_benches::echo::fastwebsockets);
        size!("tokio-websockets", rfc6455_benches::echo::tokio_websockets);
        size!("sockudo-ws", rfc6455_benches::echo::sockudo_ws);
    });
    println!();
    println!("| rfc6455 type | bytes |");
    println!("|---|---:|");
    println!("| Connection | {} |", size_of::<rfc6455::Connection>());
    println!("| Event | {} |", size_of::<rfc6455::Event>());
    println!("| Message | {} |", size_of::<rfc6455::Message>());
    println!(
        "| ProtocolError | {} |",
        size_of::<rfc6455::ProtocolError>()
    );
    println!(
        "| Result<Option<Event>, ProtocolError> | {} |",
        size_of::<Result<Option<rfc6455::Event>, rfc6455::ProtocolError>>()
    );
    println!("| Config | {} |", size_of::<rfc6455::Config>());
}
