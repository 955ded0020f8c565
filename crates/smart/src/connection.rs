//! The tokio side of a connection: pkt-lines read from and written to a
//! mimic [`Flow`] (git://, SSH) or to smart HTTP requests and responses,
//! nothing else. The protocol is in [`crate::proto`].

use bytes::{Buf, BytesMut};
use mimic::Flow;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Error;
use crate::http::HttpRpc;
use crate::proto::pktline::{self, Decoded, Packet};
use crate::proto::{ProtocolError, Service};

/// How bytes travel.
#[derive(Debug)]
enum Io {
    /// A byte stream both ways (git://, an SSH exec channel).
    Stream(Flow),
    /// Each request a POST, each response read in turn (smart HTTP).
    Http(Box<HttpRpc>),
}

/// A connection to one remote service.
#[derive(Debug)]
pub(crate) struct Connection {
    io: Io,
    buf: BytesMut,
    /// How much of `buf` the last packet returned took.
    taken: usize,
    remote: String,
}

impl Connection {
    pub(crate) fn new(io: Flow, remote: String) -> Self {
        Self::with_io(Io::Stream(io), remote)
    }

    pub(crate) fn http(rpc: HttpRpc, remote: String) -> Self {
        Self::with_io(Io::Http(Box::new(rpc)), remote)
    }

    fn with_io(io: Io, remote: String) -> Self {
        Self {
            io,
            buf: BytesMut::with_capacity(64 * 1024),
            taken: 0,
            remote,
        }
    }

    pub(crate) fn remote(&self) -> &str {
        &self.remote
    }

    /// Whether each request is a request of its own (smart HTTP), with no
    /// session to end.
    pub(crate) fn is_stateless(&self) -> bool {
        matches!(self.io, Io::Http(_))
    }

    /// Writes `bytes` and flushes (over HTTP: adds them to the next request).
    pub(crate) async fn send(&mut self, bytes: &[u8], during: &'static str) -> Result<(), Error> {
        let flow = match &mut self.io {
            Io::Stream(flow) => flow,
            Io::Http(rpc) => return rpc.write(bytes).await,
        };
        let result = async {
            flow.write_all(bytes).await?;
            flow.flush().await
        }
        .await;
        result.map_err(|source| self.io_error(during, source))
    }

    /// Ends a session in which we ask for nothing (a flush packet on a
    /// stream; over HTTP there is no session to end).
    pub(crate) async fn end_session(&mut self) -> Result<(), Error> {
        if self.is_stateless() {
            return Ok(());
        }
        self.send(b"0000", "ending the session").await
    }

    /// Tells the remote we are done writing (half-close).
    pub(crate) async fn shutdown(&mut self) {
        // Best effort: the remote may already have closed its side.
        if let Io::Stream(flow) = &mut self.io {
            let _ = flow.shutdown().await;
        }
    }

    /// The next packet, or `None` when the remote closed the connection
    /// (the caller's parser says what was still expected). `context` and
    /// `packet` (the number this one would have) name a framing error.
    pub(crate) async fn next(
        &mut self,
        context: &'static str,
        packet: usize,
    ) -> Result<Option<Packet<'_>>, Error> {
        self.buf.advance(self.taken);
        self.taken = 0;
        let consumed = loop {
            match pktline::decode(&self.buf) {
                Ok(Decoded::Complete { consumed, .. }) => break consumed,
                Ok(Decoded::Incomplete { needed }) => {
                    self.buf.reserve(needed.max(8192));
                    let read = match &mut self.io {
                        Io::Stream(flow) => flow.read_buf(&mut self.buf).await,
                        Io::Http(rpc) => Ok(rpc.read(&mut self.buf).await?),
                    };
                    match read {
                        Ok(0) => return Ok(None),
                        Ok(_) => {}
                        Err(source) => return Err(self.io_error("reading", source)),
                    }
                }
                Err(source) => {
                    return Err(Error::Protocol {
                        remote: self.remote.clone(),
                        source: ProtocolError::PktLine {
                            context,
                            packet,
                            source,
                        },
                    });
                }
            }
        };
        self.taken = consumed;
        match pktline::decode(&self.buf[..consumed]) {
            Ok(Decoded::Complete { packet, .. }) => Ok(Some(packet)),
            _ => unreachable!("the same bytes decoded to a whole packet just above"),
        }
    }

    pub(crate) fn protocol_error(&self, source: ProtocolError) -> Error {
        Error::Protocol {
            remote: self.remote.clone(),
            source,
        }
    }

    fn io_error(&self, during: &'static str, source: std::io::Error) -> Error {
        // An SSH command that failed says why in its own error.
        let source = if source
            .get_ref()
            .is_some_and(|e| e.is::<crate::ssh::CommandFailed>())
        {
            let kind = source.kind();
            match source
                .into_inner()
                .map(|e| e.downcast::<crate::ssh::CommandFailed>())
            {
                Some(Ok(failed)) => {
                    return Error::RemoteCommand {
                        remote: self.remote.clone(),
                        source: failed,
                    };
                }
                Some(Err(other)) => std::io::Error::new(kind, other),
                None => std::io::Error::from(kind),
            }
        } else {
            source
        };
        Error::Io {
            remote: self.remote.clone(),
            during,
            source,
        }
    }
}

/// What a connection was opened for, and how: the first bytes to send.
pub(crate) fn daemon_request(
    service: Service,
    path: &str,
    authority: &str,
    v2: bool,
) -> Result<Vec<u8>, Error> {
    crate::proto::daemon_request(service, path, authority, v2).map_err(|_| Error::RequestTooLong {
        path: path.to_string(),
    })
}
