//! The chat page in a real browser: headless Chromium (Debian's
//! `chromium`; `CHROMIUM` names another binary) opens three pages on two
//! chat processes that share a real Redis server, and this test types into
//! one and reads the others, as a user would.
//!
//! Chromium is driven through its DevTools protocol, over a WebSocket: our
//! own client talking to Chromium's server, a peer we did not write.

mod chat_support;
mod pki;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chat_support::{Chat, LIMIT, Process, Redis};
use rfc6455::tokio::{MaybeTlsStream, WebSocket};
use rfc6455::{ClientRequest, Config, Message};
use serde_json::{Value, json};

/// Chromium, started headless with a DevTools endpoint on a free port, in
/// a profile of its own that is removed afterwards.
struct Browser {
    _process: Process,
    profile: std::path::PathBuf,
    devtools: WebSocket<MaybeTlsStream>,
    next_id: u64,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab, attached to the DevTools session.
struct Page {
    target: String,
    session: String,
}

impl Browser {
    async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// [`start`](Self::start) with more command-line flags.
    async fn start_with(extra: &[&str]) -> Browser {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = std::env::temp_dir().join(format!(
            "rfc6455-chat-{}-{}",
            std::process::id(),
            extra.len()
        ));
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                // This machine's network is closed: no update checks, no sync.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .args(extra)
            .arg(format!("--user-data-dir={}", profile.display()))
            // As root (CI), Chromium's sandbox cannot start.
            .args(is_root().then_some("--no-sandbox"))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} starts (Debian: apt-get install chromium): {e}"));
        let stderr = child.stderr.take().unwrap();
        let process = Process::new(child, "chromium");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(LIMIT)
            .expect("Chromium names its DevTools endpoint");
        let request = ClientRequest::new(&url).unwrap();
        // DevTools answers with large messages (whole DOM values).
        let config = Config::default().max_message_size(64 << 20);
        let (devtools, _) = rfc6455::tokio::connect_with_config(request, config)
            .await
            .unwrap();
        Browser {
            _process: process,
            profile,
            devtools,
            next_id: 1,
        }
    }

    /// Calls a DevTools method (in a page's session, or the browser's) and
    /// returns its result; events on the way are skipped.
    async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.devtools.send_text(&command.to_string()).await.unwrap();
        let deadline = Instant::now() + LIMIT;
        loop {
            assert!(Instant::now() < deadline, "{method} got no answer");
            let text = match tokio::time::timeout(LIMIT, self.devtools.read()).await {
                Ok(Ok(Message::Text(text))) => text,
                other => panic!("DevTools connection: {other:?}"),
            };
            let answer: Value = serde_json::from_str(&text).unwrap();
            if answer["id"] == id {
                assert!(answer["error"].is_null(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    async fn open(&mut self, url: &str) -> Page {
        let created = self
            .call(None, "Target.createTarget", json!({"url": url}))
            .await;
        let target = created["targetId"].as_str().unwrap().to_owned();
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
            )
            .await;
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        Page { target, session }
    }

    async fn close(&mut self, page: Page) {
        self.call(None, "Target.closeTarget", json!({"targetId": page.target}))
            .await;
    }

    /// Evaluates `expression` in the page and returns its value.
    async fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let result = self
            .call(
                Some(&page.session),
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is true, within [`LIMIT`].
    async fn wait_for(&mut self, page: &Page, expression: &str) {
        let deadline = Instant::now() + LIMIT;
        while self.eval(page, expression).await != json!(true) {
            assert!(Instant::now() < deadline, "never true: {expression}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the page's input, then Enter, as key events.
    async fn type_line(&mut self, page: &Page, text: &str) {
        self.eval(page, "document.getElementById('text').focus()")
            .await;
        let session = Some(page.session.as_str());
        self.call(session, "Input.insertText", json!({"text": text}))
            .await;
        for kind in ["keyDown", "keyUp"] {
            let key = json!({"type": kind, "key": "Enter", "code": "Enter",
                             "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13});
            self.call(session, "Input.dispatchKeyEvent", key).await;
        }
    }
}

fn is_root() -> bool {
    // The owner of /proc/self is the process's user.
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// What the page shows: the texts of its messages, and its member list.
const TEXTS: &str = "[...document.querySelectorAll('#messages .text')].map(e => e.textContent)";
const MEMBERS: &str = "[...document.querySelectorAll('#members li')].map(e => e.textContent)";

#[tokio::test]
async fn pages_on_two_processes_chat_rooms_stay_apart_and_pages_reconnect() {
    let redis = Redis::start();
    let a = Chat::start(&["--redis", &redis.url()]);
    let b = Chat::start(&["--redis", &redis.url()]);
    let mut browser = Browser::start().await;

    let alice = browser
        .open(&format!("http://{}/?room=lobby&name=alice", a.addr))
        .await;
    let bob = browser
        .open(&format!("http://{}/?room=lobby&name=bob", b.addr))
        .await;
    let carol = browser
        .open(&format!("http://{}/?room=kitchen&name=carol", b.addr))
        .await;
    for page in [&alice, &bob, &carol] {
        browser
            .wait_for(page, "document.body.dataset.state === 'open'")
            .await;
    }
    // Presence is room-wide across the two processes.
    let both = format!("JSON.stringify({MEMBERS}) === '[\"alice\",\"bob\"]'");
    browser.wait_for(&alice, &both).await;
    browser.wait_for(&bob, &both).await;
    browser
        .wait_for(
            &carol,
            &format!("JSON.stringify({MEMBERS}) === '[\"carol\"]'"),
        )
        .await;

    // What alice types on process a appears on bob's page on process b.
    browser.type_line(&alice, "hello from alice").await;
    browser
        .wait_for(&bob, &format!("{TEXTS}.includes('hello from alice')"))
        .await;
    browser
        .wait_for(&alice, &format!("{TEXTS}.includes('hello from alice')"))
        .await;
    assert_eq!(
        browser
            .eval(&alice, "document.getElementById('text').value")
            .await,
        json!(""),
        "Enter sends and clears the input"
    );
    // Carol, in another room on b, sees only her own line.
    browser.type_line(&carol, "carol here").await;
    browser
        .wait_for(&carol, &format!("{TEXTS}.includes('carol here')"))
        .await;
    assert_eq!(browser.eval(&carol, TEXTS).await, json!(["carol here"]));
    browser.type_line(&bob, "hi alice").await;
    browser
        .wait_for(&alice, &format!("{TEXTS}.includes('hi alice')"))
        .await;
    assert_eq!(
        browser.eval(&alice, TEXTS).await,
        json!(["hello from alice", "hi alice"])
    );

    // Closing bob's page updates alice's member list.
    browser.close(bob).await;
    browser
        .wait_for(
            &alice,
            &format!("JSON.stringify({MEMBERS}) === '[\"alice\"]'"),
        )
        .await;

    // Process a goes away: alice's page sees it, reconnects (with backoff)
    // once a is back on its port, rejoins, and gets the room's history.
    let addr = a.addr.to_string();
    a.process.kill();
    browser
        .wait_for(&alice, "document.body.dataset.state === 'closed'")
        .await;
    let _a = Chat::start(&["--addr", &addr, "--redis", &redis.url()]);
    browser
        .wait_for(&alice, "document.body.dataset.state === 'open'")
        .await;
    browser
        .wait_for(
            &alice,
            &format!("JSON.stringify({MEMBERS}) === '[\"alice\"]'"),
        )
        .await;
    assert_eq!(
        browser.eval(&alice, TEXTS).await,
        json!(["hello from alice", "hi alice"])
    );
    drop(browser);
    drop((b, redis));
}

/// The chat over TLS with `--http2` (the command line of issue 15): the
/// page loads over HTTP/2 (ALPN `h2`), its WebSocket opens with an
/// extended CONNECT (RFC 8441), counted by the server as an HTTP/2 one, and
/// messages flow.
#[tokio::test]
async fn the_page_and_its_websocket_go_over_http2() {
    let ca = pki::Ca::new("chat http2 CA");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let dir = pki::temp_dir("chat-http2");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &leaf.cert_pem).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    let chat = Chat::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--http2",
    ]);
    // The certificate's CA is the test's own, which Chromium does not know.
    let mut browser = Browser::start_with(&["--ignore-certificate-errors"]).await;
    let port = chat.addr.port();
    let alice = browser
        .open(&format!("https://localhost:{port}/?room=h2&name=alice"))
        .await;
    browser
        .wait_for(&alice, "document.body.dataset.state === 'open'")
        .await;
    assert_eq!(
        browser
            .eval(
                &alice,
                "performance.getEntriesByType('navigation')[0].nextHopProtocol"
            )
            .await,
        json!("h2"),
        "the page came over HTTP/2"
    );
    browser.type_line(&alice, "over one connection").await;
    browser
        .wait_for(&alice, &format!("{TEXTS}.includes('over one connection')"))
        .await;
    // The server saw the page's WebSocket arrive as an HTTP/2 extended
    // CONNECT (a WebSocket over HTTP/1.1 would not count).
    browser
        .eval(
            &alice,
            "fetch('/http2-websockets').then(r => r.text()).then(t => window.h2ws = t.trim())",
        )
        .await;
    browser.wait_for(&alice, "window.h2ws === '1'").await;
    drop(browser);
    let _ = std::fs::remove_dir_all(dir);
}
