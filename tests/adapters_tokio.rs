//! What only the tokio adapter has: split halves driven by two tasks, the
//! `Sink`'s back-pressure, and the `Stream`'s end.

mod scenarios;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rfc6455::handshake::ClientRequest;
use rfc6455::tokio::{Error, MaybeTlsStream, WebSocket};
use rfc6455::{CloseCode, Config, Event, Message, Role};
use scenarios::Peer;
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// Starts a peer server on a thread; returns its port and handle.
fn peer_server(script: impl FnOnce(Peer) + Send + 'static) -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || script(Peer::server(listener.accept().unwrap().0, &[])));
    (port, handle)
}

async fn connect(port: u16, config: Config) -> WebSocket<MaybeTlsStream> {
    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    rfc6455::tokio::connect_with_config(request, config)
        .await
        .unwrap()
        .0
}

/// The read half answers a ping by itself while the write half is idle in
/// another task; the write half sends while the read half waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_half_answers_pings_while_writer_idles() {
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let (port, peer) = peer_server(move |mut peer| {
        assert_eq!(peer.expect_message(), Message::text("w1"));
        peer.conn.send_ping(b"anyone?").unwrap();
        peer.flush();
        assert_eq!(peer.next_event().unwrap(), Event::Pong("anyone?".into()));
        go_tx.send(()).unwrap();
        assert_eq!(peer.expect_message(), Message::text("w2"));
        peer.close(CloseCode::NORMAL, "done");
    });
    let (mut read, mut write) = connect(port, Config::default()).await.split();
    let reader = tokio::spawn(async move {
        let mut messages = 0;
        while let Some(message) = read.next().await {
            message.unwrap();
            messages += 1;
        }
        (messages, read.close_frame())
    });
    let writer = tokio::spawn(async move {
        write.send(Message::text("w1")).await.unwrap();
        go_rx.await.unwrap(); // idle until the peer got its pong
        write.send(Message::text("w2")).await.unwrap();
    });
    timeout(LIMIT, writer).await.unwrap().unwrap();
    let (messages, close) = timeout(LIMIT, reader).await.unwrap().unwrap();
    assert_eq!(messages, 0);
    assert_eq!(close.unwrap().code, CloseCode::NORMAL);
    peer.join().unwrap();
}

/// The peer of the write-readiness tests: 2,000 pings at once, then it
/// waits for every pong and for 32 messages of 1 MiB, and closes.
fn ping_flood_peer(mut peer: Peer) {
    for i in 0..2000u32 {
        peer.conn.send_ping(&i.to_be_bytes()).unwrap();
    }
    peer.flush();
    let (mut pongs, mut messages) = (0, 0);
    while pongs < 2000 || messages < 32 {
        match peer.next_event().unwrap() {
            Event::Pong(_) => pongs += 1,
            Event::Message(m) => {
                assert_eq!(m.len(), 1 << 20);
                messages += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    peer.close(CloseCode::NORMAL, "");
}

/// Both halves compete for the socket's write readiness: a flood of pings
/// (pongs written by the read half) while the write half sends 32 MiB.
/// Neither half may be left unwoken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_share_write_readiness() {
    let (port, peer) = peer_server(ping_flood_peer);
    let config = Config::default().write_buffer_high_water(64 << 10);
    let (mut read, mut write) = connect(port, config).await.split();
    let reader = tokio::spawn(async move { while read.next().await.is_some() {} });
    let writer = tokio::spawn(async move {
        for _ in 0..32 {
            write.send(Message::binary(vec![7; 1 << 20])).await.unwrap();
        }
    });
    timeout(LIMIT, writer).await.unwrap().unwrap();
    timeout(LIMIT, reader).await.unwrap().unwrap();
    peer.join().unwrap();
}

/// `feed` never flushes, so only `poll_ready` can stop the output from
/// growing: with a peer that does not read, the sender must stall.
#[tokio::test]
async fn sink_poll_ready_applies_back_pressure() {
    const COUNT: usize = 64;
    let fed = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&fed);
    let (port, peer) = peer_server(move |mut peer| {
        thread::sleep(Duration::from_millis(700));
        let n = seen.load(Ordering::SeqCst);
        assert!(n < COUNT, "all {n} messages were buffered");
        for _ in 0..COUNT {
            assert_eq!(peer.expect_message().len(), 1 << 20);
        }
        peer.close(CloseCode::NORMAL, "");
    });
    let config = Config::default().write_buffer_high_water(256 << 10);
    let mut ws = connect(port, config).await;
    let sender = async {
        for i in 0..COUNT {
            ws.feed(Message::binary(vec![1; 1 << 20])).await.unwrap();
            fed.store(i + 1, Ordering::SeqCst);
        }
        SinkExt::flush(&mut ws).await.unwrap();
        assert!(ws.next().await.is_none()); // the peer's close: a clean end
    };
    timeout(LIMIT, sender).await.unwrap();
    peer.join().unwrap();
}

/// The `Stream` ends with `None` after a clean close and yields the
/// abnormal end as an error first; `read` keeps reporting the end.
#[tokio::test]
async fn stream_end() {
    let (port, peer) = peer_server(|mut peer| {
        peer.close(CloseCode::from(4000), "app says bye");
    });
    let mut ws = connect(port, Config::default()).await;
    assert!(timeout(LIMIT, ws.next()).await.unwrap().is_none());
    assert!(ws.next().await.is_none());
    assert_eq!(ws.close_frame().unwrap().reason, "app says bye");
    assert!(matches!(ws.read().await, Err(Error::Closed(f)) if u16::from(f.code) == 4000));
    peer.join().unwrap();

    let (port, peer) = peer_server(drop);
    let mut ws = connect(port, Config::default()).await;
    let first = timeout(LIMIT, ws.next()).await.unwrap();
    assert!(matches!(first, Some(Err(Error::AbnormalClose))));
    assert!(ws.next().await.is_none());
    assert!(matches!(ws.read().await, Err(Error::AbnormalClose)));
    peer.join().unwrap();
}

/// `Sink::close` sends a 1000 close frame; the stream then ends cleanly.
#[tokio::test]
async fn sink_close_then_stream_end() {
    let (port, peer) = peer_server(|mut peer| {
        assert_eq!(peer.expect_close().code, CloseCode::NORMAL);
        peer.finish();
    });
    let mut ws = connect(port, Config::default()).await;
    timeout(LIMIT, SinkExt::close(&mut ws))
        .await
        .unwrap()
        .unwrap();
    assert!(timeout(LIMIT, ws.next()).await.unwrap().is_none());
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::NORMAL);
    peer.join().unwrap();
}

/// The write half is blocked sending a message bigger than the socket
/// buffers; a ping then makes the read half try to write too (taking the
/// socket's write waker). When the peer drains, whichever half writes the
/// rest, the writer's `send` must still be woken and complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_writer_is_woken_when_reader_flushes() {
    let (port, peer) = peer_server(|mut peer| {
        thread::sleep(Duration::from_millis(300)); // the writer blocks
        peer.conn.send_ping(b"wake the reader").unwrap();
        peer.flush();
        thread::sleep(Duration::from_millis(300)); // the reader tries to write
        assert_eq!(peer.expect_message().len(), 32 << 20);
        peer.close(CloseCode::NORMAL, "");
    });
    let (mut read, mut write) = connect(port, Config::default()).await.split();
    let reader = tokio::spawn(async move { while read.next().await.is_some() {} });
    let writer = tokio::spawn(async move {
        write
            .send(Message::binary(vec![5; 32 << 20]))
            .await
            .unwrap();
    });
    timeout(Duration::from_secs(10), writer)
        .await
        .expect("the writer was never woken")
        .unwrap();
    timeout(LIMIT, reader).await.unwrap().unwrap();
    peer.join().unwrap();
}

/// The handles can move between tasks and threads.
#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<WebSocket<TcpStream>>();
    check::<rfc6455::tokio::ReadHalf<TcpStream>>();
    check::<rfc6455::tokio::WriteHalf<TcpStream>>();
    check::<Error>();
}

/// Like `halves_share_write_readiness`, with the unsplit `WebSocket`
/// split by `futures`' own `StreamExt::split`: two tasks poll the same
/// socket through `Stream` and `Sink`, and neither may be left unwoken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_split_halves_share_write_readiness() {
    let (port, peer) = peer_server(ping_flood_peer);
    let config = Config::default().write_buffer_high_water(64 << 10);
    let (mut sink, mut stream) = StreamExt::split(connect(port, config).await);
    let reader = tokio::spawn(async move { while stream.next().await.is_some() {} });
    let writer = tokio::spawn(async move {
        for _ in 0..32 {
            sink.send(Message::binary(vec![7; 1 << 20])).await.unwrap();
        }
    });
    timeout(LIMIT, writer).await.unwrap().unwrap();
    timeout(LIMIT, reader).await.unwrap().unwrap();
    peer.join().unwrap();
}

/// A stream that buffers writes (`BufWriter`) takes the whole frame at
/// once and then needs several `poll_flush` calls, each waiting for room
/// below it: `send` completes only once everything has reached the peer.
#[tokio::test]
async fn send_flushes_a_buffering_stream_to_the_end() {
    let (server_end, client_end) = tokio::io::duplex(1024);
    let mut server = WebSocket::from_upgraded(
        tokio::io::BufWriter::new(server_end),
        Role::Server,
        Config::default(),
        &[],
    );
    let mut client = WebSocket::from_upgraded(client_end, Role::Client, Config::default(), &[]);
    let message = Message::binary(vec![9; 6000]); // below BufWriter's 8 KiB
    let reader = tokio::spawn(async move { client.read().await.unwrap() });
    timeout(LIMIT, server.send(message.clone()))
        .await
        .unwrap()
        .unwrap();
    let received = timeout(Duration::from_secs(5), reader)
        .await
        .expect("the end of the message stayed in the stream's buffer")
        .unwrap();
    assert_eq!(received, message);
}

/// Small and large messages queued together (large payloads are queued by
/// reference and leave with their headers in one vectored write over
/// TCP) arrive whole and in order, in both roles.
#[tokio::test]
async fn queued_messages_of_all_sizes_arrive_in_order() {
    for role in [Role::Server, Role::Client] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let connecting = TcpStream::connect(listener.local_addr().unwrap());
        let (accepted, connected) = tokio::join!(listener.accept(), connecting);
        let (near, far) = (accepted.unwrap().0, connected.unwrap());
        let other = match role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        let mut sender = WebSocket::from_upgraded(near, role, Config::default(), &[]);
        let mut receiver = WebSocket::from_upgraded(far, other, Config::default(), &[]);
        let messages: Vec<Message> = [10, 3000, 1, 100_000, 2048, 0, 1 << 20, 5]
            .into_iter()
            .enumerate()
            .map(|(i, len)| Message::binary(vec![i as u8; len]))
            .collect();
        let expected = messages.clone();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..expected.len() {
                got.push(receiver.read().await.unwrap());
            }
            assert_eq!(got, expected);
        });
        for message in messages {
            sender.feed(message).await.unwrap();
        }
        timeout(LIMIT, SinkExt::flush(&mut sender))
            .await
            .unwrap()
            .unwrap();
        timeout(LIMIT, reader).await.unwrap().unwrap();
    }
}

/// `read` raced against a timer in `tokio::select!` a thousand times and
/// more: every message arrives once, in order, though many reads were
/// dropped half way.
#[tokio::test]
async fn read_is_cancel_safe() {
    const MESSAGES: u32 = 1000;
    let (port, peer) = peer_server(|mut peer| {
        for i in 0..MESSAGES {
            peer.send(&Message::binary(i.to_be_bytes().to_vec()));
            if i % 20 == 0 {
                thread::sleep(Duration::from_millis(2));
            }
        }
        peer.close(CloseCode::NORMAL, "");
    });
    let mut ws = connect(port, Config::default()).await;
    let (mut received, mut cancelled) = (Vec::new(), 0);
    let deadline = tokio::time::Instant::now() + LIMIT;
    while tokio::time::Instant::now() < deadline {
        tokio::select! {
            read = ws.read() => match read {
                Ok(message) => received.push(u32::from_be_bytes(message.as_bytes().try_into().unwrap())),
                Err(Error::Closed(_)) => break,
                Err(e) => panic!("{e}"),
            },
            () = tokio::time::sleep(Duration::from_micros(100)) => cancelled += 1,
        }
    }
    assert_eq!(received, (0..MESSAGES).collect::<Vec<_>>());
    // The peer pauses 50 times for longer than the timer: reads were
    // cancelled while waiting, many times over.
    assert!(cancelled >= 10, "only {cancelled} reads were cancelled");
    eprintln!("{cancelled} reads cancelled");
    peer.join().unwrap();
}

/// A `send` dropped before it completes leaves the stream well formed:
/// its message is queued whole (and written by a later call) or not at
/// all.
#[tokio::test]
async fn a_dropped_send_queues_all_or_nothing() {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (got_tx, got_rx) = std::sync::mpsc::channel();
    let (port, peer) = peer_server(move |mut peer| {
        ready_rx.recv().unwrap(); // read nothing until the client is done
        let mut got = Vec::new();
        loop {
            match peer.next_event() {
                Ok(Event::Message(m)) => got.push((m.len(), m.as_bytes()[0])),
                Ok(Event::Close(_)) => break,
                other => panic!("{other:?}"),
            }
        }
        peer.finish();
        got_tx.send(got).unwrap();
    });
    let config = Config::default().write_buffer_high_water(64 << 10);
    let mut ws = connect(port, config).await;
    let big = |tag: u8| Message::binary(vec![tag; 32 << 20]);
    // Queued whole at once (the output was empty), then stuck writing:
    // dropping it leaves the message queued.
    assert!(
        timeout(Duration::from_millis(50), ws.send(big(b'a')))
            .await
            .is_err()
    );
    // Waits for room that never comes while the peer does not read:
    // dropped before it could queue anything.
    assert!(
        timeout(Duration::from_millis(50), ws.send(big(b'b')))
            .await
            .is_err()
    );
    ready_tx.send(()).unwrap();
    timeout(LIMIT, ws.send(Message::binary(vec![b'c'; 10])))
        .await
        .unwrap()
        .unwrap();
    timeout(LIMIT, ws.close(CloseCode::NORMAL, ""))
        .await
        .unwrap()
        .unwrap();
    let end = timeout(LIMIT, ws.read()).await.unwrap();
    assert!(matches!(end, Err(Error::Closed(_))), "{end:?}");
    peer.join().unwrap();
    assert_eq!(got_rx.recv().unwrap(), vec![(32 << 20, b'a'), (10, b'c')]);
}

/// Split halves go back together, and only with their own other half.
#[tokio::test]
async fn halves_reunite() {
    let (port, peer) = peer_server(|mut peer| {
        assert_eq!(peer.expect_message(), Message::text("via the half"));
        assert_eq!(peer.expect_message(), Message::text("reunited"));
        peer.close(CloseCode::NORMAL, "");
    });
    let (port2, peer2) = peer_server(|mut peer| {
        peer.close(CloseCode::NORMAL, "");
    });
    let (read, mut write) = connect(port, Config::default()).await.split();
    write.send(Message::text("via the half")).await.unwrap();
    let (other_read, other_write) = connect(port2, Config::default()).await.split();
    let rfc6455::tokio::ReuniteError(read, other_write) = read.reunite(other_write).unwrap_err();
    let mut ws = read.reunite(write).unwrap();
    assert_eq!(ws.get_ref().tcp().peer_addr().unwrap().port(), port);
    assert_eq!(ws.subprotocol(), None);
    ws.send(Message::text("reunited")).await.unwrap();
    assert!(matches!(ws.read().await, Err(Error::Closed(_))));
    assert!(matches!(
        ws.connection().outcome(),
        Some(rfc6455::Outcome::Clean(_))
    ));
    drop(ws.into_inner());
    let mut other = other_read.reunite(other_write).unwrap();
    assert!(matches!(other.read().await, Err(Error::Closed(_))));
    peer.join().unwrap();
    peer2.join().unwrap();
}

/// `client` and `accept` over tokio's in-memory duplex stream.
#[tokio::test]
async fn client_and_accept_over_an_in_memory_stream() {
    let (ours, theirs) = tokio::io::duplex(16 << 10);
    let server = tokio::spawn(async move {
        let mut ws = rfc6455::tokio::accept(theirs).await.unwrap();
        loop {
            match ws.read().await {
                Ok(message) => ws.send(message).await.unwrap(),
                Err(Error::Closed(frame)) => return frame.code,
                Err(e) => panic!("{e}"),
            }
        }
    });
    let request = ClientRequest::new("ws://in-memory/echo").unwrap();
    let (mut ws, response) = rfc6455::tokio::client(ours, request).await.unwrap();
    assert_eq!(response.status(), 101);
    for message in [Message::text("hi"), Message::binary(vec![7; 70_000])] {
        ws.send(message.clone()).await.unwrap();
        let echo = timeout(LIMIT, ws.read()).await.unwrap();
        assert_eq!(echo.unwrap(), message);
    }
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    let end = timeout(LIMIT, ws.read()).await.unwrap();
    assert!(matches!(end, Err(Error::Closed(_))));
    assert_eq!(
        timeout(LIMIT, server).await.unwrap().unwrap(),
        CloseCode::NORMAL
    );
}

/// `client_with_config` keeps the handshake timeout over any stream: here
/// a duplex whose other end says nothing.
#[tokio::test]
async fn client_handshake_timeout_over_an_in_memory_stream() {
    let (ours, _silent) = tokio::io::duplex(1024);
    let limit = Duration::from_millis(200);
    let config = Config::default().handshake_timeout(limit);
    let request = ClientRequest::new("ws://in-memory/").unwrap();
    let started = std::time::Instant::now();
    let result = rfc6455::tokio::client_with_config(ours, request, config).await;
    assert!(
        matches!(result, Err(Error::HandshakeTimeout)),
        "{:?}",
        result.map(drop)
    );
    let took = started.elapsed();
    assert!(
        took >= limit && took < limit + Duration::from_secs(1),
        "{took:?}"
    );
}
