//! Payload masking (RFC 6455 §5.3).
//!
//! Masking XORs each payload byte `i` with `key[i % 4]`. It is its own
//! inverse, so the same function masks and unmasks.

/// XORs `data` with the masking `key`, as if `data` began `offset` bytes into
/// the frame's payload.
///
/// The offset lets a payload be unmasked piece by piece as it arrives. The
/// work is done eight bytes at a time on unaligned words, which the compiler
/// turns into vector instructions; any length, offset and alignment is
/// correct.
///
/// ```
/// use rfc6455::frame::apply_mask;
///
/// let key = [1, 2, 3, 4];
/// let mut whole = *b"Hello, world";
/// apply_mask(&mut whole, key, 0);
///
/// let mut pieces = *b"Hello, world";
/// let (a, b) = pieces.split_at_mut(5);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 5);
/// assert_eq!(whole, pieces);
/// ```
#[inline]
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= WIDE_MIN && std::arch::is_x86_feature_detected!("avx2") {
        #[allow(unsafe_code)]
        // SAFETY: `apply_mask_avx2` only requires the CPU to support AVX2,
        // which was checked just above. It is the same safe code as
        // `apply_mask_words`, compiled for 256-bit vectors.
        unsafe {
            apply_mask_avx2(data, key, offset)
        };
        return;
    }
    apply_mask_words(data, key, offset);
}

/// Payloads from this long are unmasked with 256-bit vectors where the CPU
/// has them; shorter ones are not worth the feature check.
#[cfg(target_arch = "x86_64")]
const WIDE_MIN: usize = 256;

/// [`apply_mask_words`] compiled with AVX2 enabled: the compiler vectorizes
/// the same loop four words at a time (the codec benchmarks show unmasking
/// at about half the cost of the baseline SSE2 code).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_mask_avx2(data: &mut [u8], key: [u8; 4], offset: usize) {
    apply_mask_words(data, key, offset);
}

/// The portable unmasking loop: eight bytes at a time on unaligned words.
#[inline(always)]
fn apply_mask_words(data: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotated(key, offset);
    let (words, rest) = data.as_chunks_mut::<8>();
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    for word in words {
        *word = (u64::from_ne_bytes(*word) ^ wide).to_ne_bytes();
    }
    // A whole number of 8-byte words was consumed, so the key phase is back
    // at zero for the tail.
    for (byte, k) in rest.iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Writes `src` masked with `key` into `dst` (of the same length), in one
/// pass: the masked copy a sender makes of a payload it does not own.
#[inline]
pub(crate) fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len());
    #[cfg(target_arch = "x86_64")]
    if src.len() >= WIDE_MIN && std::arch::is_x86_feature_detected!("avx2") {
        #[allow(unsafe_code)]
        // SAFETY: `mask_copy_avx2` only requires the CPU to support AVX2,
        // which was checked just above.
        unsafe {
            mask_copy_avx2(dst, src, key)
        };
        return;
    }
    mask_copy_words(dst, src, key);
}

/// [`mask_copy_words`] compiled with AVX2 enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn mask_copy_avx2(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    mask_copy_words(dst, src, key);
}

#[inline(always)]
fn mask_copy_words(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let (dst_words, dst_rest) = dst.as_chunks_mut::<8>();
    let (src_words, src_rest) = src.as_chunks::<8>();
    for (d, s) in dst_words.iter_mut().zip(src_words) {
        *d = (u64::from_ne_bytes(*s) ^ wide).to_ne_bytes();
    }
    for ((d, s), k) in dst_rest.iter_mut().zip(src_rest).zip(key.iter().cycle()) {
        *d = s ^ k;
    }
}

/// The key as seen from `offset` bytes into the payload.
#[inline]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_be_bytes(key)
        .rotate_left(8 * (offset % 4) as u32)
        .to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_bytewise_masking_at_every_offset_and_alignment() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for start in 0..9 {
            for len in [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200] {
                for offset in 0..5 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    apply_mask(&mut fast[start..start + len], key, offset);
                    naive(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn masked_copy_matches_masking_in_place() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for len in [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65, 300] {
            let mut in_place = source[..len].to_vec();
            apply_mask(&mut in_place, key, 0);
            let mut copied = vec![0; len];
            mask_copy(&mut copied, &source[..len], key);
            assert_eq!(copied, in_place, "len {len}");
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: a masked "Hello" with key 37 fa 21 3d.
        let mut payload = *b"Hello";
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
