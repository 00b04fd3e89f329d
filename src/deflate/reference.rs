//! A small, slow DEFLATE decoder (RFC 1951) written for the tests only: it
//! shares no code with zlib, so it checks the codec's output
//! independently, and it records the longest back-reference distance, to
//! prove that a compressor stays within a peer's window.

/// Decodes a stream message by message, keeping the history between them
/// (context takeover).
#[derive(Default)]
pub(super) struct Reference {
    history: Vec<u8>,
    /// The longest distance seen so far.
    pub(super) max_distance: usize,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> u32 {
        let byte = self.data[self.pos / 8];
        self.pos += 1;
        u32::from((byte >> ((self.pos - 1) % 8)) & 1)
    }

    fn bits(&mut self, n: u32) -> u32 {
        (0..n).fold(0, |value, i| value | (self.bit() << i))
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    counts: [i32; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Self {
        let mut counts = [0; 16];
        for &len in lengths {
            counts[usize::from(len)] += 1;
        }
        counts[0] = 0;
        let mut symbols = Vec::new();
        for len in 1..16 {
            for (symbol, &l) in lengths.iter().enumerate() {
                if usize::from(l) == len {
                    symbols.push(symbol as u16);
                }
            }
        }
        Huffman { counts, symbols }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> u16 {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.bit() as i32;
            let count = self.counts[len];
            if code - first < count {
                return self.symbols[(index + code - first) as usize];
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        panic!("invalid Huffman code");
    }
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u32; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

impl Reference {
    /// Decodes one message: its compressed bytes followed by the
    /// `00 00 ff ff` tail. Panics on anything invalid.
    pub(super) fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let start = self.history.len();
        let mut bits = Bits { data, pos: 0 };
        while bits.pos < data.len() * 8 {
            let last = bits.bit() == 1;
            match bits.bits(2) {
                0 => {
                    bits.pos = bits.pos.div_ceil(8) * 8;
                    let len = bits.bits(16);
                    assert_eq!(bits.bits(16), !len & 0xffff, "stored length check");
                    for _ in 0..len {
                        let byte = bits.bits(8) as u8;
                        self.history.push(byte);
                    }
                }
                1 => {
                    let mut lengths = [8u8; 288];
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    self.codes(&mut bits, &Huffman::new(&lengths), &Huffman::new(&[5; 30]));
                }
                2 => {
                    let (literals, distances) = Self::dynamic(&mut bits);
                    self.codes(&mut bits, &literals, &distances);
                }
                _ => panic!("reserved block type"),
            }
            if last {
                break;
            }
        }
        self.history[start..].to_vec()
    }

    fn dynamic(bits: &mut Bits<'_>) -> (Huffman, Huffman) {
        let literals = bits.bits(5) as usize + 257;
        let distances = bits.bits(5) as usize + 1;
        let code_lengths = bits.bits(4) as usize + 4;
        let mut lengths = [0u8; 19];
        for &i in &CODE_LENGTH_ORDER[..code_lengths] {
            lengths[i] = bits.bits(3) as u8;
        }
        let code = Huffman::new(&lengths);
        let mut all = Vec::new();
        while all.len() < literals + distances {
            let symbol = code.decode(bits);
            let (value, repeat) = match symbol {
                0..=15 => (symbol as u8, 1),
                16 => (
                    *all.last().expect("repeat with no previous"),
                    3 + bits.bits(2),
                ),
                17 => (0, 3 + bits.bits(3)),
                _ => (0, 11 + bits.bits(7)),
            };
            all.extend(std::iter::repeat_n(value, repeat as usize));
        }
        assert_eq!(all.len(), literals + distances, "code lengths overrun");
        (
            Huffman::new(&all[..literals]),
            Huffman::new(&all[literals..]),
        )
    }

    fn codes(&mut self, bits: &mut Bits<'_>, literals: &Huffman, distances: &Huffman) {
        loop {
            let symbol = usize::from(literals.decode(bits));
            match symbol {
                0..=255 => self.history.push(symbol as u8),
                256 => return,
                _ => {
                    let i = symbol - 257;
                    let len = usize::from(LENGTH_BASE[i]) + bits.bits(LENGTH_EXTRA[i]) as usize;
                    let d = usize::from(distances.decode(bits));
                    let distance = usize::from(DIST_BASE[d]) + bits.bits(DIST_EXTRA[d]) as usize;
                    assert!(distance <= self.history.len(), "distance too far back");
                    self.max_distance = self.max_distance.max(distance);
                    for _ in 0..len {
                        let byte = self.history[self.history.len() - distance];
                        self.history.push(byte);
                    }
                }
            }
        }
    }
}
