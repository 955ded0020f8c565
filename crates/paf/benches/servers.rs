//! The servers `scripts/bench-http` compares, run one at a time on one core:
//!
//! - `servers certs DIR`: writes `cert.pem` / `key.pem` (a throwaway CA's
//!   leaf for 127.0.0.1) for every server, nginx included.
//! - `servers paf PORT TLS_PORT DIR`: paf, clear text on PORT (HTTP/1.1 +
//!   h2c) and TLS on TLS_PORT (h2 / http/1.1 by ALPN).
//! - `servers hyper PORT TLS_PORT DIR`: a bare hyper server with the same
//!   handler (hyper-util's auto builder; tokio-rustls for TLS), no limits,
//!   no access log: the ceiling paf is measured against.
//!
//! Both answer every request with the same 13-byte body, on a current-thread
//! tokio runtime (the bench pins the process to one core).

#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use paf::certs::{Certificates, certified_key_from_files};
use tokio::net::TcpListener;

const BODY: &[u8] = b"Hello, World!";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["certs", dir] => certs(dir),
        ["paf", port, tls_port, dir] => runtime.block_on(paf_server(port, tls_port, dir)),
        ["hyper", port, tls_port, dir] => runtime.block_on(hyper_server(port, tls_port, dir)),
        _ => {
            println!("usage: servers certs DIR | servers (paf|hyper) PORT TLS_PORT DIR");
            std::process::exit(2);
        }
    }
}

fn certs(dir: &str) {
    let ca = testkit::tls::TestCa::new("bench-http CA").expect("a CA");
    let leaf = ca.issue(&["127.0.0.1", "localhost"]).expect("a certificate");
    std::fs::write(format!("{dir}/cert.pem"), leaf.chain_pem()).expect("cert.pem");
    std::fs::write(format!("{dir}/key.pem"), leaf.key_pem()).expect("key.pem");
}

fn key(dir: &str) -> Arc<rustls::sign::CertifiedKey> {
    certified_key_from_files(
        format!("{dir}/cert.pem").as_ref(),
        format!("{dir}/key.pem").as_ref(),
    )
    .expect("the bench certificate")
}

async fn paf_server(port: &str, tls_port: &str, dir: &str) {
    let handler = || {
        paf::service_fn(|_req: Request<paf::Body>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(BODY))))
        })
    };
    let certs = Arc::new(Certificates::new());
    certs.set_default(Some(key(dir)));
    let clear = paf::Server::builder()
        .bind(format!("127.0.0.1:{port}"))
        .await
        .expect("bind");
    let tls = paf::Server::builder()
        .tls(certs)
        .expect("TLS")
        .bind(format!("127.0.0.1:{tls_port}"))
        .await
        .expect("bind");
    println!("ready");
    let (a, b) = tokio::join!(clear.serve(handler()), tls.serve(handler()));
    a.and(b).expect("serve");
}

async fn hyper_server(port: &str, tls_port: &str, dir: &str) {
    let mut config = rustls::ServerConfig::builder_with_provider(paf::certs::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key(dir))));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let clear = TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .expect("bind");
    let tls = TcpListener::bind(format!("127.0.0.1:{tls_port}"))
        .await
        .expect("bind");
    println!("ready");
    let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(BODY))))
    });
    let serve_clear = async {
        loop {
            let Ok((stream, _)) = clear.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    };
    let serve_tls = async {
        loop {
            let Ok((stream, _)) = tls.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    };
    tokio::join!(serve_clear, serve_tls);
}
