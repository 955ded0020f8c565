//! mimic as a hyper-util connector: a `tower::Service<Uri>` that connects
//! through a [`Resolver`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use mimic::{Context, Resolver, connector::Connector, keys::ALPN};
//!
//! let base = Context::new().with(&ALPN, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
//! let client: Client<_, String> =
//!     Client::builder(TokioExecutor::new()).build(Connector::new(Resolver::new(), base));
//! let response = client.get("https://example.com/".parse()?).await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection as HyperConnection};
use hyper_util::rt::TokioIo;

use crate::keys::{HOST, PORT, SCHEME};
use crate::{Context, Error, Flow, Resolver};

/// Connects hyper's client through a resolver: each request's URI sets
/// [`SCHEME`], [`HOST`] and [`PORT`] over a base context (which holds the
/// rest: ALPN, TLS roots, timeouts...).
#[derive(Clone, Debug)]
pub struct Connector {
    resolver: Resolver,
    base: Context,
}

impl Connector {
    /// A connector that resolves with `resolver`, starting from `base`.
    pub fn new(resolver: Resolver, base: Context) -> Self {
        Self { resolver, base }
    }

    /// The context a request to `uri` is resolved with.
    pub fn context_for(&self, uri: &Uri) -> Context {
        let mut ctx = self.base.clone();
        if let Some(scheme) = uri.scheme_str() {
            ctx.insert(&SCHEME, scheme.to_ascii_lowercase());
        }
        if let Some(host) = uri.host() {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            ctx.insert(&HOST, host.to_ascii_lowercase());
        }
        if let Some(port) = uri.port_u16() {
            ctx.insert(&PORT, port);
        }
        ctx
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Connection;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Connection, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let ctx = self.context_for(&uri);
        let resolver = self.resolver.clone();
        Box::pin(async move {
            let flow = resolver.resolve(&ctx).await?;
            Ok(Connection {
                io: TokioIo::new(flow),
            })
        })
    }
}

/// A flow as hyper wants it; tells hyper whether ALPN chose HTTP/2, and
/// carries the flow's [`Facts`](crate::Facts) as the connection's extra
/// (they reach each response's extensions).
#[derive(Debug)]
pub struct Connection {
    io: TokioIo<Flow>,
}

impl Connection {
    /// The flow.
    pub fn into_inner(self) -> Flow {
        self.io.into_inner()
    }

    /// The flow, borrowed.
    pub fn flow(&self) -> &Flow {
        self.io.inner()
    }
}

impl HyperConnection for Connection {
    fn connected(&self) -> Connected {
        let facts = self.io.inner().facts();
        let connected = Connected::new().extra(facts.clone());
        if facts.alpn() == Some(b"h2") {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
