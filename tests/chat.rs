//! The chat example (examples/chat), run as processes: its page, the
//! `chat.v1` protocol and its limits, broadcast with a slow member, dead
//! peers, and rooms shared by two processes through a real Redis server.
//! See tests/chat_support for what is needed to run them.

mod chat_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use chat_support::{Chat, Client, LIMIT, Redis, lines};
use serde_json::json;

/// An HTTP/1.1 GET on a fresh connection; the whole answer.
fn get(chat: &Chat, path: &str) -> String {
    let mut stream = TcpStream::connect(chat.addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        chat.addr
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_page_and_its_files_come_from_the_binary() {
    let chat = Chat::start(&[]);
    let page = get(&chat, "/?room=lobby&name=alice");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("text/html"), "{page}");
    assert!(page.contains(r#"<script src="/chat.js""#), "{page}");
    let script = get(&chat, "/chat.js");
    assert!(script.contains(r#"new WebSocket("#), "{script}");
    assert!(script.contains(r#""chat.v1""#), "{script}");
    assert!(get(&chat, "/chat.css").starts_with("HTTP/1.1 200"));
    assert!(get(&chat, "/nothing").starts_with("HTTP/1.1 404"));
}

#[test]
fn a_cross_origin_page_may_not_join() {
    let chat = Chat::start(&[]);
    let mut stream = TcpStream::connect(chat.addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Origin: http://evil.example\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n",
        chat.addr
    )
    .unwrap();
    let mut answer = [0; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 403");
}

#[tokio::test]
async fn members_chat_in_their_rooms_only() {
    let chat = Chat::start(&[]);
    let url = chat.url();
    let mut alice = Client::join(&url, "lobby", "alice").await;
    let mut bob = Client::join(&url, "lobby", "bob").await;
    let mut carol = Client::join(&url, "kitchen", "carol").await;
    let members = alice.members_until("lobby", |m| m.len() == 2).await;
    assert_eq!(members, ["alice", "bob"]);

    // Each line reaches both members (the sender too), in the order said.
    alice.say("lobby", "hi bob").await;
    for client in [&mut alice, &mut bob] {
        let line = client.next_of("message").await;
        assert_eq!(
            lines(std::slice::from_ref(&line)),
            [("alice".into(), "hi bob".into())]
        );
        assert_eq!(line["room"], "lobby");
        assert!(line["ts"].as_u64().unwrap() > 1_700_000_000_000);
    }
    bob.say("lobby", "hi alice").await;
    for client in [&mut alice, &mut bob] {
        let line = client.next_of("message").await;
        assert_eq!(lines(&[line]), [("bob".into(), "hi alice".into())]);
    }
    // Carol's own message is the first message she gets: nothing of the
    // lobby reached her before it.
    carol.say("kitchen", "anyone?").await;
    let only = carol.next_of("message").await;
    assert_eq!(lines(&[only]), [("carol".into(), "anyone?".into())]);

    // One connection, two rooms; leaving one tells that room.
    let history = carol.join_room("lobby", "carol").await;
    assert_eq!(
        lines(history["messages"].as_array().unwrap()),
        [
            ("alice".into(), "hi bob".into()),
            ("bob".into(), "hi alice".into())
        ]
    );
    alice.members_until("lobby", |m| m.len() == 3).await;
    carol.send(json!({"type": "leave", "room": "lobby"})).await;
    assert_eq!(
        alice.members_until("lobby", |m| m.len() == 2).await,
        ["alice", "bob"]
    );
    // A member that goes away leaves the list.
    drop(bob);
    assert_eq!(
        alice.members_until("lobby", |m| m.len() == 1).await,
        ["alice"]
    );
}

#[tokio::test]
async fn a_join_brings_the_last_fifty_messages() {
    let chat = Chat::start(&["--rate", "1000", "--burst", "1000"]);
    let url = chat.url();
    let mut alice = Client::join(&url, "lobby", "alice").await;
    for i in 0..60 {
        alice.say("lobby", &format!("message {i}")).await;
    }
    for i in 0..60 {
        let line = alice.next_of("message").await;
        assert_eq!(line["text"], format!("message {i}"));
    }
    let mut bob = Client::connect(&url).await;
    let history = bob.join_room("lobby", "bob").await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (10..60).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn bad_requests_get_an_error_and_change_nothing() {
    let chat = Chat::start(&[]);
    let mut alice = Client::join(&chat.url(), "lobby", "alice").await;
    let long_text = "x".repeat(4097);
    let long_name = "n".repeat(33);
    let bad = [
        "not json".to_owned(),
        r#"{"type":"shout","room":"lobby"}"#.to_owned(),
        r#"{"type":"say","room":"lobby"}"#.to_owned(),
        json!({"type": "say", "room": "lobby", "text": long_text}).to_string(),
        json!({"type": "join", "room": "lobby", "name": long_name}).to_string(),
        json!({"type": "join", "room": "", "name": "a"}).to_string(),
        json!({"type": "say", "room": "elsewhere", "text": "hi"}).to_string(),
        json!({"type": "leave", "room": "elsewhere"}).to_string(),
    ];
    for request in &bad {
        alice.socket.send_text(request).await.unwrap();
        let reply = alice.next().await;
        assert_eq!(reply["type"], "error", "{request}: {reply}");
        assert!(reply["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    alice.socket.send_binary(b"{}").await.unwrap();
    assert_eq!(alice.next().await["type"], "error");
    // Still a member, still heard.
    alice.say("lobby", "still here").await;
    assert_eq!(alice.next().await["text"], "still here");
}

#[tokio::test]
async fn going_over_the_rate_gets_an_error_then_1008() {
    let chat = Chat::start(&["--rate", "1", "--burst", "3"]);
    let mut alice = Client::join(&chat.url(), "lobby", "alice").await;
    // The join took one token; two more go through.
    for i in 0..5 {
        alice.say("lobby", &format!("{i}")).await;
    }
    let mut seen = Vec::new();
    let code = loop {
        match tokio::time::timeout(LIMIT, alice.socket.read()).await {
            Ok(Ok(rfc6455::Message::Text(text))) => {
                seen.push(serde_json::from_str::<serde_json::Value>(&text).unwrap());
            }
            Ok(Err(rfc6455::tokio::Error::Closed(frame))) => break u16::from(frame.code),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, 1008);
    assert_eq!(lines(&seen).len(), 2, "{seen:?}");
    let error = seen.iter().find(|v| v["type"] == "error").unwrap();
    assert_eq!(error["reason"], "rate limit exceeded");
}

/// A member that stops reading is closed with 1013 once its socket stays
/// full; the rest of the room gets every message meanwhile, and the
/// server's memory stays bounded.
#[tokio::test]
async fn a_slow_member_is_closed_with_1013_and_slows_no_one() {
    let chat = Chat::start(&[
        "--rate",
        "100000",
        "--burst",
        "100000",
        // Room for a reader that the loaded test machine stalls for a
        // moment; the slow member, which never reads, fills any of it.
        "--queue",
        "512",
        "--slow-after",
        "3",
    ]);
    let url = chat.url();
    let slow = Client::join(&url, "lobby", "slow").await;
    let mut reader = Client::join(&url, "lobby", "reader").await;
    let mut sender = Client::join(&url, "lobby", "sender").await;
    reader.members_until("lobby", |m| m.len() == 3).await;

    // 24 MiB in 6,000 messages of 4 KiB: far more than the slow member's
    // socket buffers, queue and output can hold. The sender keeps at most
    // four of its messages in flight (it waits for their echoes), so that
    // the readers who do read keep up.
    const COUNT: usize = 6000;
    const WINDOW: usize = 4;
    // Once the server dropped the slow member from the room, it reads what
    // its socket held, then the close.
    let (left, slow_may_read) = tokio::sync::oneshot::channel::<()>();
    let slow_closed = tokio::spawn(async move {
        let mut slow = slow;
        let _ = slow_may_read.await;
        slow.close_code().await
    });
    let reading = tokio::spawn(async move {
        let mut left = Some(left);
        let mut got = 0;
        let mut slow_left = false;
        while got < COUNT || !slow_left {
            let text = match tokio::time::timeout(LIMIT, reader.socket.read()).await {
                Ok(Ok(rfc6455::Message::Text(text))) => text,
                other => panic!("the reader lost its connection: {other:?}"),
            };
            if text.starts_with(r#"{"type":"message""#) {
                got += 1;
            } else if text.starts_with(r#"{"type":"presence""#) {
                slow_left = !text.contains(r#""slow""#);
                if slow_left {
                    left.take().map(|left| left.send(()));
                }
            }
        }
        (got, reader)
    });
    let say = json!({"type": "say", "room": "lobby", "text": "y".repeat(4096)}).to_string();
    let (mut sent, mut echoed) = (0, 0);
    while echoed < COUNT {
        while sent < COUNT && sent - echoed < WINDOW {
            sender.socket.send_text(&say).await.unwrap();
            sent += 1;
        }
        if sender.next().await["type"] == "message" {
            echoed += 1;
        }
    }
    let (got, _reader) = tokio::time::timeout(LIMIT, reading).await.unwrap().unwrap();
    assert_eq!(got, COUNT);
    let rss = chat.process.rss_bytes();
    assert!(rss < 96 << 20, "the server holds {rss} bytes");
    assert_eq!(slow_closed.await.unwrap(), 1013);
}

/// A browser that vanished without a close (keepalive pings unanswered)
/// leaves the member list within the keepalive timeout.
#[tokio::test]
async fn a_peer_that_stops_answering_leaves_within_the_keepalive() {
    let chat = Chat::start(&["--keepalive", "1"]);
    let url = chat.url();
    let mut alice = Client::join(&url, "lobby", "alice").await;
    // Never read again: its pings go unanswered.
    let _ghost = Client::join(&url, "lobby", "ghost").await;
    alice.members_until("lobby", |m| m.len() == 2).await;
    let started = std::time::Instant::now();
    let members = alice.members_until("lobby", |m| m.len() == 1).await;
    assert_eq!(members, ["alice"]);
    // Pinged after 1 s of silence, dropped 1 s later; alice's own pings
    // are answered by her reads.
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Two processes, one Redis: one room across both, messages exactly once
/// and in order, history and presence shared, a dead process's members
/// gone when their entries expire.
#[tokio::test]
async fn two_processes_share_rooms_through_redis() {
    let redis = Redis::start();
    let args = [
        "--redis",
        &redis.url(),
        "--presence-ttl",
        "1.5",
        "--rate",
        "1000",
        "--burst",
        "1000",
    ];
    let a = Chat::start(&args);
    let b = Chat::start(&args);
    let mut alice = Client::join(&a.url(), "lobby", "alice").await;
    let mut bob = Client::join(&b.url(), "lobby", "bob").await;
    let mut carol = Client::join(&b.url(), "kitchen", "carol").await;
    assert_eq!(
        alice.members_until("lobby", |m| m.len() == 2).await,
        ["alice", "bob"]
    );

    for i in 0..20 {
        alice.say("lobby", &format!("a{i}")).await;
        bob.say("lobby", &format!("b{i}")).await;
    }
    // Each member gets all forty, once each, every sender's in its order,
    // and both members in the same order (Redis orders the channel).
    let mut orders = Vec::new();
    for client in [&mut alice, &mut bob] {
        let mut seen = Vec::new();
        for _ in 0..40 {
            seen.push(client.next_of("message").await);
        }
        let seen = lines(&seen);
        for sender in ["alice", "bob"] {
            let texts: Vec<&str> = seen
                .iter()
                .filter(|(from, _)| from == sender)
                .map(|(_, text)| text.as_str())
                .collect();
            let expected: Vec<String> = (0..20).map(|i| format!("{}{i}", &sender[..1])).collect();
            assert_eq!(texts, expected);
        }
        orders.push(seen);
    }
    assert_eq!(orders[0], orders[1]);
    // No duplicate arrives later: a sentinel is the next message.
    alice.say("lobby", "end").await;
    for client in [&mut alice, &mut bob] {
        assert_eq!(client.next_of("message").await["text"], "end");
    }
    // Carol's room on process b heard none of it.
    carol.say("kitchen", "quiet here").await;
    assert_eq!(carol.next_of("message").await["text"], "quiet here");

    // History comes from Redis: a member joining on b sees a's messages.
    let mut dave = Client::connect(&b.url()).await;
    let history = dave.join_room("lobby", "dave").await;
    let history = lines(history["messages"].as_array().unwrap());
    assert_eq!(history.len(), 41);
    assert_eq!(history.last().unwrap(), &("alice".into(), "end".into()));
    assert_eq!(
        bob.members_until("lobby", |m| m.len() == 3).await,
        ["alice", "bob", "dave"]
    );

    // Process a dies without a word: alice's entry expires (TTL 1.5 s, an
    // expired entry is dropped within a third of that).
    a.process.kill();
    assert_eq!(
        bob.members_until("lobby", |m| m.len() == 2).await,
        ["bob", "dave"]
    );
    drop(redis);
}
