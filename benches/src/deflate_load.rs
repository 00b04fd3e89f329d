//! The load client's permessage-deflate side (RFC 7692), for
//! `bench-e2e --deflate takeover|no-takeover`: still no WebSocket library.
//! The handshake offers `permessage-deflate` and checks that the server
//! agreed; every message is compressed here with flate2 (raw deflate, sync
//! flush, the trailing `00 00 ff ff` removed, RSV1 set), and every echo is
//! inflated and compared with what was sent.
//!
//! With no context takeover, the client resets its compressor before
//! every message, and its decompressor too when the server said
//! `server_no_context_takeover`: a server that kept its window anyway would
//! refer back into the previous message and fail the check.
//!
//! Payloads: a pool of [`POOL`] distinct, deterministic messages per
//! workload (JSON records, or prose), each connection going round the pool
//! from its own offset, so that no message repeats the one before it.

use std::io;
use std::net::SocketAddr;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::frames::{put_header, xor_mask};
use crate::handshake::{CLIENT_KEY, accept_key, client_request, read_head};

/// With or without context takeover (both directions alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each side keeps its window from message to message.
    Takeover,
    /// `client_no_context_takeover; server_no_context_takeover`.
    NoTakeover,
}

impl Mode {
    /// From the command line: `takeover` or `no-takeover`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "takeover" => Some(Mode::Takeover),
            "no-takeover" => Some(Mode::NoTakeover),
            _ => None,
        }
    }

    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Takeover => "takeover",
            Mode::NoTakeover => "no-takeover",
        }
    }

    /// The `Sec-WebSocket-Extensions` offer.
    pub fn offer(self) -> &'static str {
        match self {
            Mode::Takeover => "permessage-deflate",
            Mode::NoTakeover => {
                "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
            }
        }
    }
}

/// The workloads of the deflate mode: connections × message size; the
/// name's suffix says what the messages hold.
pub const DEFLATE_WORKLOADS: [(&str, usize, usize); 2] = [
    ("100x1KiB-json", 100, 1024),
    ("10x64KiB-text", 10, 64 << 10),
];

/// The servers with permessage-deflate on (`srv-*`); rfc6455's first.
/// fastwebsockets 0.10, tokio-tungstenite 0.30 and tokio-websockets 0.13
/// do not implement permessage-deflate.
pub const DEFLATE_LIBS: [&str; 3] = ["rfc6455-deflate", "yawc-deflate", "sockudo-ws-deflate"];

/// Distinct messages per workload.
pub const POOL: usize = 64;

/// The DEFLATE level the client compresses with.
pub const CLIENT_LEVEL: u32 = 3;

/// [`POOL`] messages of `size` bytes for a workload: JSON records for a
/// name ending in `-json`, prose otherwise.
pub fn messages(workload: &str, size: usize) -> Vec<Vec<u8>> {
    (0..POOL as u64)
        .map(|seed| {
            if workload.ends_with("-json") {
                json_message(seed, size)
            } else {
                text_message(seed, size)
            }
        })
        .collect()
}

/// A deterministic xorshift generator: variety, not secrecy.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

const WORDS: [&str; 48] = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "market", "server", "window", "message", "frame", "latency", "river",
];

/// A JSON document of exactly `size` bytes (at least ~64): an event batch
/// with records of varying fields and numbers, as a trading or telemetry
/// feed sends, the end filled by a `note` string.
pub fn json_message(seed: u64, size: usize) -> Vec<u8> {
    use serde_json::{Value, json};
    const EVENTS: [&str; 6] = ["view", "click", "purchase", "refund", "login", "logout"];
    const USERS: [&str; 8] = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    const TAGS: [&str; 7] = ["new", "mobile", "eu", "us", "beta", "promo", "vip"];
    let mut rng = Rng::new(seed + 1);
    let mut records = Vec::new();
    let doc = |records: &Vec<Value>| json!({"seq": seed, "source": "bench", "events": records});
    loop {
        let mut record = json!({
            "id": 100_000 + rng.below(900_000),
            "user": format!("{}{}", rng.pick(&USERS), rng.below(1000)),
            "event": rng.pick(&EVENTS),
            "ts": 1_765_000_000_000u64 + rng.below(86_400_000),
            "price": (rng.below(1_000_000) as f64) / 100.0,
            "qty": rng.below(50),
        });
        if rng.below(2) == 0 {
            let tags: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(&TAGS)).collect();
            record["tags"] = json!(tags);
        }
        if rng.below(3) == 0 {
            record["geo"] = json!({
                "lat": (rng.below(180_000) as f64) / 1000.0 - 90.0,
                "lon": (rng.below(360_000) as f64) / 1000.0 - 180.0,
            });
        }
        records.push(record);
        // Room for the note: `,"note":""` is 10 bytes.
        if serde_json::to_vec(&doc(&records)).unwrap().len() + 10 > size {
            records.pop();
            break;
        }
    }
    let mut value = doc(&records);
    let base = serde_json::to_vec(&value).unwrap().len() + 10;
    let mut note = words(&mut rng, size.saturating_sub(base));
    note.truncate(size.saturating_sub(base));
    value["note"] = json!(note);
    serde_json::to_vec(&value).unwrap()
}

/// Prose of exactly `size` ASCII bytes: sentences of common words with
/// numbers now and then.
pub fn text_message(seed: u64, size: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed + 1_000_003);
    let mut text = words(&mut rng, size);
    text.truncate(size);
    text.into_bytes()
}

/// At least `len` bytes of sentences.
fn words(rng: &mut Rng, len: usize) -> String {
    let mut text = String::with_capacity(len + 16);
    let mut start = true;
    while text.len() < len {
        let word = if rng.below(12) == 0 {
            rng.below(100_000).to_string()
        } else {
            rng.pick(&WORDS).to_owned()
        };
        if start {
            let mut chars = word.chars();
            if let Some(c) = chars.next() {
                text.push(c.to_ascii_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push_str(&word);
        }
        start = rng.below(10) == 0;
        text.push_str(if start { ". " } else { " " });
    }
    text
}

/// What the server agreed to, from its `Sec-WebSocket-Extensions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreed {
    /// The server resets its compressor per message: the client may reset
    /// its decompressor (and does, which checks it).
    pub server_no_context_takeover: bool,
    /// The client must reset its compressor per message.
    pub client_no_context_takeover: bool,
}

/// Reads the agreement from a 101 response head, or says why there is
/// none: no `permessage-deflate` in the response, an unknown parameter,
/// or (for `mode` no-takeover) no `server_no_context_takeover`.
pub fn agreed(head: &str, mode: Mode) -> Result<Agreed, String> {
    let value = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_owned())
        })
        .ok_or("the server did not agree to permessage-deflate (no Sec-WebSocket-Extensions)")?;
    let mut params = value.split(';').map(str::trim);
    if params.next() != Some("permessage-deflate") || value.contains(',') {
        return Err(format!(
            "the server agreed to {value:?}, not permessage-deflate"
        ));
    }
    let mut agreed = Agreed {
        server_no_context_takeover: false,
        client_no_context_takeover: mode == Mode::NoTakeover,
    };
    for param in params {
        let name = param.split('=').next().unwrap_or("").trim();
        match name {
            "server_no_context_takeover" => agreed.server_no_context_takeover = true,
            "client_no_context_takeover" => agreed.client_no_context_takeover = true,
            // Our inflater keeps a 15-bit window, which reads any smaller one.
            "server_max_window_bits" => {}
            _ => return Err(format!("unexpected parameter in {value:?}")),
        }
    }
    if mode == Mode::NoTakeover && !agreed.server_no_context_takeover {
        return Err(format!(
            "server_no_context_takeover was offered but not agreed: {value:?}"
        ));
    }
    Ok(agreed)
}

/// Connects and runs the handshake with the offer of `mode`; fails unless
/// the server agreed to permessage-deflate. Returns the stream, the
/// agreement and any bytes read past the response.
pub async fn connect(addr: SocketAddr, mode: Mode) -> io::Result<(TcpStream, Agreed, Vec<u8>)> {
    let socket = TcpSocket::new_v4()?;
    socket.set_nodelay(true)?;
    let mut stream = socket.connect(addr).await?;
    let plain = client_request("127.0.0.1");
    let request = format!(
        "{}Sec-WebSocket-Extensions: {}\r\n\r\n",
        plain.strip_suffix("\r\n").unwrap_or(&plain),
        mode.offer()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(512);
    let head = read_head(&mut stream, &mut buf).await?;
    let text = String::from_utf8_lossy(&buf[..head]).into_owned();
    if !text.starts_with("HTTP/1.1 101") {
        let line = text.lines().next().unwrap_or("").to_owned();
        return Err(io::Error::other(format!("handshake refused: {line}")));
    }
    if !text.contains(&accept_key(CLIENT_KEY)) {
        return Err(io::Error::other("bad Sec-WebSocket-Accept"));
    }
    let agreed = agreed(&text, mode).map_err(io::Error::other)?;
    Ok((stream, agreed, buf.split_off(head)))
}

/// The trailer a sync flush ends with, removed before sending (RFC 7692
/// §7.2.1) and put back before inflating (§7.2.2).
const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// The client's compressor and decompressor for one connection.
pub struct Codec {
    compress: Compress,
    decompress: Decompress,
    agreed: Agreed,
}

impl Codec {
    /// A codec for what was agreed.
    pub fn new(agreed: Agreed) -> Codec {
        Codec {
            compress: Compress::new(Compression::new(CLIENT_LEVEL), false),
            decompress: Decompress::new(false),
            agreed,
        }
    }

    /// Appends one masked text frame, RSV1 set, carrying `message`
    /// compressed.
    pub fn encode(&mut self, message: &[u8], key: [u8; 4], frame: &mut Vec<u8>) {
        if self.agreed.client_no_context_takeover {
            self.compress.reset();
        }
        let mut body = Vec::with_capacity(message.len() / 2 + 64);
        let start = self.compress.total_in();
        loop {
            let done = (self.compress.total_in() - start) as usize;
            self.compress
                .compress_vec(&message[done..], &mut body, FlushCompress::Sync)
                .expect("deflate");
            // The flush is complete once all input is in and room is left.
            if (self.compress.total_in() - start) as usize == message.len()
                && body.len() < body.capacity()
            {
                break;
            }
            body.reserve(body.capacity().max(1024));
        }
        assert!(body.ends_with(&TAIL), "a sync flush ends with 00 00 ff ff");
        body.truncate(body.len() - TAIL.len());
        let at = frame.len();
        put_header(frame, 0x1, body.len(), Some(key));
        frame[at] |= 0x40; // RSV1: a compressed message (RFC 7692 §6).
        let start = frame.len();
        frame.extend_from_slice(&body);
        xor_mask(&mut frame[start..], key);
    }

    /// Inflates one message's payload into `out` (cleared first), at most
    /// `limit` bytes.
    pub fn inflate(
        &mut self,
        payload: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), String> {
        if self.agreed.server_no_context_takeover {
            self.decompress.reset(false);
        }
        out.clear();
        for part in [payload, &TAIL[..]] {
            let start = self.decompress.total_in();
            loop {
                if out.len() == out.capacity() {
                    out.reserve(out.capacity().max(1024));
                }
                let done = (self.decompress.total_in() - start) as usize;
                self.decompress
                    .decompress_vec(&part[done..], out, FlushDecompress::Sync)
                    .map_err(|e| format!("inflate: {e}"))?;
                if out.len() > limit {
                    return Err(format!("inflated past {limit} bytes"));
                }
                if (self.decompress.total_in() - start) as usize == part.len()
                    && out.len() < out.capacity()
                {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// One connection's load in the deflate mode: the messages it sends in
/// turn, its codec and its buffers.
pub struct DeflateEcho {
    codec: Codec,
    messages: std::sync::Arc<Vec<Vec<u8>>>,
    next: usize,
    key: [u8; 4],
    frame: Vec<u8>,
    input: Vec<u8>,
    payload: Vec<u8>,
    inflated: Vec<u8>,
}

impl DeflateEcho {
    /// Connection `id` over `messages`, after [`connect`].
    pub fn new(
        id: u64,
        agreed: Agreed,
        messages: std::sync::Arc<Vec<Vec<u8>>>,
        leftover: Vec<u8>,
    ) -> DeflateEcho {
        DeflateEcho {
            codec: Codec::new(agreed),
            next: id as usize % messages.len(),
            messages,
            key: crate::frames::key(id + 7),
            frame: Vec::new(),
            input: leftover,
            payload: Vec::new(),
            inflated: Vec::new(),
        }
    }

    /// Sends the next message, reads the whole echo, checks it; returns
    /// the bytes sent and received (WebSocket frames, not TCP headers).
    pub async fn round_trip(&mut self, stream: &mut TcpStream) -> Result<u64, String> {
        let message = &self.messages[self.next];
        self.next = (self.next + 1) % self.messages.len();
        self.frame.clear();
        self.codec.encode(message, self.key, &mut self.frame);
        stream
            .write_all(&self.frame)
            .await
            .map_err(|e| e.to_string())?;
        let (compressed, received) = read_message(stream, &mut self.input, &mut self.payload)
            .await
            .map_err(|e| e.to_string())?;
        let echo = if compressed {
            self.codec
                .inflate(&self.payload, &mut self.inflated, message.len() * 2 + 1024)?;
            &self.inflated
        } else {
            &self.payload
        };
        if echo != message {
            return Err("wrong echo".into());
        }
        Ok((self.frame.len() + received) as u64)
    }
}

/// Reads one whole text message (unmasked server frames up to FIN) into
/// `payload`; `input` holds what was read past it. Returns whether RSV1
/// was set and the bytes read from the socket.
async fn read_message(
    stream: &mut TcpStream,
    input: &mut Vec<u8>,
    payload: &mut Vec<u8>,
) -> io::Result<(bool, usize)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    payload.clear();
    let mut received = 0;
    let mut first = true;
    let mut compressed = false;
    loop {
        let (fin, header, len) = loop {
            if let Some(parsed) = parse_header(input) {
                break parsed;
            }
            received += read_more(stream, input).await?;
        };
        let (b0, opcode) = (input[0], input[0] & 0x0f);
        if opcode != if first { 0x1 } else { 0x0 } || input[1] & 0x80 != 0 {
            return Err(bad("expected an unmasked text frame or its continuation"));
        }
        if first {
            compressed = b0 & 0x40 != 0;
        }
        while input.len() < header + len {
            received += read_more(stream, input).await?;
        }
        payload.extend_from_slice(&input[header..header + len]);
        input.drain(..header + len);
        first = false;
        if fin {
            return Ok((compressed, received));
        }
    }
}

async fn read_more(stream: &mut TcpStream, input: &mut Vec<u8>) -> io::Result<usize> {
    input.reserve(64 << 10);
    match stream.read_buf(input).await? {
        0 => Err(io::ErrorKind::UnexpectedEof.into()),
        n => Ok(n),
    }
}

/// FIN, header length and payload length of the frame at the start of
/// `input`, once its header is there.
fn parse_header(input: &[u8]) -> Option<(bool, usize, usize)> {
    let (&b0, rest) = input.split_first()?;
    let (&b1, rest) = rest.split_first()?;
    let (header, len) = match b1 & 0x7f {
        126 => (
            4,
            u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize,
        ),
        127 => (
            10,
            u64::from_be_bytes(rest.get(..8)?.try_into().ok()?) as usize,
        ),
        n => (2, n as usize),
    };
    Some((b0 & 0x80 != 0, header, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_their_size_and_differ() {
        for (name, _, size) in DEFLATE_WORKLOADS {
            let pool = messages(name, size);
            assert!(pool.iter().all(|m| m.len() == size), "{name}");
            assert!(pool.windows(2).all(|w| w[0] != w[1]), "{name}");
            if name.ends_with("-json") {
                let v: serde_json::Value = serde_json::from_slice(&pool[3]).unwrap();
                assert!(v["events"].as_array().unwrap().len() > 2);
            }
        }
    }

    #[test]
    fn a_compressed_frame_inflates_to_the_message() {
        for agreed in [
            Agreed {
                server_no_context_takeover: false,
                client_no_context_takeover: false,
            },
            Agreed {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
            },
        ] {
            let mut client = Codec::new(agreed);
            // A server's view: inflate what the client compressed.
            let mut server = Codec::new(agreed);
            for message in messages("x-json", 1024).iter().take(5) {
                let mut frame = Vec::new();
                client.encode(message, [1, 2, 3, 4], &mut frame);
                assert_eq!(frame[0], 0xc1, "FIN, RSV1, text");
                let (_, header, len) = parse_header(&frame).unwrap();
                let header = header + 4;
                let mut body = frame[header..].to_vec();
                assert_eq!(body.len(), len);
                xor_mask(&mut body, [1, 2, 3, 4]);
                let mut out = Vec::new();
                server.inflate(&body, &mut out, 4096).unwrap();
                assert_eq!(&out, message);
                assert!(len < message.len() * 3 / 4, "compresses: {len}");
            }
        }
    }

    #[test]
    fn the_agreement_is_read_and_checked() {
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n";
        let with = |ext: &str| format!("{head}Sec-WebSocket-Extensions: {ext}\r\n\r\n");
        assert!(agreed(&format!("{head}\r\n"), Mode::Takeover).is_err());
        let a = agreed(&with("permessage-deflate"), Mode::Takeover).unwrap();
        assert!(!a.server_no_context_takeover && !a.client_no_context_takeover);
        assert!(agreed(&with("permessage-deflate"), Mode::NoTakeover).is_err());
        let a = agreed(
            &with("permessage-deflate; server_no_context_takeover"),
            Mode::NoTakeover,
        )
        .unwrap();
        assert!(a.server_no_context_takeover && a.client_no_context_takeover);
        assert!(agreed(&with("x-webkit-deflate-frame"), Mode::Takeover).is_err());
    }
}
