//! The smart HTTP transport over paf's client: the request/response
//! framing of `gitprotocol-http(5)`, nothing of the protocol itself.
//!
//! - The greeting is `GET $url/info/refs?service=git-upload-pack` (or
//!   `git-receive-pack`), with `Git-Protocol: version=2` when v2 is asked
//!   for. A v0 answer starts with `# service=...` and a flush, which the
//!   caller skips.
//! - Then every request of the protocol is a `POST $url/git-upload-pack`
//!   (or `git-receive-pack`): what the protocol code writes becomes the
//!   request body, and its next read sends the request and reads the
//!   response body. Protocol v2 is stateless already (each round carries
//!   what the server needs); v0 fetch sends wants, haves and `done` in one
//!   request, and push sends commands and pack in one request, which is
//!   what `--stateless-rpc` servers expect.
//! - Small bodies are sent whole (with a length); past 1 MiB (a push's
//!   pack) the body streams while it is written, and an early answer from
//!   the server (a 401 before the body was read) ends the upload.
//! - Status codes: 401 is [`Error::AuthRefused`], 404
//!   [`Error::RepositoryNotFound`], any other non-200
//!   [`Error::HttpStatus`]; a 200 of the wrong content type (a dumb HTTP
//!   server, a login page) is [`Error::NotSmartHttp`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use crate::proto::Service;
use crate::{Error, RemoteUrl};

/// Bodies up to this size are sent whole; larger ones stream.
const STREAM_AFTER: usize = 1024 * 1024;

/// Credentials for smart HTTP.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpAuth {
    /// `Authorization: Basic` (the URL's `user:password@` gives this too).
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

impl std::fmt::Debug for HttpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        match self {
            HttpAuth::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .finish_non_exhaustive(),
            HttpAuth::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

impl HttpAuth {
    fn header(&self) -> Option<HeaderValue> {
        let text = match self {
            HttpAuth::Basic { user, password } => {
                let raw = format!("{user}:{password}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            HttpAuth::Bearer(token) => format!("Bearer {token}"),
        };
        let mut value = HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    fn user(&self) -> Option<String> {
        match self {
            HttpAuth::Basic { user, .. } => Some(user.clone()),
            HttpAuth::Bearer(_) => None,
        }
    }
}

/// What HTTP(S) connections need besides the URL.
#[derive(Clone, Debug, Default)]
pub struct HttpOptions {
    /// Credentials; the URL's `user:password@` when `None`.
    pub auth: Option<HttpAuth>,
    /// Roots trusted for HTTPS instead of the webpki roots.
    pub tls_roots: Option<Arc<rustls::RootCertStore>>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ResponseBody = BoxBody<Bytes, BoxError>;
type Answer = Result<Response<Incoming>, paf::ClientError>;
type Pending = Pin<Box<dyn Future<Output = Answer> + Send>>;

enum State {
    /// No request under way; reads see the end of the last response.
    Idle,
    /// A request body being written, not sent yet.
    Buffering(Vec<u8>),
    /// A request whose body streams while it is written.
    Streaming {
        body: Option<mpsc::Sender<Bytes>>,
        response: Pending,
    },
    /// The server answered early, before the whole body was written.
    Answered(Answer),
    /// A response body being read.
    Reading(ResponseBody),
}

/// One remote service over smart HTTP: writes become POST bodies, reads
/// come from the responses.
pub(crate) struct HttpRpc {
    client: paf::Client,
    base: String,
    service: Service,
    auth: Option<HttpAuth>,
    v2: bool,
    remote: String,
    state: State,
}

impl std::fmt::Debug for HttpRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRpc")
            .field("base", &self.base)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// A request body fed by a channel.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

impl HttpRpc {
    /// `GET info/refs`: the service's advertisement is ready to be read
    /// when this returns.
    pub(crate) async fn open(
        resolver: &mimic::Resolver,
        options: &HttpOptions,
        url: &RemoteUrl,
        service: Service,
        v2: bool,
    ) -> Result<Self, Error> {
        let remote = url.to_string();
        let mut builder = paf::Client::builder()
            .resolver(resolver.clone())
            // A push's answer comes after the server has indexed the pack.
            .request_timeout(None);
        if let Some(roots) = &options.tls_roots {
            builder = builder.tls_roots(roots.clone());
        }
        let client = builder.build().map_err(|source| Error::Http {
            remote: remote.clone(),
            source,
        })?;
        let authority = url
            .authority()
            .ok_or(Error::UnsupportedTransport { scheme: url.scheme() })?;
        let base = format!(
            "{}://{}{}",
            url.scheme(),
            authority,
            url.path().trim_end_matches('/')
        );
        let auth = options.auth.clone().or_else(|| {
            let user = url.user()?;
            Some(HttpAuth::Basic {
                user: user.to_string(),
                password: url.password().unwrap_or_default().to_string(),
            })
        });
        let mut rpc = Self {
            client,
            base,
            service,
            auth,
            v2,
            remote,
            state: State::Idle,
        };
        let uri = rpc.uri(&format!("/info/refs?service={}", service.as_str()))?;
        let mut request = Request::builder().method(Method::GET).uri(uri);
        for (name, value) in rpc.headers() {
            request = request.header(name, value);
        }
        let request = request.body(Empty::<Bytes>::new()).map_err(|_| rpc.bad_url())?;
        let response = rpc.client.request(request).await;
        let body = rpc.check(response, "advertisement")?;
        rpc.state = State::Reading(body);
        Ok(rpc)
    }

    fn uri(&self, suffix: &str) -> Result<Uri, Error> {
        Uri::try_from(format!("{}{suffix}", self.base)).map_err(|_| self.bad_url())
    }

    fn bad_url(&self) -> Error {
        Error::InvalidHttpUrl {
            remote: self.remote.clone(),
        }
    }

    fn headers(&self) -> Vec<(http::HeaderName, HeaderValue)> {
        let mut headers = vec![(
            USER_AGENT,
            HeaderValue::from_static(concat!("git/smart-", env!("CARGO_PKG_VERSION"))),
        )];
        if self.v2 {
            headers.push((
                http::HeaderName::from_static("git-protocol"),
                HeaderValue::from_static("version=2"),
            ));
        }
        if let Some(value) = self.auth.as_ref().and_then(HttpAuth::header) {
            headers.push((AUTHORIZATION, value));
        }
        headers
    }

    /// A POST to the service, with `body`.
    fn post<B>(&self, body: B) -> Result<impl Future<Output = Answer> + Send + 'static, Error>
    where
        B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        let service = self.service.as_str();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri(&format!("/{service}"))?)
            .header(CONTENT_TYPE, format!("application/x-{service}-request"))
            .header(ACCEPT, format!("application/x-{service}-result"));
        for (name, value) in self.headers() {
            request = request.header(name, value);
        }
        let request = request.body(body).map_err(|_| self.bad_url())?;
        let client = self.client.clone();
        Ok(async move { client.request(request).await })
    }

    /// The response's body if it is a success of the expected type
    /// (`advertisement` or `result`).
    fn check(&self, response: Answer, kind: &str) -> Result<ResponseBody, Error> {
        let response = response.map_err(|source| match source {
            paf::ClientError::Connect { source, .. } => Error::Connect {
                remote: self.remote.clone(),
                source: *source,
            },
            source => Error::Http {
                remote: self.remote.clone(),
                source,
            },
        })?;
        let status = response.status();
        match status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => {
                return Err(Error::AuthRefused {
                    remote: self.remote.clone(),
                    user: self.auth.as_ref().and_then(HttpAuth::user),
                });
            }
            StatusCode::NOT_FOUND => {
                return Err(Error::RepositoryNotFound {
                    remote: self.remote.clone(),
                });
            }
            _ => {
                return Err(Error::HttpStatus {
                    remote: self.remote.clone(),
                    status: status.as_u16(),
                });
            }
        }
        let expected = format!("application/x-{}-{kind}", self.service.as_str());
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // Parameters (`; charset=...`) are allowed.
        if content_type.split(';').next().map(str::trim) != Some(expected.as_str()) {
            return Err(Error::NotSmartHttp {
                remote: self.remote.clone(),
                content_type: content_type.to_string(),
            });
        }
        Ok(response.into_body().map_err(Into::into).boxed())
    }

    /// Adds `bytes` to the request being written (starting one if none is).
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        match &mut self.state {
            State::Idle | State::Reading(_) => self.state = State::Buffering(bytes.to_vec()),
            State::Buffering(buf) => {
                buf.extend_from_slice(bytes);
                if buf.len() > STREAM_AFTER {
                    let first = Bytes::from(std::mem::take(buf));
                    let (tx, rx) = mpsc::channel(16);
                    // Room for one chunk: this cannot fail.
                    let _ = tx.try_send(first);
                    let response = Box::pin(self.post(ChannelBody(rx))?);
                    self.state = State::Streaming {
                        body: Some(tx),
                        response,
                    };
                }
            }
            State::Streaming { body, response } => {
                let chunk = Bytes::copy_from_slice(bytes);
                let Some(tx) = body.as_ref() else {
                    return Ok(());
                };
                // Feed the body while the request runs; the server may
                // answer before reading it all.
                let outcome = tokio::select! {
                    permit = tx.reserve() => match permit {
                        Ok(permit) => {
                            permit.send(chunk);
                            None
                        }
                        // The request is over (hyper dropped the body): its
                        // outcome tells why, on the next read.
                        Err(_) => Some(None),
                    },
                    answered = response.as_mut() => Some(Some(answered)),
                };
                match outcome {
                    None => {}
                    Some(None) => *body = None,
                    Some(Some(answered)) => self.state = State::Answered(answered),
                }
            }
            State::Answered(_) => {}
        }
        Ok(())
    }

    /// Reads more of the current response into `out`: `Ok(0)` at its end.
    /// The first read after writes sends the request.
    pub(crate) async fn read(&mut self, out: &mut bytes::BytesMut) -> Result<usize, Error> {
        loop {
            match std::mem::replace(&mut self.state, State::Idle) {
                State::Idle => return Ok(0),
                State::Buffering(buf) => {
                    let response = self.post(Full::new(Bytes::from(buf)))?.await;
                    self.state = State::Reading(self.check(response, "result")?);
                }
                State::Streaming { body, response } => {
                    drop(body);
                    let response = response.await;
                    self.state = State::Reading(self.check(response, "result")?);
                }
                State::Answered(response) => {
                    self.state = State::Reading(self.check(response, "result")?);
                }
                State::Reading(mut body) => match body.frame().await {
                    None => return Ok(0),
                    Some(Err(source)) => {
                        return Err(Error::Io {
                            remote: self.remote.clone(),
                            during: "reading the response",
                            source: std::io::Error::other(source),
                        });
                    }
                    Some(Ok(frame)) => {
                        self.state = State::Reading(body);
                        if let Ok(data) = frame.into_data()
                            && !data.is_empty()
                        {
                            out.extend_from_slice(&data);
                            return Ok(data.len());
                        }
                    }
                },
            }
        }
    }
}
