//! The memory an idle WebSocket costs on an HTTP/2 connection, both ends
//! in this process: what the h2 stream state, the stream wrapper, the
//! tokio adapter and the core hold, counted by the allocator (one thread,
//! so that the thread-local counters see every task). The README quotes
//! the figure this prints (`--nocapture`).

#[allow(dead_code)]
#[path = "common/alloc.rs"]
mod alloc;

use std::time::Duration;

use rfc6455::http2::{self, Http2Client};
use rfc6455::{ClientRequest, Config, Message};
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const STREAMS: usize = 200;

#[test]
fn an_idle_websocket_on_http2_costs_a_few_kilobytes_per_end() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = http2::serve(
                tcp,
                Config::default(),
                |_| Ok(rfc6455::handshake::Accept::new()),
                |_, mut socket| async move {
                    while let Ok(m) = socket.read().await {
                        let _ = socket.send(m).await;
                    }
                },
            )
            .await;
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let client = Http2Client::handshake(tcp).await.unwrap();
        let request = ClientRequest::new("ws://localhost/").unwrap();
        // One WebSocket first, so that the connection's own buffers are
        // in the baseline.
        let (mut first, _) = client
            .connect(request.clone(), &Config::default())
            .await
            .unwrap();
        first.send_text("warm").await.unwrap();
        assert_eq!(first.read().await.unwrap(), Message::text("warm"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = alloc::live();
        let mut sockets = Vec::with_capacity(STREAMS);
        for i in 0..STREAMS {
            let (mut socket, _) = client
                .connect(request.clone(), &Config::default())
                .await
                .unwrap();
            let text = format!("{i}");
            socket.send_text(&text).await.unwrap();
            assert_eq!(socket.read().await.unwrap(), Message::text(text));
            sockets.push(socket);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let per_stream = (alloc::live() - before) / STREAMS as isize;
        println!("idle WebSocket over HTTP/2, client and server ends together: {per_stream} bytes");
        assert!(per_stream > 0, "the streams cost something");
        assert!(per_stream < 64 * 1024, "{per_stream} bytes per stream");
        drop(sockets);
    });
}
