//! mimic as hyper-util's connector: HTTP/1.1 in clear text, HTTP/2 chosen by ALPN.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response, Version};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mimic::connector::Connector;
use mimic::keys::{ALPN, TLS_ROOTS};
use mimic::{Context, Facts, Resolver};
use testkit::tls::TestCa;
use tokio::net::TcpListener;

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(format!(
        "{:?} {}",
        req.version(),
        req.uri().path()
    )))))
}

/// An HTTP server (h1 and h2, by ALPN over TLS or by preface in clear text).
async fn server(tls: Option<tokio_rustls::TlsAcceptor>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                let service = service_fn(hello);
                let _ = match tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(stream).await else {
                            return;
                        };
                        builder.serve_connection(TokioIo::new(stream), service).await
                    }
                    None => builder.serve_connection(TokioIo::new(stream), service).await,
                };
            });
        }
    });
    addr
}

#[tokio::test]
async fn hyper_client_over_clear_text_http1() {
    let addr = server(None).await;
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(Connector::new(Resolver::new(), Context::new()));
    let response = client
        .get(format!("http://{addr}/plain").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    let facts = response.extensions().get::<Facts>().cloned().unwrap();
    assert_eq!(facts.peer_addr(), Some(addr));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "HTTP/1.1 /plain");
}

#[tokio::test]
async fn hyper_client_switches_to_http2_when_alpn_says_so() {
    let ca = TestCa::new("mimic test CA").unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let acceptor =
        tokio_rustls::TlsAcceptor::from(Arc::new(cert.server_config(&[b"h2", b"http/1.1"]).unwrap()));
    let addr = server(Some(acceptor)).await;
    let base = Context::new()
        .with(&TLS_ROOTS, Arc::new(ca.root_store().unwrap()))
        .with(&ALPN, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(Connector::new(Resolver::new(), base.clone()));
    let url = format!("https://localhost:{}/secure", addr.port());
    let response = client.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(
        response.extensions().get::<Facts>().unwrap().alpn(),
        Some(&b"h2"[..])
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "HTTP/2.0 /secure");

    // Offering only http/1.1 gives HTTP/1.1 over TLS.
    let base = base.with(&ALPN, vec![b"http/1.1".to_vec()]);
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(Connector::new(Resolver::new(), base));
    let response = client.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
}

#[tokio::test]
async fn a_connect_error_reaches_the_client() {
    let (_refusing, port) = crate::support::refusing_port();
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(Connector::new(Resolver::new(), Context::new()));
    let err = client
        .get(format!("http://127.0.0.1:{port}/").parse().unwrap())
        .await
        .unwrap_err();
    assert!(err.is_connect());
    let source = std::error::Error::source(&err).unwrap();
    let mimic_err = source.downcast_ref::<mimic::Error>().unwrap();
    assert_eq!(mimic_err.attempts().len(), 1);
}
