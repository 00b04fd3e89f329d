//! Where an idle connection's memory goes: the heap allocations alive per
//! open, idle connection (handshake done, nothing sent), counted by a
//! counting global allocator, by size.
//!
//! One process: the server (one of the echo handlers, one tokio
//! current-thread runtime on its own thread, as the `srv-*` binaries run
//! it) and a raw-TCP client on the main thread. Only the server thread's
//! allocations are counted. For each size, live allocations before and
//! after opening N connections, ÷ N; "malloc footprint" adds what glibc
//! really reserves per block (`malloc_usable_size` + its 8-byte chunk
//! header). What the footprint does not show and RSS does: memory freed
//! by the handshakes that the allocator keeps (fragmentation), and the
//! pages of the runtime's own tables.
//!
//! ```text
//! idle-alloc [--conns N] [--lib tcp-only|rfc6455|rfc6455-no-keepalive|fastwebsockets|tokio-websockets]
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Exact sizes up to 4 KiB; larger blocks share the last bucket.
const BUCKETS: usize = 4097;

static LIVE: [AtomicI64; BUCKETS] = [const { AtomicI64::new(0) }; BUCKETS];
/// Allocations made, freed or not.
static MADE: [AtomicI64; BUCKETS] = [const { AtomicI64::new(0) }; BUCKETS];
static LIVE_LARGE_BYTES: AtomicI64 = AtomicI64::new(0);
static FOOTPRINT: AtomicI64 = AtomicI64::new(0);

thread_local! {
    /// Allocations on this thread are counted.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

/// Records that `ptr` (of `layout`) became live (`sign` 1) or is about to
/// be freed (`sign` -1), if this thread is counted.
fn note(ptr: *mut u8, layout: Layout, sign: i64) {
    if !COUNTED.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let size = layout.size();
    LIVE[size.min(BUCKETS - 1)].fetch_add(sign, Relaxed);
    if sign > 0 {
        MADE[size.min(BUCKETS - 1)].fetch_add(1, Relaxed);
    }
    if size >= BUCKETS - 1 {
        LIVE_LARGE_BYTES.fetch_add(sign * size as i64, Relaxed);
    }
    // SAFETY: `ptr` is a live block from the system allocator (malloc or
    // posix_memalign on Linux).
    let usable = unsafe { libc::malloc_usable_size(ptr.cast()) };
    FOOTPRINT.fetch_add(sign * (usable as i64 + 8), Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; the
// bookkeeping allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            note(ptr, layout, 1);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            note(ptr, layout, 1);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(ptr, layout, -1);
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(ptr, layout, -1);
        // SAFETY: forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if new.is_null() {
            note(ptr, layout, 1);
        } else {
            // SAFETY: the caller guarantees `new_size` is a valid size for
            // this alignment.
            let grown = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            note(new, grown, 1);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The counters at one moment.
struct Snapshot {
    live: Vec<i64>,
    made: Vec<i64>,
    large_bytes: i64,
    footprint: i64,
}

fn snapshot() -> Snapshot {
    Snapshot {
        live: LIVE.iter().map(|c| c.load(Relaxed)).collect(),
        made: MADE.iter().map(|c| c.load(Relaxed)).collect(),
        large_bytes: LIVE_LARGE_BYTES.load(Relaxed),
        footprint: FOOTPRINT.load(Relaxed),
    }
}

/// rfc6455 with keepalive off (it is on by default).
async fn rfc6455_no_keepalive(stream: TcpStream) {
    use rfc6455::Config;
    use rfc6455::handshake::Accept;
    let config = Config::default().keepalive(None, Duration::from_secs(20));
    let Ok(mut ws) =
        rfc6455::tokio::accept_with_config(stream, config, |_| Ok(Accept::new())).await
    else {
        return;
    };
    while let Ok(message) = ws.read().await {
        if ws.send(message).await.is_err() {
            return;
        }
    }
}

/// Serves `handler` on `listener` on this thread, counting its
/// allocations, until the process ends.
fn serve<F, Fut>(handler: F, listener: std::net::TcpListener)
where
    F: Fn(TcpStream) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    COUNTED.with(|c| c.set(true));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::task::spawn_local(handler(stream));
        }
    });
}

async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_nodelay(true)?;
    let mut stream = socket.connect(addr).await?;
    let leftover = rfc6455_benches::handshake::client_connect(&mut stream, "127.0.0.1").await?;
    assert!(leftover.is_empty());
    Ok(stream)
}

/// The client, in the forked child: waits for `go`, opens `conns`
/// connections (200 handshakes at a time, as `bench-e2e` does), writes
/// to `done`, then holds them until the parent is gone.
fn client(addr: SocketAddr, conns: usize, go: i32, done: i32) -> ! {
    let mut byte = [0u8; 1];
    // SAFETY: reading one byte from a pipe we own into a local buffer.
    unsafe { libc::read(go, byte.as_mut_ptr().cast(), 1) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let streams = runtime.block_on(async {
        let mut streams = Vec::with_capacity(conns);
        let mut pending = Vec::new();
        for i in 0..conns {
            pending.push(tokio::spawn(tokio::time::timeout(
                Duration::from_secs(10),
                connect(addr),
            )));
            if pending.len() == 200 || i + 1 == conns {
                for p in pending.drain(..) {
                    streams.push(p.await.expect("task").expect("timeout").expect("connect"));
                }
            }
        }
        streams
    });
    // SAFETY: writing one byte to a pipe we own; then a blocking read that
    // returns when the parent exits (end of the pipe).
    unsafe {
        libc::write(done, byte.as_ptr().cast(), 1);
        libc::read(go, byte.as_mut_ptr().cast(), 1);
    }
    for s in &streams {
        let _ = s.set_zero_linger();
    }
    std::process::exit(0);
}

fn rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Heap bytes held by the allocator, and of them the free ones.
fn heap() -> (i64, i64) {
    // SAFETY: a plain libc query.
    let info = unsafe { libc::mallinfo2() };
    ((info.arena + info.hblkhd) as i64, info.fordblks as i64)
}

fn main() {
    let mut conns = 5000usize;
    let mut lib = String::from("rfc6455");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--conns" => conns = value().parse().expect("--conns"),
            "--lib" => lib = value(),
            other => panic!("unknown argument {other:?}"),
        }
    }
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        conns = conns.min((lim.rlim_cur as usize).saturating_sub(64));
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let (mut go, mut done) = ([0i32; 2], [0i32; 2]);
    // SAFETY: pipes into local arrays; `fork` while this process has one
    // thread, the child only runs `client` and exits.
    let child = unsafe {
        assert_eq!(libc::pipe(go.as_mut_ptr()), 0);
        assert_eq!(libc::pipe(done.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            drop(listener);
            libc::close(go[1]);
            libc::close(done[0]);
            client(addr, conns, go[0], done[1]);
        }
        libc::close(go[0]);
        libc::close(done[1]);
        pid
    };
    let (go, done) = (go[1], done[0]);
    let name = lib.clone();
    // The watcher: measures before and after the client connects, reports,
    // ends both processes.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let before = snapshot();
        let (rss0, (heap0, free0)) = (rss_kib(), heap());
        let mut byte = [1u8; 1];
        // SAFETY: one byte each way through our pipes.
        unsafe {
            libc::write(go, byte.as_ptr().cast(), 1);
            assert_eq!(
                libc::read(done, byte.as_mut_ptr().cast(), 1),
                1,
                "client failed"
            );
        }
        std::thread::sleep(Duration::from_millis(1500));
        let after = snapshot();
        let (rss1, (heap1, free1)) = (rss_kib(), heap());
        report(&name, conns, &before, &after);
        let per = |d: i64| d as f64 / conns as f64;
        println!(
            "| VmRSS growth | | {:.0} (allocator heap {:.0}, of it free {:.0}) |",
            per((rss1 - rss0) * 1024),
            per(heap1 - heap0),
            per(free1 - free0)
        );
        // SAFETY: ending the child we forked, by its PID.
        unsafe { libc::kill(child, libc::SIGKILL) };
        std::process::exit(0);
    });
    use rfc6455_benches::echo;
    match lib.as_str() {
        "tcp-only" => serve(echo::tcp_only, listener),
        "rfc6455" => serve(echo::rfc6455, listener),
        "rfc6455-no-keepalive" => serve(rfc6455_no_keepalive, listener),
        "fastwebsockets" => serve(echo::fastwebsockets, listener),
        "tokio-websockets" => serve(echo::tokio_websockets, listener),
        other => panic!("unknown --lib {other:?}"),
    }
}

fn report(lib: &str, n: usize, before: &Snapshot, after: &Snapshot) {
    let per = |v: i64| v as f64 / n as f64;
    let mut count = 0i64;
    let mut bytes = 0i64;
    println!("{lib}: heap alive per idle connection, over {n} connections");
    println!();
    println!(
        "| block size (requested) | blocks / connection | bytes / connection | made / connection (freed or not) |"
    );
    println!("|---:|---:|---:|---:|");
    for size in 0..BUCKETS {
        let d = after.live[size] - before.live[size];
        let m = after.made[size] - before.made[size];
        let b = if size == BUCKETS - 1 {
            after.large_bytes - before.large_bytes
        } else {
            d * size as i64
        };
        count += d;
        bytes += b;
        // Sizes held by at least one connection in ten.
        if d.unsigned_abs() as usize * 10 >= n || m as usize * 10 >= n {
            let label = if size == BUCKETS - 1 {
                format!("≥ {size}")
            } else {
                size.to_string()
            };
            println!(
                "| {label} | {:.2} | {:.0} | {:.2} |",
                per(d),
                per(b),
                per(m)
            );
        }
    }
    println!(
        "| all | {:.2} | {:.0} (malloc footprint {:.0}) |",
        per(count),
        per(bytes),
        per(after.footprint - before.footprint)
    );
}
