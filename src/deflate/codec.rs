//! Compressing and decompressing message payloads (RFC 7692 §7.2).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::DeflateParams;
use super::small::{self, SmallEncoder};

/// The end of the empty stored block that a sync flush writes: RFC 7692
/// §7.2.1 strips it from every compressed message, §7.2.2 puts it back.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// First growth step of a message being inflated; later steps double the
/// buffer, up to the limit.
const FIRST_GROWTH: usize = 1024;

/// Compresses the messages one endpoint sends.
///
/// Holds one zlib compressor for the whole connection, created on the
/// first message it compresses and reset (never re-created) when the
/// agreement says each message starts with an empty window. With no
/// context takeover, messages of up to 16 KiB skip zlib and its fixed cost
/// (see `small.rs`); at level 0 zlib is never used (stored blocks).
pub struct Deflater {
    compress: Option<Compress>,
    /// Hash table for the short messages sent with no context takeover.
    small: SmallEncoder,
    /// Longest back-reference allowed: the agreed window, `2^bits` (RFC
    /// 7692 §7.1.2: the compressor "MUST NOT use an LZ77 sliding window
    /// size greater than" it).
    max_distance: usize,
    /// Window bits given to zlib: the agreed ones, but at least 9 (see the
    /// module docs on window bits 8).
    window_bits: u8,
    level: Compression,
    no_context_takeover: bool,
    min_message_size: usize,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("allocated", &self.compress.is_some())
            .field("window_bits", &self.window_bits)
            .field("level", &self.level.level())
            .field("no_context_takeover", &self.no_context_takeover)
            .field("min_message_size", &self.min_message_size)
            .finish()
    }
}

impl Deflater {
    /// A compressor for the "send" half of the agreed parameters. Allocates
    /// nothing until the first message is compressed.
    pub fn new(params: &DeflateParams) -> Self {
        let params = params.validated();
        Deflater {
            compress: None,
            small: SmallEncoder::default(),
            max_distance: 1 << params.send_max_window_bits,
            // A 9-bit zlib compressor never refers back more than 250
            // bytes, which an 8-bit peer can decode.
            window_bits: params.send_max_window_bits.clamp(9, 15),
            level: Compression::new(params.compression_level),
            no_context_takeover: params.send_no_context_takeover,
            min_message_size: params.min_message_size,
        }
    }

    /// Whether a message of `len` bytes is worth compressing: at least
    /// [`DeflateParams::min_message_size`]. Smaller ones are sent as they
    /// are, with RSV1 clear (RFC 7692 §6: compression is chosen per
    /// message), which leaves the compressor untouched.
    pub fn should_compress(&self, len: usize) -> bool {
        len >= self.min_message_size
    }

    /// Compresses one whole message, appending the payload to send (with
    /// RSV1 set on its first frame) to `out`.
    ///
    /// An empty message compresses to the single byte `00` (an empty
    /// stored block, RFC 7692 §7.2.3.6).
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if input.is_empty() {
            // An empty stored block (`00 00 00 ff ff`) minus the tail.
            // Byte-aligned like every message end, it leaves the LZ77
            // window as it is, and zlib would write nothing for it after a
            // flush (a "duplicate flush").
            out.push(0x00);
            return;
        }
        if self.level.level() == 0 {
            // Level 0 means no compression: stored blocks, which refer to
            // nothing, so they suit context takeover too.
            write_stored(input, out);
            return;
        }
        if self.no_context_takeover && input.len() <= small::MAX_LEN {
            // RFC 7692 §7.2.1: with "no_context_takeover" agreed for our
            // direction, we "MUST start compressing each new message with
            // an empty LZ77 sliding window": the small encoder always does.
            self.small
                .compress(input, self.level.level(), self.max_distance, out);
            return;
        }
        let (window_bits, level) = (self.window_bits, self.level);
        let compress = self
            .compress
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, window_bits));
        let start = out.len();
        // RFC 7692 §7.2.1 step 1: "Compress all the octets of the payload
        // of the message using DEFLATE" — with a sync flush, which ends the
        // data with an empty stored block.
        if deflate(compress, input, out).is_err() {
            // zlib only fails on a corrupted state, which is a bug. Start
            // afresh (an empty window is always valid for the peer) and send
            // the message in stored blocks.
            compress.reset();
            out.truncate(start);
            write_stored(input, out);
            return;
        }
        // RFC 7692 §7.2.1 step 2: if the data does not end with an empty
        // stored block, append one (`00 00 00 ff ff`); step 3: remove the
        // 4 octets `00 00 ff ff` from the tail end.
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        } else {
            out.push(0x00);
        }
        // RFC 7692 §7.2.1: with "no_context_takeover" agreed for our
        // direction, we "MUST start compressing each new message with an
        // empty LZ77 sliding window".
        if self.no_context_takeover {
            compress.reset();
        }
    }

    /// Bytes held by the compressor: 0 until the first message that zlib
    /// compresses, then about `245 KiB + 4 × 2^window_bits` (see the module
    /// docs); plus, with no context takeover, up to ~117 KiB of work space for
    /// the short messages.
    pub fn memory_usage(&self) -> usize {
        let zlib = match self.compress {
            None => 0,
            Some(_) => (245 << 10) + (4 << self.window_bits),
        };
        zlib + self.small.memory_usage()
    }
}

/// Runs the compressor over all of `input` with a sync flush, growing `out`
/// as needed. Each pass consumes input or produces output, or ends.
fn deflate(compress: &mut Compress, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(input.len() / 2 + 256);
        }
        let (read_before, written_before) = (compress.total_in(), compress.total_out());
        compress
            .compress_vec(input, out, FlushCompress::Sync)
            .map_err(|_| ())?;
        let read = (compress.total_in() - read_before) as usize;
        let written = compress.total_out() - written_before;
        input = &input[read..];
        // zlib: the flush is complete when it returns with output space to
        // spare; otherwise it must be called again with more room.
        let room_left = out.len() < out.capacity();
        if input.is_empty() && room_left {
            return Ok(());
        }
        if read == 0 && written == 0 && room_left {
            return Err(());
        }
    }
}

/// Writes `input` as stored (uncompressed) DEFLATE blocks, in the form of
/// RFC 7692 §7.2.1: ending with the first byte of an empty stored block.
pub(super) fn write_stored(input: &[u8], out: &mut Vec<u8>) {
    for chunk in input.chunks(usize::from(u16::MAX)) {
        let len = chunk.len() as u16;
        // BFINAL 0, BTYPE 00, then padding to the byte boundary.
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.push(0x00);
}

/// Why a compressed message could not be decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The message decompresses to more than the limit. Close code 1009.
    #[error("decompressed message is larger than the limit")]
    TooBig,
    /// The payload is not valid DEFLATE data. Close code 1007 is
    /// recommended (the message's data is not consistent with its type).
    #[error("compressed message is not valid DEFLATE data (RFC 7692 §7.2.2)")]
    Corrupt,
}

/// Decompresses the messages one endpoint receives, as their bytes arrive.
///
/// For each compressed message: [`feed`](Self::feed) every piece of its
/// payload (frame by frame, or any smaller pieces), then call
/// [`finish`](Self::finish) once. The decompressor is created on the first
/// compressed message and reset (never re-created) between messages when
/// the peer does not take over its context.
pub struct Inflater {
    decompress: Option<Decompress>,
    no_context_takeover: bool,
    /// The current message has had at least one byte fed.
    started: bool,
    /// The current message contained a final block (BFINAL): the rest of
    /// its bytes are ignored and the stream must restart.
    ended: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("allocated", &self.decompress.is_some())
            .field("no_context_takeover", &self.no_context_takeover)
            .field("started", &self.started)
            .field("ended", &self.ended)
            .finish()
    }
}

impl Inflater {
    /// A decompressor for the "receive" half of the agreed parameters.
    /// Allocates nothing until the first compressed message.
    pub fn new(params: &DeflateParams) -> Self {
        Inflater {
            decompress: None,
            no_context_takeover: params.receive_no_context_takeover,
            started: false,
            ended: false,
        }
    }

    /// Decompresses the next piece of the current message's payload,
    /// appending to `out`.
    ///
    /// `out.len()` never exceeds `limit`: output space is granted in
    /// doubling steps capped at `limit + 1` bytes of capacity, so a small
    /// "deflate bomb" fails with [`InflateError::TooBig`] having allocated
    /// no more than the limit. (Capacity that `out` already had is used as
    /// it is.) Bytes after a final DEFLATE block (BFINAL set) are ignored,
    /// and the next message then starts a new stream: zlib cannot continue
    /// a finished one, so a peer that sets BFINAL and still refers back to
    /// earlier messages would be seen as corrupt.
    ///
    /// # Errors
    ///
    /// [`InflateError::TooBig`] past the limit, [`InflateError::Corrupt`]
    /// for invalid data. The decompressor is then reset for a new stream;
    /// the connection is expected to fail.
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        if input.is_empty() {
            return Ok(());
        }
        self.started = true;
        self.run(input, out, limit).inspect_err(|_| self.reset())
    }

    /// Ends the current message: RFC 7692 §7.2.2, "Append 4 octets of 0x00
    /// 0x00 0xff 0xff to the tail end of the payload of the message" and
    /// decompress them, which flushes the last of the output. Same limit
    /// and errors as [`feed`](Self::feed).
    ///
    /// A compressed message with an empty payload is taken as an empty
    /// message and leaves the window untouched.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        if !self.started {
            return Ok(());
        }
        self.run(&TAIL, out, limit).inspect_err(|_| self.reset())?;
        // RFC 7692 §7.2.2: without "no_context_takeover" for the peer's
        // direction we "MUST decompress each new message using the LZ77
        // sliding window used to process the last compressed message", so
        // the state is kept. With it, or after a final block, restart.
        if self.no_context_takeover || self.ended {
            self.reset();
        }
        self.started = false;
        Ok(())
    }

    /// Abandons the current message and the window: the next message
    /// starts a new DEFLATE stream.
    pub fn reset(&mut self) {
        if let Some(decompress) = &mut self.decompress {
            decompress.reset(false);
        }
        self.started = false;
        self.ended = false;
    }

    /// Bytes held by the decompressor: 0 until the first compressed
    /// message, then about 46 KiB whatever the window bits (see the module
    /// docs).
    pub fn memory_usage(&self) -> usize {
        if self.decompress.is_some() {
            46 << 10
        } else {
            0
        }
    }

    /// Inflates `input` into `out`, under `limit`, until the input is
    /// consumed and the decompressor has nothing more to write.
    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        // Always 15 bits: decodes streams of any smaller window, zlib-rs
        // allocates a 32 KiB window anyway, and flate2 re-creates the
        // whole state on `reset` for any other value.
        let decompress = self
            .decompress
            .get_or_insert_with(|| Decompress::new(false));
        // Every pass consumes input or produces output (at most `limit + 1`
        // bytes in all) or returns, so the loop ends.
        loop {
            if self.ended {
                return Ok(());
            }
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            if out.len() == out.capacity() {
                // Room for `limit + 1` bytes at most: one byte past the
                // limit is how an oversized message shows itself.
                let room = (limit - out.len()).saturating_add(1);
                out.reserve_exact(out.capacity().max(FIRST_GROWTH).min(room));
            }
            let (read_before, written_before) = (decompress.total_in(), decompress.total_out());
            let status = decompress
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|_| InflateError::Corrupt)?;
            let read = (decompress.total_in() - read_before) as usize;
            let written = decompress.total_out() - written_before;
            input = &input[read..];
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            if status == Status::StreamEnd {
                // A final block (RFC 7692 §7.2.3.4 allows BFINAL set):
                // whatever follows in this message is not DEFLATE data.
                self.ended = true;
                return Ok(());
            }
            let room_left = out.len() < out.capacity();
            if room_left && (input.is_empty() || (read == 0 && written == 0)) {
                // With room to spare, the decompressor stops only when it
                // needs more input. Unread input here would mean no progress
                // at all, which zlib reports as an error instead.
                return if input.is_empty() {
                    Ok(())
                } else {
                    Err(InflateError::Corrupt)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests;
