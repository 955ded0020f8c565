//! Listeners the tests connect to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A TCP server on 127.0.0.1 that writes `greeting` to each client and
/// closes; its address.
pub(crate) async fn greeter(greeting: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.write_all(greeting).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// What a TLS server saw of a client's hello.
#[derive(Clone, Debug, Default)]
pub(crate) struct Seen {
    pub(crate) sni: Option<String>,
    pub(crate) alpn: Option<Vec<u8>>,
}

/// A TLS server on 127.0.0.1 with `cert`, offering `alpn`; it echoes one line
/// and records the SNI and the ALPN protocol it chose for each client.
pub(crate) async fn tls_echo(
    cert: &testkit::tls::TestCert,
    alpn: &[&[u8]],
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let config = Arc::new(cert.server_config(alpn).unwrap());
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let (_, conn) = tls.get_ref();
                log.lock().unwrap().push(Seen {
                    sni: conn.server_name().map(str::to_string),
                    alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
                });
                let mut buf = [0; 64];
                if let Ok(n) = tls.read(&mut buf).await {
                    let _ = tls.write_all(&buf[..n]).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (addr, seen)
}

/// A port on 127.0.0.1 that refuses connections: bound (so no other test
/// takes it) but not listening, for as long as the socket lives.
pub(crate) fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// A flow that works: one end of an in-memory pipe (the other is dropped).
pub(crate) fn pipe_flow(protocol: &'static str) -> mimic::Flow {
    let (a, _b) = tokio::io::duplex(64);
    mimic::Flow::new(a, protocol)
}
