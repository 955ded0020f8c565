//! side-band-64k: the first byte of each data packet says which stream it
//! belongs to: 1 pack data, 2 progress text, 3 a fatal error.

/// One side-band packet, demultiplexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band<'a> {
    /// Band 1: the payload (pack data, or a nested report-status).
    Data(&'a [u8]),
    /// Band 2: progress text for the user (`\r`-separated updates).
    Progress(&'a [u8]),
    /// Band 3: the server gives up, with this message.
    Error(&'a [u8]),
}

/// Splits a side-band data packet; `None` when the band byte is not 1, 2
/// or 3 (or the packet is empty).
///
/// ```
/// use smart::proto::sideband::{demux, Band};
/// assert_eq!(demux(b"\x02Counting objects: 3\r"), Some(Band::Progress(b"Counting objects: 3\r")));
/// assert_eq!(demux(b"\x04?"), None);
/// ```
pub fn demux(data: &[u8]) -> Option<Band<'_>> {
    let (&band, rest) = data.split_first()?;
    match band {
        1 => Some(Band::Data(rest)),
        2 => Some(Band::Progress(rest)),
        3 => Some(Band::Error(rest)),
        _ => None,
    }
}
