//! What a browser would not send: each gets a clear answer or a closed
//! connection, and the server keeps serving everyone else.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestServer, assert_echoes, curl, run, start};

/// Sends `request` on a fresh connection and reads what comes back until
/// the server closes (bounded).
async fn raw(server: &TestServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server neither answered nor closed");
    String::from_utf8_lossy(&answer).into_owned()
}

async fn still_serves(server: &TestServer) {
    let url = format!("http://127.0.0.1:{}/ok", server.port());
    let (body, _) = curl(&[&url]).await;
    assert_eq!(body, "HTTP/1.1 /ok");
}

#[tokio::test]
async fn garbage_request_line_gets_400() {
    let server = start(false, |b| b).await;
    let answer = raw(&server, b"\x01\x02 garbage \xff\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    still_serves(&server).await;
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let server = start(false, |b| b.max_header_size(16 * 1024)).await;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let answer = raw(&server, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    still_serves(&server).await;
}

#[tokio::test]
async fn oversized_bodies_get_413_declared_or_streamed() {
    let server = start(true, |b| b.max_body_size(100)).await;
    let ca = server.ca_file();
    let url = format!("https://localhost:{}/echo", server.port());
    let file = server.dir.path().join("body");
    std::fs::write(&file, "y".repeat(500)).unwrap();
    let data = format!("@{}", file.display());
    // HTTP/1.1 with curl: declared by Content-Length, and streamed chunked
    // (the service reads past the limit and returns BodyError::TooLarge).
    for extra in [
        &["--http1.1"][..],
        &["--http1.1", "-H", "Transfer-Encoding: chunked"],
    ] {
        let mut args = vec![
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            ca.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--data-binary", &data, &url]);
        let out = run("curl", &args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "413", "{extra:?}: {stderr}");
    }
    // HTTP/2 with nghttp (nghttp2's client): the whole 413 arrives. (curl
    // 7.88 reports error 92 when a stream ends while it is still sending.)
    let out = run("nghttp", &["-v", "-d", file.to_str().unwrap(), &url]).await;
    let frames = String::from_utf8_lossy(&out.stdout);
    assert!(frames.contains(":status: 413"), "{frames}");
    assert!(frames.contains("request body too large"), "{frames}");
    // Within the limit, the body passes.
    std::fs::write(&file, "y".repeat(90)).unwrap();
    assert_echoes(&ca, &url, &data, 90).await;
}

#[tokio::test]
async fn a_slowloris_client_is_cut_at_the_header_timeout() {
    let server = start(false, |b| b.header_read_timeout(Duration::from_millis(500))).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    // One byte every 100 ms, for up to 20 s: the server must close first.
    let mut closed = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if stream.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0; 256];
        match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                closed = true; // an answer (408) before the head was complete
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "a client trickling its head for 20 s was never cut");
    still_serves(&server).await;
}

#[tokio::test]
async fn garbage_instead_of_a_client_hello_is_closed() {
    let server = start(true, |b| b).await;
    let answer = raw(&server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    // rustls answers with an alert record (content type 21) or just closes.
    assert!(answer.is_empty() || answer.as_bytes()[0] == 21, "{answer:?}");
    let ca = server.ca_file();
    let (body, _) = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        &format!("https://localhost:{}/", server.port()),
    ])
    .await;
    assert_eq!(body, "HTTP/2.0 /");
}

#[tokio::test]
async fn an_h2_preface_after_http1_alpn_is_refused() {
    let server = start(true, |b| b).await;
    let config = Arc::new(server.ca.client_config(&[b"http/1.1"]).unwrap());
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), tls.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    // Not an HTTP/2 SETTINGS frame: an HTTP/1.1 error, or a closed connection.
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 4") || text.starts_with("HTTP/1.1 5"),
        "{text:?}"
    );
    still_serves_tls(&server).await;
}

async fn still_serves_tls(server: &TestServer) {
    let ca = server.ca_file();
    let url = format!("https://localhost:{}/still", server.port());
    let (body, version) = curl(&["--http2", "--cacert", ca.to_str().unwrap(), &url]).await;
    assert_eq!((body.as_str(), version.as_str()), ("HTTP/2.0 /still", "2"));
}
