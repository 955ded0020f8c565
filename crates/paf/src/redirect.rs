//! Port 80's usual job: send every request to the same URL over HTTPS.

use std::convert::Infallible;
use std::future::{Ready, ready};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;

/// A service that answers every request with `308 Permanent Redirect` to
/// `https://` + the request's host (with `https_port` when it is not 443) +
/// its path and query; `400` when the request names no host.
///
/// ```
/// use paf::redirect::ToHttps;
/// use hyper::service::Service;
///
/// let req = http::Request::get("/a?b=1").header("host", "example.com:80").body(()).unwrap();
/// let res = futures_util::FutureExt::now_or_never(ToHttps::new(8443).call(req)).unwrap().unwrap();
/// assert_eq!(res.status(), 308);
/// assert_eq!(res.headers()["location"], "https://example.com:8443/a?b=1");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ToHttps {
    https_port: u16,
}

impl ToHttps {
    /// Redirects to the HTTPS server on `https_port`.
    pub fn new(https_port: u16) -> Self {
        Self { https_port }
    }

    fn location<B>(&self, req: &Request<B>) -> Option<HeaderValue> {
        let host = req.uri().host().map(str::to_string).or_else(|| {
            let value = req.headers().get(header::HOST)?.to_str().ok()?;
            let authority: http::uri::Authority = value.parse().ok()?;
            Some(authority.host().to_string())
        })?;
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let url = if self.https_port == 443 {
            format!("https://{host}{path}")
        } else {
            format!("https://{host}:{}{path}", self.https_port)
        };
        HeaderValue::from_str(&url).ok()
    }
}

impl<B> hyper::service::Service<Request<B>> for ToHttps {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let mut res = Response::new(Full::new(Bytes::new()));
        match self.location(&req) {
            Some(location) => {
                *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
                res.headers_mut().insert(header::LOCATION, location);
            }
            None => {
                *res.status_mut() = StatusCode::BAD_REQUEST;
                *res.body_mut() = Full::new(Bytes::from_static(b"no host to redirect to\n"));
            }
        }
        ready(Ok(res))
    }
}
