//! The tokio side of a connection: pkt-lines read from and written to a
//! mimic [`Flow`], nothing else. The protocol is in [`crate::proto`].

use bytes::{Buf, BytesMut};
use mimic::Flow;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Error;
use crate::proto::pktline::{self, Decoded, Packet};
use crate::proto::{ProtocolError, Service};

/// A connection to one remote service.
#[derive(Debug)]
pub(crate) struct Connection {
    io: Flow,
    buf: BytesMut,
    /// How much of `buf` the last packet returned took.
    taken: usize,
    remote: String,
}

impl Connection {
    pub(crate) fn new(io: Flow, remote: String) -> Self {
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

    /// Writes `bytes` and flushes.
    pub(crate) async fn send(&mut self, bytes: &[u8], during: &'static str) -> Result<(), Error> {
        let result = async {
            self.io.write_all(bytes).await?;
            self.io.flush().await
        }
        .await;
        result.map_err(|source| self.io_error(during, source))
    }

    /// Tells the remote we are done writing (half-close).
    pub(crate) async fn shutdown(&mut self) {
        // Best effort: the remote may already have closed its side.
        let _ = self.io.shutdown().await;
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
                    let read = self.io.read_buf(&mut self.buf).await;
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
