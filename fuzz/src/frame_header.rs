//! `frame_header`: arbitrary bytes into `FrameHeader::decode`.
//!
//! Input: the bytes to decode, as they are (any seed that starts with a
//! frame is a useful seed).
//!
//! Checks:
//! - the result equals that of a straightforward reference decoder written
//!   from RFC 6455 §5.2 (every field, the header length, and which error);
//! - decoding is prefix-consistent: every prefix shorter than the point
//!   where the result is decided gives `Ok(None)`, and every longer one the
//!   same result (a header never depends on bytes past its end, and an
//!   error is reported as soon as the bytes that cause it are present);
//! - a decoded header re-encodes to at most as many bytes (the encoder uses
//!   the minimal length form, the decoder accepts non-minimal ones), the
//!   re-encoding decodes to the same header, and a header that was already
//!   minimal re-encodes to exactly the input bytes.

use rfc6455::ProtocolError;
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};

/// Runs one input.
pub fn run(data: &[u8]) {
    let whole = FrameHeader::decode(data);
    assert_eq!(whole, reference_decode(data), "input {data:02x?}");

    // The shortest prefix whose decoding is decided (not `Ok(None)`).
    let window = data.len().min(MAX_HEADER_LEN);
    let decided_at = (0..=window).find(|&k| FrameHeader::decode(&data[..k]) != Ok(None));
    match &whole {
        Ok(None) => {
            assert!(data.len() < MAX_HEADER_LEN, "14 bytes always decide");
            assert_eq!(decided_at, None, "a prefix decided what the whole did not");
        }
        Ok(Some((header, len))) => {
            let len = *len;
            assert!((2..=MAX_HEADER_LEN).contains(&len) && len <= data.len());
            assert_eq!(
                decided_at,
                Some(len),
                "decided before the header was complete"
            );
            assert_eq!(FrameHeader::decode(&data[..len]), whole);
            check_reencode(header, &data[..len]);
        }
        Err(_) => {
            let at = decided_at.expect("an error is decided by some prefix");
            for k in at..=window {
                assert_eq!(FrameHeader::decode(&data[..k]), whole, "prefix {k}");
            }
        }
    }
}

/// Re-encodes a decoded header and checks it against its original bytes.
fn check_reencode(header: &FrameHeader, original: &[u8]) {
    let mut out = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    assert_eq!(n, header.encoded_len());
    assert!(n <= original.len(), "re-encoding is longer than the input");
    assert_eq!(FrameHeader::decode(&out[..n]), Ok(Some((*header, n))));
    let minimal = match original[1] & 0x7f {
        126 => header.payload_len >= 126,
        127 => header.payload_len > 0xffff,
        _ => true,
    };
    assert_eq!(n == original.len(), minimal);
    if minimal {
        assert_eq!(&out[..n], original);
    }
}

/// RFC 6455 §5.2 and §5.5, read byte by byte. Errors are reported in the
/// order of the bytes that reveal them, and within the first byte an
/// unknown opcode before a missing FIN bit (the crate's documented order).
fn reference_decode(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
    let Some(&b0) = buf.first() else {
        return Ok(None);
    };
    let opcode = match b0 & 0x0f {
        0x0 => OpCode::Continuation,
        0x1 => OpCode::Text,
        0x2 => OpCode::Binary,
        0x8 => OpCode::Close,
        0x9 => OpCode::Ping,
        0xa => OpCode::Pong,
        bits => return Err(ProtocolError::ReservedOpcode(bits)),
    };
    let control = b0 & 0x08 != 0;
    let fin = b0 & 0x80 != 0;
    if control && !fin {
        return Err(ProtocolError::FragmentedControlFrame);
    }
    let Some(&b1) = buf.get(1) else {
        return Ok(None);
    };
    let short = b1 & 0x7f;
    if control && short > 125 {
        return Err(ProtocolError::ControlFrameTooLong(short.into()));
    }
    let ext = match short {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mut payload_len = u64::from(short);
    if ext > 0 {
        let Some(bytes) = buf.get(2..2 + ext) else {
            return Ok(None);
        };
        payload_len = bytes.iter().fold(0, |acc, &b| acc << 8 | u64::from(b));
        if payload_len >= 1 << 63 {
            return Err(ProtocolError::InvalidLength);
        }
    }
    let mut len = 2 + ext;
    let mask = if b1 & 0x80 != 0 {
        let Some(key) = buf.get(len..len + 4) else {
            return Ok(None);
        };
        len += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    let header = FrameHeader {
        fin,
        rsv: (b0 >> 4) & 0b111,
        opcode,
        mask,
        payload_len,
    };
    Ok(Some((header, len)))
}
