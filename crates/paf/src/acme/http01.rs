//! HTTP-01 (RFC 8555 section 8.3): a `Service` layer put in front of the
//! site's own service on port 80. It answers
//! `GET /.well-known/acme-challenge/<token>` for the tokens in a shared
//! [`Http01Tokens`] map and passes every other request to the inner
//! service, so the site keeps serving while it answers challenges.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{Either, Full};

/// The path prefix of HTTP-01 challenges.
pub const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The tokens being answered and their key authorizations; cheap to clone,
/// shared between the ACME flow (which writes) and the responders (which read).
#[derive(Clone, Debug, Default)]
pub struct Http01Tokens(Arc<RwLock<hashbrown::HashMap<String, String>>>);

impl Http01Tokens {
    /// No token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `token` with `key_authorization` until removed.
    pub fn insert(&self, token: &str, key_authorization: &str) {
        if let Ok(mut map) = self.0.write() {
            map.insert(token.to_string(), key_authorization.to_string());
        }
    }

    /// Stops answering `token`.
    pub fn remove(&self, token: &str) {
        if let Ok(mut map) = self.0.write() {
            map.remove(token);
        }
    }

    /// The key authorization for `token`.
    pub fn get(&self, token: &str) -> Option<String> {
        self.0.read().ok().and_then(|map| map.get(token).cloned())
    }

    /// The number of tokens answered.
    pub fn len(&self) -> usize {
        self.0.read().map(|map| map.len()).unwrap_or(0)
    }

    /// Whether no token is answered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wraps `inner`: challenge requests are answered from these tokens,
    /// the rest goes to `inner`.
    pub fn layer<S>(&self, inner: S) -> Http01Service<S> {
        Http01Service {
            tokens: self.clone(),
            inner,
        }
    }

    /// The answer to a request for `path`, if it is a challenge of ours.
    fn answer(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let token = path.strip_prefix(CHALLENGE_PREFIX)?;
        let key_authorization = self.get(token)?;
        let mut response = Response::new(Full::new(Bytes::from(key_authorization)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain"),
        );
        *response.status_mut() = StatusCode::OK;
        Some(response)
    }
}

/// The HTTP-01 responder in front of `S` (see [`Http01Tokens::layer`]).
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use hyper::service::{Service, service_fn};
/// use paf::acme::Http01Tokens;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let site = service_fn(|_req: http::Request<Full<Bytes>>| async {
///     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"my site"))))
/// });
/// let tokens = Http01Tokens::new();
/// tokens.insert("tok", "tok.thumbprint");
/// let service = tokens.layer(site);
///
/// let get = |path: &str| http::Request::get(path).body(Full::new(Bytes::new())).unwrap();
/// let challenge = service.call(get("/.well-known/acme-challenge/tok")).await.unwrap();
/// assert_eq!(challenge.into_body().collect().await.unwrap().to_bytes(), "tok.thumbprint");
/// let page = service.call(get("/index.html")).await.unwrap();
/// assert_eq!(page.into_body().collect().await.unwrap().to_bytes(), "my site");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Http01Service<S> {
    tokens: Http01Tokens,
    inner: S,
}

impl<S> Http01Service<S> {
    /// The wrapped service.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S, B, ResBody> hyper::service::Service<Request<B>> for Http01Service<S>
where
    S: hyper::service::Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        if let Some(answer) = self.tokens.answer(req.method(), req.uri().path()) {
            return Box::pin(async move { Ok(answer.map(Either::Left)) });
        }
        let fut = self.inner.call(req);
        Box::pin(async move { Ok(fut.await?.map(Either::Right)) })
    }
}
