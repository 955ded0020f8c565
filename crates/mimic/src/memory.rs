//! The `memory` transport: in-process pipes to a [`Listener`], for tests and
//! for servers embedded in the same program.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mimic::{Context, Resolver, keys::MEMORY, memory};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let (connector, mut listener) = memory::listener(8);
//! let server = tokio::spawn(async move {
//!     let mut stream = listener.accept().await.expect("a client");
//!     stream.write_all(b"hello").await
//! });
//! let mut flow = Resolver::new().resolve(&Context::new().with(&MEMORY, connector)).await?;
//! let mut buf = [0; 5];
//! flow.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"hello");
//! server.await??;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;

use tokio::io::DuplexStream;
use tokio::sync::mpsc;

use crate::keys::MEMORY;
use crate::{BoxError, Flow, Key, Transport};

/// How many bytes each direction of an in-memory pipe buffers.
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// An in-memory listener and the connector that reaches it; `backlog`
/// connections may wait to be accepted.
pub fn listener(backlog: usize) -> (Connector, Listener) {
    let (tx, rx) = mpsc::channel(backlog.max(1));
    (Connector { tx }, Listener { rx })
}

/// The connecting end of an in-memory listener: put it in the context under
/// [`MEMORY`]. Cloning gives another handle to the same listener.
#[derive(Clone)]
pub struct Connector {
    tx: mpsc::Sender<DuplexStream>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

/// The listener was dropped: nobody accepts.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the in-memory listener is closed")]
pub struct Closed;

impl Connector {
    /// Opens a pipe to the listener; waits while its backlog is full.
    pub async fn connect(&self) -> Result<DuplexStream, Closed> {
        let (client, server) = tokio::io::duplex(PIPE_CAPACITY);
        self.tx.send(server).await.map_err(|_| Closed)?;
        Ok(client)
    }
}

/// The accepting end of an in-memory listener.
#[derive(Debug)]
pub struct Listener {
    rx: mpsc::Receiver<DuplexStream>,
}

impl Listener {
    /// The next connection; `None` once every connector is dropped.
    pub async fn accept(&mut self) -> Option<DuplexStream> {
        self.rx.recv().await
    }
}

/// Connects through the [`Connector`] under [`MEMORY`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory;

/// The target of the `memory` transport.
#[derive(Clone, Debug)]
pub struct MemoryTarget(Connector);

impl fmt::Display for MemoryTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("in-memory listener")
    }
}

impl Transport for Memory {
    type Endpoint = Connector;
    type Target = MemoryTarget;

    fn name(&self) -> &str {
        "memory"
    }
    fn key(&self) -> Key<Connector> {
        MEMORY
    }
    fn targets(&self, endpoint: &Connector) -> Vec<MemoryTarget> {
        vec![MemoryTarget(endpoint.clone())]
    }
    fn connect(&self, target: &MemoryTarget) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        let connector = target.0.clone();
        async move { Ok(Flow::new(connector.connect().await?, "memory")) }
    }
}
