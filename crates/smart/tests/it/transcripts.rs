//! The sans-io core against transcripts of real C git sessions
//! (`GIT_TRACE_PACKET`, recorded by `tests/fixtures/record.sh`): what C
//! git's upload-pack and receive-pack sent is fed to our parsers, and what
//! they find is checked against `git ls-remote` and the files C git wrote
//! in the same run. No process, no socket: fast and deterministic.

use gix::ObjectId;
use smart::proto::push::{Command, ReportStatusParser, encode_commands};
use smart::proto::{
    Capabilities, FetchEvent, FetchRequest, FetchResponseParser, Greeting, GreetingParser, LsRefsParser,
    Packet, pktline,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/transcripts/",
            $name
        ))
    };
}

/// A packet as traced: `0000`-`0002` are the special packets, anything
/// else data (with its newline back, and `\ooo` escapes decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Traced {
    Flush,
    Delimiter,
    ResponseEnd,
    Data(Vec<u8>),
}

impl Traced {
    fn packet(&self) -> Packet<'_> {
        match self {
            Traced::Flush => Packet::Flush,
            Traced::Delimiter => Packet::Delimiter,
            Traced::ResponseEnd => Packet::ResponseEnd,
            Traced::Data(d) => Packet::Data(d),
        }
    }
}

fn unescape(payload: &str) -> Vec<u8> {
    let bytes = payload.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let digits = bytes[i + 1..]
                .iter()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            if digits > 0 {
                let text = std::str::from_utf8(&bytes[i + 1..i + 1 + digits]).unwrap();
                out.push(u8::from_str_radix(text, 8).unwrap());
                i += 1 + digits;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out.push(b'\n');
    out
}

/// The packets `process` wrote (`>`) or read (`<`), in order.
fn packets(trace: &str, process: &str, direction: char) -> Vec<Traced> {
    let prefix = format!("{process}{direction} ");
    trace
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|payload| match payload {
            "0000" => Traced::Flush,
            "0001" => Traced::Delimiter,
            "0002" => Traced::ResponseEnd,
            text => Traced::Data(unescape(text)),
        })
        .collect()
}

fn id(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.as_bytes()).unwrap()
}

/// `git ls-remote` lines of the refs a parser found (peeled tags as `^{}`).
fn ls_remote_lines(refs: &[smart::Ref]) -> String {
    let mut out = String::new();
    for r in refs {
        out.push_str(&format!("{}\t{}\n", r.target.unwrap(), r.name));
        if let Some(peeled) = r.peeled {
            out.push_str(&format!("{peeled}\t{}^{{}}\n", r.name));
        }
    }
    out
}

/// Feeds packets to the greeting parser until it has the greeting; the rest.
fn greeting(packets: &[Traced]) -> (Greeting, &[Traced]) {
    let mut parser = GreetingParser::new();
    for (i, p) in packets.iter().enumerate() {
        if let Some(greeting) = parser.push(p.packet()).unwrap() {
            return (greeting, &packets[i + 1..]);
        }
    }
    panic!("no complete greeting in {packets:?}");
}

fn ls_refs(packets: &[Traced]) -> (Vec<smart::Ref>, &[Traced]) {
    let mut parser = LsRefsParser::new();
    for (i, p) in packets.iter().enumerate() {
        if let Some(refs) = parser.push(p.packet()).unwrap() {
            return (refs, &packets[i + 1..]);
        }
    }
    panic!("no complete ls-refs answer in {packets:?}");
}

fn v2_caps(greeting: Greeting) -> Capabilities {
    match greeting {
        Greeting::V2(caps) => caps,
        other => panic!("expected v2, got {other:?}"),
    }
}

#[test]
fn v2_greeting_and_ls_refs_of_upload_pack() {
    let sent = packets(fixture!("v2-clone.trace"), "upload-pack", '>');
    let (greeting, rest) = greeting(&sent);
    let caps = v2_caps(greeting);
    assert!(caps.has_feature("ls-refs", "unborn"));
    assert!(caps.has_feature("fetch", "shallow"));
    assert_eq!(caps.value("object-format"), Some("sha1"));
    let (refs, _) = ls_refs(rest);
    assert_eq!(ls_remote_lines(&refs), fixture!("ls-remote-initial.txt"));
    assert_eq!(refs[0].name, "HEAD");
    assert_eq!(refs[0].symref_target.as_deref(), Some("refs/heads/main"));
}

#[test]
fn v0_advertisement_of_upload_pack() {
    let sent = packets(fixture!("v0-clone.trace"), "upload-pack", '>');
    let (greeting, rest) = greeting(&sent);
    let Greeting::V0(adv) = greeting else {
        panic!("expected v0, got {greeting:?}")
    };
    assert_eq!(ls_remote_lines(&adv.refs), fixture!("ls-remote-initial.txt"));
    assert_eq!(adv.refs[0].symref_target.as_deref(), Some("refs/heads/main"));
    for cap in [
        "side-band-64k",
        "ofs-delta",
        "shallow",
        "multi_ack_detailed",
        "no-progress",
    ] {
        assert!(adv.capabilities.contains(cap), "{cap}: {:?}", adv.capabilities);
    }
    // What follows the advertisement (the client asked for everything).
    assert_eq!(rest.first(), Some(&Traced::Data(b"NAK\n".to_vec())));
}

#[test]
fn v2_fetch_acknowledgments_match_the_haves_sent() {
    let trace = fixture!("v2-fetch.trace");
    let sent = packets(trace, "upload-pack", '>');
    let (greeting, rest) = greeting(&sent);
    let caps = v2_caps(greeting);
    let (_, rest) = ls_refs(rest);

    // What C git asked for, from its side of the transcript.
    let asked: Vec<String> = packets(trace, "fetch", '>')
        .iter()
        .filter_map(|p| match p {
            Traced::Data(d) => Some(String::from_utf8_lossy(d).trim_end().to_string()),
            _ => None,
        })
        .collect();
    let wants: Vec<ObjectId> = asked
        .iter()
        .filter_map(|l| l.strip_prefix("want "))
        .map(id)
        .collect();
    let haves: Vec<ObjectId> = asked
        .iter()
        .filter_map(|l| l.strip_prefix("have "))
        .map(id)
        .collect();
    assert!(!wants.is_empty() && !haves.is_empty(), "{asked:?}");

    let mut parser = FetchResponseParser::new();
    let mut acks = Vec::new();
    let mut ready = false;
    let mut pack_started = false;
    for p in rest {
        match parser.push(p.packet()).unwrap() {
            FetchEvent::Ack(id) => acks.push(id),
            FetchEvent::Ready => ready = true,
            FetchEvent::PackData(_) => pack_started = true,
            FetchEvent::End => break,
            _ => {}
        }
    }
    assert!(ready, "the server was ready after one round");
    let mut acked = acks.clone();
    acked.sort();
    let mut expected = haves.clone();
    expected.sort();
    assert_eq!(
        acked, expected,
        "every have is common: the server has all our commits"
    );
    // The pack itself is elided from transcripts.
    assert!(!pack_started);

    // Our request for the same wants and haves has the same want/have lines.
    let ours = FetchRequest {
        wants: wants.clone(),
        haves: haves.clone(),
        done: false,
        shallow: Vec::new(),
        depth: None,
        include_tag: false,
        thin_pack: true,
        no_progress: true,
    }
    .encode(&caps, "smart/test")
    .unwrap();
    let mut lines = Vec::new();
    let mut rest = &ours[..];
    while !rest.is_empty() {
        let pktline::Decoded::Complete { packet, consumed } = pktline::decode(rest).unwrap() else {
            panic!("our request ends mid-packet")
        };
        if let Some(text) = packet.as_text() {
            let text = String::from_utf8_lossy(text).to_string();
            if text.starts_with("want ") || text.starts_with("have ") {
                lines.push(text);
            }
        }
        rest = &rest[consumed..];
    }
    let git_lines: Vec<String> = asked
        .into_iter()
        .filter(|l| l.starts_with("want ") || l.starts_with("have "))
        .collect();
    assert_eq!(lines, git_lines);
}

#[test]
fn v2_shallow_info_names_the_boundary_git_wrote() {
    let sent = packets(fixture!("v2-shallow-clone.trace"), "upload-pack", '>');
    let (_, rest) = greeting(&sent);
    let (_, rest) = ls_refs(rest);
    let mut parser = FetchResponseParser::new();
    let mut shallow = Vec::new();
    for p in rest {
        match parser.push(p.packet()).unwrap() {
            FetchEvent::Shallow(id) => shallow.push(id),
            FetchEvent::End => break,
            _ => {}
        }
    }
    let written: Vec<ObjectId> = fixture!("shallow.txt").lines().map(id).collect();
    assert_eq!(shallow, written);
}

#[test]
fn receive_pack_advertisement_and_report_status() {
    let trace = fixture!("push.trace");
    let sent = packets(trace, "receive-pack", '>');
    let (greeting, rest) = greeting(&sent);
    let Greeting::V0(adv) = greeting else {
        panic!("receive-pack speaks v0, got {greeting:?}")
    };
    for cap in [
        "report-status",
        "delete-refs",
        "atomic",
        "side-band-64k",
        "ofs-delta",
    ] {
        assert!(adv.capabilities.contains(cap), "{cap}: {:?}", adv.capabilities);
    }
    let before: String = fixture!("ls-remote-before-push.txt")
        .lines()
        .filter(|l| !l.ends_with("HEAD") && !l.ends_with("^{}"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(ls_remote_lines(&adv.refs), before);

    // The commands C git sent are the ones we encode for the same updates.
    let pushed = id(fixture!("pushed.txt").trim());
    let null = ObjectId::null(gix::hash::Kind::Sha1);
    let commands: Vec<Command> = ["refs/heads/topic", "refs/heads/blocked"]
        .iter()
        .map(|name| Command {
            old: null,
            new: pushed,
            name: name.to_string(),
        })
        .collect();
    let ours = encode_commands(&commands, &["report-status"]).unwrap();
    let theirs = packets(trace, "push", '>');
    let mut cursor = &ours[..];
    for expected in theirs.iter().take(3) {
        let pktline::Decoded::Complete { packet, consumed } = pktline::decode(cursor).unwrap() else {
            panic!("our commands end mid-packet")
        };
        match (packet, expected) {
            (Packet::Data(ours), Traced::Data(theirs)) => {
                // Up to the capabilities, which differ by client.
                let cut = |d: &[u8]| d.split(|b| *b == 0).next().unwrap().trim_ascii_end().to_vec();
                assert_eq!(cut(ours), cut(theirs));
            }
            (Packet::Flush, Traced::Flush) => {}
            other => panic!("{other:?}"),
        }
        cursor = &cursor[consumed..];
    }
    assert!(cursor.is_empty(), "no more packets than C git sent");

    // The report, as receive-pack wrote it inside side-band 1.
    let mut parser = ReportStatusParser::new();
    let report = rest
        .iter()
        .find_map(|p| parser.push(p.packet()).unwrap())
        .expect("a whole report");
    assert_eq!(report.unpack, Ok(()));
    assert_eq!(report.refs.len(), 2);
    assert_eq!(report.refs[0].name, "refs/heads/topic");
    assert_eq!(report.refs[0].result, Ok(()));
    assert_eq!(report.refs[1].name, "refs/heads/blocked");
    assert_eq!(report.refs[1].result, Err("hook declined".to_string()));
}
