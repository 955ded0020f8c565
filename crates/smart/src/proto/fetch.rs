//! The v2 `fetch` command: the request, and its response read packet by
//! packet (acknowledgments, shallow-info, wanted-refs, packfile).

use gix::ObjectId;

use super::error::{Cursor, ProtocolError};
use super::sideband::{Band, demux};
use super::{Capabilities, Packet, pktline};

/// One `fetch` request (one round of negotiation).
#[derive(Clone, Debug, Default)]
pub struct FetchRequest {
    /// The objects wanted (ref tips).
    pub wants: Vec<ObjectId>,
    /// Objects the client has (every common one found so far, and new candidates).
    pub haves: Vec<ObjectId>,
    /// No more negotiation: send the pack now.
    pub done: bool,
    /// The client's shallow boundary (the commits of its `shallow` file).
    pub shallow: Vec<ObjectId>,
    /// Limit history to this many commits from each want (`--depth`).
    pub depth: Option<u32>,
    /// Also send annotated tags that point into the pack.
    pub include_tag: bool,
    /// The client can resolve deltas against objects it has (thin pack).
    pub thin_pack: bool,
    /// Do not send progress on side-band 2.
    pub no_progress: bool,
}

impl FetchRequest {
    /// The request's bytes for a server with `caps`. Features the server
    /// does not list under `fetch=` (`shallow` for a depth) are an error
    /// for the caller to check first with [`FetchRequest::unsupported`].
    pub fn encode(&self, caps: &Capabilities, agent: &str) -> Result<Vec<u8>, pktline::PktLineError> {
        let mut out = Vec::new();
        super::write_command(&mut out, "fetch", caps, agent)?;
        if self.thin_pack {
            pktline::write_text(&mut out, "thin-pack")?;
        }
        pktline::write_text(&mut out, "ofs-delta")?;
        if self.include_tag {
            pktline::write_text(&mut out, "include-tag")?;
        }
        if self.no_progress {
            pktline::write_text(&mut out, "no-progress")?;
        }
        for want in &self.wants {
            pktline::write_text(&mut out, format!("want {want}"))?;
        }
        for shallow in &self.shallow {
            pktline::write_text(&mut out, format!("shallow {shallow}"))?;
        }
        if let Some(depth) = self.depth {
            pktline::write_text(&mut out, format!("deepen {depth}"))?;
        }
        for have in &self.haves {
            pktline::write_text(&mut out, format!("have {have}"))?;
        }
        if self.done {
            pktline::write_text(&mut out, "done")?;
        }
        pktline::write_flush(&mut out);
        Ok(out)
    }

    /// The first feature this request needs that `caps` lacks, if any.
    pub fn unsupported(&self, caps: &Capabilities) -> Option<&'static str> {
        if !caps.contains("fetch") {
            return Some("fetch");
        }
        if (self.depth.is_some() || !self.shallow.is_empty()) && !caps.has_feature("fetch", "shallow") {
            return Some("fetch=shallow");
        }
        None
    }
}

/// What one packet of a fetch response means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchEvent<'a> {
    /// Nothing to act on (a section header, a delimiter).
    Nothing,
    /// The server has this object too.
    Ack(ObjectId),
    /// The server has none of the haves of this round.
    Nak,
    /// The server has enough: the pack follows in this response.
    Ready,
    /// End of a round without a pack: send the next request.
    RoundEnd,
    /// A new shallow boundary commit (for `--depth`).
    Shallow(ObjectId),
    /// A commit that is no longer a shallow boundary.
    Unshallow(ObjectId),
    /// Pack bytes, in order.
    PackData(&'a [u8]),
    /// Progress text from the server.
    Progress(&'a [u8]),
    /// The response is complete.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Header,
    Acknowledgments,
    ShallowInfo,
    WantedRefs,
    PackfileUris,
    Packfile,
    Done,
}

/// Reads one fetch response (one per request) packet by packet.
///
/// ```
/// use smart::proto::{FetchEvent, FetchResponseParser, Packet};
///
/// let mut p = FetchResponseParser::new();
/// assert_eq!(p.push(Packet::Data(b"packfile\n"))?, FetchEvent::Nothing);
/// assert_eq!(p.push(Packet::Data(b"\x02Enumerating objects: 3\n"))?, FetchEvent::Progress(b"Enumerating objects: 3\n"));
/// assert_eq!(p.push(Packet::Data(b"\x01PACK"))?, FetchEvent::PackData(b"PACK"));
/// assert_eq!(p.push(Packet::Flush)?, FetchEvent::End);
/// # Ok::<(), smart::proto::ProtocolError>(())
/// ```
#[derive(Debug)]
pub struct FetchResponseParser {
    cursor: Cursor,
    section: Section,
}

impl Default for FetchResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl FetchResponseParser {
    /// A parser for one response.
    pub fn new() -> Self {
        Self {
            cursor: Cursor::new("fetch response"),
            section: Section::Header,
        }
    }

    /// Whether the response is complete ([`FetchEvent::End`] or [`FetchEvent::RoundEnd`] was returned).
    pub fn is_done(&self) -> bool {
        self.section == Section::Done
    }

    /// Whether pack data has started (a connection lost now loses a pack).
    pub fn in_packfile(&self) -> bool {
        self.section == Section::Packfile
    }

    /// The error to report when the connection ends before the response does.
    pub fn truncated(&self) -> ProtocolError {
        let expected = match self.section {
            Section::Packfile => "the rest of the pack and a flush",
            _ => "the rest of the fetch response",
        };
        self.cursor.truncated(expected)
    }

    /// Feeds one packet.
    pub fn push<'a>(&mut self, packet: Packet<'a>) -> Result<FetchEvent<'a>, ProtocolError> {
        // Inside the packfile, data packets are side-band: `ERR` cannot occur there.
        if self.section == Section::Packfile {
            self.cursor.packet += 1;
        } else {
            self.cursor.next(packet)?;
        }
        let c = self.cursor;
        match self.section {
            Section::Done => Err(c.unexpected("nothing after the end of the response", packet)),
            Section::Header => self.header(packet),
            Section::Acknowledgments => match packet {
                Packet::Delimiter => {
                    self.section = Section::Header;
                    Ok(FetchEvent::Nothing)
                }
                Packet::Flush => {
                    self.section = Section::Done;
                    Ok(FetchEvent::RoundEnd)
                }
                _ => match packet.as_text().unwrap_or_default() {
                    b"NAK" => Ok(FetchEvent::Nak),
                    b"ready" => Ok(FetchEvent::Ready),
                    text => match text.strip_prefix(b"ACK ") {
                        Some(hex) => Ok(FetchEvent::Ack(c.oid(hex, packet)?)),
                        None => Err(c.unexpected("`ACK <id>`, `NAK` or `ready`", packet)),
                    },
                },
            },
            Section::ShallowInfo => match packet {
                Packet::Delimiter => {
                    self.section = Section::Header;
                    Ok(FetchEvent::Nothing)
                }
                Packet::Flush => {
                    self.section = Section::Done;
                    Ok(FetchEvent::End)
                }
                _ => {
                    let text = packet.as_text().unwrap_or_default();
                    if let Some(hex) = text.strip_prefix(b"shallow ") {
                        Ok(FetchEvent::Shallow(c.oid(hex, packet)?))
                    } else if let Some(hex) = text.strip_prefix(b"unshallow ") {
                        Ok(FetchEvent::Unshallow(c.oid(hex, packet)?))
                    } else {
                        Err(c.unexpected("`shallow <id>` or `unshallow <id>`", packet))
                    }
                }
            },
            Section::WantedRefs | Section::PackfileUris => match packet {
                Packet::Delimiter => {
                    self.section = Section::Header;
                    Ok(FetchEvent::Nothing)
                }
                Packet::Data(_) => Ok(FetchEvent::Nothing),
                _ => Err(c.unexpected("a line or a delimiter", packet)),
            },
            Section::Packfile => match packet {
                Packet::Flush => {
                    self.section = Section::Done;
                    Ok(FetchEvent::End)
                }
                Packet::Data(data) => match demux(data) {
                    Some(Band::Data(pack)) => Ok(FetchEvent::PackData(pack)),
                    Some(Band::Progress(text)) => Ok(FetchEvent::Progress(text)),
                    Some(Band::Error(message)) => Err(ProtocolError::remote(message)),
                    None => Err(c.unexpected("a side-band packet (band 1, 2 or 3)", packet)),
                },
                _ => Err(c.unexpected("pack data or a flush", packet)),
            },
        }
    }

    fn header<'a>(&mut self, packet: Packet<'a>) -> Result<FetchEvent<'a>, ProtocolError> {
        let section = match packet.as_text() {
            Some(b"acknowledgments") => Section::Acknowledgments,
            Some(b"shallow-info") => Section::ShallowInfo,
            Some(b"wanted-refs") => Section::WantedRefs,
            Some(b"packfile-uris") => Section::PackfileUris,
            Some(b"packfile") => Section::Packfile,
            _ => {
                return Err(self.cursor.unexpected(
                    "a section header (acknowledgments, shallow-info, wanted-refs, packfile-uris, packfile)",
                    packet,
                ));
            }
        };
        self.section = section;
        Ok(FetchEvent::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";

    fn oid(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex.as_bytes()).unwrap()
    }

    #[test]
    fn request_bytes() {
        let mut caps = Capabilities::default();
        caps.push_v2_line(b"fetch=shallow");
        caps.push_v2_line(b"object-format=sha1");
        let req = FetchRequest {
            wants: vec![oid(A)],
            haves: vec![oid(A)],
            done: true,
            depth: Some(1),
            ..Default::default()
        };
        assert_eq!(req.unsupported(&caps), None);
        let bytes = String::from_utf8(req.encode(&caps, "a").unwrap()).unwrap();
        assert_eq!(
            bytes,
            format!(
                "0012command=fetch\n000cagent=a\n0017object-format=sha1\n0001000eofs-delta\n0032want {A}\n000ddeepen 1\n0032have {A}\n0009done\n0000"
            )
        );
        assert_eq!(req.unsupported(&Capabilities::default()), Some("fetch"));
    }

    #[test]
    fn negotiation_round_then_pack_with_shallow_info() {
        let mut p = FetchResponseParser::new();
        assert_eq!(
            p.push(Packet::Data(b"acknowledgments\n")).unwrap(),
            FetchEvent::Nothing
        );
        assert_eq!(p.push(Packet::Data(b"NAK\n")).unwrap(), FetchEvent::Nak);
        assert_eq!(p.push(Packet::Flush).unwrap(), FetchEvent::RoundEnd);
        assert!(p.is_done());

        let mut p = FetchResponseParser::new();
        let ack = format!("ACK {A}\n");
        p.push(Packet::Data(b"acknowledgments\n")).unwrap();
        assert_eq!(
            p.push(Packet::Data(ack.as_bytes())).unwrap(),
            FetchEvent::Ack(oid(A))
        );
        assert_eq!(p.push(Packet::Data(b"ready\n")).unwrap(), FetchEvent::Ready);
        p.push(Packet::Delimiter).unwrap();
        p.push(Packet::Data(b"shallow-info\n")).unwrap();
        let shallow = format!("shallow {A}\n");
        assert_eq!(
            p.push(Packet::Data(shallow.as_bytes())).unwrap(),
            FetchEvent::Shallow(oid(A))
        );
        p.push(Packet::Delimiter).unwrap();
        p.push(Packet::Data(b"packfile\n")).unwrap();
        assert!(p.in_packfile());
        // In the packfile, a data packet that looks like ERR is just pack data on band 1.
        assert_eq!(
            p.push(Packet::Data(b"\x01ERR x")).unwrap(),
            FetchEvent::PackData(b"ERR x")
        );
        let err = p.push(Packet::Data(b"\x03upload-pack: aborting")).unwrap_err();
        assert_eq!(err.to_string(), "the remote said: upload-pack: aborting");
    }

    #[test]
    fn protocol_violations_name_the_packet() {
        let mut p = FetchResponseParser::new();
        let err = p.push(Packet::Data(b"bogus\n")).unwrap_err();
        assert!(
            matches!(
                err,
                ProtocolError::Unexpected {
                    packet: 1,
                    context: "fetch response",
                    ..
                }
            ),
            "{err}"
        );
        let mut p = FetchResponseParser::new();
        p.push(Packet::Data(b"packfile\n")).unwrap();
        let err = p.push(Packet::Data(b"\x07x")).unwrap_err();
        assert!(matches!(err, ProtocolError::Unexpected { packet: 2, .. }));
        assert_eq!(
            p.truncated().to_string(),
            "fetch response: connection closed after 2 packets, expected the rest of the pack and a flush"
        );
    }
}
