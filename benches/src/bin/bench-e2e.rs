//! End-to-end and idle-memory benchmarks over loopback.
//!
//! Starts each library's echo server (`srv-*`, next to this binary; one
//! tokio worker thread each, a separate process each) and drives it with a
//! load client that uses no WebSocket library: raw TCP, a hand-written
//! handshake and hand-built masked frames, so it favours nobody. Each
//! connection sends a message, waits for the whole echo, checks it, and
//! repeats. Servers are measured in turn, A B C … A B C …, the starting
//! server rotating each round.
//!
//! Measured per run, over the measurement window (after a warm-up):
//! messages/s (round trips), p50/p99 round trip, and the server's CPU time
//! per message (sum over the server's threads of `/proc/<pid>/task/*/schedstat`,
//! nanosecond resolution; `/proc/<pid>/stat` utime+stime is recorded too).
//!
//! With `--deflate takeover|no-takeover`, permessage-deflate end to end
//! (see [`rfc6455_benches::deflate_load`]): the `*-deflate` servers, text
//! workloads, each message compressed by the client and every echo
//! inflated and checked; the bytes on the wire per message are reported
//! too. `BENCH_DEFLATE_LEVEL` (inherited by the servers) sets their level.
//!
//! Idle memory: a fresh server, `VmRSS` before and after opening N idle
//! connections (handshake done, nothing sent), per connection.
//!
//! ```text
//! bench-e2e [--quick] [--rounds N] [--secs S] [--warmup S] [--libs a,b]
//!           [--workloads 100x20B,...] [--idle N] [--no-e2e] [--no-idle]
//!           [--deflate takeover|no-takeover] [--out results.jsonl] [--attach 'perf record -p {pid} -o {lib}-{workload}.data'
//!           [--attach-libs a,b]] [--server-threads N] [--client-threads N] [--rate R]
//! ```
//! `--workloads` also takes shapes by their numbers (`10000x16B`,
//! `200x16KiB`). `--server-threads N` runs every server on a tokio runtime
//! with N worker threads (default: one thread); `--client-threads N` does the
//! same for the load client. `--rate R` paces each connection to R messages
//! per second (phases spread evenly) instead of sending the next message as
//! soon as the echo is back: many connections at a few messages per second,
//! as a real deployment has.
//! Results are appended as JSON lines to `--out` and summarised on stdout.
//! `--libs` names servers by their binaries (`srv-NAME` next to this one),
//! so servers outside the default set run too: `rfc6455-uring` (the
//! io_uring experiment of issue 16, item 3), `rfc6455-keepalive`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rfc6455_benches::LIBS;
use rfc6455_benches::deflate_load::{self, DEFLATE_LIBS, DEFLATE_WORKLOADS, Mode};
use rfc6455_benches::frames::{put_header, xor_mask};
use rfc6455_benches::handshake::client_connect;
use rfc6455_benches::load::{Load, Pace, PlainEcho, open_deflate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The fastwebsockets benchmark suite's workloads: connections × payload.
const WORKLOADS: [(&str, usize, usize); 5] = [
    ("100x20B", 100, 20),
    ("10x1KiB", 10, 1024),
    ("10x16KiB", 10, 16 << 10),
    ("200x16KiB", 200, 16 << 10),
    ("500x16KiB", 500, 16 << 10),
];

/// More workloads, run only when named with `--workloads` (the rest of the
/// table of issue 16).
const EXTRA_WORKLOADS: [(&str, usize, usize); 4] = [
    ("1x16B", 1, 16),
    ("100x16B", 100, 16),
    ("100x1KiB", 100, 1024),
    ("10x64KiB", 10, 64 << 10),
];

struct Args {
    rounds: usize,
    secs: f64,
    warmup: f64,
    libs: Vec<String>,
    workloads: Vec<(&'static str, usize, usize)>,
    idle: usize,
    e2e: bool,
    idle_on: bool,
    out: Option<String>,
    attach: Option<String>,
    attach_libs: Option<Vec<String>>,
    deflate: Option<Mode>,
    server_threads: Option<usize>,
    client_threads: usize,
    rate: Option<f64>,
}

fn parse_args() -> Args {
    let mut a = Args {
        rounds: 3,
        secs: 4.0,
        warmup: 1.0,
        libs: LIBS.iter().map(|s| s.to_string()).collect(),
        workloads: WORKLOADS.to_vec(),
        idle: 5000,
        e2e: true,
        idle_on: true,
        out: None,
        attach: None,
        attach_libs: None,
        deflate: None,
        server_threads: None,
        client_threads: 1,
        rate: None,
    };
    let (mut libs_given, mut workloads_given) = (false, false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--quick" => {
                a.rounds = 1;
                a.secs = 1.0;
                a.warmup = 0.3;
                a.idle = 1000;
            }
            "--rounds" => a.rounds = value().parse().expect("--rounds"),
            "--secs" => a.secs = value().parse().expect("--secs"),
            "--warmup" => a.warmup = value().parse().expect("--warmup"),
            "--libs" => {
                a.libs = value().split(',').map(str::to_owned).collect();
                libs_given = true;
            }
            "--workloads" => {
                workloads_given = true;
                a.workloads = value().split(',').map(workload).collect();
            }
            "--idle" => a.idle = value().parse().expect("--idle"),
            "--no-e2e" => a.e2e = false,
            "--no-idle" => a.idle_on = false,
            "--out" => a.out = Some(value()),
            "--attach" => a.attach = Some(value()),
            "--server-threads" => {
                a.server_threads = Some(value().parse().expect("--server-threads"))
            }
            "--client-threads" => a.client_threads = value().parse().expect("--client-threads"),
            "--rate" => a.rate = Some(value().parse().expect("--rate")),
            "--attach-libs" => {
                a.attach_libs = Some(value().split(',').map(str::to_owned).collect())
            }
            "--deflate" => {
                let v = value();
                a.deflate = Some(
                    Mode::parse(&v)
                        .unwrap_or_else(|| panic!("--deflate takeover|no-takeover, not {v:?}")),
                );
            }
            other => panic!("unknown argument {other:?}"),
        }
    }
    if a.deflate.is_some() {
        if !libs_given {
            a.libs = DEFLATE_LIBS.iter().map(|s| s.to_string()).collect();
        }
        if !workloads_given {
            a.workloads = DEFLATE_WORKLOADS.to_vec();
        }
        a.idle_on = false;
    }
    a
}

/// A workload by name (`100x20B`, one of the tables above) or by its
/// numbers: `CONNSxSIZE` with the size in `B` or `KiB`.
fn workload(name: &str) -> (&'static str, usize, usize) {
    if let Some(&known) = WORKLOADS
        .iter()
        .chain(&EXTRA_WORKLOADS)
        .chain(&DEFLATE_WORKLOADS)
        .find(|w| w.0 == name)
    {
        return known;
    }
    let parsed = name.split_once('x').and_then(|(conns, size)| {
        let size = match size.strip_suffix("KiB") {
            Some(kib) => kib.parse::<usize>().ok()? << 10,
            None => size.strip_suffix('B')?.parse().ok()?,
        };
        Some((conns.parse().ok()?, size))
    });
    let Some((conns, size)) = parsed else {
        panic!("unknown workload {name:?} (CONNSxSIZE, the size in B or KiB)");
    };
    (Box::leak(name.to_owned().into_boxed_str()), conns, size)
}

/// A server process we started; killed (by its PID) when dropped.
struct Server {
    lib: String,
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(lib: &str, threads: Option<usize>) -> Server {
        let exe = std::env::current_exe().expect("current_exe");
        let bin = exe.with_file_name(format!("srv-{lib}"));
        let mut command = Command::new(&bin);
        command.args(["--addr", "127.0.0.1:0"]);
        if let Some(n) = threads {
            command.args(["--threads", &n.to_string()]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("server output");
        let addr = line
            .trim()
            .strip_prefix("LISTENING ")
            .unwrap_or_else(|| panic!("{lib}: unexpected output {line:?}"))
            .parse()
            .expect("address");
        Server {
            lib: lib.to_owned(),
            child,
            addr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time of a process, in ns: schedstat (precise) and stat (ticks).
fn cpu_ns(pid: u32) -> (u64, u64) {
    let mut sched = 0;
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) {
                sched += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0u64);
            }
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" of the command name: utime and stime are the
    // 12th and 13th (fields 14 and 15 of the whole line).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    let hz = 100; // USER_HZ on Linux
    (sched, ticks * 1_000_000_000 / hz)
}

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Raises the soft open-files limit to the hard one; returns the soft limit.
fn raise_fd_limit() -> u64 {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur
    }
}

struct Flags {
    measuring: AtomicBool,
    stop: AtomicBool,
}

/// What one connection did during the window.
#[derive(Default)]
struct ConnResult {
    count: u64,
    latencies: Vec<u32>,
    /// WebSocket bytes sent + received over the measured messages.
    wire_bytes: u64,
    error: Option<String>,
}

async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_nodelay(true)?;
    let mut stream = socket.connect(addr).await?;
    let leftover = client_connect(&mut stream, "127.0.0.1").await?;
    assert!(leftover.is_empty());
    Ok(stream)
}

/// One connection of the load: send, wait for the whole echo, check, repeat
/// (at once, or at the next tick of its pace).
async fn echo_loop(
    mut stream: TcpStream,
    id: u64,
    mut load: Load,
    pace: Pace,
    flags: Arc<Flags>,
) -> ConnResult {
    let mut result = ConnResult::default();
    let mut ticks = pace.ticks(id);
    while !flags.stop.load(Relaxed) {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
            if flags.stop.load(Relaxed) {
                break;
            }
        }
        let start = Instant::now();
        let wire = match tokio::time::timeout(Duration::from_secs(10), load.round_trip(&mut stream))
            .await
        {
            Ok(Ok(wire)) => wire,
            Ok(Err(e)) => {
                result.error = Some(format!("conn {id}: {e}"));
                return result;
            }
            Err(_) => {
                result.error = Some(format!("conn {id}: no echo within 10 s"));
                return result;
            }
        };
        let elapsed = start.elapsed();
        if flags.measuring.load(Relaxed) {
            result.count += 1;
            result.wire_bytes += wire;
            result
                .latencies
                .push(elapsed.as_nanos().min(u32::MAX as u128) as u32);
        }
    }
    // The closing handshake: a masked close frame (1000), then wait for
    // the server's close and the end of the stream.
    let mut close = Vec::new();
    put_header(&mut close, 0x8, 2, Some([1, 2, 3, 4]));
    let mut body = 1000u16.to_be_bytes();
    xor_mask(&mut body, [1, 2, 3, 4]);
    close.extend_from_slice(&body);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(&close).await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
    result
}

#[derive(Debug)]
struct RunResult {
    msgs_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_ns_per_msg: f64,
    cpu_stat_ns_per_msg: f64,
    server_cpu_util: f64,
    wire_bytes_per_msg: f64,
    errors: usize,
    first_error: Option<String>,
}

/// Opens `conns` connections, `limit` handshakes at a time.
async fn open_all(addr: SocketAddr, conns: usize, limit: usize) -> Result<Vec<TcpStream>, String> {
    let mut streams = Vec::with_capacity(conns);
    let mut pending = Vec::new();
    for i in 0..conns {
        pending.push(tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(10), connect(addr)).await
        }));
        if pending.len() == limit || i + 1 == conns {
            for p in pending.drain(..) {
                match p.await {
                    Ok(Ok(Ok(s))) => streams.push(s),
                    Ok(Ok(Err(e))) => return Err(format!("connect: {e}")),
                    Ok(Err(_)) => return Err("connect: timed out".into()),
                    Err(e) => return Err(format!("connect task: {e}")),
                }
            }
        }
    }
    Ok(streams)
}

async fn run_workload(
    server: &Server,
    (name, conns, size): (&str, usize, usize),
    args: &Args,
) -> Result<RunResult, String> {
    let loads = match args.deflate {
        None => open_all(server.addr, conns, 100)
            .await?
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, Load::Plain(PlainEcho::new(i as u64, size))))
            .collect(),
        Some(mode) => {
            let messages = Arc::new(deflate_load::messages(name, size));
            open_deflate(server.addr, conns, mode, messages).await?
        }
    };
    let pace = Pace {
        rate: args.rate,
        conns,
    };
    let flags = Arc::new(Flags {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let tasks: Vec<_> = loads
        .into_iter()
        .enumerate()
        .map(|(i, (s, load))| tokio::spawn(echo_loop(s, i as u64, load, pace, flags.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let perf = start_perf(server, args, conns, size);
    let (cpu0, stat0) = cpu_ns(server.pid());
    let t0 = Instant::now();
    flags.measuring.store(true, Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.secs)).await;
    flags.measuring.store(false, Relaxed);
    let window = t0.elapsed().as_secs_f64();
    let (cpu1, stat1) = cpu_ns(server.pid());
    stop_perf(perf);
    flags.stop.store(true, Relaxed);
    let mut count = 0;
    let mut wire_bytes = 0;
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let r = t.await.map_err(|e| e.to_string())?;
        count += r.count;
        wire_bytes += r.wire_bytes;
        latencies.extend_from_slice(&r.latencies);
        if let Some(e) = r.error {
            errors += 1;
            first_error.get_or_insert(e);
        }
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1000.0
    };
    let count_f = count.max(1) as f64;
    Ok(RunResult {
        msgs_per_sec: count as f64 / window,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        cpu_ns_per_msg: (cpu1 - cpu0) as f64 / count_f,
        cpu_stat_ns_per_msg: (stat1 - stat0) as f64 / count_f,
        server_cpu_util: (cpu1 - cpu0) as f64 / 1e9 / window,
        wire_bytes_per_msg: wire_bytes as f64 / count_f,
        errors,
        first_error,
    })
}

/// A command attached to the server for the measurement window (perf,
/// strace), from `--attach TEMPLATE` with `{pid}`, `{lib}` and
/// `{workload}` replaced; stopped with SIGINT at the end of the window.
fn start_perf(server: &Server, args: &Args, conns: usize, size: usize) -> Option<Child> {
    let template = args.attach.as_deref()?;
    if args
        .attach_libs
        .as_ref()
        .is_some_and(|l| !l.contains(&server.lib))
    {
        return None;
    }
    // Named after every known workload (the extra ones too); a shape given
    // on the command line is named by its numbers.
    let workload = WORKLOADS
        .iter()
        .chain(&EXTRA_WORKLOADS)
        .chain(&DEFLATE_WORKLOADS)
        .find(|w| w.1 == conns && w.2 == size)
        .map_or_else(|| format!("{conns}x{size}B"), |w| w.0.to_owned());
    let command = template
        .replace("{pid}", &server.pid().to_string())
        .replace("{lib}", &server.lib)
        .replace("{workload}", &workload);
    let child = Command::new("sh")
        .args(["-c", &format!("exec {command}")])
        .stdout(Stdio::null())
        .spawn()
        .ok();
    // Give the tool time to attach before the window opens.
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn stop_perf(perf: Option<Child>) {
    if let Some(mut child) = perf {
        // SAFETY: signalling a child we spawned, by its PID.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let _ = child.wait();
    }
}

async fn idle_memory(
    lib: &str,
    threads: Option<usize>,
    conns: usize,
) -> Result<(u64, u64, usize), String> {
    let server = Server::start(lib, threads);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(server.pid());
    let streams = open_all(server.addr, conns, 200).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = rss_kib(server.pid());
    // Abort (RST) rather than close: no TIME_WAIT for thousands of ports.
    for s in streams {
        let _ = s.set_zero_linger();
        drop(s);
    }
    drop(server);
    Ok((before, after, conns))
}

fn emit(out: &mut Option<std::fs::File>, line: String) {
    if let Some(f) = out {
        writeln!(f, "{line}").expect("write results");
    }
}

fn main() {
    let args = parse_args();
    let fd_limit = raise_fd_limit();
    let mut out = args.out.as_ref().map(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .expect("open --out")
    });
    let runtime = match args.client_threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    }
    .enable_all()
    .build()
    .expect("runtime");
    runtime.block_on(async {
        if args.e2e {
            let servers: Vec<Server> = args
                .libs
                .iter()
                .map(|l| Server::start(l, args.server_threads))
                .collect();
            tokio::time::sleep(Duration::from_millis(300)).await;
            println!(
                "e2e: {} round(s), {:.1} s window after {:.1} s warm-up; load client: {} thread(s), raw TCP; \
                 servers: {} worker thread(s){}",
                args.rounds,
                args.secs,
                args.warmup,
                args.client_threads.max(1),
                args.server_threads.unwrap_or(1),
                match args.rate {
                    Some(rate) => format!("; {rate} messages/s per connection"),
                    None => String::new(),
                }
            );
            let deflate = args.deflate.map_or("off", Mode::name);
            println!("permessage-deflate: {deflate}");
            for &(name, conns, size) in &args.workloads {
                let mut by_lib: HashMap<String, Vec<RunResult>> = HashMap::new();
                for round in 0..args.rounds {
                    for k in 0..servers.len() {
                        let server = &servers[(k + round) % servers.len()];
                        let r = match run_workload(server, (name, conns, size), &args).await {
                            Ok(r) => r,
                            Err(e) => {
                                println!("  {name} {}: FAILED {e}", server.lib);
                                continue;
                            }
                        };
                        emit(
                            &mut out,
                            format!(
                                "{{\"type\":\"e2e\",\"workload\":\"{name}\",\"lib\":\"{}\",\"round\":{},\
                                 \"deflate\":\"{deflate}\",\"wire_bytes_per_msg\":{:.1},\"msgs_per_sec\":{:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\
                                 \"cpu_ns_per_msg\":{:.1},\"cpu_stat_ns_per_msg\":{:.1},\
                                 \"server_cpu_util\":{:.3},\"errors\":{}}}",
                                server.lib,
                                round + 1,
                                r.wire_bytes_per_msg,
                                r.msgs_per_sec,
                                r.p50_us,
                                r.p99_us,
                                r.cpu_ns_per_msg,
                                r.cpu_stat_ns_per_msg,
                                r.server_cpu_util,
                                r.errors
                            ),
                        );
                        println!(
                            "  {name:<10} r{} {:<18} {:>10.0} msg/s  p50 {:>8.1} µs  p99 {:>8.1} µs  \
                             cpu {:>7.0} ns/msg (stat {:>7.0})  server cpu {:>4.0}%  wire {:>7.0} B/msg{}",
                            round + 1,
                            server.lib,
                            r.msgs_per_sec,
                            r.p50_us,
                            r.p99_us,
                            r.cpu_ns_per_msg,
                            r.cpu_stat_ns_per_msg,
                            r.server_cpu_util * 100.0,
                            r.wire_bytes_per_msg,
                            match &r.first_error {
                                Some(e) => format!("  {} error(s), first: {e}", r.errors),
                                None => String::new(),
                            }
                        );
                        by_lib.entry(server.lib.clone()).or_default().push(r);
                    }
                }
            }
            drop(servers);
        }
        if args.idle_on {
            let wanted = args.idle;
            // Each connection costs the client one fd and the server one.
            let conns = wanted.min(fd_limit.saturating_sub(64) as usize);
            if conns < wanted {
                println!("idle: fd limit {fd_limit}: {conns} connections instead of {wanted}");
            }
            println!("idle memory: server VmRSS growth over {conns} idle connections");
            for round in 0..args.rounds.min(2) {
                for lib in &args.libs {
                    match idle_memory(lib, args.server_threads, conns).await {
                        Ok((before, after, n)) => {
                            let per = (after as f64 - before as f64) * 1024.0 / n as f64;
                            println!(
                                "  r{} {lib:<18} {before:>8} KiB -> {after:>8} KiB  = {per:>8.0} B/connection",
                                round + 1
                            );
                            emit(
                                &mut out,
                                format!(
                                    "{{\"type\":\"idle\",\"lib\":\"{lib}\",\"round\":{},\"conns\":{n},\
                                     \"rss_before_kib\":{before},\"rss_after_kib\":{after},\
                                     \"bytes_per_conn\":{per:.0}}}",
                                    round + 1
                                ),
                            );
                        }
                        Err(e) => println!("  {lib}: FAILED {e}"),
                    }
                    // Let the aborted sockets go before the next server.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        }
    });
}
