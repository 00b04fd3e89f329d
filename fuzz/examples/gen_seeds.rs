//! Writes the committed seed corpus, `fuzz/seeds/<target>/`.
//!
//! Run from `fuzz/`: `cargo run --example gen_seeds`. Each target's folder
//! is emptied and rewritten, so the corpus is exactly what this file says.
//! The input formats are documented in each target's module in `src/`.

use std::fs;
use std::path::Path;

use rfc6455_fuzz::connection::Op;
use rfc6455_fuzz::handshake::EXPECTED_ACCEPT;
use rfc6455_fuzz::setup::{HANDSHAKE_KEY, base64_key};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// How a frame's length is written.
#[derive(Clone, Copy)]
enum Len {
    /// The shortest form.
    Minimal,
    /// The 16-bit form whatever the length (non-minimal for < 126).
    Bits16,
    /// The 64-bit form whatever the length.
    Bits64,
    /// This length in the header, and no payload after it.
    Declared(u64),
}

/// One frame: the first byte (FIN, RSV, opcode) as given.
fn raw_frame(first: u8, mask: Option<[u8; 4]>, payload: &[u8], len: Len) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let n = match len {
        Len::Declared(n) => n,
        _ => payload.len() as u64,
    };
    match (len, n) {
        (Len::Minimal | Len::Declared(_), 0..=125) => out.push(mask_bit | n as u8),
        (Len::Bits16, _) | (Len::Minimal | Len::Declared(_), 126..=0xffff) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    if !matches!(len, Len::Declared(_)) {
        out.extend(payload.iter().enumerate().map(|(i, b)| match mask {
            Some(key) => b ^ key[i % 4],
            None => *b,
        }));
    }
    out
}

/// Frames as one role sends them (masked from a client) for the other.
#[derive(Clone, Copy)]
struct Peer {
    mask: Option<[u8; 4]>,
}

impl Peer {
    fn frame(self, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let first = if fin { 0x80 } else { 0 } | opcode;
        raw_frame(first, self.mask, payload, Len::Minimal)
    }
    fn text(self, text: &str) -> Vec<u8> {
        self.frame(true, 1, text.as_bytes())
    }
    fn binary(self, data: &[u8]) -> Vec<u8> {
        self.frame(true, 2, data)
    }
    fn ping(self, data: &[u8]) -> Vec<u8> {
        self.frame(true, 9, data)
    }
    fn pong(self, data: &[u8]) -> Vec<u8> {
        self.frame(true, 10, data)
    }
    fn close(self, code: u16, reason: &[u8]) -> Vec<u8> {
        let body = [&code.to_be_bytes()[..], reason].concat();
        self.frame(true, 8, &body)
    }
    /// The same frames from a peer that breaks the masking rule.
    fn wrong_mask(self) -> Peer {
        Peer {
            mask: match self.mask {
                Some(_) => None,
                None => Some(KEY),
            },
        }
    }
}

/// Collects the seeds of one target.
struct Corpus {
    dir: String,
    seeds: Vec<(String, Vec<u8>)>,
}

impl Corpus {
    fn new(target: &str) -> Self {
        Corpus {
            dir: format!("seeds/{target}"),
            seeds: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, bytes: impl Into<Vec<u8>>) {
        assert!(
            self.seeds.iter().all(|(n, _)| n != name),
            "duplicate seed {name}"
        );
        self.seeds.push((name.to_string(), bytes.into()));
    }

    fn write(self) {
        let dir = Path::new(&self.dir);
        if dir.exists() {
            fs::remove_dir_all(dir).expect("remove old seeds");
        }
        fs::create_dir_all(dir).expect("create the seed folder");
        let total: usize = self.seeds.iter().map(|(_, b)| b.len()).sum();
        for (name, bytes) in &self.seeds {
            fs::write(dir.join(name), bytes).expect("write a seed");
        }
        println!("{}: {} seeds, {total} bytes", self.dir, self.seeds.len());
    }
}

fn main() {
    frame_header();
    utf8();
    connection("server_connection", Peer { mask: Some(KEY) });
    connection("client_connection", Peer { mask: None });
    roundtrip();
    handshake_request();
    handshake_response();
}

fn frame_header() {
    let mut c = Corpus::new("frame_header");
    let key = Some(KEY);
    for (name, opcode) in [
        ("continuation", 0x0),
        ("text", 0x1),
        ("binary", 0x2),
        ("close", 0x8),
        ("ping", 0x9),
        ("pong", 0xa),
    ] {
        c.add(
            &format!("{name}-unmasked"),
            raw_frame(0x80 | opcode, None, b"abc", Len::Minimal),
        );
        c.add(
            &format!("{name}-masked"),
            raw_frame(0x80 | opcode, key, b"abc", Len::Minimal),
        );
    }
    c.add("text-not-fin", raw_frame(0x01, None, b"a", Len::Minimal));
    c.add("len-125", raw_frame(0x82, None, &[0; 125], Len::Minimal));
    c.add(
        "len-126-16bit",
        raw_frame(0x82, key, &[0; 126], Len::Minimal),
    );
    c.add(
        "len-65535-16bit",
        raw_frame(0x82, None, &[], Len::Declared(0xffff)),
    );
    c.add(
        "len-65536-64bit",
        raw_frame(0x82, key, &[], Len::Declared(0x1_0000)),
    );
    c.add(
        "len-max-64bit",
        raw_frame(0x82, None, &[], Len::Declared(u64::MAX >> 1)),
    );
    c.add(
        "len-5-in-16bit",
        raw_frame(0x82, None, b"12345", Len::Bits16),
    );
    c.add(
        "len-5-in-64bit",
        raw_frame(0x82, key, b"12345", Len::Bits64),
    );
    c.add(
        "len-300-in-64bit",
        raw_frame(0x82, None, &[3; 300], Len::Bits64),
    );
    c.add(
        "len-top-bit-set",
        raw_frame(0x82, None, &[], Len::Declared(1 << 63)),
    );
    c.add("ping-125", raw_frame(0x89, None, &[7; 125], Len::Minimal));
    c.add("ping-126", raw_frame(0x89, None, &[], Len::Declared(126)));
    c.add("ping-16bit-form", raw_frame(0x89, None, b"x", Len::Bits16));
    c.add("ping-not-fin", raw_frame(0x09, None, b"x", Len::Minimal));
    c.add("rsv1", raw_frame(0xc1, None, b"x", Len::Minimal));
    c.add("rsv-all", raw_frame(0xf2, key, b"x", Len::Minimal));
    c.add(
        "reserved-opcode-3",
        raw_frame(0x83, None, b"", Len::Minimal),
    );
    c.add(
        "reserved-opcode-b",
        raw_frame(0x8b, None, b"", Len::Minimal),
    );
    c.add("truncated-1", [0x81]);
    c.add("truncated-16bit", [0x82, 0xfe, 0x01]);
    c.add("truncated-64bit", [0x82, 0x7f, 0, 0, 0, 0]);
    c.add("truncated-mask", [0x81, 0x85, 0x37, 0xfa]);
    c.write();
}

fn utf8() {
    let mut c = Corpus::new("utf8");
    let texts: &[(&str, &[u8])] = &[
        ("ascii", b"Hello, world"),
        ("greek", "κόσμε".as_bytes()),
        ("all-widths", "a\u{e9}\u{20ac}\u{1f600}".as_bytes()),
        (
            "boundaries",
            "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}".as_bytes(),
        ),
        ("surrogate-high", b"ok\xed\xa0\x80ok"),
        ("surrogate-low", b"\xed\xbf\xbf"),
        ("overlong-2", b"\xc0\xaf"),
        ("overlong-3", b"\xe0\x80\xaf"),
        ("overlong-4", b"\xf0\x80\x80\xaf"),
        ("above-max", b"\xf4\x90\x80\x80"),
        ("f5", b"a\xf5\x80\x80\x80"),
        ("lone-continuation", b"ab\x80cd"),
        ("ff", b"\xff"),
        ("truncated-3", b"abc\xe2\x82"),
        ("truncated-4", b"\xf0\x9f\x98"),
        ("truncated-then-ascii", b"\xe2\x82a"),
        (
            "autobahn-6.4.1",
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited",
        ),
    ];
    for (name, text) in texts {
        c.add(&format!("{name}-whole"), [&[0u8][..], text].concat());
    }
    // Split: one byte at a time, and pieces of 1, 2, 3 bytes.
    for (name, text) in texts.iter().filter(|(n, _)| {
        [
            "all-widths",
            "boundaries",
            "surrogate-high",
            "above-max",
            "truncated-4",
        ]
        .contains(n)
    }) {
        c.add(&format!("{name}-bytewise"), [&[1u8, 1][..], text].concat());
        c.add(
            &format!("{name}-1-2-3"),
            [&[3u8, 1, 2, 3][..], text].concat(),
        );
    }
    c.add(
        "empty-pieces",
        [&[2u8, 0, 2][..], "\u{20ac}\u{20ac}".as_bytes()].concat(),
    );
    c.write();
}

/// `[flags, seed, n, ops..]` followed by the wire bytes.
fn script(flags: u8, seed: u8, ops: &[Op], wire: &[u8]) -> Vec<u8> {
    let mut out = vec![flags, seed, ops.len() as u8];
    for op in ops {
        out.extend_from_slice(&op.encode());
    }
    out.extend_from_slice(wire);
    out
}

/// Seeds for `server_connection` (the peer masks) and `client_connection`.
fn connection(target: &str, peer: Peer) {
    let mut c = Corpus::new(target);
    let plain = |wire: &[u8]| script(0, 1, &[], wire);

    // Valid traffic, fed whole.
    c.add("text-hello", plain(&peer.text("Hello")));
    c.add("binary-16bit", plain(&peer.binary(&[0xab; 300])));
    let non_minimal = raw_frame(0x82, peer.mask, b"short", Len::Bits64);
    c.add("binary-64bit-form", plain(&non_minimal));
    // A 64 KiB frame (the 64-bit length form, at the default limit): the
    // header from the stream, the payload from `Op::Fill`.
    let header = raw_frame(0x82, peer.mask, &[], Len::Declared(1 << 16));
    let wire = [header.clone(), peer.close(1000, b"")].concat();
    let ops = [Op::Feed(header.len() as u8), Op::Fill(128), Op::Drain(0)];
    c.add("binary-64bit-64KiB", script(0, 1, &ops, &wire));
    let fragmented = [
        peer.frame(false, 1, b"frag"),
        peer.ping(b"in between"),
        peer.frame(false, 0, b"men"),
        peer.frame(true, 0, b"ted"),
    ]
    .concat();
    c.add("fragmented-text-with-ping", plain(&fragmented));
    let euro = "\u{20ac}".as_bytes();
    let split_code_point = [
        peer.frame(false, 1, &euro[..1]),
        peer.frame(true, 0, &euro[1..]),
    ]
    .concat();
    c.add("text-code-point-across-frames", plain(&split_code_point));
    let controls = [
        peer.ping(b""),
        peer.pong(b"unsolicited"),
        peer.ping(&[0x42; 125]),
    ]
    .concat();
    c.add("controls", plain(&controls));
    c.add("close-empty", plain(&peer.frame(true, 8, b"")));
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999,
    ] {
        let wire = [peer.text("last words"), peer.close(code, b"bye")].concat();
        c.add(&format!("close-{code}"), plain(&wire));
    }

    // Protocol violations.
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        c.add(
            &format!("close-invalid-{code}"),
            plain(&peer.close(code, b"")),
        );
    }
    c.add("close-one-byte-body", plain(&peer.frame(true, 8, b"\x03")));
    c.add("close-reason-not-utf8", plain(&peer.close(1000, b"\xff")));
    c.add("wrong-masking", plain(&peer.wrong_mask().text("Hello")));
    c.add(
        "rsv1",
        plain(&raw_frame(0xc1, peer.mask, b"x", Len::Minimal)),
    );
    c.add(
        "reserved-opcode",
        plain(&raw_frame(0x83, peer.mask, b"", Len::Minimal)),
    );
    c.add(
        "ping-fragmented",
        plain(&raw_frame(0x09, peer.mask, b"", Len::Minimal)),
    );
    c.add(
        "ping-too-long",
        plain(&raw_frame(0x89, peer.mask, &[0; 126], Len::Minimal)),
    );
    c.add("continuation-first", plain(&peer.frame(true, 0, b"x")));
    let interleaved = [peer.frame(false, 1, b"a"), peer.frame(true, 2, b"b")].concat();
    c.add("message-inside-message", plain(&interleaved));
    let bad_text = [
        peer.frame(false, 1, b"ok \xed\xa0"),
        peer.frame(true, 0, b"\x80"),
    ]
    .concat();
    c.add("text-invalid-mid-message", plain(&bad_text));
    c.add(
        "text-ends-mid-code-point",
        plain(&peer.text_bytes(b"abc\xe2\x82")),
    );
    c.add(
        "length-top-bit",
        plain(&raw_frame(0x82, peer.mask, &[], Len::Declared(1 << 63))),
    );
    c.add(
        "frame-too-big",
        plain(&raw_frame(0x82, peer.mask, &[], Len::Declared(1 << 40))),
    );
    let chunk = [0; 1000];
    let many = [
        peer.frame(false, 2, &chunk),
        peer.frame(false, 0, &chunk).repeat(4),
    ]
    .concat();
    c.add("message-too-big-1k-limits", script(1, 1, &[], &many));

    // Operation scripts.
    let stream = [
        peer.text("one"),
        peer.ping(b"p"),
        peer.binary(b"two"),
        peer.close(1000, b""),
    ]
    .concat();
    let mut bytewise = Vec::new();
    for _ in 0..stream.len() {
        bytewise.extend([Op::Feed(1), Op::Drain(0)]);
    }
    c.add("byte-at-a-time", script(0, 1, &bytewise, &stream));
    // The same with streaming receive on (the seed's top bit): each byte
    // of a payload is handed out as a piece of its own, where the whole
    // stream gives one piece per frame; the messages must be the same.
    c.add(
        "byte-at-a-time-streamed",
        script(0, 0x81, &bytewise, &stream),
    );
    // Streamed text that turns invalid: fed a byte at a time, "ok" is
    // handed out before the bad byte arrives; fed whole, nothing is.
    let invalid = peer.frame(true, 1, b"ok\xffno");
    let bytewise_invalid: Vec<Op> = (0..invalid.len())
        .flat_map(|_| [Op::Feed(1), Op::Drain(0)])
        .collect();
    c.add(
        "invalid-utf8-streamed",
        script(0, 0x81, &bytewise_invalid, &invalid),
    );
    // Large frames delivered through `read_buffer`/`commit_read` (the
    // seed's bit 5), as the adapters deliver them: the read that ends a
    // large frame stops just past it. Fed 16 KiB at a time, and whole.
    let large = [
        peer.binary(&[7; 20_000]),
        peer.text("x"),
        peer.binary(&[8; 16_384]),
        peer.ping(b"p"),
        peer.binary(&[9; 60_000]),
        peer.close(1000, b""),
    ]
    .concat();
    let by_16k: Vec<Op> = (0..large.len().div_ceil(16 << 10))
        .flat_map(|_| [Op::Feed(255), Op::Drain(0)])
        .collect();
    c.add(
        "large-frames-read-directly",
        script(0, 0x21, &by_16k, &large),
    );
    c.add(
        "large-frames-read-directly-whole",
        script(0, 0x21, &[], &large),
    );
    let sends = [
        Op::Text(3),
        Op::Binary(5),
        Op::Fragment(8 * 4),
        Op::Ping(4),
        Op::Fragment((8 * 3) | 2),
        Op::Consume(3),
        Op::Pong(126),
        Op::Text(201),
        Op::Consume(0),
        Op::Close(0x10),
        Op::Text(1),
    ];
    c.add(
        "sends-then-peer-closes",
        script(0, 9, &sends, &peer.close(1000, b"")),
    );
    c.add(
        "sends-frame-size-7",
        script(0x20, 9, &sends, &peer.close(1000, b"")),
    );
    let cut = [
        Op::Fragment(8),
        Op::Fragment((8 * 2) | 4 | 2),
        Op::Fragment((8 * 5) | 2),
        Op::Close(4),
    ];
    c.add("fragments-cut-code-point", script(0, 3, &cut, &[]));
    let keepalive = [
        Op::Time(0),
        Op::Time(16),
        Op::Consume(0),
        Op::Time(12),
        Op::Drain(0),
    ];
    c.add("keepalive-timeout", script(0x08, 1, &keepalive, &[]));
    let answered = [
        Op::Time(0),
        Op::Time(16),
        Op::Feed(255),
        Op::Time(12),
        Op::Drain(0),
        Op::Time(16),
    ];
    c.add(
        "keepalive-answered",
        script(0x08, 1, &answered, &peer.pong(b"")),
    );
    let closing = [
        Op::Close(0),
        Op::Time(0),
        Op::Time(20),
        Op::Drain(0),
        Op::Time(30),
    ];
    c.add("close-timeout", script(0, 1, &closing, &[]));
    let handshake = [
        Op::Close(0),
        Op::Feed(200),
        Op::Drain(0),
        Op::Time(1),
        Op::Time(40),
    ];
    c.add(
        "close-handshake",
        script(0, 1, &handshake, &peer.close(1000, b"ok")),
    );
    let pings: Vec<u8> = (0..40).flat_map(|_| peer.ping(&[0x11; 100])).collect();
    let backpressure = [
        Op::Feed(255),
        Op::Drain(0),
        Op::Consume(20),
        Op::Drain(0),
        Op::Drain(0),
    ];
    c.add("write-buffer-full", script(0x10, 1, &backpressure, &pings));
    c.add(
        "handshake-setup",
        script(0x40, 1, &[], &peer.text("after the handshake")),
    );
    c.add(
        "handshake-leftover",
        script(
            0xc0,
            20,
            &[],
            &[peer.text("in the same read"), peer.ping(b"x")].concat(),
        ),
    );
    c.add(
        "handshake-request-unwritten",
        script(0x40, 0x40, &[Op::Text(2), Op::Consume(7)], &[]),
    );
    c.add(
        "feed-loop-ping",
        script(0, 1, &[Op::FeedLoop(0xf0 | 1)], &peer.ping(b"")),
    );
    c.add(
        "feed-loop-tiny-limits",
        script(2, 1, &[Op::FeedLoop(0xf2)], &peer.text("0123456789abcdef")),
    );
    c.add(
        "eof-mid-frame",
        script(
            0,
            1,
            &[Op::Feed(4), Op::Eof, Op::Drain(0)],
            &peer.text("truncated"),
        ),
    );
    c.add(
        "auto-pong-off",
        script(0x04, 1, &[], &peer.ping(b"no answer")),
    );
    c.write();
}

impl Peer {
    fn text_bytes(self, bytes: &[u8]) -> Vec<u8> {
        self.frame(true, 1, bytes)
    }
}

/// An item of the `roundtrip` input: the tag, then its fields.
fn item(tag: u8, fields: &[&[u8]]) -> Vec<u8> {
    [&[tag][..], &fields.concat()].concat()
}

fn len16(data: &[u8]) -> [u8; 2] {
    (data.len() as u16).to_le_bytes()
}

fn roundtrip() {
    let mut c = Corpus::new("roundtrip");
    const SERVER: u8 = 0x80;
    const PUMP: u8 = 0x40;
    const PING_BETWEEN: u8 = 0x20;
    let text = |from: u8, t: &str| item(from, &[&len16(t.as_bytes()), t.as_bytes()]);
    let binary = |from: u8, d: &[u8]| item(from | 1, &[&len16(d), d, &[0]]);
    let repeated = |from: u8, d: &[u8], reps: u8| item(from | 1, &[&len16(d), d, &[reps]]);
    let fragments = |from: u8, kind: u8, d: &[u8], cuts: &[u8]| {
        item(from | kind, &[&len16(d), d, &[cuts.len() as u8], cuts])
    };
    let control = |from: u8, kind: u8, d: &[u8]| item(from | kind, &[&[d.len() as u8], d]);
    let close = |from: u8, code: u16, reason: &str| {
        item(
            from | 6,
            &[
                &code.to_be_bytes(),
                &[reason.len() as u8],
                reason.as_bytes(),
            ],
        )
    };
    let seed = |flags: u8, chunk: u8, items: &[Vec<u8>]| {
        [&[flags, chunk, 5][..], &items.concat()].concat()
    };

    c.add(
        "hello-both-ways",
        seed(0, 0, &[text(PUMP, "hello"), text(SERVER, "world")]),
    );
    c.add(
        "binary-frame-size-7",
        seed(
            4 | 4 << 3,
            0,
            &[binary(0, &[9; 300]), binary(SERVER, &[8; 20])],
        ),
    );
    c.add(
        "binary-16bit-and-64bit",
        seed(
            0,
            0,
            &[
                binary(0, &[1; 200]),
                repeated(SERVER | PUMP, &[2; 300], 233),
            ],
        ),
    );
    let euro = "\u{20ac}\u{20ac}\u{1f600}";
    c.add(
        "text-fragments-mid-code-point",
        seed(
            0,
            0,
            &[fragments(PING_BETWEEN, 2, euro.as_bytes(), &[1, 4, 8])],
        ),
    );
    c.add(
        "binary-fragments-empty",
        seed(0, 0, &[fragments(SERVER, 3, b"abcdef", &[0, 0, 3, 6])]),
    );
    c.add(
        "controls",
        seed(
            0,
            0,
            &[
                control(0, 4, b"ping"),
                control(SERVER, 5, b"pong"),
                control(SERVER | PUMP, 4, &[1; 125]),
                control(0, 4, &[2; 126]),
            ],
        ),
    );
    c.add(
        "auto-pong-off",
        seed(0x40, 0, &[control(PUMP, 4, b"unanswered")]),
    );
    c.add(
        "close-from-client",
        seed(
            0,
            0,
            &[
                text(0, "bye"),
                close(PUMP, 1000, "done"),
                text(SERVER, "too late"),
            ],
        ),
    );
    c.add(
        "close-from-server-no-status",
        seed(0, 0, &[close(SERVER, 1005, "")]),
    );
    c.add(
        "close-race",
        seed(
            0,
            0,
            &[close(0, 1001, "going"), close(SERVER, 4000, "me too")],
        ),
    );
    c.add(
        "close-invalid-code",
        seed(
            0,
            0,
            &[
                close(0, 1006, ""),
                close(0, 1005, "reason"),
                close(0, 3000, &"r".repeat(124)),
                text(0, "still open"),
            ],
        ),
    );
    let misuse = [
        item(7, &[&[0], &[2], b"\xe2\x82"]),
        item(7, &[&[1], &[1], b"x"]),
        binary(0, b"in progress"),
        item(7, &[&[2], &[1], b"\xac"]),
    ];
    c.add("fragment-misuse", seed(0, 0, &misuse));
    c.add(
        "byte-at-a-time",
        seed(
            1 | 1 << 3,
            1,
            &[
                text(0, "a\u{e9}\u{20ac}"),
                fragments(SERVER, 2, "\u{1f600}!".as_bytes(), &[2]),
                close(0, 1000, ""),
            ],
        ),
    );
    c.add(
        "chunk-3-masked-empty-key",
        seed(0, 3, &[text(0, ""), binary(0, b""), control(0, 4, b"")]),
    );
    c.write();
}

/// A head prefixed for the handshake targets: `[flags, k, sizes..]`.
fn head(flags: u8, sizes: &[u8], text: &str) -> Vec<u8> {
    [&[flags, sizes.len() as u8][..], sizes, text.as_bytes()].concat()
}

fn handshake_request() {
    let mut c = Corpus::new("handshake_request");
    let key = base64_key(&HANDSHAKE_KEY);
    let ok = format!(
        "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    c.add("valid", head(0, &[], &ok));
    c.add("valid-bytewise", head(0, &[1], &ok));
    c.add("valid-pieces", head(0, &[3, 17, 1, 40], &ok));
    c.add("valid-eof", head(4, &[], &ok));
    let rfc = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";
    c.add("rfc-example", head(0, &[], rfc));
    let variants = format!(
        "GET /a?b=c HTTP/1.1\r\nhost:  example.com:8080 \r\nupgrade: WebSocket\r\n\
         connection: keep-alive, Upgrade\r\nsec-websocket-key:{key}\r\n\
         sec-websocket-version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; \
         client_max_window_bits, x-foo; a=\"b c\"\r\n\r\n"
    );
    c.add("valid-variants", head(0, &[], &variants));
    let mut leftover = head(0, &[], &ok);
    leftover.extend(Peer { mask: Some(KEY) }.text("first frame"));
    c.add("valid-with-leftover-frame", leftover);
    let bad = |from: &str, to: &str| ok.replacen(from, to, 1);
    c.add("post", head(0, &[], &bad("GET", "POST")));
    c.add("http-1-0", head(0, &[], &bad("HTTP/1.1", "HTTP/1.0")));
    c.add("no-host", head(0, &[], &bad("Host: example.com\r\n", "")));
    c.add(
        "two-hosts",
        head(
            0,
            &[],
            &bad("Host: example.com\r\n", "Host: a\r\nHost: b\r\n"),
        ),
    );
    c.add(
        "no-upgrade",
        head(0, &[], &bad("Upgrade: websocket\r\n", "")),
    );
    c.add("upgrade-h2c", head(0, &[], &bad("websocket", "h2c")));
    c.add(
        "connection-close",
        head(0, &[], &bad("Connection: Upgrade", "Connection: close")),
    );
    c.add("key-short", head(0, &[], &bad(&key, "c2hvcnQ=")));
    c.add(
        "key-twice",
        head(
            0,
            &[],
            &bad(
                "Sec-WebSocket-Version",
                &format!("Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version"),
            ),
        ),
    );
    c.add("version-8", head(0, &[], &bad("Version: 13", "Version: 8")));
    c.add(
        "no-version",
        head(0, &[], &bad("Sec-WebSocket-Version: 13\r\n", "")),
    );
    c.add(
        "bad-extensions",
        head(
            0,
            &[],
            &bad("\r\n\r\n", "\r\nSec-WebSocket-Extensions: ;;\r\n\r\n"),
        ),
    );
    c.add(
        "bad-subprotocols",
        head(
            0,
            &[],
            &bad("\r\n\r\n", "\r\nSec-WebSocket-Protocol: a b\r\n\r\n"),
        ),
    );
    c.add("too-large-64", head(3, &[], &ok));
    c.add("too-many-headers-4", head(1, &[], &ok));
    c.add(
        "not-http",
        head(
            0,
            &[],
            "\x16\x03\x01\x02\x00\x01\x00\x01\x7c\x03\x03\r\n\r\n",
        ),
    );
    c.add("bare-lf", head(0, &[], &ok.replace("\r\n", "\n")));
    c.add("truncated-eof", head(4, &[], &ok[..60]));
    c.write();
}

fn handshake_response() {
    let mut c = Corpus::new("handshake_response");
    let ok = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {EXPECTED_ACCEPT}\r\n\r\n"
    );
    c.add("valid", head(0, &[], &ok));
    c.add("valid-bytewise", head(0, &[1], &ok));
    c.add("valid-pieces", head(4, &[5, 2, 30], &ok));
    let mut leftover = head(0, &[], &ok);
    leftover.extend(Peer { mask: None }.text("first frame"));
    c.add("valid-with-leftover-frame", leftover);
    let bad = |from: &str, to: &str| ok.replacen(from, to, 1);
    let with = |header: &str| bad("\r\n\r\n", &format!("\r\n{header}\r\n\r\n"));
    c.add(
        "subprotocol-chat",
        head(8, &[], &with("Sec-WebSocket-Protocol: chat")),
    );
    c.add(
        "subprotocol-unoffered",
        head(0, &[], &with("Sec-WebSocket-Protocol: chat")),
    );
    c.add(
        "subprotocol-two",
        head(8, &[], &with("Sec-WebSocket-Protocol: chat, superchat")),
    );
    c.add(
        "extension-offered",
        head(
            0x10,
            &[],
            &with("Sec-WebSocket-Extensions: permessage-deflate"),
        ),
    );
    c.add(
        "extension-unoffered",
        head(0, &[], &with("Sec-WebSocket-Extensions: x-foo")),
    );
    c.add(
        "case-and-spaces",
        head(
            0,
            &[],
            &ok.replace("Upgrade: websocket", "upgrade:WEBSOCKET ")
                .replace("Connection: Upgrade", "connection: keep-alive,  upgrade"),
        ),
    );
    c.add(
        "wrong-accept",
        head(
            0,
            &[],
            &bad(EXPECTED_ACCEPT, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ),
    );
    c.add(
        "accept-twice",
        head(
            0,
            &[],
            &with(&format!("Sec-WebSocket-Accept: {EXPECTED_ACCEPT}")),
        ),
    );
    c.add(
        "no-upgrade",
        head(0, &[], &bad("Upgrade: websocket\r\n", "")),
    );
    c.add(
        "no-connection",
        head(0, &[], &bad("Connection: Upgrade\r\n", "")),
    );
    c.add(
        "status-200",
        head(0, &[], "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    );
    c.add(
        "status-403-no-length",
        head(0, &[3], "HTTP/1.1 403 Forbidden\r\n\r\nnot you"),
    );
    c.add(
        "status-403-short-body",
        head(
            0x20,
            &[],
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 40\r\n\r\nthe body is longer than 16 bytes",
        ),
    );
    c.add("status-301-eof", head(4, &[], "HTTP/1.1 301 Moved Permanently\r\nLocation: ws://elsewhere/\r\nContent-Length: 100\r\n\r\npartial"));
    c.add(
        "chunked",
        head(
            0,
            &[],
            "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
    );
    c.add("http-1-0", head(0, &[], &bad("HTTP/1.1", "HTTP/1.0")));
    c.add("too-large-64", head(3, &[], &ok));
    c.add("truncated-eof", head(4, &[], &ok[..50]));
    c.write();
}
