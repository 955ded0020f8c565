//! The client: HTTP/1.1 and HTTP/2 (by ALPN) over flows from a mimic resolver.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body::Body as HttpBody;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use mimic::connector::Connector;
use mimic::keys::{ALPN, CONNECT_TIMEOUT, TLS_CONFIG};
use mimic::{Context, Resolver};

use crate::BoxError;

/// The body of a request the client sends: any body, boxed.
pub type RequestBody = BoxBody<Bytes, BoxError>;

/// A request could not be sent or answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No connection could be made: mimic's error lists every candidate
    /// tried and why it failed.
    #[error("cannot connect to {uri}")]
    Connect {
        /// The request's URI.
        uri: Box<Uri>,
        /// mimic's error.
        source: Box<mimic::Error>,
    },
    /// No response head within the request timeout.
    #[error("no response from {uri} within {after:?}")]
    Timeout {
        /// The request's URI.
        uri: Box<Uri>,
        /// The timeout.
        after: Duration,
    },
    /// The connection failed, or the server answered with broken HTTP.
    #[error("request to {uri} failed")]
    Http {
        /// The request's URI.
        uri: Box<Uri>,
        /// hyper's error.
        source: Box<hyper_util::client::legacy::Error>,
    },
    /// The TLS configuration could not be made.
    #[error("invalid TLS configuration")]
    Tls(#[from] mimic::tls::TlsError),
}

impl ClientError {
    /// Whether trying again later may succeed (the remote was down or slow).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Connect { source, .. } => source.is_transient(),
            ClientError::Timeout { .. } => true,
            ClientError::Http { source, .. } => source.is_connect(),
            ClientError::Tls(_) => false,
        }
    }
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    resolver: Resolver,
    context: Context,
    roots: Option<Arc<rustls::RootCertStore>>,
    alpn: Vec<Vec<u8>>,
    request_timeout: Option<Duration>,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    http2_only: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            resolver: Resolver::new(),
            context: Context::new(),
            roots: None,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            request_timeout: Some(Duration::from_secs(30)),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 32,
            http2_only: false,
        }
    }
}

impl ClientBuilder {
    /// Connects through `resolver` (with protocols of your own, say).
    pub fn resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = resolver;
        self
    }

    /// Starts every connection's context from `context` (each request's URI
    /// adds its scheme, host and port).
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Trusts these roots for HTTPS instead of the webpki roots.
    pub fn tls_roots(mut self, roots: Arc<rustls::RootCertStore>) -> Self {
        self.roots = Some(roots);
        self
    }

    /// The ALPN protocols offered over TLS (default `h2`, `http/1.1`).
    pub fn alpn(mut self, alpn: Vec<Vec<u8>>) -> Self {
        self.alpn = alpn;
        self
    }

    /// Bounds making a connection (DNS, TCP, TLS); none by default.
    pub fn connect_timeout(mut self, after: Duration) -> Self {
        self.context.insert(&CONNECT_TIMEOUT, after);
        self
    }

    /// Bounds the wait for a response head (30 s by default; `None`: no bound).
    pub fn request_timeout(mut self, after: Option<Duration>) -> Self {
        self.request_timeout = after;
        self
    }

    /// How long an idle pooled connection is kept (90 s by default).
    pub fn pool_idle_timeout(mut self, after: Duration) -> Self {
        self.pool_idle_timeout = after;
        self
    }

    /// How many idle connections per host are kept (32 by default).
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool_max_idle_per_host = n;
        self
    }

    /// Speaks HTTP/2 on every connection: with prior knowledge in clear
    /// text (h2c, RFC 9113 section 3.3), and over TLS offering only `h2`.
    /// For servers known to speak HTTP/2 (a proxy's backends, gRPC).
    pub fn http2_only(mut self, yes: bool) -> Self {
        self.http2_only = yes;
        if yes {
            self.alpn = vec![b"h2".to_vec()];
        }
        self
    }

    /// The client. One TLS configuration serves every connection, so TLS
    /// sessions are resumed.
    pub fn build(self) -> Result<Client, ClientError> {
        let mut context = self.context;
        let roots = self.roots.unwrap_or_else(mimic::tls::webpki_roots);
        context.insert(&TLS_CONFIG, mimic::tls::client_config(roots, self.alpn.clone())?);
        context.insert(&ALPN, self.alpn);
        let inner = HyperClient::builder(TokioExecutor::new())
            .http2_only(self.http2_only)
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(Connector::new(self.resolver, context));
        Ok(Client {
            inner,
            request_timeout: self.request_timeout,
        })
    }
}

/// An HTTP client over mimic: HTTP/1.1, or HTTP/2 when ALPN says so, with
/// pooled connections (one HTTP/2 connection carries many requests),
/// connect and request timeouts, and streaming bodies both ways. Cloning is
/// cheap and shares the pool.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use http_body_util::BodyExt;
///
/// let client = paf::Client::builder().build()?;
/// let response = client.get("https://example.com/".parse()?).await?;
/// let body = response.into_body().collect().await?.to_bytes();
/// # let _ = body; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: HyperClient<Connector, RequestBody>,
    request_timeout: Option<Duration>,
}

impl Client {
    /// A builder with the defaults (webpki roots, ALPN h2 + http/1.1, 30 s
    /// request timeout).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Sends `req` (any body; streamed) and returns the response once its
    /// head has arrived; the response body streams.
    pub async fn request<B>(&self, req: Request<B>) -> Result<Response<Incoming>, ClientError>
    where
        B: HttpBody<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        let uri = req.uri().clone();
        let req = req.map(|b| b.map_err(Into::into).boxed());
        let sent = self.inner.request(req);
        let outcome = match self.request_timeout {
            Some(after) => match tokio::time::timeout(after, sent).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return Err(ClientError::Timeout {
                        uri: Box::new(uri),
                        after,
                    });
                }
            },
            None => sent.await,
        };
        outcome.map_err(|source| {
            let connect = std::error::Error::source(&source)
                .and_then(|e| e.downcast_ref::<mimic::Error>())
                .cloned();
            match connect {
                Some(connect) => ClientError::Connect {
                    uri: Box::new(uri.clone()),
                    source: Box::new(connect),
                },
                None => ClientError::Http {
                    uri: Box::new(uri.clone()),
                    source: Box::new(source),
                },
            }
        })
    }

    /// `GET uri`.
    pub async fn get(&self, uri: Uri) -> Result<Response<Incoming>, ClientError> {
        let mut req = Request::new(Empty::<Bytes>::new());
        *req.uri_mut() = uri;
        self.request(req).await
    }
}
