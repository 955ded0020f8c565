//! The proxy itself: a request's host picks its domain's route, a
//! backend is picked in turn (a dead one is skipped for a while), the
//! request goes there through paf's client with `Host` kept and the
//! forwarding headers set, and the response streams back.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Either, Empty, Full, combinators::UnsyncBoxBody};
use paf::Body;

use crate::routes::{Protocol, Route};

/// How long a backend that refused a connection is skipped.
const DEAD_FOR: Duration = Duration::from_secs(10);

/// The body of a response the proxy sends.
pub(crate) type ProxyBody = UnsyncBoxBody<Bytes, paf::BoxError>;

/// One backend and its passive health.
#[derive(Debug)]
pub(crate) struct Backend {
    pub(crate) uri: Uri,
    /// Milliseconds since the table was built until which it is skipped.
    dead_until: AtomicU64,
}

/// A domain's route as the proxy runs it.
#[derive(Debug)]
pub(crate) struct Site {
    pub(crate) backends: Vec<Backend>,
    protocol: Protocol,
    timeout: Duration,
    next: AtomicUsize,
}

impl Site {
    pub(crate) fn new(route: &Route) -> Self {
        Site {
            backends: route
                .backends
                .iter()
                .map(|uri| Backend {
                    uri: uri.clone(),
                    dead_until: AtomicU64::new(0),
                })
                .collect(),
            protocol: route.protocol,
            timeout: route.timeout,
            next: AtomicUsize::new(0),
        }
    }
}

/// Every served domain, swapped whole on reload.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) sites: hashbrown::HashMap<String, Arc<Site>>,
}

/// The proxy's shared state.
#[derive(Debug)]
pub(crate) struct Proxy {
    pub(crate) table: ArcSwap<Table>,
    http1: paf::Client,
    http2: paf::Client,
    epoch: Instant,
    /// Whether requests come over TLS (X-Forwarded-Proto).
    tls: bool,
    pub(crate) metrics: crate::metrics::Metrics,
}

/// Headers of one hop only (RFC 9110 section 7.6.1), never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named by Connection are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// A plain-text answer of the proxy's own.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut res = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// The host a request is for: `:authority` (HTTP/2) or `Host`, without
/// its port, lowercase.
pub(crate) fn request_host<B>(req: &Request<B>) -> Option<String> {
    let raw = match req.uri().host() {
        Some(host) => host.to_string(),
        None => {
            let host = req.headers().get(header::HOST)?.to_str().ok()?;
            let authority: http::uri::Authority = host.parse().ok()?;
            authority.host().to_string()
        }
    };
    Some(raw.trim_end_matches('.').to_ascii_lowercase())
}

impl Proxy {
    pub(crate) fn new(tls: bool) -> Result<Self, paf::ClientError> {
        // HTTP/2 backends get HTTP/2 whatever the scheme: h2 by ALPN over
        // TLS, prior knowledge (h2c) in clear text.
        let client = |alpn: &[u8]| {
            paf::Client::builder()
                .alpn(vec![alpn.to_vec()])
                .http2_only(alpn == b"h2")
                .request_timeout(None)
                .connect_timeout(Duration::from_secs(5))
                // Every client connection may need its own backend
                // connection: keep them (HTTP/1.1 carries one request at a time).
                .pool_max_idle_per_host(4096)
                .build()
        };
        Ok(Proxy {
            table: ArcSwap::from_pointee(Table::default()),
            http1: client(b"http/1.1")?,
            http2: client(b"h2")?,
            epoch: Instant::now(),
            tls,
            metrics: crate::metrics::Metrics::default(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Answers one request (and counts it).
    pub(crate) async fn handle(&self, req: Request<Body>) -> Response<ProxyBody> {
        let start = Instant::now();
        let res = self.forward(req).await;
        self.metrics.record(res.status().as_u16(), start.elapsed());
        res
    }

    async fn forward(&self, req: Request<Body>) -> Response<ProxyBody> {
        let Some(host) = request_host(&req) else {
            return plain(StatusCode::BAD_REQUEST, "no host in the request\n");
        };
        let conn = req.body().conn_info().clone();
        // Over TLS the certificate was picked by SNI: a request for
        // another host on that connection is misdirected (RFC 9110 15.5.20).
        if let Some(sni) = &conn.server_name
            && !sni.eq_ignore_ascii_case(&host)
        {
            return plain(
                StatusCode::MISDIRECTED_REQUEST,
                "this connection is for another host\n",
            );
        }
        let Some(site) = self.table.load().sites.get(&host).cloned() else {
            return plain(StatusCode::MISDIRECTED_REQUEST, "no site here by that name\n");
        };
        let mut req = req;
        // An upgrade (WebSocket): the Upgrade header goes to the backend,
        // and after its 101 both connections are spliced together.
        let upgrade = upgrade_protocol(&req);
        let client_upgrade = upgrade.is_some().then(|| hyper::upgrade::on(&mut req));
        let (mut parts, body) = req.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        if let Some(protocol) = &upgrade {
            parts
                .headers
                .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            parts.headers.insert(header::UPGRADE, protocol.clone());
        }
        forwarding_headers(&mut parts.headers, conn.peer.ip(), &host, self.tls);
        if let Ok(value) = HeaderValue::from_str(&host) {
            parts.headers.insert(header::HOST, value);
        }
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        // A body-less request can be tried on the next backend when a
        // connection cannot be made; one with a body goes to one backend.
        let mut body = if http_body::Body::is_end_stream(&body) {
            None
        } else {
            Some(body)
        };
        let replayable = body.is_none();
        let count = site.backends.len();
        let start = site.next.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        let mut tried_any = false;
        for i in 0..count {
            let backend = &site.backends[(start + i) % count];
            let last_chance = i + 1 == count && !tried_any;
            if backend.dead_until.load(Ordering::Relaxed) > now && !last_chance {
                continue;
            }
            let this_body = match body.take() {
                Some(body) => Either::Left(body),
                None if replayable => Either::Right(Empty::<Bytes>::new()),
                None => break,
            };
            tried_any = true;
            let uri = match Uri::builder()
                .scheme(backend.uri.scheme().cloned().unwrap_or(http::uri::Scheme::HTTP))
                .authority(
                    backend
                        .uri
                        .authority()
                        .cloned()
                        .unwrap_or_else(|| http::uri::Authority::from_static("localhost")),
                )
                .path_and_query(path.as_str())
                .build()
            {
                Ok(uri) => uri,
                Err(_) => return plain(StatusCode::BAD_REQUEST, "bad request target\n"),
            };
            // The head is copied only when another backend may need it.
            let head = if replayable && i + 1 < count {
                parts.clone()
            } else {
                std::mem::replace(&mut parts, Request::new(()).into_parts().0)
            };
            let mut out = Request::from_parts(head, this_body);
            *out.uri_mut() = uri;
            *out.version_mut() = http::Version::HTTP_11;
            let client = match site.protocol {
                Protocol::Http1 => &self.http1,
                Protocol::Http2 => &self.http2,
            };
            match tokio::time::timeout(site.timeout, client.request(out)).await {
                Ok(Ok(mut res)) => {
                    backend.dead_until.store(0, Ordering::Relaxed);
                    if res.status() == StatusCode::SWITCHING_PROTOCOLS
                        && let Some(client_upgrade) = client_upgrade
                    {
                        let backend_upgrade = hyper::upgrade::on(&mut res);
                        tokio::spawn(splice(client_upgrade, backend_upgrade, host.clone()));
                        let (parts, body) = res.into_parts();
                        return Response::from_parts(parts, body.map_err(paf::BoxError::from).boxed_unsync());
                    }
                    let (mut parts, body) = res.into_parts();
                    strip_hop_by_hop(&mut parts.headers);
                    return Response::from_parts(parts, body.map_err(paf::BoxError::from).boxed_unsync());
                }
                Ok(Err(paf::ClientError::Connect { .. })) => {
                    self.metrics.backend_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "contruno::proxy", backend = %backend.uri, %host, "backend unreachable; skipped for a while");
                    backend
                        .dead_until
                        .store(self.now_ms() + DEAD_FOR.as_millis() as u64, Ordering::Relaxed);
                    if replayable {
                        continue;
                    }
                    break;
                }
                Ok(Err(error)) => {
                    self.metrics.backend_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "contruno::proxy", backend = %backend.uri, %host, error = %crate::error_chain(&error), "backend failed");
                    return plain(StatusCode::BAD_GATEWAY, "the site's server failed to answer\n");
                }
                Err(_) => {
                    self.metrics.backend_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "contruno::proxy", backend = %backend.uri, %host, timeout = ?site.timeout, "backend timed out");
                    return plain(
                        StatusCode::GATEWAY_TIMEOUT,
                        "the site's server did not answer in time\n",
                    );
                }
            }
        }
        plain(StatusCode::BAD_GATEWAY, "the site's servers are all down\n")
    }
}

/// The protocol an HTTP/1.1 request asks to upgrade to (`Connection:
/// upgrade` and `Upgrade: <protocol>`).
fn upgrade_protocol<B>(req: &Request<B>) -> Option<HeaderValue> {
    if req.version() != http::Version::HTTP_11 {
        return None;
    }
    let asks = req
        .headers()
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    asks.then(|| req.headers().get(header::UPGRADE).cloned())
        .flatten()
}

/// Copies bytes both ways between an upgraded client connection and the
/// backend's, until either side closes.
async fn splice(client: hyper::upgrade::OnUpgrade, backend: hyper::upgrade::OnUpgrade, host: String) {
    let (client, backend) = match tokio::try_join!(client, backend) {
        Ok(both) => both,
        Err(error) => {
            tracing::debug!(target: "contruno::proxy", %host, %error, "upgrade failed");
            return;
        }
    };
    let mut client = hyper_util::rt::TokioIo::new(client);
    let mut backend = hyper_util::rt::TokioIo::new(backend);
    if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut backend).await {
        tracing::debug!(target: "contruno::proxy", %host, %error, "upgraded connection ended");
    }
}

/// `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host`
/// and `Forwarded` (RFC 7239, appended).
fn forwarding_headers(headers: &mut HeaderMap, client: IpAddr, host: &str, tls: bool) {
    let proto = if tls { "https" } else { "http" };
    let xff = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(before) => format!("{before}, {client}"),
        None => client.to_string(),
    };
    let node = match client {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("\"[{ip}]\""),
    };
    let forwarded_one = format!("for={node};proto={proto};host={host}");
    let forwarded = match headers.get(header::FORWARDED).and_then(|v| v.to_str().ok()) {
        Some(before) => format!("{before}, {forwarded_one}"),
        None => forwarded_one,
    };
    for (name, value) in [
        ("x-forwarded-for", xff),
        ("x-forwarded-proto", proto.to_string()),
        ("x-forwarded-host", host.to_string()),
        ("forwarded", forwarded),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::ACCEPT));
    }

    #[test]
    fn forwarding() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        forwarding_headers(&mut h, "192.0.2.7".parse().unwrap(), "a.test", true);
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 192.0.2.7");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["forwarded"], "for=192.0.2.7;proto=https;host=a.test");
        let mut h = HeaderMap::new();
        forwarding_headers(&mut h, "::1".parse().unwrap(), "a.test", false);
        assert_eq!(h["forwarded"], "for=\"[::1]\";proto=http;host=a.test");
    }

    #[test]
    fn hosts() {
        let req = Request::builder()
            .uri("/x")
            .header("host", "A.Test:443")
            .body(())
            .unwrap();
        assert_eq!(request_host(&req).as_deref(), Some("a.test"));
        let req = Request::builder().uri("https://b.test/x").body(()).unwrap();
        assert_eq!(request_host(&req).as_deref(), Some("b.test"));
        let req = Request::builder().uri("/x").body(()).unwrap();
        assert_eq!(request_host(&req), None);
    }
}
