//! What goes wrong while reading a peer's messages.

use super::pktline::{PktLineError, excerpt};

/// The peer broke the protocol, or said no.
///
/// Every variant says where: `context` names the message being read
/// (`"ref advertisement"`, `"fetch response"`...) and `packet` counts the
/// packets of that message from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The bytes are not pkt-lines.
    #[error("{context}, packet {packet}: not a pkt-line")]
    PktLine {
        /// The message being read.
        context: &'static str,
        /// Which packet, from 1.
        packet: usize,
        /// What is wrong with its framing.
        source: PktLineError,
    },
    /// A packet that is not what the protocol allows here.
    #[error("{context}, packet {packet}: expected {expected}, got {got:?}")]
    Unexpected {
        /// The message being read.
        context: &'static str,
        /// Which packet, from 1.
        packet: usize,
        /// What the protocol allows here.
        expected: &'static str,
        /// The start of what came, as text (`"flush"` for a flush packet).
        got: String,
    },
    /// The connection ended before the message did.
    #[error("{context}: connection closed after {packet} packets, expected {expected}")]
    Truncated {
        /// The message being read.
        context: &'static str,
        /// How many whole packets came.
        packet: usize,
        /// What was still expected.
        expected: &'static str,
    },
    /// The server sent `ERR <message>` (or an error on side-band 3).
    #[error("the remote said: {message}")]
    Remote {
        /// Its message.
        message: String,
    },
}

impl ProtocolError {
    pub(crate) fn unexpected(
        context: &'static str,
        packet: usize,
        expected: &'static str,
        got: super::Packet<'_>,
    ) -> Self {
        let got = match got {
            super::Packet::Flush => "flush".to_string(),
            super::Packet::Delimiter => "delimiter".to_string(),
            super::Packet::ResponseEnd => "response-end".to_string(),
            super::Packet::Data(data) => excerpt(data),
        };
        Self::Unexpected {
            context,
            packet,
            expected,
            got,
        }
    }

    pub(crate) fn remote(message: &[u8]) -> Self {
        let message = String::from_utf8_lossy(message).trim_end().to_string();
        Self::Remote { message }
    }

    /// Whether the server itself refused (`ERR`), as opposed to a broken
    /// stream.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote { .. })
    }
}

/// A helper for parsers: counts packets and makes errors that say where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor {
    pub(crate) context: &'static str,
    pub(crate) packet: usize,
}

impl Cursor {
    pub(crate) fn new(context: &'static str) -> Self {
        Self { context, packet: 0 }
    }

    /// Counts `packet` and refuses it if it is an `ERR`.
    pub(crate) fn next(&mut self, packet: super::Packet<'_>) -> Result<(), ProtocolError> {
        self.packet += 1;
        match packet.as_error() {
            Some(message) => Err(ProtocolError::remote(message)),
            None => Ok(()),
        }
    }

    pub(crate) fn unexpected(&self, expected: &'static str, got: super::Packet<'_>) -> ProtocolError {
        ProtocolError::unexpected(self.context, self.packet, expected, got)
    }

    pub(crate) fn truncated(&self, expected: &'static str) -> ProtocolError {
        ProtocolError::Truncated {
            context: self.context,
            packet: self.packet,
            expected,
        }
    }

    pub(crate) fn oid(&self, hex: &[u8], packet: super::Packet<'_>) -> Result<gix::ObjectId, ProtocolError> {
        gix::ObjectId::from_hex(hex).map_err(|_| self.unexpected("an object id in hexadecimal", packet))
    }
}
