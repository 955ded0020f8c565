//! The server: accept, TLS with ALPN (or h2c detection), HTTP/1.1 or
//! HTTP/2, limits, graceful shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body as HttpBody;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::task::Poll;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::BoxError;
use crate::body::Body;
use crate::certs::{ACME_TLS_ALPN, Certificates};
use crate::service::{ConnInfo, Handler};
use crate::sweeper::{ConnState, Registration, Registry, Signal, Watched};

/// The limits of a server, each with a default fit for a public server.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Limits {
    /// A client must send a request's whole head within this (slowloris). 10 s.
    pub header_read_timeout: Duration,
    /// A connection with no request under way is closed after this. 60 s.
    pub idle_timeout: Duration,
    /// The largest request head (HTTP/1.1: at least 8 KiB) or header list
    /// (HTTP/2); larger gets `431`. 32 KiB.
    pub max_header_size: usize,
    /// The largest request body; larger gets `413`. 16 MiB.
    pub max_body_size: u64,
    /// Connections served at once; past it, accepting waits. 10,000.
    pub max_connections: usize,
    /// HTTP/2 streams one connection may have open. 256.
    pub h2_max_concurrent_streams: u32,
    /// A TLS handshake must finish within this. 10 s.
    pub tls_handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_header_size: 32 * 1024,
            max_body_size: 16 * 1024 * 1024,
            max_connections: 10_000,
            h2_max_concurrent_streams: 256,
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Builds a [`Server`].
#[derive(Clone, Debug, Default)]
pub struct Builder {
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    conn_info_extension: bool,
}

impl Builder {
    /// Serves TLS with the certificates of `certs` (picked by SNI,
    /// replaceable at run time), HTTP/2 or HTTP/1.1 as ALPN says.
    pub fn tls(mut self, certs: Arc<Certificates>) -> Result<Self, rustls::Error> {
        self.tls = Some(Arc::new(crate::certs::server_config(certs)?));
        Ok(self)
    }

    /// Serves TLS with a rustls configuration of your own; its ALPN list
    /// decides the protocols (`h2` -> HTTP/2, anything else -> HTTP/1.1).
    pub fn tls_config(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Also puts each request's [`ConnInfo`](crate::ConnInfo) in its extensions
    /// (`req.extensions().get::<Arc<ConnInfo>>()`), for middleware that
    /// looks there. Off by default: the extension map costs three
    /// allocations per request, and [`Body::conn_info`](crate::Body::conn_info) always has it.
    pub fn conn_info_extension(mut self, on: bool) -> Self {
        self.conn_info_extension = on;
        self
    }

    /// All the limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// See [`Limits::header_read_timeout`].
    pub fn header_read_timeout(mut self, d: Duration) -> Self {
        self.limits.header_read_timeout = d;
        self
    }

    /// See [`Limits::idle_timeout`].
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.limits.idle_timeout = d;
        self
    }

    /// See [`Limits::max_header_size`].
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.limits.max_header_size = bytes;
        self
    }

    /// See [`Limits::max_body_size`].
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.limits.max_body_size = bytes;
        self
    }

    /// See [`Limits::max_connections`].
    pub fn max_connections(mut self, n: usize) -> Self {
        self.limits.max_connections = n;
        self
    }

    /// See [`Limits::h2_max_concurrent_streams`].
    pub fn h2_max_concurrent_streams(mut self, n: u32) -> Self {
        self.limits.h2_max_concurrent_streams = n;
        self
    }

    /// See [`Limits::tls_handshake_timeout`].
    pub fn tls_handshake_timeout(mut self, d: Duration) -> Self {
        self.limits.tls_handshake_timeout = d;
        self
    }

    /// Binds a TCP listener.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(self.listener(TcpListener::bind(addr).await?))
    }

    /// Serves on a listener you made.
    pub fn listener(self, listener: TcpListener) -> Server {
        let (shutdown, _) = watch::channel(None);
        Server {
            listener,
            limits: self.limits,
            tls: self.tls.map(TlsAcceptor::from),
            conn_info_extension: self.conn_info_extension,
            shutdown: Arc::new(shutdown),
        }
    }
}

/// Polls a connection to its end, doing what the sweeper says: on
/// [`Signal::Close`] (idle, or server shutdown) it finishes gracefully
/// (requests under way complete), on [`Signal::Cut`] it is dropped. A
/// macro: hyper's connection types share `graceful_shutdown` but no trait.
macro_rules! drive {
    ($conn:expr, $state:expr, $peer:expr) => {{
        let conn = $conn;
        let (state, peer): (&ConnState, SocketAddr) = ($state, $peer);
        tokio::pin!(conn);
        let mut closing = false;
        let mut registered = None;
        let outcome = std::future::poll_fn(|cx| {
            loop {
                if let Poll::Ready(outcome) = conn.as_mut().poll(cx) {
                    return Poll::Ready(Some(outcome));
                }
                match state.poll_signal(cx, &mut registered) {
                    Signal::Close if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    Signal::Cut => return Poll::Ready(None),
                    Signal::None | Signal::Close => return Poll::Pending,
                }
            }
        })
        .await;
        match outcome {
            Some(Err(e)) => tracing::debug!(target: "paf::server", %peer, error = %e, "connection ended with an error"),
            None => tracing::debug!(target: "paf::server", %peer, "request head not complete in time; connection cut"),
            Some(Ok(())) => {}
        }
    }};
}

/// An HTTP server on one listener: HTTP/1.1 and HTTP/2, over TLS (by ALPN)
/// or in clear text (HTTP/2 with prior knowledge is detected by its preface).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use paf::{Body, Server, service_fn};
///
/// let server = Server::builder().bind("127.0.0.1:0").await?;
/// let addr = server.local_addr()?;
/// let handle = server.handle();
/// let serving = tokio::spawn(server.serve(service_fn(|_req: http::Request<Body>| async {
///     Ok::<_, Infallible>(http::Response::new(Full::new(bytes::Bytes::from("hello\n"))))
/// })));
/// // ... clients use http://{addr}/ ...
/// handle.shutdown(std::time::Duration::from_secs(5));
/// serving.await??;
/// # let _ = addr; Ok(()) }
/// ```
pub struct Server {
    listener: TcpListener,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    conn_info_extension: bool,
    shutdown: Arc<watch::Sender<Option<Duration>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

/// Stops a [`Server`] gracefully.
#[derive(Clone, Debug)]
pub struct Handle {
    shutdown: Arc<watch::Sender<Option<Duration>>>,
}

impl Handle {
    /// Stops accepting, lets the requests under way finish for up to
    /// `grace`, then closes what is left; [`Server::serve`] returns then.
    pub fn shutdown(&self, grace: Duration) {
        self.shutdown.send_replace(Some(grace));
    }
}

struct Shared<S> {
    service: Arc<S>,
    limits: Limits,
    conn_info_extension: bool,
    tls: Option<TlsAcceptor>,
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    auto: auto::Builder<TokioExecutor>,
}

impl Server {
    /// A builder with the default [`Limits`] and no TLS.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> Handle {
        Handle {
            shutdown: self.shutdown.clone(),
        }
    }

    /// Serves `service` until [`Handle::shutdown`]. Each connection runs on
    /// a task of a set that this future owns: dropping the future aborts
    /// every connection, nothing is left behind.
    pub async fn serve<S, B>(self, service: S) -> io::Result<()>
    where
        S: hyper::service::Service<Request<Body>, Response = Response<B>> + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let limits = self.limits.clone();
        let max_header = limits.max_header_size.max(8192);
        // The head and idle timeouts are the sweeper's (see `sweeper`), not
        // hyper's timer per request.
        let mut h1 = http1::Builder::new();
        h1.header_read_timeout(None)
            .max_buf_size(max_header)
            .keep_alive(true);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        // No timer: paf sends no keep-alive pings, and the timeouts are the sweeper's.
        h2.max_concurrent_streams(limits.h2_max_concurrent_streams)
            .max_header_list_size(max_header as u32);
        let mut auto = auto::Builder::new(TokioExecutor::new());
        auto.http1()
            .header_read_timeout(None)
            .max_buf_size(max_header)
            .keep_alive(true);
        auto.http2()
            .max_concurrent_streams(limits.h2_max_concurrent_streams)
            .max_header_list_size(max_header as u32);
        let shared = Arc::new(Shared {
            service: Arc::new(service),
            limits,
            conn_info_extension: self.conn_info_extension,
            tls: self.tls,
            h1,
            h2,
            auto,
        });
        let local = self.listener.local_addr()?;
        let listener = self.listener;
        let permits = Arc::new(Semaphore::new(shared.limits.max_connections.max(1)));
        let registry = Arc::new(Registry::default());
        let mut sweeper = JoinSet::new();
        sweeper.spawn(
            registry
                .clone()
                .run(shared.limits.header_read_timeout, shared.limits.idle_timeout),
        );
        let mut shutdown = self.shutdown.subscribe();
        let mut connections = JoinSet::new();
        let grace = loop {
            while connections.try_join_next().is_some() {}
            if let Some(grace) = *shutdown.borrow_and_update() {
                break grace;
            }
            let permit = tokio::select! {
                biased;
                _ = shutdown.changed() => continue,
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let (stream, peer) = tokio::select! {
                biased;
                _ = shutdown.changed() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_error(e).await;
                        continue;
                    }
                },
            };
            let shared = shared.clone();
            let registration = registry.register();
            connections.spawn(async move {
                connection(stream, peer, local, shared, registration).await;
                drop(permit);
            });
        };
        // Stop accepting, ask every connection to finish, wait up to `grace`.
        drop(listener);
        registry.close_all();
        let drained =
            tokio::time::timeout(grace, async { while connections.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::info!(target: "paf::server", left = connections.len(), "grace period over; closing");
        }
        connections.shutdown().await;
        Ok(())
    }
}

/// Accept failed: a connection reset before accept is nothing; out of file
/// descriptors (or memory) backs off instead of spinning.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock => {}
        _ => {
            tracing::warn!(target: "paf::server", error = %e, "accept failed; backing off");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn connection<S, B>(
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    shared: Arc<Shared<S>>,
    registration: Registration,
) where
    S: hyper::service::Service<Request<Body>, Response = Response<B>> + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let _ = stream.set_nodelay(true);
    let state = &registration.state;
    let handler = |conn: ConnInfo| Handler {
        inner: shared.service.clone(),
        conn: Arc::new(conn),
        max_body: shared.limits.max_body_size,
        extension: shared.conn_info_extension,
        state: state.clone(),
    };
    let Some(acceptor) = &shared.tls else {
        let info = ConnInfo {
            peer,
            local,
            tls: false,
            server_name: None,
            alpn: None,
        };
        let io = TokioIo::new(Watched::new(stream, state.clone(), true));
        let conn = shared.auto.serve_connection_with_upgrades(io, handler(info));
        drive!(conn, state, peer);
        return;
    };
    let handshake = tokio::time::timeout(shared.limits.tls_handshake_timeout, acceptor.accept(stream)).await;
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(target: "paf::server", %peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(target: "paf::server", %peer, "TLS handshake timed out");
            return;
        }
    };
    let (_, session) = tls.get_ref();
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
    let info = ConnInfo {
        peer,
        local,
        tls: true,
        server_name: session.server_name().map(str::to_string),
        alpn: alpn.clone(),
    };
    match alpn.as_deref() {
        // The handshake was the whole TLS-ALPN-01 validation (RFC 8737).
        Some(ACME_TLS_ALPN) => {}
        Some(b"h2") => {
            state.set_http2();
            let conn = shared.h2.serve_connection(TokioIo::new(tls), handler(info));
            drive!(conn, state, peer)
        }
        // http/1.1, or no ALPN: HTTP/1.1 only. An HTTP/2 preface here is
        // refused as the malformed HTTP/1.1 request it is.
        _ => {
            let io = TokioIo::new(Watched::new(tls, state.clone(), false));
            let conn = shared.h1.serve_connection(io, handler(info)).with_upgrades();
            drive!(conn, state, peer)
        }
    }
}
