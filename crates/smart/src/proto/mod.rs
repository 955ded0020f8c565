//! The sans-io core: bytes in, bytes and events out, no I/O and no async.
//!
//! Shared by every transport (and, later, by the server side):
//!
//! | module | what |
//! |---|---|
//! | [`pktline`] | pkt-line framing, incremental decoding |
//! | [`sideband`] | side-band-64k demultiplexing |
//! | [`Capabilities`] | v0 and v2 capability lists |
//! | [`GreetingParser`] | a server's first message: v2 capabilities or a v0/v1 ref advertisement |
//! | [`LsRefsRequest`], [`LsRefsParser`] | v2 `ls-refs` |
//! | [`FetchRequest`], [`FetchResponseParser`] | v2 `fetch`: acknowledgments, shallow-info, side-band pack |
//! | [`fetch_v0`] | fetch from v0/v1 servers: wants, shallow update, haves + `done`, side-band pack |
//! | [`Negotiator`] | which `have`s to send each round |
//! | [`push`] | receive-pack update commands and `report-status` |
//!
//! Every parser takes one [`Packet`] at a time and fails with a
//! [`ProtocolError`] that names the message, the packet number and what
//! was expected; none panics on peer bytes.

pub mod capabilities;
mod error;
pub mod fetch;
pub mod fetch_v0;
pub mod negotiate;
pub mod pktline;
pub mod push;
pub mod refs;
pub mod sideband;

pub use capabilities::Capabilities;
pub use error::ProtocolError;
pub use fetch::{FetchEvent, FetchRequest, FetchResponseParser};
pub use negotiate::{Negotiator, Round};
pub use pktline::{Decoded, Packet};
pub use refs::{Advertisement, Greeting, GreetingParser, LsRefsParser, LsRefsRequest, Ref};

/// Which service a connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// `git-upload-pack`: ls-refs and fetch.
    UploadPack,
    /// `git-receive-pack`: push.
    ReceivePack,
}

impl Service {
    /// The program name Git uses (`git-upload-pack`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::UploadPack => "git-upload-pack",
            Service::ReceivePack => "git-receive-pack",
        }
    }
}

/// The first packet of a git:// connection: the service, the path, the
/// `host=` parameter, and (after an extra NUL) `version=2` to ask for
/// protocol v2.
///
/// ```
/// use smart::proto::{Service, daemon_request};
/// let bytes = daemon_request(Service::UploadPack, "/r.git", "example.com", true)?;
/// assert_eq!(bytes, b"0037git-upload-pack /r.git\0host=example.com\0\0version=2\0");
/// # Ok::<(), smart::proto::pktline::PktLineError>(())
/// ```
pub fn daemon_request(
    service: Service,
    path: &str,
    host: &str,
    v2: bool,
) -> Result<Vec<u8>, pktline::PktLineError> {
    let mut line = format!("{} {path}\0host={host}\0", service.as_str());
    if v2 {
        line.push_str("\0version=2\0");
    }
    let mut out = Vec::new();
    pktline::write_data(&mut out, line.as_bytes())?;
    Ok(out)
}

/// `command=<name>`, `agent=`, `object-format=` (when the server has one)
/// and the delimiter: the start of every v2 request.
pub(crate) fn write_command(
    out: &mut Vec<u8>,
    command: &str,
    caps: &Capabilities,
    agent: &str,
) -> Result<(), pktline::PktLineError> {
    pktline::write_text(out, format!("command={command}"))?;
    pktline::write_text(out, format!("agent={agent}"))?;
    if let Some(format) = caps.value("object-format") {
        pktline::write_text(out, format!("object-format={format}"))?;
    }
    pktline::write_delimiter(out);
    Ok(())
}
