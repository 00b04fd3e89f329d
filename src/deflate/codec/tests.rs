use super::*;
use crate::deflate::reference::Reference;

const MIB: usize = 1 << 20;

fn params(window_bits: u8, no_context_takeover: bool, level: u32) -> DeflateParams {
    DeflateParams {
        send_max_window_bits: window_bits,
        send_no_context_takeover: no_context_takeover,
        receive_max_window_bits: window_bits,
        receive_no_context_takeover: no_context_takeover,
        compression_level: level,
        min_message_size: 0,
    }
}

fn compress(deflater: &mut Deflater, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    deflater.compress(input, &mut out);
    out
}

fn inflate(inflater: &mut Inflater, payload: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    inflater.feed(payload, &mut out, limit)?;
    inflater.finish(&mut out, limit)?;
    Ok(out)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Deterministic test data: JSON-like text with repeats at every distance,
/// and some noise.
fn sample(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let words: [&[u8]; 8] = [
        b"{\"id\":",
        b"\"name\":\"",
        b"price",
        b"},",
        b"true",
        b"null",
        b"[1,2,3]",
        b" ",
    ];
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let r = next();
        match r % 4 {
            0 | 1 => out.extend_from_slice(words[(r >> 8) as usize % words.len()]),
            2 if out.len() > 8 => {
                let distance = 1 + (r >> 8) as usize % out.len().min(40_000);
                let start = out.len() - distance;
                for i in 0..((r >> 32) as usize % 40).min(distance) {
                    out.push(out[start + i]);
                }
            }
            _ => out.push((r >> 16) as u8),
        }
    }
    out.truncate(len);
    out
}

#[test]
fn rfc_examples_decode() {
    let mut inflater = Inflater::new(&params(15, false, 3));
    // RFC 7692 §7.2.3.1: "Hello" in one compressed block.
    assert_eq!(
        inflate(&mut inflater, &hex("f248cdc9c90700"), 100).unwrap(),
        b"Hello"
    );
    // §7.2.3.2: the same message again, referring to the first.
    assert_eq!(
        inflate(&mut inflater, &hex("f200110000"), 100).unwrap(),
        b"Hello"
    );
    // §7.2.3.3: a stored block.
    assert_eq!(
        inflate(&mut inflater, &hex("000500faff48656c6c6f00"), 100).unwrap(),
        b"Hello"
    );
    // §7.2.3.5: two blocks, the first ending with a sync flush.
    assert_eq!(
        inflate(&mut inflater, &hex("f24805000000ffffcac9c90700"), 100).unwrap(),
        b"Hello"
    );
    // §7.2.3.6: a first fragment ending with a sync flush, then a last
    // fragment holding only an empty stored block.
    let mut out = Vec::new();
    inflater
        .feed(&hex("f248cdc9c907000000ffff"), &mut out, 100)
        .unwrap();
    inflater.feed(&hex("00"), &mut out, 100).unwrap();
    inflater.finish(&mut out, 100).unwrap();
    assert_eq!(out, b"Hello");
    // §7.2.3.4: a final block (BFINAL set); what follows is ignored, and
    // the next message starts a new stream.
    assert_eq!(
        inflate(&mut inflater, &hex("f348cdc9c9070000"), 100).unwrap(),
        b"Hello"
    );
    assert_eq!(
        inflate(&mut inflater, &hex("f348cdc9c90700"), 100).unwrap(),
        b"Hello"
    );
    assert_eq!(
        inflate(&mut inflater, &hex("f248cdc9c90700"), 100).unwrap(),
        b"Hello"
    );
}

#[test]
fn rfc_examples_encode() {
    // RFC 7692 §7.2.3.1 and §7.2.3.2, with context takeover...
    // (Level 1, zlib-rs's "quick" strategy, writes the second one in 4
    // bytes: `02 13 00 00`, equally valid.)
    for level in 2..=9 {
        let mut deflater = Deflater::new(&params(15, false, level));
        assert_eq!(
            compress(&mut deflater, b"Hello"),
            hex("f248cdc9c90700"),
            "level {level}"
        );
        assert_eq!(
            compress(&mut deflater, b"Hello"),
            hex("f200110000"),
            "level {level}"
        );
    }
    // ...and without: the same bytes every time.
    let mut deflater = Deflater::new(&params(15, true, 3));
    for _ in 0..3 {
        assert_eq!(compress(&mut deflater, b"Hello"), hex("f248cdc9c90700"));
    }
}

#[test]
fn empty_messages() {
    let mut deflater = Deflater::new(&params(15, false, 3));
    let mut inflater = Inflater::new(&params(15, false, 3));
    let first = compress(&mut deflater, b"Hello");
    // §7.2.3.6: an empty message is an empty stored block minus the tail.
    assert_eq!(compress(&mut deflater, b""), [0x00]);
    assert_eq!(inflate(&mut inflater, &first, 100).unwrap(), b"Hello");
    assert_eq!(inflate(&mut inflater, &[0x00], 100).unwrap(), b"");
    // A compressed message with no payload at all is empty too, and
    // leaves the window alone.
    assert_eq!(inflate(&mut inflater, &[], 100).unwrap(), b"");
    assert_eq!(compress(&mut deflater, b""), [0x00]);
    let again = compress(&mut deflater, b"Hello");
    assert_eq!(again, hex("f200110000"));
    assert_eq!(inflate(&mut inflater, &again, 100).unwrap(), b"Hello");
}

#[test]
fn round_trip_every_window_and_level() {
    for window_bits in 8..=15u8 {
        for no_context_takeover in [false, true] {
            for level in [0, 1, 3, 6, 9] {
                let p = params(window_bits, no_context_takeover, level);
                let (mut deflater, mut inflater) = (Deflater::new(&p), Inflater::new(&p));
                let mut reference = Reference::default();
                for (i, len) in [3000, 1, 0, 70_000, 500, 3000].into_iter().enumerate() {
                    let message = sample(i as u64 + u64::from(window_bits), len);
                    let wire = compress(&mut deflater, &message);
                    let case = format!(
                        "bits {window_bits} reset {no_context_takeover} level {level} #{i}"
                    );
                    assert_eq!(
                        inflate(&mut inflater, &wire, MIB).unwrap(),
                        message,
                        "{case}"
                    );
                    // An independent decoder agrees, and no back-reference
                    // reaches past the peer's window.
                    if no_context_takeover {
                        reference = Reference::default();
                    }
                    let mut with_tail = wire.clone();
                    with_tail.extend_from_slice(&TAIL);
                    assert_eq!(reference.message(&with_tail), message, "{case}");
                    assert!(
                        reference.max_distance <= 1 << window_bits,
                        "{case}: {}",
                        reference.max_distance
                    );
                }
            }
        }
    }
}

#[test]
fn window_eight_stays_within_256_bytes() {
    // Data full of repeats 251-400 bytes back, which a 9-bit window could
    // otherwise reach, over many messages with context takeover.
    // (Level 1, zlib-rs's "quick" strategy, writes the second one in 4
    // bytes: `02 13 00 00`, equally valid.)
    for level in 2..=9 {
        let p = params(8, false, level);
        let mut deflater = Deflater::new(&p);
        let mut inflater = Inflater::new(&p);
        let mut reference = Reference::default();
        let block = sample(7, 300);
        for i in 0..20 {
            let mut message = block.clone();
            message.extend_from_slice(&sample(i, 100));
            message.extend_from_slice(&block);
            let mut wire = compress(&mut deflater, &message);
            assert_eq!(inflate(&mut inflater, &wire, MIB).unwrap(), message);
            wire.extend_from_slice(&TAIL);
            assert_eq!(reference.message(&wire), message);
        }
        assert!(
            reference.max_distance <= 256,
            "level {level}: {}",
            reference.max_distance
        );
        assert!(
            reference.max_distance > 200,
            "level {level}: the test should reach far"
        );
    }
}

#[test]
fn context_takeover_helps() {
    let message = sample(42, 400);
    let mut deflater = Deflater::new(&params(15, false, 3));
    let first = compress(&mut deflater, &message).len();
    let second = compress(&mut deflater, &message).len();
    assert!(second * 4 < first, "{second} vs {first}");
    // Without it, every message is compressed alone (by the small-message
    // encoder, which does about as well as zlib on the first).
    let mut deflater = Deflater::new(&params(15, true, 3));
    let alone = compress(&mut deflater, &message);
    assert_eq!(compress(&mut deflater, &message), alone);
    assert!(
        alone.len() <= first + first / 10,
        "{} vs {first}",
        alone.len()
    );
}

#[test]
fn deflate_bomb_is_stopped_at_the_limit() {
    let zeros = vec![0u8; 10 * MIB];
    let bomb = compress(&mut Deflater::new(&params(15, false, 9)), &zeros);
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    // Whole, and in frame-sized pieces.
    for piece in [bomb.len(), 1000] {
        let mut inflater = Inflater::new(&params(15, false, 3));
        let mut out = Vec::new();
        let result = bomb
            .chunks(piece)
            .try_for_each(|chunk| inflater.feed(chunk, &mut out, MIB))
            .and_then(|()| inflater.finish(&mut out, MIB));
        assert_eq!(result, Err(InflateError::TooBig));
        assert!(out.len() <= MIB + 1, "{}", out.len());
        assert!(out.capacity() <= MIB + 1, "{}", out.capacity());
        // Reset by the error: a new message decodes.
        let hello = compress(&mut Deflater::new(&params(15, false, 3)), b"Hello");
        assert_eq!(inflate(&mut inflater, &hello, MIB).unwrap(), b"Hello");
    }
}

#[test]
fn limit_is_exact() {
    let message = sample(3, 10_000);
    let wire = compress(&mut Deflater::new(&params(15, false, 3)), &message);
    let p = params(15, false, 3);
    assert_eq!(
        inflate(&mut Inflater::new(&p), &wire, 10_000).unwrap(),
        message
    );
    assert_eq!(
        inflate(&mut Inflater::new(&p), &wire, 9_999),
        Err(InflateError::TooBig)
    );
    assert_eq!(
        inflate(&mut Inflater::new(&p), &wire, 0),
        Err(InflateError::TooBig)
    );
    assert_eq!(inflate(&mut Inflater::new(&p), &[0x00], 0), Ok(Vec::new()));
    // The limit covers what `out` already holds.
    let mut out = vec![1; 10];
    let mut inflater = Inflater::new(&p);
    let result = inflater
        .feed(&wire, &mut out, 10_009)
        .and_then(|()| inflater.finish(&mut out, 10_009));
    assert_eq!(result, Err(InflateError::TooBig));
}

#[test]
fn small_messages_allocate_little() {
    let wire = compress(&mut Deflater::new(&params(15, false, 3)), b"0123456789");
    let mut inflater = Inflater::new(&params(15, false, 3));
    let mut out = Vec::new();
    inflater.feed(&wire, &mut out, 64 * MIB).unwrap();
    inflater.finish(&mut out, 64 * MIB).unwrap();
    assert_eq!(out, b"0123456789");
    assert!(out.capacity() <= FIRST_GROWTH, "{}", out.capacity());
}

#[test]
fn corrupt_input() {
    let p = params(15, false, 3);
    for bad in [
        &hex("06")[..],         // block type 3 is reserved
        &hex("0005000000")[..], // stored length check fails
        &hex("f200110000")[..], // refers to a previous message there is none of
        &[0xff; 64][..],
    ] {
        let mut inflater = Inflater::new(&p);
        assert_eq!(
            inflate(&mut inflater, bad, MIB),
            Err(InflateError::Corrupt),
            "{bad:02x?}"
        );
        // Reset by the error.
        assert_eq!(
            inflate(&mut inflater, &hex("f248cdc9c90700"), MIB).unwrap(),
            b"Hello"
        );
    }
}

#[test]
fn any_split_gives_the_same_output() {
    let p = params(12, false, 6);
    let mut deflater = Deflater::new(&p);
    let messages: Vec<Vec<u8>> = (0..4)
        .map(|i| sample(i, 5000 + i as usize * 3000))
        .collect();
    let wires: Vec<Vec<u8>> = messages
        .iter()
        .map(|m| compress(&mut deflater, m))
        .collect();
    for piece in [1, 2, 7, 100, 4096] {
        let mut inflater = Inflater::new(&p);
        for (message, wire) in messages.iter().zip(&wires) {
            let mut out = Vec::new();
            for chunk in wire.chunks(piece) {
                inflater.feed(chunk, &mut out, MIB).unwrap();
            }
            inflater.finish(&mut out, MIB).unwrap();
            assert_eq!(&out, message, "pieces of {piece}");
        }
    }
}

#[test]
fn stored_fallback_decodes() {
    for len in [1, 5, 65_535, 65_536, 200_000] {
        let message = sample(len as u64, len);
        let mut wire = Vec::new();
        write_stored(&message, &mut wire);
        let mut inflater = Inflater::new(&params(15, false, 3));
        assert_eq!(inflate(&mut inflater, &wire, MIB).unwrap(), message);
        wire.extend_from_slice(&TAIL);
        assert_eq!(Reference::default().message(&wire), message);
    }
}

#[test]
fn resources_are_lazy_and_thresholds_apply() {
    let mut p = params(10, false, 3);
    p.min_message_size = 32;
    let mut deflater = Deflater::new(&p);
    let mut inflater = Inflater::new(&p);
    assert!(!deflater.should_compress(31));
    assert!(deflater.should_compress(32));
    assert_eq!((deflater.memory_usage(), inflater.memory_usage()), (0, 0));
    let wire = compress(&mut deflater, b"");
    assert_eq!(deflater.memory_usage(), 0);
    inflate(&mut inflater, &wire, 10).unwrap();
    let wire = compress(&mut deflater, b"Hello");
    assert_eq!(deflater.memory_usage(), (245 << 10) + (4 << 10));
    inflate(&mut inflater, &wire, 10).unwrap();
    assert_eq!(inflater.memory_usage(), 46 << 10);
    assert!(format!("{deflater:?} {inflater:?}").contains("allocated: true"));
}

/// What zlib (level 3, 15 bits, fresh stream) makes of `input`, in the
/// RFC 7692 form: the size the small encoder is compared with.
fn zlib_size(input: &[u8]) -> usize {
    let mut compress = Compress::new_with_window_bits(Compression::new(3), false, 15);
    let mut out = Vec::new();
    deflate(&mut compress, input, &mut out).unwrap();
    out.len() - TAIL.len()
}

fn text(len: usize) -> Vec<u8> {
    let pattern = "The quick brown fox jumps over the lazy dog; grüße, ça va? Ωμέγα 🚀 ok. ";
    pattern.bytes().cycle().take(len).collect()
}

/// JSON records such as an application sends, with varying values.
fn json(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0u64;
    while out.len() < len {
        i += 1;
        let r = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        out.extend_from_slice(
            format!(
                "{{\"id\":{},\"user\":\"user{}\",\"event\":\"{}\",\"ts\":17{:08},\"score\":0.{}}},",
                r % 100_000,
                r % 997,
                ["click", "view", "update", "delete"][(r % 4) as usize],
                r % 100_000_000,
                r % 1000
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

#[test]
fn short_messages_without_context_takeover() {
    let noise = |len: usize| {
        let mut x = 0x1234_5678_9abc_def1u64 ^ len as u64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect::<Vec<u8>>()
    };
    let mut lens: Vec<usize> = (1..=300).collect();
    lens.extend([
        511, 512, 1000, 1023, 1024, 1500, 2047, 2048, 4096, 8192, 16383, 16384, 16385, 20000,
    ]);
    for window_bits in [8, 9, 12, 15] {
        for level in [1, 3, 9] {
            let p = params(window_bits, true, level);
            let mut deflater = Deflater::new(&p);
            let mut inflater = Inflater::new(&p);
            for &len in &lens {
                let runs: Vec<u8> = (0..len)
                    .map(|i| b"aab"[i % 3 / 2] + (i / 700) as u8)
                    .collect();
                for (kind, message) in [
                    ("sample", sample(len as u64, len)),
                    ("text", text(len)),
                    ("noise", noise(len)),
                    ("runs", runs),
                    ("json", json(len)),
                ] {
                    let case = format!("{kind} {len} bytes, window {window_bits}, level {level}");
                    let wire = compress(&mut deflater, &message);
                    assert_eq!(
                        inflate(&mut inflater, &wire, MIB).unwrap(),
                        message,
                        "{case}"
                    );
                    // Each message is its own stream for an independent
                    // decoder, and stays within the agreed window.
                    let mut reference = Reference::default();
                    let mut with_tail = wire.clone();
                    with_tail.extend_from_slice(&TAIL);
                    assert_eq!(reference.message(&with_tail), message, "{case}");
                    assert!(reference.max_distance <= 1 << window_bits, "{case}");
                    // The small encoder is never worse than stored blocks.
                    if len <= small::MAX_LEN {
                        assert!(wire.len() <= len + 6, "{case}: {}", wire.len());
                    }
                    // As small as zlib's level 3 within 5 %.
                    if window_bits == 15
                        && level == 3
                        && [125, 1024, 2048, 4096, 16384].contains(&len)
                    {
                        let zlib = zlib_size(&message);
                        assert!(
                            wire.len() <= zlib + zlib / 20,
                            "{case}: {} vs {zlib}",
                            wire.len()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn no_context_takeover_keeps_zlib_for_long_messages_only() {
    let mut deflater = Deflater::new(&params(15, true, 3));
    for len in [1, 125, 1024, small::MAX_LEN] {
        compress(&mut deflater, &sample(len as u64, len));
        assert!(!format!("{deflater:?}").contains("allocated: true"));
    }
    // Hash table, chains, symbols and Huffman work space for 16 KiB.
    let small = deflater.memory_usage();
    assert!(small > 0 && small <= 120 << 10, "{small}");
    compress(&mut deflater, &sample(1, small::MAX_LEN + 1));
    assert_eq!(deflater.memory_usage(), small + (245 << 10) + (4 << 15));
    // Level 0 never needs zlib: stored blocks.
    let mut deflater = Deflater::new(&params(15, false, 0));
    let wire = compress(&mut deflater, &sample(7, 100_000));
    assert_eq!(deflater.memory_usage(), 0);
    let mut inflater = Inflater::new(&params(15, false, 0));
    assert_eq!(
        inflate(&mut inflater, &wire, MIB).unwrap(),
        sample(7, 100_000)
    );
}

/// A message built from pieces: runs of one byte, bytes from a small or a
/// full alphabet, and copies of earlier bytes. Such inputs give the
/// Huffman builder skewed and flat frequencies, long and short matches.
fn structured_message() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let piece = prop_oneof![
        (any::<u8>(), 1usize..300).prop_map(|(b, n)| vec![b; n]),
        prop::collection::vec(0u8..4, 1..200),
        prop::collection::vec(any::<u8>(), 1..200),
        (1usize..40_000, 3usize..300).prop_map(|(back, n)| {
            // Encoded as a marker, resolved below against what precedes it.
            let mut marker = vec![0xff, 0xfe];
            marker.extend_from_slice(&(back as u32).to_le_bytes());
            marker.extend_from_slice(&(n as u32).to_le_bytes());
            marker
        }),
    ];
    prop::collection::vec(piece, 1..60).prop_map(|pieces| {
        let mut out: Vec<u8> = Vec::new();
        for piece in pieces {
            if piece.len() == 10 && piece[..2] == [0xff, 0xfe] && !out.is_empty() {
                let back = u32::from_le_bytes(piece[2..6].try_into().unwrap()) as usize;
                let n = u32::from_le_bytes(piece[6..10].try_into().unwrap()) as usize;
                let start = out.len() - back.min(out.len());
                for i in 0..n {
                    out.push(out[start + i]);
                }
            } else {
                out.extend_from_slice(&piece);
            }
        }
        out.truncate(20_000);
        out
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    // Without context takeover, every message, whatever its statistics,
    // decodes to itself for zlib and for the independent decoder, and no
    // back-reference reaches past the agreed window (RFC 7692 §7.1.2.1).
    #[test]
    fn any_message_round_trips_without_context_takeover(
        message in structured_message(),
        window_bits in 8u8..=15,
        level in 0u32..=9,
    ) {
        let p = params(window_bits, true, level);
        let wire = compress(&mut Deflater::new(&p), &message);
        proptest::prop_assert_eq!(inflate(&mut Inflater::new(&p), &wire, MIB).unwrap(), message.clone());
        let mut reference = Reference::default();
        let mut with_tail = wire.clone();
        with_tail.extend_from_slice(&TAIL);
        proptest::prop_assert_eq!(reference.message(&with_tail), message.clone());
        proptest::prop_assert!(reference.max_distance <= 1 << window_bits);
        if message.len() <= small::MAX_LEN {
            proptest::prop_assert!(wire.len() <= message.len() + 6 * message.len().div_ceil(65_535).max(1));
        }
    }
}
