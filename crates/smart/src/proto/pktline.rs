//! pkt-line framing (`gitprotocol-common(5)`): a 4-hex-digit length that
//! counts itself, then data; `0000` flush, `0001` delimiter, `0002`
//! response end.
//!
//! [`decode`] is incremental: give it what has arrived, it says how much
//! it still needs or what the first packet is and how many bytes it took.
//!
//! ```
//! use smart::proto::pktline::{self, Decoded, Packet};
//!
//! let mut wire = Vec::new();
//! pktline::write_text(&mut wire, "hello")?;
//! pktline::write_flush(&mut wire);
//! assert_eq!(wire, b"000ahello\n0000");
//!
//! assert_eq!(pktline::decode(&wire[..3])?, Decoded::Incomplete { needed: 1 });
//! assert_eq!(pktline::decode(&wire)?, Decoded::Complete { packet: Packet::Data(b"hello\n"), consumed: 10 });
//! assert_eq!(pktline::decode(&wire[10..])?, Decoded::Complete { packet: Packet::Flush, consumed: 4 });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The most data one packet carries (65520 bytes on the wire minus the header).
pub const MAX_DATA_LEN: usize = 65516;

/// One packet, borrowed from the buffer it was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0000`: end of a message or section.
    Flush,
    /// `0001`: separates the parts of a protocol v2 request or response.
    Delimiter,
    /// `0002`: end of a stateless (HTTP) v2 response.
    ResponseEnd,
    /// A data packet (possibly empty: `0004`).
    Data(&'a [u8]),
}

impl<'a> Packet<'a> {
    /// The data of a data packet, without one trailing `\n`; `None` for the
    /// special packets.
    pub fn as_text(&self) -> Option<&'a [u8]> {
        match self {
            Packet::Data(data) => Some(data.strip_suffix(b"\n").unwrap_or(data)),
            _ => None,
        }
    }

    /// The message of an `ERR <message>` packet, which a server sends
    /// instead of anything else when it refuses.
    pub fn as_error(&self) -> Option<&'a [u8]> {
        self.as_text()?.strip_prefix(b"ERR ")
    }
}

/// What [`decode`] found at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole packet, which took `consumed` bytes of the buffer.
    Complete {
        /// The packet.
        packet: Packet<'a>,
        /// Bytes of the buffer it took (header included).
        consumed: usize,
    },
    /// The buffer holds the start of a packet: at least `needed` more bytes are required.
    Incomplete {
        /// How many more bytes to read, at least.
        needed: usize,
    },
}

/// Bytes that are not a pkt-line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PktLineError {
    /// The 4-byte header is not hexadecimal.
    #[error("invalid pkt-line length header {header:?}")]
    InvalidHeader {
        /// The header, lossily as text.
        header: String,
    },
    /// Length 3 is reserved and means nothing.
    #[error("reserved pkt-line length 0003")]
    ReservedLength,
    /// More data than a packet may carry.
    #[error("pkt-line of {len} data bytes is longer than {MAX_DATA_LEN}")]
    TooLong {
        /// The data length.
        len: usize,
    },
}

/// Decodes the first packet of `buf`.
pub fn decode(buf: &[u8]) -> Result<Decoded<'_>, PktLineError> {
    let Some(header) = buf.get(..4) else {
        return Ok(Decoded::Incomplete {
            needed: 4 - buf.len(),
        });
    };
    let mut len = 0usize;
    for &b in header {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => {
                return Err(PktLineError::InvalidHeader {
                    header: String::from_utf8_lossy(header).into_owned(),
                });
            }
        };
        len = len * 16 + usize::from(digit);
    }
    let special = |packet| Ok(Decoded::Complete { packet, consumed: 4 });
    match len {
        0 => special(Packet::Flush),
        1 => special(Packet::Delimiter),
        2 => special(Packet::ResponseEnd),
        3 => Err(PktLineError::ReservedLength),
        len if len - 4 > MAX_DATA_LEN => Err(PktLineError::TooLong { len: len - 4 }),
        len => match buf.get(4..len) {
            Some(data) => Ok(Decoded::Complete {
                packet: Packet::Data(data),
                consumed: len,
            }),
            None => Ok(Decoded::Incomplete {
                needed: len - buf.len(),
            }),
        },
    }
}

/// Decodes every packet of a buffer that holds whole packets only (a
/// report-status carried in side-band, a recorded transcript).
pub fn decode_all(mut buf: &[u8]) -> Result<Vec<Packet<'_>>, DecodeAllError> {
    let mut packets = Vec::new();
    while !buf.is_empty() {
        match decode(buf)? {
            Decoded::Complete { packet, consumed } => {
                packets.push(packet);
                buf = &buf[consumed..];
            }
            Decoded::Incomplete { needed } => return Err(DecodeAllError::Truncated { needed }),
        }
    }
    Ok(packets)
}

/// Why [`decode_all`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeAllError {
    /// Not a pkt-line.
    #[error(transparent)]
    PktLine(#[from] PktLineError),
    /// The buffer ends inside a packet.
    #[error("truncated pkt-line: {needed} more bytes expected")]
    Truncated {
        /// How many bytes are missing, at least.
        needed: usize,
    },
}

/// Appends a data packet holding `data`.
pub fn write_data(out: &mut Vec<u8>, data: &[u8]) -> Result<(), PktLineError> {
    if data.len() > MAX_DATA_LEN {
        return Err(PktLineError::TooLong { len: data.len() });
    }
    out.extend_from_slice(format!("{:04x}", data.len() + 4).as_bytes());
    out.extend_from_slice(data);
    Ok(())
}

/// Appends a data packet holding `line` and a `\n`.
pub fn write_text(out: &mut Vec<u8>, line: impl AsRef<[u8]>) -> Result<(), PktLineError> {
    let line = line.as_ref();
    if line.len() + 1 > MAX_DATA_LEN {
        return Err(PktLineError::TooLong { len: line.len() + 1 });
    }
    out.extend_from_slice(format!("{:04x}", line.len() + 5).as_bytes());
    out.extend_from_slice(line);
    out.push(b'\n');
    Ok(())
}

/// Appends a flush packet (`0000`).
pub fn write_flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// Appends a delimiter packet (`0001`).
pub fn write_delimiter(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0001");
}

/// At most the first 80 bytes of peer data, as text, for an error message.
pub(crate) fn excerpt(data: &[u8]) -> String {
    let cut = &data[..data.len().min(80)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if data.len() > cut.len() {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_packets_and_errors() {
        let complete = |packet| Ok(Decoded::Complete { packet, consumed: 4 });
        assert_eq!(decode(b"0001"), complete(Packet::Delimiter));
        assert_eq!(decode(b"0002"), complete(Packet::ResponseEnd));
        assert_eq!(decode(b"0004"), complete(Packet::Data(b"")));
        assert_eq!(decode(b"0003"), Err(PktLineError::ReservedLength));
        assert_eq!(
            decode(b"00g0"),
            Err(PktLineError::InvalidHeader {
                header: "00g0".into()
            })
        );
        assert_eq!(decode(b"fff1"), Err(PktLineError::TooLong { len: 65517 }));
        assert_eq!(decode(b"fff0"), Ok(Decoded::Incomplete { needed: 65520 - 4 }));
        assert_eq!(decode(b""), Ok(Decoded::Incomplete { needed: 4 }));
        assert_eq!(decode(b"0009ab"), Ok(Decoded::Incomplete { needed: 3 }));
        assert_eq!(
            decode(b"0006ab0000"),
            Ok(Decoded::Complete {
                packet: Packet::Data(b"ab"),
                consumed: 6
            })
        );
    }

    #[test]
    fn writing_and_reading_agree() {
        let mut out = Vec::new();
        write_text(&mut out, "ERR no such repository").unwrap();
        write_delimiter(&mut out);
        write_data(&mut out, &[0u8; MAX_DATA_LEN]).unwrap();
        write_flush(&mut out);
        assert!(write_data(&mut out, &[0u8; MAX_DATA_LEN + 1]).is_err());
        let packets = decode_all(&out).unwrap();
        assert_eq!(packets.len(), 4);
        assert_eq!(packets[0].as_error(), Some(&b"no such repository"[..]));
        assert_eq!(packets[1], Packet::Delimiter);
        assert_eq!(packets[2], Packet::Data(&[0u8; MAX_DATA_LEN]));
        assert_eq!(packets[3], Packet::Flush);
        assert_eq!(
            decode_all(&out[..out.len() - 1]),
            Err(DecodeAllError::Truncated { needed: 1 })
        );
    }
}
