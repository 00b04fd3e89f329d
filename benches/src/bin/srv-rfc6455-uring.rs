//! Echo server on rfc6455's sans-IO core over io_uring (issue 16, item 3):
//! monoio's io_uring driver, one thread, one task per connection,
//! `TCP_NODELAY` on; the same echo as `srv-rfc6455` (every data message
//! sent back, pings answered by the core, the end at the close).
//!
//! No RFC logic lives here: this file only moves bytes between the socket
//! and [`rfc6455::Connection`] (and, before it, the server handshake), and
//! tells the core the time, as the tokio adapter does. io_uring needs
//! buffers that the operation owns until it completes:
//!
//! - reads go straight into the connection's own input buffer: the
//!   `BytesMut` of [`Connection::read_buffer`] is moved into the operation
//!   and handed back with [`Connection::commit_read`] (no copy);
//! - writes cannot: the core lends its output only as borrowed slices
//!   ([`Connection::pending_output_vectored`]), so it is copied into a
//!   buffer of this task's before each write (one copy of every frame;
//!   payloads of a few KiB and more are queued by reference in the core,
//!   so this is the only copy of them on the way out).
//!
//! `RFC6455_URING_OUTPUT=borrow` measures what an owned view of the output
//! would save: the write then points the kernel at the core's own output
//! (a `writev` of the slices), which is sound here only because each write
//! is awaited to completion at once and the connection is not touched (nor
//! the task dropped) meanwhile: an invariant of this loop that the core's
//! API cannot express, hence not the default. `RFC6455_URING_SETUP=defer`
//! sets the ring up for one thread (single issuer, deferred task run).
//! BENCHMARKS.md, "io_uring (issue 16 item 3)", has the figures.

use std::io::{self, IoSlice};
use std::pin::{Pin, pin};
use std::time::Instant;

use bytes::BytesMut;
use futures_util::future::{Either, select};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent, Canceller,
};
use monoio::net::{TcpListener, TcpStream};
use monoio::time::{Sleep, sleep_until};
use rfc6455::handshake::{Accept, ServerHandshake};
use rfc6455::{Config, Connection, Event};

/// The most slices gathered from the core for one write (as the tokio
/// adapter's vectored write).
const WRITE_SLICES: usize = 16;

/// The room for the request head during the opening handshake.
const HANDSHAKE_READ: usize = 4096;

/// How the output reaches the kernel (see the module documentation).
#[derive(Clone, Copy, PartialEq)]
enum Output {
    /// Copied into a buffer the write owns (the default).
    Copy,
    /// The core's own slices, borrowed for the write (an experiment).
    Borrow,
}

fn main() {
    let args = rfc6455_benches::server::args("srv-rfc6455-uring");
    assert_eq!(args.threads, 1, "srv-rfc6455-uring: one thread only");
    let addr = args.addr;
    let output = match std::env::var("RFC6455_URING_OUTPUT").as_deref() {
        Ok("borrow") => Output::Borrow,
        Ok("copy") | Err(_) => Output::Copy,
        Ok(other) => panic!("RFC6455_URING_OUTPUT={other:?}: copy or borrow"),
    };
    let mut ring = io_uring::IoUring::builder();
    match std::env::var("RFC6455_URING_SETUP").as_deref() {
        // Completions are run only when the thread asks for them (in
        // `io_uring_enter`), not by interrupting it: for one thread that
        // owns its ring (Linux 6.1+).
        Ok("defer") => {
            ring.setup_single_issuer().setup_defer_taskrun();
        }
        Ok("") | Err(_) => {}
        Ok(other) => panic!("RFC6455_URING_SETUP={other:?}: defer or nothing"),
    }
    let mut runtime = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
        .uring_builder(ring)
        .enable_timer()
        .build()
        .expect("io_uring runtime (io_uring_setup failed?)");
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).expect("bind");
        rfc6455_benches::server::announce(listener.local_addr().unwrap());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                monoio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            monoio::spawn(serve(stream, output));
        }
    });
}

/// One connection: the handshake, then the echo until the end.
async fn serve(mut stream: TcpStream, output: Output) {
    let config = Config::default();
    let handshake = handshake(&mut stream, &config);
    let Ok(Some(mut conn)) = monoio::time::timeout(config.handshake_timeout, handshake).await
    else {
        return;
    };
    // Large payloads are queued by reference; `write_out` gathers them.
    conn.set_vectored_output(true);
    let mut out = WriteBuf::default();
    let mut timer = None;
    loop {
        let ended = loop {
            match conn.next_event() {
                // A send the core refuses (the connection is closing) is
                // nothing to echo.
                Ok(Some(Event::Message(message))) => drop(conn.send(&message)),
                Ok(Some(_)) => {}
                Ok(None) => break conn.should_close_transport(),
                Err(_) => break true,
            }
        };
        let written;
        (written, out) = write_out(&mut stream, &mut conn, out, output).await;
        if ended || written.is_err() {
            let _ = stream.shutdown().await;
            return;
        }
        if conn.needs_clock() {
            // Before each wait the core is told the time (it may queue a
            // ping or end the connection: then look again first).
            conn.handle_timeout(Instant::now());
            if conn.pending_output_len() > 0 || conn.should_close_transport() {
                continue;
            }
        }
        let buf = conn.read_buffer();
        let (read, buf, timed_out) = read(&mut stream, buf, conn.poll_timeout(), &mut timer).await;
        let eof = matches!(read, Ok(0));
        conn.commit_read(buf);
        match read {
            Ok(_) if eof => conn.receive_eof(),
            Ok(_) => {}
            // The cancelled read of a timer that ran out.
            Err(_) if timed_out => {}
            Err(_) => return,
        }
        if timed_out {
            conn.handle_timeout(Instant::now());
        }
    }
}

/// The opening handshake, by the core's [`ServerHandshake`]: the
/// connection (its output starts with the 101 response), or `None` when
/// the handshake failed (after writing the error response it queued).
async fn handshake(stream: &mut TcpStream, config: &Config) -> Option<Connection> {
    let mut hs = ServerHandshake::new(config);
    let mut buf = Vec::with_capacity(HANDSHAKE_READ);
    loop {
        buf.clear();
        let read;
        (read, buf) = stream.read(buf).await;
        let result = match read {
            Ok(0) | Err(_) => return None,
            Ok(_) => hs.receive_data(&buf),
        };
        let accepted = match result {
            Ok(None) => continue,
            Ok(Some(request)) => hs.accept(&request, Accept::new()),
            Err(e) => Err(e),
        };
        if let Ok(conn) = accepted {
            return Some(conn);
        }
        let response = hs.pending_output().to_vec();
        let _ = stream.write_all(response).await;
        return None;
    }
}

/// What a connection writes from: the owned buffers handed to io_uring
/// and back, kept from one write to the next.
#[derive(Default)]
struct WriteBuf {
    /// The copy of the output ([`Output::Copy`]).
    bytes: Vec<u8>,
    /// The slices of the core's output ([`Output::Borrow`]).
    iovecs: Vec<libc::iovec>,
}

/// Writes all of the connection's pending output, at most
/// [`WRITE_SLICES`] slices of it per write: copied into `out` (io_uring
/// must own the buffer while the kernel reads it) or, with
/// [`Output::Borrow`], pointed at. Returns `out` for the next time.
async fn write_out(
    stream: &mut TcpStream,
    conn: &mut Connection,
    mut out: WriteBuf,
    output: Output,
) -> (io::Result<()>, WriteBuf) {
    while conn.pending_output_len() > 0 {
        let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
        let n = conn.pending_output_vectored(&mut slices);
        let written = if output == Output::Borrow {
            out.iovecs.clear();
            out.iovecs.extend(slices[..n].iter().map(|s| libc::iovec {
                iov_base: s.as_ptr().cast_mut().cast(),
                iov_len: s.len(),
            }));
            // The slices stay valid until the write completes: it is
            // awaited here, and `conn` is not used before it has.
            let written;
            (written, out.iovecs) = stream.writev(out.iovecs).await;
            written
        } else {
            out.bytes.clear();
            for slice in &slices[..n] {
                out.bytes.extend_from_slice(slice);
            }
            let written;
            (written, out.bytes) = stream.write(out.bytes).await;
            written
        };
        match written {
            Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), out),
            Ok(n) => conn.consume_output(n),
            Err(e) => return (Err(e), out),
        }
    }
    (Ok(()), out)
}

/// One read into `buf`, racing the connection's timer when it has one
/// (`at`): the result, the buffer, and whether the timer ran out (the read
/// was then cancelled; bytes it got before the cancel are in `buf`).
///
/// The timer is kept across reads and moved only when it would fire late,
/// as the tokio adapter does: every message moves the keepalive deadline.
async fn read(
    stream: &mut TcpStream,
    buf: BytesMut,
    at: Option<Instant>,
    timer: &mut Option<Pin<Box<Sleep>>>,
) -> (io::Result<usize>, BytesMut, bool) {
    let Some(at) = at else {
        *timer = None;
        let (read, buf) = stream.read(buf).await;
        return (read, buf, false);
    };
    let at = monoio::time::Instant::from_std(at);
    let timer = timer.get_or_insert_with(|| Box::pin(sleep_until(at)));
    if timer.is_elapsed() || timer.deadline() > at {
        timer.as_mut().reset(at);
    }
    let canceller = Canceller::new();
    let mut reading = pin!(stream.cancelable_read(buf, canceller.handle()));
    match select(reading.as_mut(), timer.as_mut()).await {
        Either::Left(((read, buf), _)) => (read, buf, false),
        Either::Right(((), _)) => {
            drop(canceller.cancel());
            let (read, buf) = reading.await;
            (read, buf, true)
        }
    }
}
