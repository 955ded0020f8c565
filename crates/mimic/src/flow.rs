//! One flow type for every protocol, with facts about the connection.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a flow is made of: any tokio byte stream.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + Any {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + Any> Io for T {}

/// A connection from any protocol: a boxed `AsyncRead + AsyncWrite + Send +
/// Unpin` byte stream, and [`Facts`] about it (peer address, negotiated
/// ALPN, TLS server name, the protocols it went through, and anything a
/// protocol adds).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use mimic::{Flow, facts::Protocol};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let (a, mut b) = tokio::io::duplex(64);
/// let mut flow = Flow::new(a, "duplex");
/// assert_eq!(flow.facts().get::<Protocol>().map(|p| p.0.as_ref()), Some("duplex"));
/// flow.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # Ok(()) }
/// ```
pub struct Flow {
    io: Box<dyn Io>,
    facts: Facts,
}

impl Flow {
    /// A flow over `io`, made by the protocol called `protocol`.
    pub fn new<T: Io>(io: T, protocol: impl Into<Cow<'static, str>>) -> Self {
        let mut facts = Facts::default();
        facts.insert(crate::facts::Protocol(protocol.into()));
        Self {
            io: Box::new(io),
            facts,
        }
    }

    /// A flow over `io` (a layer over an earlier flow, say) that keeps `facts`.
    pub fn with_facts<T: Io>(io: T, facts: Facts) -> Self {
        Self {
            io: Box::new(io),
            facts,
        }
    }

    /// What is known about this connection.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// What is known about this connection, to add to it.
    pub fn facts_mut(&mut self) -> &mut Facts {
        &mut self.facts
    }

    /// The byte stream as its concrete type, when it is a `T`
    /// (`tokio::net::TcpStream` for the `tcp` protocol, say).
    pub fn downcast_ref<T: Io>(&self) -> Option<&T> {
        (&*self.io as &dyn Any).downcast_ref()
    }

    /// The byte stream as its concrete type, mutably.
    pub fn downcast_mut<T: Io>(&mut self) -> Option<&mut T> {
        (&mut *self.io as &mut dyn Any).downcast_mut()
    }

    /// The byte stream and the facts apart, when the stream is a `T`;
    /// the flow back otherwise.
    pub fn downcast<T: Io>(self) -> Result<(T, Facts), Self> {
        if (&*self.io as &dyn Any).is::<T>() {
            let any: Box<dyn Any> = self.io;
            match any.downcast::<T>() {
                Ok(io) => Ok((*io, self.facts)),
                Err(_) => unreachable!("type checked just above"),
            }
        } else {
            Err(self)
        }
    }
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("facts", &self.facts)
            .finish_non_exhaustive()
    }
}

impl AsyncRead for Flow {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Flow {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Typed facts about a connection, one value per type.
///
/// The built-in protocols record the facts of [`crate::facts`]; a protocol
/// of yours records any `Clone + Send + Sync` type of its own. Cloning is
/// cheap (values are shared).
#[derive(Clone, Default)]
pub struct Facts {
    // A handful of facts per flow: a vector beats a hash map here.
    list: Vec<(TypeId, &'static str, Arc<dyn Any + Send + Sync>)>,
}

impl Facts {
    /// Records `fact`, replacing an earlier fact of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, fact: T) {
        self.insert_shared(TypeId::of::<T>(), std::any::type_name::<T>(), Arc::new(fact));
    }

    fn insert_shared(&mut self, id: TypeId, name: &'static str, fact: Arc<dyn Any + Send + Sync>) {
        match self.list.iter_mut().find(|(t, _, _)| *t == id) {
            Some(slot) => slot.2 = fact,
            None => self.list.push((id, name, fact)),
        }
    }

    /// The fact of type `T`, if one was recorded.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.list.iter().find(|(t, _, _)| *t == id)?.2.downcast_ref()
    }

    /// Adds every fact of `other`, replacing facts of the same types.
    pub fn extend(&mut self, other: &Facts) {
        for (id, name, fact) in &other.list {
            self.insert_shared(*id, name, fact.clone());
        }
    }

    /// The peer's socket address, when the connection has one.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.get::<crate::facts::PeerAddr>().map(|p| p.0)
    }

    /// The protocol TLS ALPN negotiated (`b"h2"`, `b"http/1.1"`...).
    pub fn alpn(&self) -> Option<&[u8]> {
        self.get::<crate::facts::Alpn>().map(|a| a.0.as_slice())
    }

    /// The server name sent in TLS SNI and checked against the certificate.
    pub fn server_name(&self) -> Option<&str> {
        self.get::<crate::facts::ServerName>().map(|s| s.0.as_str())
    }

    /// The name of the protocol that made the first flow (`tcp`, `unix`...).
    pub fn protocol(&self) -> Option<&str> {
        self.get::<crate::facts::Protocol>().map(|p| p.0.as_ref())
    }
}

impl fmt::Debug for Facts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.list.iter().map(|(_, name, _)| *name).collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}
