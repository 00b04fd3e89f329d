//! Fan-out: one message to every member of a room, timed until the last
//! member has it.
//!
//! Two parts, both over loopback with real sockets:
//!
//! - **chat**: the chat example's release binary (`examples/chat`), one
//!   process, or two processes sharing one Redis (`redis-server` started
//!   here on a free loopback port, killed by PID). N rfc6455 tokio clients
//!   join one room (members split evenly over the processes); member 0 says
//!   a message and the time runs until the last of the N members (the
//!   sender included) has read it. The chat queues one `PreparedMessage` to
//!   its members; it has no per-connection mode, so that comparison is the
//!   second part.
//! - **inproc**: this process holds N server-side rfc6455 `WebSocket`s (one
//!   current-thread runtime, one thread) whose clients run on another
//!   thread. One broadcast per round, alternately by a loop calling `send`
//!   with a `Message` per connection and by one `PreparedMessage` queued to
//!   all (`send_prepared`). Measured: the server loop's wall time and thread
//!   CPU time, and the time until the last client has read the message.
//!
//! ```text
//! bench-fanout [--chat PATH] [--redis-server PATH] [--sizes 1000,5000]
//!              [--rounds R] [--bytes 100,4096] [--processes 1,2]
//!              [--no-chat] [--no-inproc]
//! ```
//! Every wait is bounded; medians and p90 over the rounds go to stdout.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rfc6455::deflate::DeflateConfig;
use rfc6455::tokio::{WebSocket, WriteHalf};
use rfc6455::{Config, Message, PreparedMessage};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Every wait for messages gives up after this long.
const PATIENCE: Duration = Duration::from_secs(120);

/// How long a room may take to go quiet after its members joined: each
/// join sends the member list to every member (with Redis, each process
/// also reads the room's list from Redis), so joining N members costs
/// O(N²) deliveries.
const SETTLE: Duration = Duration::from_secs(900);

struct Args {
    chat: String,
    redis_server: String,
    sizes: Vec<usize>,
    rounds: usize,
    bytes: Vec<usize>,
    processes: Vec<usize>,
    chat_on: bool,
    inproc_on: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        chat: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/release/examples/chat"
        )
        .to_owned(),
        redis_server: "/usr/bin/redis-server".to_owned(),
        sizes: vec![1000, 5000],
        rounds: 15,
        bytes: vec![100, 4096],
        processes: vec![1, 2],
        chat_on: true,
        inproc_on: true,
    };
    let list = |v: String| -> Vec<usize> { v.split(',').map(|x| x.parse().expect(x)).collect() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--chat" => args.chat = value(),
            "--redis-server" => args.redis_server = value(),
            "--sizes" => args.sizes = list(value()),
            "--rounds" => args.rounds = value().parse().expect("--rounds"),
            "--bytes" => args.bytes = list(value()),
            "--processes" => args.processes = list(value()),
            "--no-chat" => args.chat_on = false,
            "--no-inproc" => args.inproc_on = false,
            other => panic!("unknown argument {other:?} (see the module docs)"),
        }
    }
    args
}

/// What the clients have read, shared by all of them.
#[derive(Default)]
struct Tally {
    members: AtomicUsize,
    round: AtomicUsize,
    got: AtomicUsize,
    seen: AtomicUsize,
    joined: AtomicUsize,
    last: Mutex<Option<Instant>>,
    done: Notify,
}

impl Tally {
    fn start(&self, round: usize) {
        self.got.store(0, Relaxed);
        *self.last.lock().unwrap() = None;
        self.round.store(round, Relaxed);
    }

    /// Counts a message carrying round `round`; the last member's read
    /// stamps the time.
    fn arrived(&self, round: usize) {
        if round == self.round.load(Relaxed)
            && self.got.fetch_add(1, Relaxed) + 1 == self.members.load(Relaxed)
        {
            *self.last.lock().unwrap() = Some(Instant::now());
            self.done.notify_one();
        }
    }

    /// Waits for the last member; the time from `t0`.
    async fn wait(&self, t0: Instant) -> Duration {
        tokio::time::timeout(PATIENCE, self.done.notified())
            .await
            .expect("every member gets the message in time");
        self.last.lock().unwrap().expect("stamped") - t0
    }
}

/// The round number after `marker` in `text`, if any.
fn round_in(text: &str, marker: &str) -> Option<usize> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn raise_fd_limit() {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a local timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A child process killed (by its PID, through its handle) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(path: &str) -> (Proc, u16) {
    let port = free_port();
    let child = Command::new(path)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let proc = Proc(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (proc, port);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("redis-server did not listen on {port}");
}

/// Starts a chat process with every limit out of the way; its address.
fn start_chat(path: &str, redis: Option<u16>) -> (Proc, SocketAddr) {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(path);
    cmd.args([
        "--addr",
        "127.0.0.1:0",
        "--rate",
        "1000000",
        "--burst",
        "1000000",
    ])
    .args(["--queue", "100000", "--slow-after", "600"])
    .stderr(Stdio::piped());
    if let Some(port) = redis {
        cmd.args(["--redis", &format!("redis://127.0.0.1:{port}")]);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{path}: {e}"));
    let stderr = child.stderr.take().expect("piped");
    let proc = Proc(child);
    let mut lines = BufReader::new(stderr).lines();
    let line = lines
        .next()
        .expect("chat prints its address")
        .expect("utf-8");
    let addr = line
        .strip_prefix("chat listening on http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("unexpected chat output {line:?}"));
    // Keep draining its stderr so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (proc, addr.parse().expect("address"))
}

/// Reads a client's messages until its connection ends, counting them.
async fn count(mut reader: rfc6455::tokio::ReadHalf<TcpStream>, tally: Arc<Tally>, marker: &str) {
    while let Ok(message) = reader.read().await {
        let Some(text) = message.as_text() else {
            continue;
        };
        tally.seen.fetch_add(1, Relaxed);
        if text.starts_with("{\"type\":\"history\"") {
            tally.joined.fetch_add(1, Relaxed);
        } else if let Some(round) = round_in(text, marker) {
            tally.arrived(round);
        }
    }
}

async fn client(addr: SocketAddr, path: &str, config: Config) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let request = rfc6455::ClientRequest::new(&format!("ws://{addr}{path}")).expect("url");
    let (ws, _) = rfc6455::tokio::client_with_config(stream, request, config)
        .await
        .expect("handshake");
    ws
}

/// Waits until the clients have read nothing for half a second: the room
/// is quiet.
async fn settle(tally: &Tally) {
    let deadline = Instant::now() + SETTLE;
    let mut before = usize::MAX;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = tally.seen.load(Relaxed);
        if now == before {
            return;
        }
        before = now;
    }
    panic!("the room never went quiet");
}

/// One chat set-up: `processes` chat processes (two share a Redis), `n`
/// members; the time until the last member has each of `rounds` messages.
fn chat_run(args: &Args, n: usize, processes: usize) -> Vec<Duration> {
    let redis = (processes > 1).then(|| start_redis(&args.redis_server));
    let chats: Vec<(Proc, SocketAddr)> = (0..processes)
        .map(|_| start_chat(&args.chat, redis.as_ref().map(|r| r.1)))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tally = Arc::new(Tally::default());
        tally.members.store(n, Relaxed);
        tally.round.store(usize::MAX, Relaxed);
        let join = r#"{"type":"join","room":"bench","name":"m"}"#;
        let mut sender: Option<WriteHalf<TcpStream>> = None;
        let joining = Instant::now();
        // In batches, so that no listen backlog overflows.
        for batch in (0..n).collect::<Vec<_>>().chunks(250) {
            let mut tasks = Vec::new();
            for &i in batch {
                let addr = chats[i % processes].1;
                tasks.push(tokio::spawn(async move {
                    let mut ws = client(addr, "/ws", Config::default()).await;
                    ws.send_text(join).await.expect("join");
                    ws
                }));
            }
            for task in tasks {
                let (reader, writer) = task.await.expect("client").split();
                tokio::spawn(count(reader, Arc::clone(&tally), "fanout-"));
                sender.get_or_insert(writer);
            }
        }
        let mut sender = sender.expect("a member");
        let deadline = Instant::now() + SETTLE;
        while tally.joined.load(Relaxed) < n {
            assert!(Instant::now() < deadline, "members did not all join");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Presence updates (one per join, to every member) die down first.
        settle(&tally).await;
        eprintln!(
            "{n} members, {processes} process(es): joined and quiet after {:.1} s",
            joining.elapsed().as_secs_f64()
        );
        let mut times = Vec::new();
        for round in 0..=args.rounds {
            tally.start(round);
            let say = format!(r#"{{"type":"say","room":"bench","text":"fanout-{round}"}}"#);
            let t0 = Instant::now();
            sender.send_text(&say).await.expect("say");
            let took = tally.wait(t0).await;
            // Round 0 warms up.
            if round > 0 {
                times.push(took);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        times
    })
}

/// The compression level of both sides' permessage-deflate.
const LEVEL: u32 = 6;

/// Both sides' configuration; with `deflate`, permessage-deflate without
/// server context takeover, so that one compression serves every member.
fn config(deflate: bool) -> Config {
    let mut config = Config::default();
    if deflate {
        let mut d = DeflateConfig::default();
        d.server_no_context_takeover = true;
        d.compression_level = LEVEL;
        d.min_message_size = 0;
        config.deflate = Some(d);
    }
    config
}

/// "r<round> " then lowercase words (compressible about as well as prose,
/// from a fixed pseudo-random sequence): `bytes` bytes in all.
fn payload(round: usize, bytes: usize) -> String {
    let mut text = format!("r{round} ");
    let mut x: u32 = 0x2545_f491;
    while text.len() < bytes {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let c = x % 32;
        text.push(if c < 26 {
            char::from(b'a' + c as u8)
        } else {
            ' '
        });
    }
    text
}

/// One in-process round's figures.
struct Fanout {
    loop_wall: Duration,
    loop_cpu: Duration,
    last: Duration,
}

/// The in-process comparison for `n` connections and `bytes`-byte text
/// messages: `(send, prepared)` per round, rounds alternating.
fn inproc_run(n: usize, bytes: usize, deflate: bool, rounds: usize) -> (Vec<Fanout>, Vec<Fanout>) {
    let config = config(deflate);
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let tally = Arc::new(Tally::default());
    tally.members.store(n, Relaxed);
    tally.round.store(usize::MAX, Relaxed);
    server.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut sockets = Vec::with_capacity(n);
        for start in (0..n).step_by(250) {
            let batch = (n - start).min(250);
            for _ in 0..batch {
                let (tally, config) = (Arc::clone(&tally), config.clone());
                clients.spawn(async move {
                    let (reader, writer) = client(addr, "/", config).await.split();
                    count(reader, tally, "r").await;
                    drop(writer);
                });
            }
            for _ in 0..batch {
                let (stream, _) = listener.accept().await.expect("accept");
                let accept = |_: &_| Ok(rfc6455::handshake::Accept::new());
                let ws = rfc6455::tokio::accept_with_config(stream, config.clone(), accept);
                sockets.push(ws.await.expect("accept"));
            }
        }
        let (mut send, mut prepared) = (Vec::new(), Vec::new());
        for round in 0..=2 * rounds {
            let text = payload(round, bytes);
            let per_connection = round % 2 == 0;
            tally.start(round);
            let (t0, cpu0) = (Instant::now(), thread_cpu());
            if per_connection {
                let message = Message::text(text);
                for ws in &mut sockets {
                    ws.send(message.clone()).await.expect("send");
                }
            } else {
                let message = if deflate {
                    PreparedMessage::deflated(Message::text(text), LEVEL, 15)
                } else {
                    PreparedMessage::new(Message::text(text))
                };
                for ws in &mut sockets {
                    ws.write_with(|conn| conn.send_prepared(&message))
                        .await
                        .expect("send_prepared");
                }
            }
            let (loop_wall, loop_cpu) = (t0.elapsed(), thread_cpu() - cpu0);
            let last = tally.wait(t0).await;
            let figures = Fanout {
                loop_wall,
                loop_cpu,
                last,
            };
            // Rounds 0 and 1 warm up.
            match (round > 1, per_connection) {
                (false, _) => {}
                (true, true) => send.push(figures),
                (true, false) => prepared.push(figures),
            }
        }
        (send, prepared)
    })
}

fn quantile(mut values: Vec<Duration>, q: f64) -> Duration {
    values.sort();
    values[((values.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args = parse_args();
    raise_fd_limit();
    println!("load average at start: {}", load_average());
    if args.inproc_on {
        println!(
            "\n### in-process, {} rounds each, alternating (ms, median / p90; ratio = send / prepared on medians)\n",
            args.rounds
        );
        println!(
            "| members | bytes | loop wall send | loop wall prepared | ratio | loop CPU send | loop CPU prepared | ratio | last member send | last member prepared | ratio |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for &n in &args.sizes {
            for (&bytes, deflate) in args.bytes.iter().flat_map(|b| [(b, false), (b, true)]) {
                let (send, prepared) = inproc_run(n, bytes, deflate, args.rounds);
                let kind = if deflate { "deflate" } else { "plain" };
                let mut row = format!("| {n} | {bytes} {kind} ");
                for pick in [
                    |f: &Fanout| f.loop_wall,
                    |f: &Fanout| f.loop_cpu,
                    |f: &Fanout| f.last,
                ] {
                    let a: Vec<Duration> = send.iter().map(pick).collect();
                    let b: Vec<Duration> = prepared.iter().map(pick).collect();
                    let (ma, mb) = (quantile(a.clone(), 0.5), quantile(b.clone(), 0.5));
                    row += &format!(
                        "| {:.2} / {:.2} | {:.2} / {:.2} | {:.2}× ",
                        ms(ma),
                        ms(quantile(a, 0.9)),
                        ms(mb),
                        ms(quantile(b, 0.9)),
                        ma.as_secs_f64() / mb.as_secs_f64()
                    );
                }
                println!("{row}|");
            }
        }
    }
    if args.chat_on {
        println!(
            "\n### chat example, {} rounds (ms until the last member has the message)\n",
            args.rounds
        );
        println!("| members | processes | median | p90 | min |");
        println!("|---|---|---|---|---|");
        for &n in &args.sizes {
            for &processes in &args.processes {
                let times = chat_run(&args, n, processes);
                let min = *times.iter().min().expect("rounds");
                println!(
                    "| {n} | {} | {:.2} | {:.2} | {:.2} |",
                    if processes == 1 {
                        "1".to_owned()
                    } else {
                        "2 + Redis".to_owned()
                    },
                    ms(quantile(times.clone(), 0.5)),
                    ms(quantile(times, 0.9)),
                    ms(min)
                );
            }
        }
    }
    println!("\nload average at end: {}", load_average());
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
