//! Incremental reader for an HTTP head (request or response line plus
//! header fields, up to the empty line).
//!
//! Bytes arrive in pieces of any size. Each byte is examined once: a new
//! piece is scanned from where the previous scan stopped, looking back at
//! most three already-buffered bytes to recognise a `\r\n\r\n` that
//! straddles two pieces. Feeding an `n`-byte head one byte at a time costs
//! O(n), not O(n²) (rescanning the whole buffer per piece is the flaw
//! behind CVE-2023-43669).
//!
//! Both limits are enforced during the scan, before anything is parsed:
//! the head never grows past `max_size` bytes in memory, and the reader
//! fails as soon as it has seen more header lines than allowed. The HTTP
//! parser runs once, on the complete head.

use super::HandshakeError;

/// A complete head and the bytes that followed it in the same pieces.
pub(crate) struct Head {
    /// The head, ending with `\r\n\r\n`.
    pub(crate) bytes: Vec<u8>,
    /// Header lines counted during the scan (an exact upper bound on the
    /// number of header fields).
    pub(crate) header_lines: usize,
    /// Bytes received after the head: the start of the body or of the
    /// WebSocket stream.
    pub(crate) leftover: Vec<u8>,
}

/// Accumulates a head until its terminating empty line.
#[derive(Debug)]
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    max_size: usize,
    max_headers: usize,
    /// Line feeds seen so far, i.e. complete lines (start line included).
    lines: usize,
    /// Total bytes examined over the reader's life, for the linear-time
    /// test.
    scanned: usize,
}

impl HeadReader {
    pub(crate) fn new(max_size: usize, max_headers: usize) -> Self {
        HeadReader {
            buf: Vec::new(),
            max_size,
            max_headers,
            lines: 0,
            scanned: 0,
        }
    }

    /// Bytes of the incomplete head held in memory.
    pub(crate) fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Total bytes examined so far.
    pub(crate) fn scanned(&self) -> usize {
        self.scanned
    }

    /// Adds a piece. `Ok(None)` means the head is not complete yet.
    ///
    /// After an error or a complete head the reader must not be fed again.
    /// On error the buffer is released.
    pub(crate) fn feed(&mut self, piece: &[u8]) -> Result<Option<Head>, HandshakeError> {
        let result = self.feed_inner(piece);
        if result.is_err() {
            self.buf = Vec::new();
        }
        result
    }

    fn feed_inner(&mut self, piece: &[u8]) -> Result<Option<Head>, HandshakeError> {
        // An HTTP head starts with a method, `HTTP/` or an empty line; a
        // TLS record starts with its content type, 20 to 24 (RFC 8446
        // §5.1). Seen at the first byte, a peer that speaks TLS where
        // plaintext is expected (or answers a plaintext request with a TLS
        // alert) fails at once instead of waiting for an empty line that
        // never comes.
        if self.buf.is_empty() && matches!(piece.first(), Some(20..=24)) {
            return Err(HandshakeError::TlsRecord);
        }
        // Never buffer past the limit: only the part of the piece that fits
        // is copied. If the head does not end within it, it is too large.
        let room = self.max_size.saturating_sub(self.buf.len());
        let take = room.min(piece.len());
        let start = self.buf.len();
        self.buf
            .extend_from_slice(piece.get(..take).unwrap_or(piece));

        if let Some(end) = self.scan(start)? {
            let mut leftover = self.buf.split_off(end);
            leftover.extend_from_slice(piece.get(take..).unwrap_or_default());
            let bytes = std::mem::take(&mut self.buf);
            return Ok(Some(Head {
                bytes,
                // The start line is one of the counted lines.
                header_lines: self.lines.saturating_sub(1),
                leftover,
            }));
        }
        if take < piece.len() || self.buf.len() >= self.max_size {
            return Err(HandshakeError::HeadTooLarge {
                limit: self.max_size,
            });
        }
        Ok(None)
    }

    /// Scans `buf[start..]`, returning the end of the head (just past the
    /// `\r\n\r\n`) if it is there.
    fn scan(&mut self, start: usize) -> Result<Option<usize>, HandshakeError> {
        let mut pos = start;
        while let Some(offset) = self
            .buf
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let lf = pos + offset;
            self.scanned += offset + 1;
            pos = lf + 1;
            // The three bytes before this LF may lie in an earlier piece;
            // they are still in the buffer, so the look-back is O(1).
            let ends_head = lf >= 3 && self.buf.get(lf - 3..lf) == Some(&b"\r\n\r"[..]);
            if ends_head {
                return Ok(Some(pos));
            }
            self.lines += 1;
            if self.lines.saturating_sub(1) > self.max_headers {
                return Err(HandshakeError::TooManyHeaders {
                    limit: self.max_headers,
                });
            }
        }
        self.scanned += self.buf.len().saturating_sub(pos);
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";

    fn feed_all(reader: &mut HeadReader, pieces: &[&[u8]]) -> Result<Option<Head>, HandshakeError> {
        let mut last = Ok(None);
        for piece in pieces {
            last = reader.feed(piece);
            if !matches!(last, Ok(None)) {
                break;
            }
        }
        last
    }

    #[test]
    fn whole_head_in_one_piece() {
        let mut r = HeadReader::new(1024, 10);
        let mut input = HEAD.to_vec();
        input.extend_from_slice(b"rest");
        let head = r.feed(&input).unwrap().unwrap();
        assert_eq!(head.bytes, HEAD);
        assert_eq!(head.leftover, b"rest");
        assert_eq!(head.header_lines, 2);
    }

    #[test]
    fn terminator_split_across_pieces_at_every_point() {
        for split in 1..HEAD.len() {
            let mut r = HeadReader::new(1024, 10);
            let (a, b) = HEAD.split_at(split);
            assert!(r.feed(a).unwrap().is_none(), "split {split}");
            let head = r.feed(b).unwrap().unwrap();
            assert_eq!(head.bytes, HEAD);
            assert!(head.leftover.is_empty());
        }
    }

    #[test]
    fn byte_by_byte_scans_each_byte_once() {
        let mut r = HeadReader::new(1024, 10);
        let mut done = None;
        for &b in HEAD {
            if let Some(head) = r.feed(&[b]).unwrap() {
                done = Some(head);
            }
        }
        assert_eq!(done.unwrap().bytes, HEAD);
        assert_eq!(r.scanned(), HEAD.len());
    }

    #[test]
    fn large_head_fed_byte_by_byte_is_linear() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        while head.len() < 16 * 1024 - 100 {
            head.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let mut r = HeadReader::new(16 * 1024, 1000);
        let mut complete = false;
        for &b in &head {
            complete = r.feed(&[b]).unwrap().is_some();
        }
        assert!(complete);
        assert_eq!(r.scanned(), head.len());
    }

    #[test]
    fn head_of_exactly_the_limit_is_accepted() {
        let mut r = HeadReader::new(HEAD.len(), 10);
        let mut input = HEAD.to_vec();
        input.extend_from_slice(b"leftover beyond the limit is fine");
        let head = r.feed(&input).unwrap().unwrap();
        assert_eq!(head.bytes, HEAD);
        assert_eq!(head.leftover, b"leftover beyond the limit is fine");

        let mut r = HeadReader::new(HEAD.len() - 1, 10);
        assert_eq!(
            r.feed(HEAD).err(),
            Some(HandshakeError::HeadTooLarge {
                limit: HEAD.len() - 1
            })
        );
        assert_eq!(r.buffered_len(), 0);
    }

    #[test]
    fn fails_as_soon_as_the_buffer_is_full() {
        let mut r = HeadReader::new(10, 10);
        assert!(r.feed(b"GET / HTT").unwrap().is_none());
        assert_eq!(r.buffered_len(), 9);
        // Reaching the limit without a terminator is already too large.
        assert!(r.feed(b"P").is_err());
    }

    #[test]
    fn never_buffers_more_than_the_limit() {
        let mut r = HeadReader::new(100, 10);
        assert!(r.feed(&[b'a'; 60]).unwrap().is_none());
        assert!(r.feed(&[b'a'; 1 << 20]).is_err());
        assert_eq!(r.buffered_len(), 0);
        assert!(r.scanned() <= 100);
    }

    #[test]
    fn header_count_limit_fails_at_the_first_extra_line() {
        let ok = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        let mut r = HeadReader::new(1024, 2);
        assert_eq!(r.feed(ok).unwrap().unwrap().header_lines, 2);

        let mut r = HeadReader::new(1024, 2);
        let result = feed_all(
            &mut r,
            &[
                b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n",
                b"C: 3\r\n",
                b"unreachable",
            ],
        );
        assert_eq!(
            result.err(),
            Some(HandshakeError::TooManyHeaders { limit: 2 })
        );
        // Scanning stopped at the end of the third header line.
        assert_eq!(r.scanned(), 34);
    }

    #[test]
    fn a_tls_record_fails_at_its_first_byte() {
        // A ClientHello's record header, and a TLS alert.
        for first in [&[0x16, 0x03, 0x01][..], &[0x15, 0x03, 0x03, 0x00, 0x02]] {
            let mut r = HeadReader::new(1024, 10);
            assert_eq!(r.feed(first).err(), Some(HandshakeError::TlsRecord));
        }
        // Only at the start: the same byte later is left to the parser.
        let mut r = HeadReader::new(1024, 10);
        assert!(r.feed(b"GET / HTTP/1.1\r\n").unwrap().is_none());
        assert!(r.feed(&[0x16]).unwrap().is_none());
    }

    #[test]
    fn bare_lf_lines_count_towards_the_header_limit() {
        let mut r = HeadReader::new(1024, 1);
        assert!(r.feed(b"GET / HTTP/1.1\nA: 1\nB: 2\n").is_err());
    }
}
