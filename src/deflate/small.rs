//! A DEFLATE encoder for short messages sent with no context takeover.
//!
//! Why not zlib for these: zlib-rs (through flate2, which fixes zlib's
//! `memLevel` at 8) clears a 128 KiB hash table on every reset and a
//! 48 KiB symbol buffer at the start of every block, so each message costs
//! about 176 KiB of `memset` whatever its size: ~240,000 instructions,
//! tens of microseconds when the compressor is out of cache (a broadcast
//! over many connections), against a few thousand for compressing a
//! 125-byte message. Context takeover cannot avoid the table clear that a
//! new message needs, and neither the reset nor re-creating the compressor
//! can skip it.
//!
//! This encoder touches memory in proportion to the message: hash table
//! and chains sized to the input, the LZ77 symbols and the output. It does
//! greedy matching over hash chains as long as zlib's for the same level
//! (zlib also defers matches from level 4 up; this does not), then writes
//! one block with dynamic or fixed Huffman codes (RFC 1951 §3.2.6–3.2.7),
//! whichever is smaller, or stored blocks when those are. Up to
//! [`MAX_LEN`] its output is as small as zlib's level 3 within a few
//! percent on text and JSON (the tests compare them), and compressing a
//! 125-byte message costs about 30,000 instructions instead of 300,000.

use super::codec::write_stored;

/// Longest message this encoder handles (positions fit in `u16`); longer
/// ones go to zlib, whose fixed cost is then a smaller share and whose
/// block splitting and lazy matching pay off.
pub(super) const MAX_LEN: usize = 16 << 10;

/// Shortest match looked for: the hash covers 4 bytes. DEFLATE allows 3,
/// which saves little and would make the hash weaker.
const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 258;

/// Scratch space kept between messages, grown to the largest message
/// seen: for 16 KiB, 16 KiB of hash table, 32 KiB of chains, 64 KiB of
/// LZ77 symbols, and 5 KiB of Huffman work space and code-length tokens.
#[derive(Default)]
pub(super) struct SmallEncoder {
    /// Latest position + 1 for each hash of 4 bytes; 0 for none.
    head: Vec<u16>,
    /// Hash chains: the previous position + 1 with the same hash.
    prev: Vec<u16>,
    /// The message as LZ77 symbols: a literal byte (distance 0) or
    /// `distance << 16 | length`.
    symbols: Vec<u32>,
    tokens: Vec<ClToken>,
    /// Allocated on the first message.
    scratch: Option<Scratch>,
}

/// Little-endian bit writer, as DEFLATE packs bits (RFC 1951 §3.1.1).
struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits<'_> {
    /// Appends the low `len` bits of `value` (`len` ≤ 32).
    #[inline(always)]
    fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.count;
        self.count += len;
        if self.count >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.count -= 32;
        }
    }

    /// Writes out the remaining bits, zero-padded to a byte boundary.
    fn finish(self) {
        let bytes = self.count.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// Extra bits of each length code 257–285 and distance code 0–29 (RFC 1951
/// §3.2.5) are computed by [`length_symbol`] and [`distance_symbol`].
///
/// The length symbol (257–285) for a match of `len` bytes, with its extra
/// bits' value and count.
#[inline(always)]
fn length_symbol(len: usize) -> (usize, u32, u32) {
    if len <= 10 {
        (257 + len - 3, 0, 0)
    } else if len == MAX_MATCH {
        (285, 0, 0)
    } else {
        // Lengths 11–257: four codes per power of two, with
        // `log2(len − 3) − 2` extra bits.
        let l = len as u32 - 3;
        let log = 31 - l.leading_zeros();
        let extra_len = log - 2;
        let low = (l >> extra_len) & 3;
        (
            (257 + 4 * (log - 1) + low) as usize,
            l - ((4 | low) << extra_len),
            extra_len,
        )
    }
}

/// The distance symbol (0–29) for `distance` (1–32768), with its extra
/// bits' value and count.
#[inline(always)]
fn distance_symbol(distance: usize) -> (usize, u32, u32) {
    let d = distance as u32 - 1;
    if d < 4 {
        (d as usize, 0, 0)
    } else {
        // Distances 5–32768: two codes per power of two, with
        // `log2(distance − 1) − 1` extra bits.
        let log = 31 - d.leading_zeros();
        let extra_len = log - 1;
        let low = (d >> extra_len) & 1;
        (
            (2 * log + low) as usize,
            d - ((2 | low) << extra_len),
            extra_len,
        )
    }
}

/// Literal/length and distance alphabets (RFC 1951 §3.2.5), and the
/// order in which code-length code lengths are sent (§3.2.7).
/// 288 literal/length symbols: 286 and 287 never occur but take part in
/// the fixed code's construction (§3.2.6).
const LITLEN_CODES: usize = 288;
const DIST_CODES: usize = 30;
const CL_CODES: usize = 19;
const CL_ORDER: [usize; CL_CODES] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];
const END_OF_BLOCK: usize = 256;

/// Per level 0–9: how many candidates the match search tries, and the
/// length at which it stops looking (zlib's `max_chain` and
/// `nice_length`; zlib also defers matches at levels 4 and up, which this
/// encoder does not).
const CHAIN: [(usize, usize); 10] = [
    (0, 0),
    (4, 8),
    (8, 16),
    (32, 32),
    (16, 16),
    (32, 32),
    (128, 128),
    (256, 128),
    (1024, 258),
    (4096, 258),
];

/// Huffman code lengths of at most `max_bits` for symbols of frequencies
/// `freq`, written to `lengths` (0 for unused symbols).
///
/// The code is always complete with at least two codes: a lone symbol gets
/// a partner of the same length, because zlib rejects an incomplete
/// code-length code and an unused partner costs nothing.
fn code_lengths(freq: &[u32], max_bits: usize, lengths: &mut [u8], scratch: &mut Scratch) {
    lengths.fill(0);
    // Leaves sorted by frequency, then internal nodes, in one array.
    let Scratch {
        weight,
        parent,
        symbol,
    } = scratch;
    // Sorted by frequency (then symbol) as one integer: `freq << 9 |
    // symbol` (a frequency is at most MAX_LEN + 1, far below 2^23).
    let mut n = 0;
    for (s, &f) in freq.iter().enumerate() {
        if f != 0 {
            symbol[n] = f << 9 | s as u32;
            n += 1;
        }
    }
    if n < 2 {
        let used = if n == 1 {
            (symbol[0] & 0x1ff) as usize
        } else {
            0
        };
        lengths[used] = 1;
        lengths[usize::from(used == 0)] = 1;
        return;
    }
    let symbol = &mut symbol[..n];
    symbol.sort_unstable();
    for (w, &key) in weight.iter_mut().zip(symbol.iter()) {
        *w = key >> 9;
    }
    // Two-queue construction: leaves in ascending order, and internal
    // nodes, which are made in ascending order too; the two lightest of
    // both queues' heads are merged each time.
    let (mut leaf, mut inner) = (0, n);
    for node in n..2 * n - 1 {
        let mut pick = || {
            if leaf < n && (inner >= node || weight[leaf] <= weight[inner]) {
                leaf += 1;
                leaf - 1
            } else {
                inner += 1;
                inner - 1
            }
        };
        let (a, b) = (pick(), pick());
        weight[node] = weight[a] + weight[b];
        parent[a] = node as u16;
        parent[b] = node as u16;
    }
    // Depths, root first (a parent always has a higher index); `weight`
    // is reused for them.
    let root = 2 * n - 2;
    weight[root] = 0;
    let mut count = [0u32; 16];
    for node in (0..root).rev() {
        weight[node] = weight[usize::from(parent[node])] + 1;
        if node < n {
            count[(weight[node] as usize).min(max_bits)] += 1;
        }
    }
    // Too-long codes were cut to `max_bits`, which over-fills the code
    // space (Kraft sum above 1). Each step takes one code off the longest
    // length and splits a shorter leaf into two one level deeper: the sum
    // drops by one unit of 2^-max_bits, the number of codes stays.
    let mut total: u32 = (1..=max_bits).map(|l| count[l] << (max_bits - l)).sum();
    while total > 1 << max_bits {
        count[max_bits] -= 1;
        if let Some(l) = (1..max_bits).rev().find(|&l| count[l] != 0) {
            count[l] -= 1;
            count[l + 1] += 2;
        }
        total -= 1;
    }
    // The rarest symbols get the longest codes.
    let mut next = symbol.iter();
    for len in (1..=max_bits).rev() {
        for _ in 0..count[len] {
            if let Some(&key) = next.next() {
                lengths[(key & 0x1ff) as usize] = len as u8;
            }
        }
    }
}

/// Work space of [`code_lengths`], kept between messages so that it is
/// not zeroed each time: every entry is written before it is read.
struct Scratch {
    /// Leaf weights, then internal nodes' weights, then depths.
    weight: Box<[u32; 2 * LITLEN_CODES]>,
    parent: Box<[u16; 2 * LITLEN_CODES]>,
    /// The used symbols with their frequencies (`freq << 9 | symbol`),
    /// by ascending frequency.
    symbol: Box<[u32; LITLEN_CODES]>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            weight: Box::new([0; 2 * LITLEN_CODES]),
            parent: Box::new([0; 2 * LITLEN_CODES]),
            symbol: Box::new([0; LITLEN_CODES]),
        }
    }
}

/// Canonical codes for `lengths` (RFC 1951 §3.2.2), bit-reversed for the
/// bit writer (Huffman codes are sent most significant bit first).
/// (A `const fn`, hence the `while` loops.)
const fn canonical_codes<const N: usize>(lengths: &[u8; N]) -> [u16; N] {
    let mut count = [0u16; 16];
    let mut s = 0;
    while s < N {
        count[lengths[s] as usize] += 1;
        s += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    let mut len = 1;
    while len < 16 {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
        len += 1;
    }
    let mut codes = [0u16; N];
    s = 0;
    while s < N {
        let len = lengths[s] as usize;
        if len != 0 {
            codes[s] = next[len].reverse_bits() >> (16 - len);
            next[len] += 1;
        }
        s += 1;
    }
    codes
}

/// The fixed literal/length code's lengths (RFC 1951 §3.2.6); its
/// distance codes are all 5 bits.
const FIXED_LIT_LEN: [u8; LITLEN_CODES] = {
    let mut lengths = [8u8; LITLEN_CODES];
    let mut s = 144;
    while s < 280 {
        lengths[s] = if s < 256 { 9 } else { 7 };
        s += 1;
    }
    lengths
};
const FIXED_DIST_LEN: [u8; DIST_CODES] = [5; DIST_CODES];

/// The fixed codes themselves, computed once.
const FIXED_LIT_CODE: [u16; LITLEN_CODES] = canonical_codes(&FIXED_LIT_LEN);
const FIXED_DIST_CODE: [u16; DIST_CODES] = canonical_codes(&FIXED_DIST_LEN);

/// One code-length token: symbol 0–18 and its extra bits' value and count.
type ClToken = (u8, u8, u8);

/// Run-length codes the concatenated code lengths (RFC 1951 §3.2.7):
/// 16 repeats the previous length 3–6 times, 17 and 18 write 3–10 and
/// 11–138 zeros.
fn run_lengths(all: &[u8], tokens: &mut Vec<ClToken>) {
    let mut i = 0;
    while i < all.len() {
        let l = all[i];
        let run = all[i..].iter().take_while(|&&x| x == l).count();
        let mut left = run;
        if l == 0 {
            while left >= 11 {
                let k = left.min(138);
                tokens.push((18, (k - 11) as u8, 7));
                left -= k;
            }
            if left >= 3 {
                tokens.push((17, (left - 3) as u8, 3));
                left = 0;
            }
        } else {
            tokens.push((l, 0, 0));
            left -= 1;
            while left >= 3 {
                let k = left.min(6);
                tokens.push((16, (k - 3) as u8, 2));
                left -= k;
            }
        }
        for _ in 0..left {
            tokens.push((l, 0, 0));
        }
        i += run;
    }
}

#[inline(always)]
fn read4(input: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(input[at..at + 4].try_into().unwrap())
}

/// How many bytes from `earlier` and `at` are equal, at most `limit`
/// (`at + limit` within `input`), compared 8 bytes at a time.
#[inline(always)]
fn match_length(input: &[u8], earlier: usize, at: usize, limit: usize) -> usize {
    let read8 = |p: usize| u64::from_le_bytes(input[p..p + 8].try_into().unwrap());
    let mut len = 0;
    while len + 8 <= limit {
        let diff = read8(earlier + len) ^ read8(at + len);
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < limit && input[earlier + len] == input[at + len] {
        len += 1;
    }
    len
}

impl SmallEncoder {
    /// Bytes held between messages.
    pub(super) fn memory_usage(&self) -> usize {
        (self.head.capacity() + self.prev.capacity()) * size_of::<u16>()
            + self.symbols.capacity() * size_of::<u32>()
            + self.tokens.capacity() * size_of::<ClToken>()
            + self.scratch.as_ref().map_or(0, |_| {
                size_of::<[u32; 2 * LITLEN_CODES]>()
                    + size_of::<[u16; 2 * LITLEN_CODES]>()
                    + size_of::<[u32; LITLEN_CODES]>()
            })
    }

    /// Compresses `input` (1 to [`MAX_LEN`] bytes) as one message starting
    /// from an empty window, with back-references of at most `max_distance`
    /// bytes, and appends it to `out` in the form of RFC 7692 §7.2.1: ending
    /// where the empty stored block of a sync flush would have its
    /// `00 00 ff ff`, which is left out.
    pub(super) fn compress(
        &mut self,
        input: &[u8],
        level: u32,
        max_distance: usize,
        out: &mut Vec<u8>,
    ) {
        debug_assert!(!input.is_empty() && input.len() <= MAX_LEN);
        let mut lit_freq = [0u32; LITLEN_CODES];
        let mut dist_freq = [0u32; DIST_CODES];
        self.match_symbols(input, level, max_distance, &mut lit_freq, &mut dist_freq);
        lit_freq[END_OF_BLOCK] = 1;

        // Bits of each block type, leaving out the extra bits of lengths
        // and distances (the same in both). zlib makes the same choice.
        let cost = |freq: &[u32], lengths: &[u8]| -> usize {
            freq.iter()
                .zip(lengths)
                .map(|(&f, &l)| f as usize * usize::from(l))
                .sum()
        };
        let fixed_bits = 3 + cost(&lit_freq, &FIXED_LIT_LEN) + cost(&dist_freq, &FIXED_DIST_LEN);

        let mut lit_len = [0u8; LITLEN_CODES];
        let mut dist_len = [0u8; DIST_CODES];
        let scratch = self.scratch.get_or_insert_with(Scratch::default);
        code_lengths(&lit_freq, 15, &mut lit_len, scratch);
        code_lengths(&dist_freq, 15, &mut dist_len, scratch);
        // The header: how many literal/length and distance codes are sent
        // (at least 257 and 1), their lengths run-length coded with a third
        // Huffman code (lengths of at most 7 bits), sent in `CL_ORDER`.
        let hlit = 257
            + lit_len[257..]
                .iter()
                .rposition(|&l| l != 0)
                .map_or(0, |p| p + 1);
        let hdist = 1 + dist_len[1..]
            .iter()
            .rposition(|&l| l != 0)
            .map_or(0, |p| p + 1);
        let mut all = [0u8; LITLEN_CODES + DIST_CODES];
        all[..hlit].copy_from_slice(&lit_len[..hlit]);
        all[hlit..hlit + hdist].copy_from_slice(&dist_len[..hdist]);
        self.tokens.clear();
        run_lengths(&all[..hlit + hdist], &mut self.tokens);
        let mut cl_freq = [0u32; CL_CODES];
        for &(symbol, _, _) in &self.tokens {
            cl_freq[usize::from(symbol)] += 1;
        }
        let mut cl_len = [0u8; CL_CODES];
        code_lengths(&cl_freq, 7, &mut cl_len, scratch);
        let hclen = 4.max(
            CL_ORDER
                .iter()
                .rposition(|&s| cl_len[s] != 0)
                .map_or(0, |p| p + 1),
        );
        let token_bits: usize = self
            .tokens
            .iter()
            .map(|&(s, _, extra)| usize::from(cl_len[usize::from(s)]) + usize::from(extra))
            .sum();
        let dynamic_bits = 3
            + 14
            + 3 * hclen
            + token_bits
            + cost(&lit_freq, &lit_len)
            + cost(&dist_freq, &dist_len);

        let start = out.len();
        // A block is at most 15 bits per symbol plus extra bits; reserve for
        // the common case, the bit writer grows `out` if needed.
        out.reserve(input.len() + 64);
        let mut bits = Bits {
            out,
            acc: 0,
            count: 0,
        };
        let (lit_len, lit_code, dist_len, dist_code) = if dynamic_bits < fixed_bits {
            // Block header: BFINAL 0 (the empty stored block follows),
            // BTYPE 10 (dynamic codes).
            bits.put(0b100, 3);
            bits.put((hlit - 257) as u32, 5);
            bits.put((hdist - 1) as u32, 5);
            bits.put((hclen - 4) as u32, 4);
            for &s in &CL_ORDER[..hclen] {
                bits.put(u32::from(cl_len[s]), 3);
            }
            let cl_code = canonical_codes(&cl_len);
            for &(s, extra, extra_len) in &self.tokens {
                let s = usize::from(s);
                bits.put(u32::from(cl_code[s]), u32::from(cl_len[s]));
                bits.put(u32::from(extra), u32::from(extra_len));
            }
            let (lit_code, dist_code) = (canonical_codes(&lit_len), canonical_codes(&dist_len));
            (lit_len, lit_code, dist_len, dist_code)
        } else {
            // BFINAL 0, BTYPE 01 (fixed codes).
            bits.put(0b010, 3);
            (
                FIXED_LIT_LEN,
                FIXED_LIT_CODE,
                FIXED_DIST_LEN,
                FIXED_DIST_CODE,
            )
        };
        for &symbol in &self.symbols {
            let distance = (symbol >> 16) as usize;
            if distance == 0 {
                let s = symbol as usize;
                bits.put(u32::from(lit_code[s]), u32::from(lit_len[s]));
            } else {
                let (s, extra, extra_len) = length_symbol((symbol & 0xffff) as usize);
                let len = u32::from(lit_len[s]);
                bits.put(u32::from(lit_code[s]) | (extra << len), len + extra_len);
                let (s, extra, extra_len) = distance_symbol(distance);
                let len = u32::from(dist_len[s]);
                bits.put(u32::from(dist_code[s]) | (extra << len), len + extra_len);
            }
        }
        // End of block, then the header of the empty stored block a sync
        // flush writes (BFINAL 0, BTYPE 00: three 0 bits) and its padding
        // to a byte boundary. RFC 7692 §7.2.1 step 3 removes the rest of
        // that block, `00 00 ff ff`, so it is never written.
        bits.put(
            u32::from(lit_code[END_OF_BLOCK]),
            u32::from(lit_len[END_OF_BLOCK]),
        );
        bits.put(0, 3);
        bits.finish();
        // Incompressible data: stored blocks cost 5 bytes per 64 KiB, plus
        // the final `00`.
        if out.len() - start > input.len() + 6 {
            out.truncate(start);
            write_stored(input, out);
        }
    }

    /// Greedy LZ77 over `input` into `self.symbols`, counting symbol
    /// frequencies.
    fn match_symbols(
        &mut self,
        input: &[u8],
        level: u32,
        max_distance: usize,
        lit_freq: &mut [u32; LITLEN_CODES],
        dist_freq: &mut [u32; DIST_CODES],
    ) {
        let n = input.len();
        // How many earlier occurrences to try, and the match length that
        // ends the search: zlib's values for the level.
        let (max_chain, nice) = CHAIN[level.clamp(1, 9) as usize];
        // About one slot per input byte (a power of two, 64 to 4096):
        // cleared per message, so the table's size is the fixed cost.
        let hash_bits = (usize::BITS - n.leading_zeros()).clamp(6, 13);
        let shift = 32 - hash_bits;
        self.head.clear();
        self.head.resize(1 << hash_bits, 0);
        let head = &mut self.head[..];
        let hash = |word: u32| (word.wrapping_mul(0x9e37_79b1) >> shift) as usize;
        let symbols = &mut self.symbols;
        symbols.clear();
        symbols.reserve(n);
        // `prev[p]`: the previous position + 1 with the same hash as `p`.
        // Only read for positions already inserted, so never cleared.
        self.prev.resize(n, 0);
        let prev = &mut self.prev[..n];
        let mut i = 0;
        while i + MIN_MATCH <= n {
            let h = hash(read4(input, i));
            let mut candidate = usize::from(head[h]);
            head[h] = (i + 1) as u16;
            prev[i] = candidate as u16;
            // Longest match among the last `max_chain` candidates within
            // the window, stopping early at `nice` bytes.
            let limit = (n - i).min(MAX_MATCH);
            let word = read4(input, i);
            let (mut best_len, mut best_distance) = (0, 0);
            let mut chain = max_chain;
            while candidate != 0 && chain > 0 {
                let c = candidate - 1;
                if i - c > max_distance {
                    break;
                }
                if read4(input, c) == word && input.get(c + best_len) == input.get(i + best_len) {
                    let len = MIN_MATCH
                        + match_length(input, c + MIN_MATCH, i + MIN_MATCH, limit - MIN_MATCH);
                    if len > best_len {
                        (best_len, best_distance) = (len, i - c);
                        if len >= nice {
                            break;
                        }
                    }
                }
                candidate = usize::from(prev[c]);
                chain -= 1;
            }
            if best_len >= MIN_MATCH {
                symbols.push((best_distance as u32) << 16 | best_len as u32);
                lit_freq[length_symbol(best_len).0] += 1;
                dist_freq[distance_symbol(best_distance).0] += 1;
                // Index the positions inside the match too, so that later
                // repeats of them are found; of a long match (already a good
                // deal) only its last few, which saves most of the time on
                // repetitive data, as zlib's fast levels do.
                let end = i + best_len;
                i = if best_len <= nice { i + 1 } else { end - 3 };
                while i < end && i + MIN_MATCH <= n {
                    let h = hash(read4(input, i));
                    prev[i] = head[h];
                    head[h] = (i + 1) as u16;
                    i += 1;
                }
                i = end;
                continue;
            }
            symbols.push(u32::from(input[i]));
            lit_freq[usize::from(input[i])] += 1;
            i += 1;
        }
        for &byte in &input[i..] {
            symbols.push(u32::from(byte));
            lit_freq[usize::from(byte)] += 1;
        }
    }
}
