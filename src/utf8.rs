//! UTF-8: the checked text type handed to users, and the incremental
//! validator that checks text messages as their bytes arrive.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// Bytes that are known to be valid UTF-8: the payload of a text message.
///
/// It derefs to `&str` and clones in O(1). A received text message is handed
/// over as the very buffer it arrived in, validated once and never copied
/// into a `String`.
///
/// ```
/// use rfc6455::Utf8Bytes;
///
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.len(), 6);
/// assert!(text.starts_with("hé"));
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Self {
        Utf8Bytes(Bytes::new())
    }

    /// Wraps a static string without copying it.
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(text.as_bytes()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        #[allow(unsafe_code)]
        // SAFETY: every constructor of `Utf8Bytes` takes either a `&str` /
        // `String` (UTF-8 by type) or bytes that `simdutf8` / the incremental
        // validator checked, and the inner `Bytes` is never mutated.
        unsafe {
            std::str::from_utf8_unchecked(&self.0)
        }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Gives back the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Wraps bytes that the caller has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Utf8Bytes(Bytes::from(text))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(text: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        simdutf8::basic::from_utf8(&bytes).map_err(|_| Utf8Error)?;
        Ok(Utf8Bytes(bytes))
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = Utf8Error;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Utf8Error> {
        Utf8Bytes::try_from(Bytes::from(bytes))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The bytes are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8")]
pub struct Utf8Error;

/// Validates UTF-8 that arrives in pieces, failing at the first byte that no
/// continuation could make valid.
///
/// A code point may be split across pieces (a text message may be split
/// across frames anywhere), so up to three bytes of an unfinished code point
/// are carried from one piece to the next.
///
/// ```
/// use rfc6455::Utf8Validator;
///
/// let mut v = Utf8Validator::new();
/// v.feed("h\u{e9}".as_bytes()[..2].as_ref()).unwrap(); // "h" + half of "é"
/// assert!(!v.is_complete());
/// v.feed(&[0xa9]).unwrap();
/// assert!(v.is_complete());
/// // 0xF4 0x90 would be above U+10FFFF: refused at once, not at the end.
/// assert!(v.feed(&[0xf4, 0x90]).is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// The start of a code point whose remaining bytes have not arrived.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next piece of the text.
    ///
    /// Returns an error as soon as the bytes seen so far cannot be the start
    /// of valid UTF-8. After an error the validator's state is unspecified;
    /// [`reset`](Self::reset) it before reuse.
    pub fn feed(&mut self, mut piece: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            piece = self.finish_partial(piece)?;
            if self.partial_len > 0 {
                return Ok(());
            }
        }
        if piece.len() < BASIC_MIN {
            // Short pieces: one pass of the validator that also tells where
            // an unfinished code point starts.
            return match simdutf8::compat::from_utf8(piece) {
                Ok(_) => Ok(()),
                Err(e) => self.keep_unfinished(&piece[e.valid_up_to()..]),
            };
        }
        // The piece may end inside a code point: check the whole code
        // points with the fast validator (which says only "valid or not"),
        // and the unfinished one, at most three bytes, on its own.
        let (body, tail) = piece.split_at(unfinished_tail_start(piece));
        if simdutf8::basic::from_utf8(body).is_err() {
            return Err(Utf8Error);
        }
        match std::str::from_utf8(tail) {
            Ok(_) => Ok(()),
            Err(_) => self.keep_unfinished(tail),
        }
    }

    /// Keeps `tail`, the last bytes of a piece that do not make a whole
    /// code point, if they can start one; fails otherwise.
    fn keep_unfinished(&mut self, tail: &[u8]) -> Result<(), Utf8Error> {
        match std::str::from_utf8(tail) {
            // A valid prefix of a code point (at most three bytes): keep it
            // for the next piece.
            Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            _ => Err(Utf8Error),
        }
    }

    /// Completes the carried code point from the front of `piece`, returning
    /// what is left of `piece`.
    fn finish_partial<'a>(&mut self, piece: &'a [u8]) -> Result<&'a [u8], Utf8Error> {
        let have = usize::from(self.partial_len);
        let want = match self.partial[0] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        let take = (want - have).min(piece.len());
        self.partial[have..have + take].copy_from_slice(&piece[..take]);
        let len = have + take;
        match std::str::from_utf8(&self.partial[..len]) {
            Ok(_) => self.partial_len = 0,
            Err(e) if e.error_len().is_some() => return Err(Utf8Error),
            Err(_) => self.partial_len = len as u8,
        }
        Ok(&piece[take..])
    }

    /// Whether the text so far ends on a code point boundary, so that it
    /// could end here.
    pub fn is_complete(&self) -> bool {
        self.partial_len == 0
    }

    /// How many bytes at the end of what was fed begin a code point that
    /// has not arrived whole (0 to 3).
    pub(crate) fn pending_len(&self) -> usize {
        usize::from(self.partial_len)
    }

    /// Forgets everything seen, ready for a new text.
    pub fn reset(&mut self) {
        self.partial_len = 0;
    }
}

/// Pieces at least this long are checked by `simdutf8::basic`, which is
/// faster on long inputs than `compat` but does not say where an error or
/// an unfinished code point is; the end of the piece is then looked at
/// separately. Below it, `compat` does both in one pass for less.
const BASIC_MIN: usize = 1024;

/// Where a code point that `piece` starts but does not finish begins, or
/// `piece.len()` if its last code point is whole (or the end is invalid in
/// a way the full validation will see).
#[inline]
fn unfinished_tail_start(piece: &[u8]) -> usize {
    let len = piece.len();
    for back in 1..=len.min(3) {
        let byte = piece[len - back];
        let width = match byte {
            0x80..=0xbf => continue, // a continuation byte: look further back
            0x00..=0x7f => return len,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        return if width > back { len - back } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(pieces: &[&[u8]]) -> Result<bool, Utf8Error> {
        let mut v = Utf8Validator::new();
        for p in pieces {
            v.feed(p)?;
        }
        Ok(v.is_complete())
    }

    // Long pieces take the `basic` path: the unfinished end is found by
    // looking back from the last byte, and must agree with std.
    #[test]
    fn long_pieces_split_anywhere_agree_with_std() {
        let text = "aé€😀".repeat(300); // 1, 2, 3 and 4-byte code points
        let bytes = text.as_bytes();
        assert!(bytes.len() > 2 * BASIC_MIN);
        for cut in (BASIC_MIN..BASIC_MIN + 24).chain(bytes.len() - 5..bytes.len()) {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(feed_all(&[a, b]), Ok(true), "cut {cut}");
            let mut v = Utf8Validator::new();
            v.feed(a).unwrap();
            assert_eq!(v.is_complete(), std::str::from_utf8(a).is_ok(), "cut {cut}");
        }
        // Corrupt one byte anywhere near the end of a long piece, or in its
        // body: the verdict (now or once complete) matches std's.
        for at in (0..64).chain(bytes.len() - 12..bytes.len()) {
            for bad in [0x80, 0xc0, 0xe0, 0xf0, 0xf5, 0xff, b'a'] {
                let mut corrupt = bytes.to_vec();
                corrupt[at] = bad;
                let ours = feed_all(&[&corrupt]) == Ok(true);
                assert_eq!(
                    ours,
                    std::str::from_utf8(&corrupt).is_ok(),
                    "at {at} bad {bad:#x}"
                );
            }
        }
    }

    #[test]
    fn every_split_of_valid_text_is_accepted() {
        let text = "aé€😀z".as_bytes();
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let r = feed_all(&[&text[..i], &text[i..j], &text[j..]]);
                assert_eq!(r, Ok(true), "split at {i}/{j}");
            }
        }
    }

    #[test]
    fn one_byte_at_a_time_matches_std() {
        let cases: &[&[u8]] = &[
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
            b"\xed\xa0\x80",     // surrogate
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xc0\xaf",         // overlong
            b"\xe0\x80\xaf",     // overlong
            b"\xf0\x9f\x98",     // truncated
            b"\x80",
            b"ok\xffok",
        ];
        for case in cases {
            let mut v = Utf8Validator::new();
            let bytewise = case
                .iter()
                .try_for_each(|b| v.feed(std::slice::from_ref(b)))
                .map(|()| v.is_complete());
            let whole = std::str::from_utf8(case).is_ok();
            assert_eq!(bytewise.unwrap_or(false), whole, "{case:x?}");
        }
    }

    #[test]
    fn fails_fast_on_impossible_prefix() {
        let mut v = Utf8Validator::new();
        // The first byte of a 4-byte sequence, then a byte that cannot follow it.
        v.feed(b"\xf4").unwrap();
        assert_eq!(v.feed(b"\x90"), Err(Utf8Error));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"abc\xed\xa0"), Err(Utf8Error));
    }

    #[test]
    fn utf8_bytes_conversions() {
        let t = Utf8Bytes::from_static("abc");
        assert_eq!(t, "abc");
        assert_eq!(Bytes::from(t.clone()), Bytes::from_static(b"abc"));
        assert_eq!(format!("{t:?}"), "\"abc\"");
        assert!(Utf8Bytes::try_from(vec![0xc3, 0x28]).is_err());
    }
}
