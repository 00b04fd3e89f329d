//! `utf8`: the incremental validator against `std::str::from_utf8`.
//!
//! Input: `[k, s_1 .. s_k, text ..]` where `k` is taken modulo 8. The text
//! is fed in pieces whose sizes cycle through `s_1 .. s_k` (a size of 0
//! feeds an empty piece); with `k = 0`, or sizes all zero, it is fed whole.
//! A seed is thus one byte `0` followed by any text.
//!
//! Checks (differential, with `std` as the reference):
//! - valid text: every piece is accepted and the validator ends complete;
//! - text that is a valid prefix cut inside a code point: every piece is
//!   accepted and the validator ends incomplete;
//! - invalid text: the validator fails exactly in the piece that holds the
//!   first byte no continuation could make valid (fail fast, and never
//!   before: a valid prefix is never refused);
//! - a validator cloned mid-way and a reset one behave like fresh ones, and
//!   `Utf8Bytes::try_from` agrees with `std` on the whole text.

use rfc6455::{Utf8Bytes, Utf8Validator};

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let k = usize::from(k % 8).min(rest.len());
    let (sizes, text) = rest.split_at(k);
    let pieces = split(text, sizes);

    let expected = first_impossible_byte(text);
    let mut v = Utf8Validator::new();
    let outcome = feed_pieces(&mut v, &pieces);
    check_outcome(text, &pieces, expected, outcome, &v);

    // A clone taken mid-way continues exactly like the original.
    if let Some(mid) = pieces.len().checked_div(2)
        && mid > 0
    {
        let mut a = Utf8Validator::new();
        if feed_pieces(&mut a, &pieces[..mid]).is_none() {
            let mut b = a.clone();
            let ra = feed_pieces(&mut a, &pieces[mid..]).map(|i| i + mid);
            let rb = feed_pieces(&mut b, &pieces[mid..]).map(|i| i + mid);
            assert_eq!(ra, rb);
            assert_eq!(ra, outcome);
            assert_eq!(a.is_complete(), b.is_complete());
        }
    }

    // After a reset, the validator is as good as new: the whole text at once.
    v.reset();
    let whole = [text];
    let again = feed_pieces(&mut v, &whole);
    check_outcome(text, &whole, expected, again, &v);

    let std_ok = std::str::from_utf8(text).is_ok();
    assert_eq!(Utf8Bytes::try_from(text.to_vec()).is_ok(), std_ok);
}

/// Where the text stops being a prefix of any valid UTF-8: `Ok(complete)`
/// when it never does, `Err(index)` of the first impossible byte otherwise.
fn first_impossible_byte(text: &[u8]) -> Result<bool, usize> {
    match std::str::from_utf8(text) {
        Ok(_) => Ok(true),
        Err(e) => match e.error_len() {
            // A valid prefix cut inside a code point.
            None => Ok(false),
            // `std` reports the maximal invalid subpart at `valid_up_to`,
            // `len` bytes long. Either its first byte is impossible by
            // itself (a lone continuation byte, 0xC0, 0xF5..), so the first
            // impossible byte is at `v + len - 1`, or the subpart is a
            // truncated sequence, and the byte after it is the impossible
            // one, at `v + len`. The prefix ending at `v + len - 1`
            // tells which.
            Some(len) => {
                let v = e.valid_up_to();
                let last = v + len - 1;
                match std::str::from_utf8(&text[..=last]) {
                    Err(e) if e.error_len().is_some() => Err(last),
                    _ => Err(last + 1),
                }
            }
        },
    }
}

/// Feeds the pieces in order; returns the index of the piece that failed.
fn feed_pieces(v: &mut Utf8Validator, pieces: &[&[u8]]) -> Option<usize> {
    pieces.iter().position(|piece| v.feed(piece).is_err())
}

fn check_outcome(
    text: &[u8],
    pieces: &[&[u8]],
    expected: Result<bool, usize>,
    failed_in: Option<usize>,
    v: &Utf8Validator,
) {
    match (expected, failed_in) {
        (Ok(complete), None) => assert_eq!(v.is_complete(), complete, "text {text:02x?}"),
        (Ok(_), Some(i)) => panic!("valid prefix {text:02x?} refused in piece {i}"),
        (Err(at), None) => panic!("invalid text {text:02x?} (byte {at}) accepted"),
        (Err(at), Some(i)) => {
            // The piece holding byte `at`, skipping empty pieces at `at`.
            let mut start = 0;
            let holder = pieces
                .iter()
                .position(|p| {
                    let end = start + p.len();
                    let holds = (start..end).contains(&at);
                    start = end;
                    holds
                })
                .expect("the impossible byte is in some piece");
            assert_eq!(
                i, holder,
                "text {text:02x?}: impossible byte {at} is in piece {holder}, failed in {i}"
            );
        }
    }
}

/// Cuts `text` into pieces whose sizes cycle through `sizes` (whole when
/// they are all zero).
pub fn split<'a>(text: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    if sizes.iter().all(|&s| s == 0) {
        return vec![text];
    }
    let mut pieces = Vec::new();
    let mut rest = text;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(usize::from(size).min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}
