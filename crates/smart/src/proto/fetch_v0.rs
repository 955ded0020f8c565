//! Fetch over protocol v0/v1 (servers without v2): wants with our
//! capabilities, the optional shallow update, then the haves and `done`
//! in one go (no multi_ack: the server answers one `ACK` or `NAK`), then
//! the pack on side-band.

use gix::ObjectId;

use super::error::{Cursor, ProtocolError};
use super::fetch::FetchEvent;
use super::sideband::{Band, demux};
use super::{Capabilities, Packet, pktline};

/// A whole v0/v1 fetch request.
#[derive(Clone, Debug, Default)]
pub struct V0FetchRequest {
    /// The objects wanted.
    pub wants: Vec<ObjectId>,
    /// Objects the client has.
    pub haves: Vec<ObjectId>,
    /// The client's shallow boundary.
    pub shallow: Vec<ObjectId>,
    /// Limit history to this many commits (`--depth`).
    pub depth: Option<u32>,
    /// The client can resolve deltas against objects it has.
    pub thin_pack: bool,
}

impl V0FetchRequest {
    /// The capability this request needs that `caps` lacks, if any.
    pub fn unsupported(&self, caps: &Capabilities) -> Option<&'static str> {
        if !caps.contains("side-band-64k") {
            return Some("side-band-64k");
        }
        if (self.depth.is_some() || !self.shallow.is_empty()) && !caps.contains("shallow") {
            return Some("shallow");
        }
        None
    }

    /// Whether the server will send a shallow update before the acknowledgment.
    pub fn expects_shallow_update(&self) -> bool {
        self.depth.is_some()
    }

    /// The request's bytes: wants (capabilities on the first), shallow,
    /// deepen, flush, haves, `done`.
    ///
    /// ```
    /// use smart::proto::{Capabilities, fetch_v0::V0FetchRequest};
    /// let id = gix::ObjectId::from_bytes_or_panic(&[1; 20]);
    /// let caps = Capabilities::from_v0(b"side-band-64k ofs-delta");
    /// let req = V0FetchRequest { wants: vec![id], ..Default::default() };
    /// let bytes = req.encode(&caps, "smart/test")?;
    /// assert!(bytes.ends_with(b" side-band-64k ofs-delta agent=smart/test\n00000009done\n"));
    /// # Ok::<(), smart::proto::pktline::PktLineError>(())
    /// ```
    pub fn encode(&self, caps: &Capabilities, agent: &str) -> Result<Vec<u8>, pktline::PktLineError> {
        let mut ours = vec!["side-band-64k".to_string()];
        for cap in ["ofs-delta", "shallow"] {
            if caps.contains(cap) && (cap != "shallow" || self.depth.is_some() || !self.shallow.is_empty()) {
                ours.push(cap.to_string());
            }
        }
        if self.thin_pack && caps.contains("thin-pack") {
            ours.push("thin-pack".to_string());
        }
        ours.push(format!("agent={agent}"));
        let mut out = Vec::new();
        for (i, want) in self.wants.iter().enumerate() {
            if i == 0 {
                pktline::write_text(&mut out, format!("want {want} {}", ours.join(" ")))?;
            } else {
                pktline::write_text(&mut out, format!("want {want}"))?;
            }
        }
        for shallow in &self.shallow {
            pktline::write_text(&mut out, format!("shallow {shallow}"))?;
        }
        if let Some(depth) = self.depth {
            pktline::write_text(&mut out, format!("deepen {depth}"))?;
        }
        pktline::write_flush(&mut out);
        for have in &self.haves {
            pktline::write_text(&mut out, format!("have {have}"))?;
        }
        pktline::write_text(&mut out, "done")?;
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ShallowUpdate,
    Ack,
    Pack,
    Done,
}

/// Reads the answer to a [`V0FetchRequest`], packet by packet, as the
/// same [`FetchEvent`]s as a v2 response.
///
/// ```
/// use smart::proto::{FetchEvent, Packet, fetch_v0::V0ResponseParser};
/// let mut p = V0ResponseParser::new(false);
/// assert_eq!(p.push(Packet::Data(b"NAK\n"))?, FetchEvent::Nak);
/// assert_eq!(p.push(Packet::Data(b"\x01PACK"))?, FetchEvent::PackData(b"PACK"));
/// assert_eq!(p.push(Packet::Flush)?, FetchEvent::End);
/// # Ok::<(), smart::proto::ProtocolError>(())
/// ```
#[derive(Debug)]
pub struct V0ResponseParser {
    cursor: Cursor,
    state: State,
}

impl V0ResponseParser {
    /// A parser; `shallow_update` when the request had a depth.
    pub fn new(shallow_update: bool) -> Self {
        Self {
            cursor: Cursor::new("v0 fetch response"),
            state: if shallow_update {
                State::ShallowUpdate
            } else {
                State::Ack
            },
        }
    }

    /// The error to report when the connection ends before the response does.
    pub fn truncated(&self) -> ProtocolError {
        let expected = match self.state {
            State::Pack => "the rest of the pack and a flush",
            _ => "the rest of the fetch response",
        };
        self.cursor.truncated(expected)
    }

    /// Feeds one packet.
    pub fn push<'a>(&mut self, packet: Packet<'a>) -> Result<FetchEvent<'a>, ProtocolError> {
        if self.state == State::Pack {
            self.cursor.packet += 1;
        } else {
            self.cursor.next(packet)?;
        }
        let c = self.cursor;
        match self.state {
            State::Done => Err(c.unexpected("nothing after the end of the pack", packet)),
            State::ShallowUpdate => {
                if packet == Packet::Flush {
                    self.state = State::Ack;
                    return Ok(FetchEvent::Nothing);
                }
                let text = packet.as_text().unwrap_or_default();
                if let Some(hex) = text.strip_prefix(b"shallow ") {
                    Ok(FetchEvent::Shallow(c.oid(hex, packet)?))
                } else if let Some(hex) = text.strip_prefix(b"unshallow ") {
                    Ok(FetchEvent::Unshallow(c.oid(hex, packet)?))
                } else {
                    Err(c.unexpected("`shallow <id>`, `unshallow <id>` or flush", packet))
                }
            }
            State::Ack => {
                let text = packet.as_text().unwrap_or_default();
                if text == b"NAK" {
                    self.state = State::Pack;
                    return Ok(FetchEvent::Nak);
                }
                match text.strip_prefix(b"ACK ") {
                    Some(rest) => {
                        let hex = rest.split(|&b| b == b' ').next().unwrap_or_default();
                        let id = c.oid(hex, packet)?;
                        self.state = State::Pack;
                        Ok(FetchEvent::Ack(id))
                    }
                    None => Err(c.unexpected("`ACK <id>` or `NAK`", packet)),
                }
            }
            State::Pack => match packet {
                Packet::Flush => {
                    self.state = State::Done;
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
}
