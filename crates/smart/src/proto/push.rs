//! Push (receive-pack, protocol v0): update commands, and the server's
//! `report-status`.

use gix::ObjectId;

use super::error::{Cursor, ProtocolError};
use super::pktline::{self, Packet};
use super::sideband::{Band, demux};

/// One ref update: `old` -> `new` (a null id for `old` creates, for
/// `new` deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// What the ref points to on the server now (null: it does not exist).
    pub old: ObjectId,
    /// What it should point to (null: delete it).
    pub new: ObjectId,
    /// The ref's full name.
    pub name: String,
}

impl Command {
    /// Whether this deletes the ref.
    pub fn is_delete(&self) -> bool {
        self.new.is_null()
    }
}

/// Writes the commands, the capabilities we want on the first, and a flush.
///
/// ```
/// use smart::proto::push::{Command, encode_commands};
/// let zero = gix::ObjectId::null(gix::hash::Kind::Sha1);
/// let one = gix::ObjectId::from_bytes_or_panic(&[1; 20]);
/// let bytes = encode_commands(&[Command { old: zero, new: one, name: "refs/heads/a".into() }], &["report-status"])?;
/// assert!(bytes.starts_with(b"0070000000"));
/// assert!(bytes.ends_with(b"refs/heads/a\0report-status0000"));
/// # Ok::<(), smart::proto::pktline::PktLineError>(())
/// ```
pub fn encode_commands(
    commands: &[Command],
    capabilities: &[&str],
) -> Result<Vec<u8>, pktline::PktLineError> {
    let mut out = Vec::new();
    for (i, c) in commands.iter().enumerate() {
        let mut line = format!("{} {} {}", c.old, c.new, c.name).into_bytes();
        if i == 0 {
            line.push(0);
            line.extend_from_slice(capabilities.join(" ").as_bytes());
        }
        pktline::write_data(&mut out, &line)?;
    }
    pktline::write_flush(&mut out);
    Ok(out)
}

/// The outcome of one ref update, as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefStatus {
    /// The ref's full name.
    pub name: String,
    /// `Err(reason)` when the server refused it (`ng <ref> <reason>`).
    pub result: Result<(), String>,
}

/// A server's `report-status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportStatus {
    /// `Err(reason)` when the server could not unpack what was sent.
    pub unpack: Result<(), String>,
    /// One per command, in the server's order.
    pub refs: Vec<RefStatus>,
}

/// Reads a report-status from pkt-lines, packet by packet.
#[derive(Debug)]
pub struct ReportStatusParser {
    cursor: Cursor,
    unpack: Option<Result<(), String>>,
    refs: Vec<RefStatus>,
}

impl Default for ReportStatusParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ReportStatusParser {
    /// A parser for one report.
    pub fn new() -> Self {
        Self {
            cursor: Cursor::new("report-status"),
            unpack: None,
            refs: Vec::new(),
        }
    }

    /// Feeds one packet; the report once its flush has come.
    ///
    /// ```
    /// use smart::proto::{Packet, push::ReportStatusParser};
    /// let mut p = ReportStatusParser::new();
    /// p.push(Packet::Data(b"unpack ok\n"))?;
    /// p.push(Packet::Data(b"ng refs/heads/main non-fast-forward\n"))?;
    /// let report = p.push(Packet::Flush)?.unwrap();
    /// assert_eq!(report.refs[0].result, Err("non-fast-forward".to_string()));
    /// # Ok::<(), smart::proto::ProtocolError>(())
    /// ```
    pub fn push(&mut self, packet: Packet<'_>) -> Result<Option<ReportStatus>, ProtocolError> {
        self.cursor.next(packet)?;
        let c = self.cursor;
        let text = match packet {
            Packet::Flush => {
                let unpack = self
                    .unpack
                    .take()
                    .ok_or_else(|| c.unexpected("`unpack ok` or `unpack <reason>`", packet))?;
                return Ok(Some(ReportStatus {
                    unpack,
                    refs: std::mem::take(&mut self.refs),
                }));
            }
            Packet::Data(_) => packet.as_text().unwrap_or_default(),
            _ => return Err(c.unexpected("a status line or flush", packet)),
        };
        let text = String::from_utf8_lossy(text);
        if self.unpack.is_none() {
            let status = text
                .strip_prefix("unpack ")
                .ok_or_else(|| c.unexpected("`unpack ok` or `unpack <reason>`", packet))?;
            self.unpack = Some(if status == "ok" {
                Ok(())
            } else {
                Err(status.to_string())
            });
            return Ok(None);
        }
        if let Some(name) = text.strip_prefix("ok ") {
            self.refs.push(RefStatus {
                name: name.to_string(),
                result: Ok(()),
            });
        } else if let Some(rest) = text.strip_prefix("ng ") {
            let (name, reason) = rest.split_once(' ').unwrap_or((rest, "rejected"));
            self.refs.push(RefStatus {
                name: name.to_string(),
                result: Err(reason.to_string()),
            });
        } else if text.starts_with("option ") {
            // report-status-v2 details: not requested, tolerated.
        } else {
            return Err(c.unexpected("`ok <ref>` or `ng <ref> <reason>`", packet));
        }
        Ok(None)
    }

    /// The error to report when the connection ends before the report does.
    pub fn truncated(&self) -> ProtocolError {
        self.cursor.truncated("the rest of the report-status")
    }
}

/// Collects a report-status that comes inside side-band-64k (band 1 holds
/// pkt-lines of its own), with progress and errors on the other bands.
#[derive(Debug, Default)]
pub struct SidebandReport {
    packets: usize,
    buffer: Vec<u8>,
    parser: ReportStatusParser,
    report: Option<ReportStatus>,
}

/// The most report-status bytes buffered (a report is a few lines per ref).
const MAX_REPORT: usize = 16 << 20;

/// What one outer side-band packet gave.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportEvent<'a> {
    /// Keep reading.
    Nothing,
    /// Progress text from the server (hook output comes this way too).
    Progress(&'a [u8]),
    /// The outer stream ended; the report is complete.
    Done(ReportStatus),
}

impl SidebandReport {
    /// A collector for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one outer packet.
    pub fn push<'a>(&mut self, packet: Packet<'a>) -> Result<ReportEvent<'a>, ProtocolError> {
        self.packets += 1;
        let unexpected =
            |expected| ProtocolError::unexpected("side-band report-status", self.packets, expected, packet);
        match packet {
            Packet::Flush => match self.report.take() {
                Some(report) => Ok(ReportEvent::Done(report)),
                None => Err(unexpected("the rest of the report before the flush")),
            },
            Packet::Data(data) => match demux(data) {
                Some(Band::Data(bytes)) => {
                    if self.buffer.len() + bytes.len() > MAX_REPORT {
                        return Err(unexpected("a report-status of at most 16 MiB"));
                    }
                    self.buffer.extend_from_slice(bytes);
                    self.drain()?;
                    Ok(ReportEvent::Nothing)
                }
                Some(Band::Progress(text)) => Ok(ReportEvent::Progress(text)),
                Some(Band::Error(message)) => Err(ProtocolError::remote(message)),
                None => match packet.as_error() {
                    Some(message) => Err(ProtocolError::remote(message)),
                    None => Err(unexpected("a side-band packet (band 1, 2 or 3)")),
                },
            },
            _ => Err(unexpected("a side-band packet or flush")),
        }
    }

    fn drain(&mut self) -> Result<(), ProtocolError> {
        let mut start = 0;
        loop {
            match pktline::decode(&self.buffer[start..]) {
                Ok(pktline::Decoded::Complete { packet, consumed }) => {
                    start += consumed;
                    if self.report.is_some() {
                        return Err(self
                            .parser
                            .cursor
                            .unexpected("nothing after the report's flush", packet));
                    }
                    if let Some(report) = self.parser.push(packet)? {
                        self.report = Some(report);
                    }
                }
                Ok(pktline::Decoded::Incomplete { .. }) => break,
                Err(source) => {
                    return Err(ProtocolError::PktLine {
                        context: "report-status",
                        packet: self.parser.cursor.packet + 1,
                        source,
                    });
                }
            }
        }
        self.buffer.drain(..start);
        Ok(())
    }

    /// The error to report when the connection ends before the report does.
    pub fn truncated(&self) -> ProtocolError {
        self.parser.truncated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band1(inner: &[u8]) -> Vec<u8> {
        let mut v = vec![1];
        v.extend_from_slice(inner);
        v
    }

    #[test]
    fn report_split_across_side_band_packets() {
        let mut inner = Vec::new();
        pktline::write_text(&mut inner, "unpack ok").unwrap();
        pktline::write_text(&mut inner, "ok refs/heads/a").unwrap();
        pktline::write_text(&mut inner, "ng refs/heads/b pre-receive hook declined").unwrap();
        pktline::write_flush(&mut inner);
        let (x, y) = inner.split_at(7);
        let mut r = SidebandReport::new();
        let (x, y) = (band1(x), band1(y));
        assert_eq!(r.push(Packet::Data(&x)).unwrap(), ReportEvent::Nothing);
        assert_eq!(
            r.push(Packet::Data(b"\x02remote: no\n")).unwrap(),
            ReportEvent::Progress(b"remote: no\n")
        );
        assert_eq!(r.push(Packet::Data(&y)).unwrap(), ReportEvent::Nothing);
        let ReportEvent::Done(report) = r.push(Packet::Flush).unwrap() else {
            panic!()
        };
        assert_eq!(report.unpack, Ok(()));
        assert_eq!(report.refs[1].result, Err("pre-receive hook declined".into()));
    }

    #[test]
    fn errors() {
        let mut p = ReportStatusParser::new();
        let err = p.push(Packet::Data(b"ok refs/heads/a\n")).unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Unexpected {
                expected: "`unpack ok` or `unpack <reason>`",
                packet: 1,
                ..
            }
        ));
        let mut r = SidebandReport::new();
        assert!(r.push(Packet::Flush).is_err());
        let mut r = SidebandReport::new();
        assert!(r.push(Packet::Data(b"\x01zzzz")).is_err());
    }
}
