//! What a server says first: a v0/v1 ref advertisement, or a v2
//! capability advertisement; and the v2 `ls-refs` command and its answer.

use gix::ObjectId;

use super::error::{Cursor, ProtocolError};
use super::{Capabilities, Packet, pktline};

/// A reference on the remote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Its full name (`refs/heads/main`, `HEAD`).
    pub name: String,
    /// What it points to; `None` for an unborn `HEAD` (an empty repository).
    pub target: Option<ObjectId>,
    /// For an annotated tag, the object it peels to.
    pub peeled: Option<ObjectId>,
    /// For a symbolic ref (`HEAD`), the ref it points to.
    pub symref_target: Option<String>,
}

/// A server's first message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Greeting {
    /// Protocol v2: capabilities (and commands) only; refs come from `ls-refs`.
    V2(Capabilities),
    /// Protocol v0/v1: the refs, with the capabilities on the first line.
    V0(Advertisement),
}

/// A v0/v1 ref advertisement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Advertisement {
    /// What the server can do.
    pub capabilities: Capabilities,
    /// Its refs, in the order sent, `HEAD` first when it has one.
    pub refs: Vec<Ref>,
    /// Objects the server has without a ref (`.have` lines of receive-pack).
    pub haves: Vec<ObjectId>,
    /// The server's shallow boundary commits.
    pub shallow: Vec<ObjectId>,
}

/// Reads a greeting packet by packet.
///
/// ```
/// use smart::proto::{GreetingParser, Greeting, Packet};
///
/// let mut parser = GreetingParser::new();
/// assert_eq!(parser.push(Packet::Data(b"version 2\n"))?, None);
/// assert_eq!(parser.push(Packet::Data(b"ls-refs=unborn\n"))?, None);
/// let Some(Greeting::V2(caps)) = parser.push(Packet::Flush)? else { panic!() };
/// assert!(caps.has_feature("ls-refs", "unborn"));
/// # Ok::<(), smart::proto::ProtocolError>(())
/// ```
#[derive(Debug)]
pub struct GreetingParser {
    cursor: Cursor,
    state: State,
}

#[derive(Debug)]
enum State {
    Start,
    V2(Capabilities),
    V0 { adv: Advertisement, first: bool },
    Done,
}

impl Default for GreetingParser {
    fn default() -> Self {
        Self::new()
    }
}

impl GreetingParser {
    /// A parser at the start of a connection.
    pub fn new() -> Self {
        Self {
            cursor: Cursor::new("ref advertisement"),
            state: State::Start,
        }
    }

    /// Feeds one packet; the greeting once its closing flush has come.
    pub fn push(&mut self, packet: Packet<'_>) -> Result<Option<Greeting>, ProtocolError> {
        self.cursor.next(packet)?;
        let state = std::mem::replace(&mut self.state, State::Done);
        let (state, out) = self.step(state, packet)?;
        self.state = state;
        Ok(out)
    }

    /// The error to report when the connection ends before the greeting does.
    pub fn truncated(&self) -> ProtocolError {
        self.cursor.truncated("the rest of the ref advertisement")
    }

    fn step(&self, state: State, packet: Packet<'_>) -> Result<(State, Option<Greeting>), ProtocolError> {
        let c = &self.cursor;
        match state {
            State::Start => match packet.as_text() {
                Some(b"version 2") => Ok((State::V2(Capabilities::default()), None)),
                Some(b"version 1") => Ok((
                    State::V0 {
                        adv: Advertisement::default(),
                        first: true,
                    },
                    None,
                )),
                // An empty repository served by v0 with nothing at all.
                None if packet == Packet::Flush => {
                    Ok((State::Done, Some(Greeting::V0(Advertisement::default()))))
                }
                Some(_) => {
                    let mut adv = Advertisement::default();
                    self.v0_line(&mut adv, true, packet)?;
                    Ok((State::V0 { adv, first: false }, None))
                }
                None => Err(c.unexpected("a version line or the first ref", packet)),
            },
            State::V2(mut caps) => match packet {
                Packet::Flush => Ok((State::Done, Some(Greeting::V2(caps)))),
                Packet::Data(_) => {
                    caps.push_v2_line(packet.as_text().unwrap_or_default());
                    Ok((State::V2(caps), None))
                }
                _ => Err(c.unexpected("a capability or flush", packet)),
            },
            State::V0 { mut adv, first } => match packet {
                Packet::Flush => Ok((State::Done, Some(Greeting::V0(finish_v0(adv))))),
                Packet::Data(_) => {
                    self.v0_line(&mut adv, first, packet)?;
                    Ok((State::V0 { adv, first: false }, None))
                }
                _ => Err(c.unexpected("a ref or flush", packet)),
            },
            State::Done => Err(c.unexpected("nothing after the closing flush", packet)),
        }
    }

    fn v0_line(&self, adv: &mut Advertisement, first: bool, packet: Packet<'_>) -> Result<(), ProtocolError> {
        let c = &self.cursor;
        let text = packet.as_text().unwrap_or_default();
        let line = if first {
            match text.iter().position(|&b| b == 0) {
                Some(nul) => {
                    adv.capabilities = Capabilities::from_v0(&text[nul + 1..]);
                    &text[..nul]
                }
                None => text,
            }
        } else {
            text
        };
        if let Some(hex) = line.strip_prefix(b"shallow ") {
            adv.shallow.push(c.oid(hex, packet)?);
            return Ok(());
        }
        let expected = "`<object id> <ref name>`";
        let space = line
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| c.unexpected(expected, packet))?;
        let oid = c.oid(&line[..space], packet)?;
        let name = std::str::from_utf8(&line[space + 1..]).map_err(|_| c.unexpected(expected, packet))?;
        if name.is_empty() || name.contains(' ') {
            return Err(c.unexpected(expected, packet));
        }
        if name == "capabilities^{}" {
            // An empty repository: `0{40} capabilities^{}\0caps`.
            return if first {
                Ok(())
            } else {
                Err(c.unexpected(expected, packet))
            };
        }
        if name == ".have" {
            adv.haves.push(oid);
            return Ok(());
        }
        if let Some(base) = name.strip_suffix("^{}") {
            return match adv.refs.last_mut() {
                Some(last) if last.name == base => {
                    last.peeled = Some(oid);
                    Ok(())
                }
                _ => Err(c.unexpected("a peeled tag right after its tag", packet)),
            };
        }
        adv.refs.push(Ref {
            name: name.to_string(),
            target: Some(oid),
            peeled: None,
            symref_target: None,
        });
        Ok(())
    }
}

fn finish_v0(mut adv: Advertisement) -> Advertisement {
    let symrefs: Vec<(String, String)> = adv
        .capabilities
        .values("symref")
        .filter_map(|v| v.split_once(':'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    for (from, to) in symrefs {
        if let Some(r) = adv.refs.iter_mut().find(|r| r.name == from) {
            r.symref_target = Some(to);
        }
    }
    adv
}

/// What to ask of v2 `ls-refs`.
#[derive(Clone, Debug, Default)]
pub struct LsRefsRequest {
    /// Only refs that start with one of these (all refs when empty).
    pub prefixes: Vec<String>,
    /// Send `unborn` (when the server supports it) to learn an empty
    /// repository's `HEAD`.
    pub unborn: bool,
}

impl LsRefsRequest {
    /// The request's bytes, for a server with `caps`: asks for peeled tags
    /// and symbolic refs always.
    pub fn encode(&self, caps: &Capabilities, agent: &str) -> Result<Vec<u8>, pktline::PktLineError> {
        let mut out = Vec::new();
        super::write_command(&mut out, "ls-refs", caps, agent)?;
        pktline::write_text(&mut out, "peel")?;
        pktline::write_text(&mut out, "symrefs")?;
        if self.unborn && caps.has_feature("ls-refs", "unborn") {
            pktline::write_text(&mut out, "unborn")?;
        }
        for prefix in &self.prefixes {
            pktline::write_text(&mut out, format!("ref-prefix {prefix}"))?;
        }
        pktline::write_flush(&mut out);
        Ok(out)
    }
}

/// Reads the answer to `ls-refs`, packet by packet.
#[derive(Debug)]
pub struct LsRefsParser {
    cursor: Cursor,
    refs: Vec<Ref>,
    done: bool,
}

impl Default for LsRefsParser {
    fn default() -> Self {
        Self::new()
    }
}

impl LsRefsParser {
    /// A parser for one answer.
    pub fn new() -> Self {
        Self {
            cursor: Cursor::new("ls-refs response"),
            refs: Vec::new(),
            done: false,
        }
    }

    /// Feeds one packet; the refs once the closing flush has come.
    ///
    /// ```
    /// use smart::proto::{LsRefsParser, Packet};
    /// let mut p = LsRefsParser::new();
    /// p.push(Packet::Data(b"unborn HEAD symref-target:refs/heads/main\n"))?;
    /// let refs = p.push(Packet::Flush)?.unwrap();
    /// assert_eq!(refs[0].target, None);
    /// assert_eq!(refs[0].symref_target.as_deref(), Some("refs/heads/main"));
    /// # Ok::<(), smart::proto::ProtocolError>(())
    /// ```
    pub fn push(&mut self, packet: Packet<'_>) -> Result<Option<Vec<Ref>>, ProtocolError> {
        self.cursor.next(packet)?;
        let c = self.cursor;
        if self.done {
            return Err(c.unexpected("nothing after the closing flush", packet));
        }
        let text = match packet {
            Packet::Flush => {
                self.done = true;
                return Ok(Some(std::mem::take(&mut self.refs)));
            }
            Packet::Data(_) => packet.as_text().unwrap_or_default(),
            _ => return Err(c.unexpected("a ref or flush", packet)),
        };
        let expected = "`<object id> <ref name> [attributes]`";
        let line = std::str::from_utf8(text).map_err(|_| c.unexpected(expected, packet))?;
        let mut words = line.split(' ');
        let (Some(first), Some(name)) = (words.next(), words.next()) else {
            return Err(c.unexpected(expected, packet));
        };
        if name.is_empty() {
            return Err(c.unexpected(expected, packet));
        }
        let target = match first {
            "unborn" => None,
            hex => Some(c.oid(hex.as_bytes(), packet)?),
        };
        let mut r = Ref {
            name: name.to_string(),
            target,
            peeled: None,
            symref_target: None,
        };
        for attr in words {
            if let Some(to) = attr.strip_prefix("symref-target:") {
                r.symref_target = Some(to.to_string());
            } else if let Some(hex) = attr.strip_prefix("peeled:") {
                r.peeled = Some(c.oid(hex.as_bytes(), packet)?);
            }
            // Unknown attributes are for future extensions: ignore them.
        }
        self.refs.push(r);
        Ok(None)
    }

    /// The error to report when the connection ends before the answer does.
    pub fn truncated(&self) -> ProtocolError {
        self.cursor.truncated("the rest of the ref list")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn feed(lines: &[&[u8]]) -> Result<Option<Greeting>, ProtocolError> {
        let mut p = GreetingParser::new();
        let mut out = None;
        for line in lines {
            let packet = if line.is_empty() {
                Packet::Flush
            } else {
                Packet::Data(line)
            };
            out = p.push(packet)?;
        }
        Ok(out)
    }

    #[test]
    fn v0_advertisement_with_symref_peeled_tags_and_shallow() {
        let first = format!("{A} HEAD\0report-status symref=HEAD:refs/heads/main agent=git/2\n");
        let main = format!("{A} refs/heads/main\n");
        let tag = format!("{B} refs/tags/v1\n");
        let peeled = format!("{A} refs/tags/v1^{{}}\n");
        let shallow = format!("shallow {B}\n");
        let Some(Greeting::V0(adv)) = feed(&[
            first.as_bytes(),
            main.as_bytes(),
            tag.as_bytes(),
            peeled.as_bytes(),
            shallow.as_bytes(),
            b"",
        ])
        .unwrap() else {
            panic!("not v0")
        };
        assert!(adv.capabilities.contains("report-status"));
        assert_eq!(adv.refs.len(), 3);
        assert_eq!(adv.refs[0].symref_target.as_deref(), Some("refs/heads/main"));
        assert_eq!(
            adv.refs[2].peeled,
            Some(ObjectId::from_hex(A.as_bytes()).unwrap())
        );
        assert_eq!(adv.shallow.len(), 1);
    }

    #[test]
    fn empty_repository_and_version_1() {
        let zero = "0".repeat(40);
        let first = format!("{zero} capabilities^{{}}\0delete-refs\n");
        let Some(Greeting::V0(adv)) = feed(&[b"version 1\n", first.as_bytes(), b""]).unwrap() else {
            panic!()
        };
        assert!(adv.refs.is_empty());
        assert!(adv.capabilities.contains("delete-refs"));
    }

    #[test]
    fn errors_say_which_packet_and_what_was_expected() {
        let first = format!("{A} HEAD\0x\n");
        let err = feed(&[first.as_bytes(), b"nonsense\n"]).unwrap_err();
        assert_eq!(
            err,
            ProtocolError::Unexpected {
                context: "ref advertisement",
                packet: 2,
                expected: "`<object id> <ref name>`",
                got: "nonsense\n".into()
            }
        );
        let err = feed(&[b"ERR access denied or repository not exported: /x\n"]).unwrap_err();
        assert!(err.is_remote());
        assert_eq!(
            err.to_string(),
            "the remote said: access denied or repository not exported: /x"
        );
        let orphan = format!("{A} refs/tags/v1^{{}}\n");
        assert!(feed(&[first.as_bytes(), orphan.as_bytes()]).is_err());
    }

    #[test]
    fn ls_refs_request_and_response() {
        let mut caps = Capabilities::default();
        caps.push_v2_line(b"ls-refs=unborn");
        let req = LsRefsRequest {
            prefixes: vec!["refs/heads/".into()],
            unborn: true,
        }
        .encode(&caps, "smart/test")
        .unwrap();
        assert_eq!(
            String::from_utf8(req).unwrap(),
            "0014command=ls-refs\n0015agent=smart/test\n00010009peel\n000csymrefs\n000bunborn\n001bref-prefix refs/heads/\n0000"
        );
        let mut p = LsRefsParser::new();
        let head = format!("{A} HEAD symref-target:refs/heads/main\n");
        let tag = format!("{B} refs/tags/v1 peeled:{A}\n");
        assert_eq!(p.push(Packet::Data(head.as_bytes())).unwrap(), None);
        assert_eq!(p.push(Packet::Data(tag.as_bytes())).unwrap(), None);
        let refs = p.push(Packet::Flush).unwrap().unwrap();
        assert_eq!(refs[0].symref_target.as_deref(), Some("refs/heads/main"));
        assert!(refs[1].peeled.is_some());
        let err = LsRefsParser::new()
            .push(Packet::Data(b"zz refs/heads/x\n"))
            .unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Unexpected {
                packet: 1,
                expected: "an object id in hexadecimal",
                ..
            }
        ));
    }
}
