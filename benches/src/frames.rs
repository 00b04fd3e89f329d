//! Payloads and hand-built frames (RFC 6455 §5.2), independent of every
//! library under test.

/// Text or binary data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Opcode 0x1; the payload is valid UTF-8 with 1- to 4-byte characters.
    Text,
    /// Opcode 0x2; pseudo-random bytes.
    Binary,
}

impl Kind {
    /// Both kinds, in table order.
    pub const ALL: [Kind; 2] = [Kind::Binary, Kind::Text];

    /// The frame opcode.
    pub fn opcode(self) -> u8 {
        match self {
            Kind::Text => 0x1,
            Kind::Binary => 0x2,
        }
    }

    /// "text" or "binary".
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
        }
    }
}

/// Codec payload sizes and their labels.
pub const SIZES: [(usize, &str); 5] = [
    (16, "16B"),
    (125, "125B"),
    (1024, "1KiB"),
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
];

/// How many messages one codec iteration handles: about 1 MiB of payload,
/// at least one message.
pub fn messages_per_iteration(size: usize) -> usize {
    ((1 << 20) / size).max(1)
}

/// A payload of exactly `size` bytes. Text mixes ASCII with 2-, 3- and
/// 4-byte characters (about 80 % ASCII by bytes), so that UTF-8 validation
/// cannot take the all-ASCII shortcut everywhere.
pub fn payload(kind: Kind, size: usize) -> Vec<u8> {
    match kind {
        Kind::Binary => {
            let mut state = 0x2545_f491_4f6c_dd1du64 ^ size as u64;
            (0..size)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        }
        Kind::Text => {
            const PATTERN: &str = "The quick brown fox jumps over the lazy dog; \
                                   grüße, ça va? Ωμέγα — 文字化け 🚀 ok. ";
            let mut text = String::with_capacity(size + 8);
            while text.len() < size {
                text.push_str(PATTERN);
            }
            let mut end = size;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            while text.len() < size {
                text.push('x');
            }
            debug_assert_eq!(text.len(), size);
            text.into_bytes()
        }
    }
}

/// Appends a frame header: FIN set, no RSV bits, the shortest length form.
pub fn put_header(out: &mut Vec<u8>, opcode: u8, len: usize, mask: Option<[u8; 4]>) {
    out.push(0x80 | opcode);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// XORs `data` with `key` (RFC 6455 §5.3), eight bytes at a time: the
/// "copy + unmask" baseline's unmasking and the load client's masking.
#[inline]
pub fn xor_mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap()) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Copies `src` into `dst` and unmasks it: the least work a decoder that
/// hands out owned payloads can do.
#[inline]
pub fn copy_unmask(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        let word = u64::from_ne_bytes(sc.try_into().unwrap()) ^ wide;
        dc.copy_from_slice(&word.to_ne_bytes());
    }
    for ((db, sb), k) in d
        .into_remainder()
        .iter_mut()
        .zip(s.remainder())
        .zip(key.iter().cycle())
    {
        *db = sb ^ k;
    }
}

/// A masking key that differs from frame to frame (a cheap LCG: the load
/// client and the pre-built buffers need variety, not secrecy).
pub fn key(n: u64) -> [u8; 4] {
    let x = n
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((x >> 32) as u32 | 1).to_be_bytes()
}

/// `count` masked client frames (as a browser sends them) carrying
/// `payload`, each with its own key, back to back.
pub fn client_frames(kind: Kind, payload: &[u8], count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * (payload.len() + 14));
    for i in 0..count {
        let key = key(i as u64);
        put_header(&mut out, kind.opcode(), payload.len(), Some(key));
        let start = out.len();
        out.extend_from_slice(payload);
        xor_mask(&mut out[start..], key);
    }
    out
}

/// One unmasked server frame carrying `payload`.
pub fn server_frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    put_header(&mut out, kind.opcode(), payload.len(), None);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_payloads_are_utf8_of_exact_size() {
        for (size, _) in SIZES {
            let p = payload(Kind::Text, size);
            assert_eq!(p.len(), size);
            assert!(std::str::from_utf8(&p).is_ok());
        }
    }

    #[test]
    fn copy_unmask_matches_xor_mask() {
        let src = payload(Kind::Binary, 1001);
        let mut a = src.clone();
        xor_mask(&mut a, [1, 2, 3, 4]);
        let mut b = vec![0; src.len()];
        copy_unmask(&mut b, &src, [1, 2, 3, 4]);
        assert_eq!(a, b);
    }
}
