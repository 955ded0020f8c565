//! paf's client (over mimic) against paf's server.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Version};
use http_body_util::{BodyExt, StreamBody};
use paf::{Client, ClientError};

use crate::support::{TestServer, start};

fn client(server: &TestServer, alpn: &[&[u8]]) -> Client {
    Client::builder()
        .tls_roots(Arc::new(server.ca.root_store().unwrap()))
        .alpn(alpn.iter().map(|p| p.to_vec()).collect())
        .build()
        .unwrap()
}

async fn text(client: &Client, url: &str) -> (Version, String) {
    let response = client.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let version = response.version();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (version, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn http2_by_alpn_on_one_reused_connection() {
    let server = start(true, |b| b).await;
    let client = client(&server, &[b"h2", b"http/1.1"]);
    let url = format!("https://localhost:{}/peer", server.port());
    let mut peers = HashSet::new();
    for _ in 0..20 {
        let (version, peer) = text(&client, &url).await;
        assert_eq!(version, Version::HTTP_2);
        peers.insert(peer);
    }
    assert_eq!(peers.len(), 1, "one HTTP/2 connection carries every request");
}

#[tokio::test]
async fn http1_when_only_http1_is_offered_and_kept_alive() {
    let server = start(true, |b| b).await;
    let client = client(&server, &[b"http/1.1"]);
    let url = format!("https://localhost:{}/peer", server.port());
    let mut peers = HashSet::new();
    for _ in 0..10 {
        let (version, peer) = text(&client, &url).await;
        assert_eq!(version, Version::HTTP_11);
        peers.insert(peer);
    }
    assert_eq!(peers.len(), 1, "keep-alive reuses the connection");
}

#[tokio::test]
async fn clear_text_urls_go_without_tls_through_the_same_client() {
    let clear = start(false, |b| b).await;
    let tls = start(true, |b| b).await;
    let client = client(&tls, &[b"h2", b"http/1.1"]);
    let (version, body) = text(&client, &format!("http://127.0.0.1:{}/plain", clear.port())).await;
    assert_eq!((version, body.as_str()), (Version::HTTP_11, "HTTP/1.1 /plain"));
    let (version, _) = text(&client, &format!("https://localhost:{}/", tls.port())).await;
    assert_eq!(version, Version::HTTP_2);
}

#[tokio::test]
async fn http2_only_speaks_h2c_in_clear_text_and_h2_over_tls() {
    let clear = start(false, |b| b).await;
    let tls = start(true, |b| b).await;
    let client = Client::builder()
        .tls_roots(Arc::new(tls.ca.root_store().unwrap()))
        .http2_only(true)
        .build()
        .unwrap();
    let (version, body) = text(&client, &format!("http://127.0.0.1:{}/plain", clear.port())).await;
    assert_eq!((version, body.as_str()), (Version::HTTP_2, "HTTP/2.0 /plain"));
    let (version, _) = text(&client, &format!("https://localhost:{}/", tls.port())).await;
    assert_eq!(version, Version::HTTP_2);
}

#[tokio::test]
async fn request_bodies_stream_out() {
    let server = start(true, |b| b).await;
    let client = client(&server, &[b"h2"]);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, std::io::Error>>(4);
    tokio::spawn(async move {
        for i in 0..100 {
            let chunk = Bytes::from(format!("{i:04}").repeat(256));
            if tx.send(Ok(http_body::Frame::data(chunk))).await.is_err() {
                return;
            }
        }
    });
    let body = StreamBody::new(tokio_stream_from(rx));
    let req = Request::post(format!("https://localhost:{}/echo", server.port()))
        .body(body)
        .unwrap();
    let response = client.request(req).await.unwrap();
    let echoed = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(echoed.len(), 100 * 1024);
    assert!(echoed.starts_with(b"00000000") && echoed.ends_with(b"00990099"));
}

/// An mpsc receiver as a stream.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + Sync + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = start(true, |b| b).await;
    let client = Client::builder()
        .tls_roots(Arc::new(server.ca.root_store().unwrap()))
        .request_timeout(Some(Duration::from_millis(50)))
        .build()
        .unwrap();
    let err = client
        .get(
            format!("https://localhost:{}/slow", server.port())
                .parse()
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_refused_connection_says_what_was_tried() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let client = Client::builder().build().unwrap();
    let err = client
        .get(format!("http://127.0.0.1:{port}/").parse().unwrap())
        .await
        .unwrap_err();
    let ClientError::Connect { source, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source.attempts().len(), 1);
    assert!(
        source
            .to_string()
            .contains(&format!("tcp 127.0.0.1:{port}: Connection refused")),
        "{source}"
    );
    assert!(err.is_transient());
}
