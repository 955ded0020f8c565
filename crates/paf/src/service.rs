//! What wraps the user's service on every request: connection facts, the
//! body limit, error mapping (413, 500) and the access log.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{Either, Full};
use hyper::body::Incoming;

use crate::BoxError;
use crate::body::{Body, is_too_large};
use crate::sweeper::ConnState;

/// Facts about the connection a request came on: [`Body::conn_info`], and
/// in the request's extensions (`req.extensions().get::<Arc<ConnInfo>>()`)
/// when the server was built with
/// [`conn_info_extension`](crate::Builder::conn_info_extension).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The server's address the client connected to.
    pub local: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The SNI the client sent, over TLS.
    pub server_name: Option<String>,
    /// The protocol TLS ALPN negotiated (`h2`, `http/1.1`), over TLS.
    pub alpn: Option<Vec<u8>>,
}

/// The user's service, as every connection shares it.
pub(crate) struct Handler<S> {
    pub(crate) inner: Arc<S>,
    pub(crate) conn: Arc<ConnInfo>,
    pub(crate) extension: bool,
    pub(crate) max_body: u64,
    pub(crate) state: Arc<ConnState>,
}

impl<S> Clone for Handler<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            conn: self.conn.clone(),
            extension: self.extension,
            max_body: self.max_body,
            state: self.state.clone(),
        }
    }
}

impl<S, B> hyper::service::Service<Request<Incoming>> for Handler<S>
where
    S: hyper::service::Service<Request<Body>, Response = Response<B>> + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<B>>;
    type Error = Infallible;
    type Future = HandlerFuture<S::Future, B>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let log = tracing::enabled!(target: "paf::access", tracing::Level::INFO).then(|| {
            Box::new(AccessLog {
                method: req.method().clone(),
                path: req.uri().path().to_string(),
                version: req.version(),
                peer: self.conn.peer,
                status: 0,
                bytes: 0,
                start: Instant::now(),
            })
        });
        // A body's lower size bound is its Content-Length, when it has one.
        let too_large = req.body().size_hint().lower() > self.max_body;
        if too_large {
            // The unread body lives as long as the response: HTTP/2 then
            // sends the whole 413 before resetting the stream (RFC 9113
            // section 8.1), instead of resetting first.
            return HandlerFuture {
                state: State::Ready {
                    refusal: Some(Box::new((too_large_response(), req.into_body()))),
                },
                log,
                conn: None,
            };
        }
        let (mut parts, body) = req.into_parts();
        if self.extension {
            parts.extensions.insert(self.conn.clone());
        }
        let req = Request::from_parts(parts, Body::new(body, self.max_body, self.conn.clone()));
        self.state.begin();
        HandlerFuture {
            state: State::Running {
                fut: self.inner.call(req),
            },
            log,
            conn: Some(self.state.clone()),
        }
    }
}

fn too_large_response<B>() -> Response<Either<B, Full<Bytes>>> {
    plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n")
}

fn plain<B>(status: StatusCode, text: &'static str) -> Response<Either<B, Full<Bytes>>> {
    let mut res = Response::new(Either::Right(Full::new(Bytes::from_static(text.as_bytes()))));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// A response paf makes itself, and the request body it refused unread.
type Refusal<B> = (Response<Either<B, Full<Bytes>>>, Incoming);

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        // Boxed: a rare path that would otherwise make every future larger.
        Ready { refusal: Option<Box<Refusal<B>>> },
        Running { #[pin] fut: F },
    }
}

pin_project_lite::pin_project! {
    /// The future of one request through [`Handler`]: the service's own
    /// future in place (no box), or paf's refusal.
    pub(crate) struct HandlerFuture<F, B> {
        #[pin]
        state: State<F, B>,
        log: Option<Box<AccessLog>>,
        // The connection's state, until the service has answered.
        conn: Option<Arc<ConnState>>,
    }

    impl<F, B> PinnedDrop for HandlerFuture<F, B> {
        fn drop(this: Pin<&mut Self>) {
            // A request cancelled (client gone) still ends.
            if let Some(conn) = this.project().conn.take() {
                conn.end();
            }
        }
    }
}

impl<F, B, E> Future for HandlerFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut unread = None;
        let res = match this.state.project() {
            StateProj::Ready { refusal } => match refusal.take().map(|r| *r) {
                Some((res, body)) => {
                    unread = Some(Box::new(body));
                    res
                }
                None => plain(StatusCode::INTERNAL_SERVER_ERROR, ""),
            },
            StateProj::Running { fut } => {
                let outcome = ready!(fut.poll(cx));
                if let Some(conn) = this.conn.take() {
                    conn.end();
                }
                match outcome {
                    Ok(res) => res.map(Either::Left),
                    Err(e) => {
                        let e: BoxError = e.into();
                        if is_too_large(&*e) {
                            too_large_response()
                        } else {
                            tracing::error!(target: "paf::server", error = %ErrorChain(&*e), "service failed");
                            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n")
                        }
                    }
                }
            }
        };
        let mut log = this.log.take();
        if let Some(log) = &mut log {
            log.status = res.status().as_u16();
        }
        Poll::Ready(Ok(res.map(|inner| ResponseBody { inner, log, unread })))
    }
}

struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// One line of the access log, written when the response body ends (or is dropped).
struct AccessLog {
    method: Method,
    path: String,
    version: Version,
    peer: SocketAddr,
    status: u16,
    bytes: u64,
    start: Instant,
}

impl AccessLog {
    fn emit(&self) {
        tracing::info!(
            target: "paf::access",
            peer = %self.peer,
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes = self.bytes,
            duration_us = self.start.elapsed().as_micros() as u64,
            protocol = ?self.version,
        );
    }
}

pin_project_lite::pin_project! {
    /// The body of a response paf sends: the service's, or paf's own for
    /// the errors it answers itself; counted for the access log.
    pub struct ResponseBody<B> {
        #[pin]
        inner: Either<B, Full<Bytes>>,
        log: Option<Box<AccessLog>>,
        // A request body refused unread, dropped when the response ends.
        unread: Option<Box<Incoming>>,
    }

    impl<B> PinnedDrop for ResponseBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(log) = this.project().log.take() {
                log.emit();
            }
        }
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl<B> HttpBody for ResponseBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if frame.is_none() {
            // The response is complete: a refused body may go now (HTTP/2:
            // RST_STREAM NO_ERROR after the response, RFC 9113 section 8.1).
            *this.unread = None;
        }
        if let (Some(Ok(frame)), Some(log)) = (&frame, this.log.as_mut())
            && let Some(data) = frame.data_ref()
        {
            log.bytes += data.len() as u64;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
