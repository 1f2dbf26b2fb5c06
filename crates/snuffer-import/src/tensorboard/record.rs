//! TFRecord framing, the container of TensorBoard event files: each record is
//!
//! ```text
//! u64 length (little-endian) · u32 masked CRC-32C of those 8 bytes · data · u32 masked CRC-32C of the data
//! ```
//!
//! Reading never sizes a buffer from a claimed length: the data is read in chunks of at
//! most [`CHUNK`] bytes (`Read::take`), so memory follows the bytes that actually arrive,
//! and a header claiming more than [`MAX_RECORD_BYTES`] is refused before any of its data
//! is read. A file whose header claims 2 GB (sparse-extended to 2 GB, so the bytes are
//! "there") costs one header read, not 2 GB of memory or a 2 GB scan.

use std::io::{self, Read, Write};

/// Largest record read. TensorBoard scalar events are under 1 KB, and image or graph
/// summaries a few MB; a longer claimed length is a damaged header (or a file that is not
/// an event file). An engineering bound, not fitted.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;
/// Bytes read at a time.
pub const CHUNK: usize = 64 << 10;

/// TFRecord's masked CRC-32C (Castagnoli) of `bytes`.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    mask(CASTAGNOLI.checksum(bytes))
}

const CASTAGNOLI: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Writes one record framing `data`.
pub fn write_record<W: Write>(mut w: W, data: &[u8]) -> io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    w.write_all(&len)?;
    w.write_all(&masked_crc32c(&len).to_le_bytes())?;
    w.write_all(data)?;
    w.write_all(&masked_crc32c(data).to_le_bytes())
}

/// What reading one record gave.
#[derive(Debug)]
pub(crate) enum Frame {
    /// The end of the input, exactly at a record boundary.
    End,
    /// The input ends inside this record (a writer still running, or killed).
    Truncated,
    /// A record whose checksums hold.
    Record(Vec<u8>),
}

/// Why a record is damaged.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The length's checksum does not match.
    LengthChecksum,
    /// The data's checksum does not match.
    DataChecksum,
    /// The header claims more than [`MAX_RECORD_BYTES`].
    TooLong(u64),
    /// Reading failed.
    Io(io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::LengthChecksum => f.write_str("the length's checksum does not match"),
            FrameError::DataChecksum => f.write_str("the data's checksum does not match"),
            FrameError::TooLong(len) => write!(
                f,
                "its header claims {len} bytes, more than the {} MiB limit for one record",
                MAX_RECORD_BYTES >> 20
            ),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads as many bytes as arrive, up to `buf.len()`; fewer only at the end of the input.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads the next record from `r`.
pub(crate) fn read_record<R: Read>(r: &mut R) -> Result<Frame, FrameError> {
    let mut header = [0u8; 12];
    match read_full(r, &mut header).map_err(FrameError::Io)? {
        0 => return Ok(Frame::End),
        12 => {}
        _ => return Ok(Frame::Truncated),
    }
    let (len_bytes, crc_bytes) = header.split_at(8);
    let crc = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    if masked_crc32c(len_bytes) != crc {
        return Err(FrameError::LengthChecksum);
    }
    let mut len_le = [0u8; 8];
    len_le.copy_from_slice(len_bytes);
    let len = u64::from_le_bytes(len_le);
    if len > MAX_RECORD_BYTES {
        return Err(FrameError::TooLong(len));
    }
    // Grows with the bytes read, never from `len`.
    let mut data = Vec::new();
    let mut chunk = vec![0u8; CHUNK.min(len as usize)];
    let mut body = r.by_ref().take(len);
    loop {
        let n = read_full(&mut body, &mut chunk).map_err(FrameError::Io)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    if (data.len() as u64) < len {
        return Ok(Frame::Truncated);
    }
    let mut footer = [0u8; 4];
    if read_full(r, &mut footer).map_err(FrameError::Io)? < 4 {
        return Ok(Frame::Truncated);
    }
    if masked_crc32c(&data) != u32::from_le_bytes(footer) {
        return Err(FrameError::DataChecksum);
    }
    Ok(Frame::Record(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_checksum_and_round_trip() {
        // CRC-32C("123456789") = 0xE3069283 (the check value of the catalogue).
        assert_eq!(CASTAGNOLI.checksum(b"123456789"), 0xe306_9283);
        let mut bytes = Vec::new();
        write_record(&mut bytes, b"hello").unwrap();
        write_record(&mut bytes, b"").unwrap();
        let mut r = bytes.as_slice();
        match read_record(&mut r).unwrap() {
            Frame::Record(data) => assert_eq!(data, b"hello".to_vec()),
            f => panic!("{f:?}"),
        }
        assert!(matches!(read_record(&mut r).unwrap(), Frame::Record(d) if d.is_empty()));
        assert!(matches!(read_record(&mut r).unwrap(), Frame::End));
    }

    #[test]
    fn claimed_lengths_are_bounded_by_what_arrives_and_by_the_limit() {
        // Within the limit, past the end: truncated, with memory for 1500 bytes only.
        let len = (MAX_RECORD_BYTES - 1).to_le_bytes();
        let mut bytes = len.to_vec();
        bytes.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
        bytes.extend_from_slice(&[0; 1500]);
        let mut r = bytes.as_slice();
        assert!(matches!(read_record(&mut r).unwrap(), Frame::Truncated));
        // Over the limit, followed by endless zeros (/dev/zero): refused at the header.
        let len = (2u64 << 30).to_le_bytes();
        let mut head = len.to_vec();
        head.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
        let mut r = head.as_slice().chain(io::repeat(0));
        let err = read_record(&mut r).unwrap_err().to_string();
        assert!(
            err.contains("2147483648 bytes") && err.contains("64 MiB"),
            "{err}"
        );
    }
}
