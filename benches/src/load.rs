//! What one load connection of `bench-e2e` sends and checks: a plain
//! binary message, or compressed text (see [`crate::deflate_load`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::deflate_load::{self, DeflateEcho, Mode};
use crate::frames::{Kind, payload, put_header, xor_mask};

/// One plain binary message, its masked frame built once (one key per
/// connection: servers cannot tell) and the echo expected.
pub struct PlainEcho {
    frame: Vec<u8>,
    expected: Vec<u8>,
    buf: Vec<u8>,
}

impl PlainEcho {
    /// Connection `id`'s message of `size` bytes.
    pub fn new(id: u64, size: usize) -> PlainEcho {
        let data = payload(Kind::Binary, size);
        let key = crate::frames::key(id + 7);
        let mut frame = Vec::with_capacity(size + 14);
        put_header(&mut frame, Kind::Binary.opcode(), size, Some(key));
        let start = frame.len();
        frame.extend_from_slice(&data);
        xor_mask(&mut frame[start..], key);
        let mut expected = Vec::with_capacity(size + 10);
        put_header(&mut expected, Kind::Binary.opcode(), size, None);
        expected.extend_from_slice(&data);
        let buf = vec![0u8; expected.len()];
        PlainEcho {
            frame,
            expected,
            buf,
        }
    }

    /// Sends the message, reads and checks the echo; returns the bytes
    /// sent and received.
    pub async fn round_trip(&mut self, stream: &mut TcpStream) -> Result<u64, String> {
        stream
            .write_all(&self.frame)
            .await
            .map_err(|e| e.to_string())?;
        stream
            .read_exact(&mut self.buf)
            .await
            .map_err(|e| e.to_string())?;
        if self.buf != self.expected {
            return Err("wrong echo".into());
        }
        Ok((self.frame.len() + self.buf.len()) as u64)
    }
}

/// What one connection sends and checks.
pub enum Load {
    /// A binary message, uncompressed.
    Plain(PlainEcho),
    /// Compressed text (`--deflate`).
    Deflate(Box<DeflateEcho>),
}

impl Load {
    /// Sends the message, reads and checks the echo; returns the bytes
    /// sent and received.
    pub async fn round_trip(&mut self, stream: &mut TcpStream) -> Result<u64, String> {
        match self {
            Load::Plain(p) => p.round_trip(stream).await,
            Load::Deflate(d) => d.round_trip(stream).await,
        }
    }
}

/// The connections of a deflate workload, with the server's agreement
/// checked on each, and their loads.
pub async fn open_deflate(
    addr: SocketAddr,
    conns: usize,
    mode: Mode,
    messages: Arc<Vec<Vec<u8>>>,
) -> Result<Vec<(TcpStream, Load)>, String> {
    let mut out = Vec::with_capacity(conns);
    for id in 0..conns as u64 {
        let connect =
            tokio::time::timeout(Duration::from_secs(10), deflate_load::connect(addr, mode));
        let (stream, agreed, leftover) = connect
            .await
            .map_err(|_| "connect: timed out".to_owned())?
            .map_err(|e| format!("connect: {e}"))?;
        let load = DeflateEcho::new(id, agreed, messages.clone(), leftover);
        out.push((stream, Load::Deflate(Box::new(load))));
    }
    Ok(out)
}

/// When each connection of a load sends: as soon as its echo is back, or
/// paced to a rate.
#[derive(Clone, Copy)]
pub struct Pace {
    /// Messages per second per connection, if paced.
    pub rate: Option<f64>,
    /// How many connections share the load (their phases spread evenly
    /// over one period).
    pub conns: usize,
}

impl Pace {
    /// Connection `id`'s send times, if paced.
    pub fn ticks(self, id: u64) -> Option<tokio::time::Interval> {
        let rate = self.rate?;
        let period = Duration::from_secs_f64(1.0 / rate);
        let phase = period.mul_f64(id as f64 / self.conns.max(1) as f64);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
        // A late message is sent at once and the rest keep their times.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Some(ticks)
    }
}
