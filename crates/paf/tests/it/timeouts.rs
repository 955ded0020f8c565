//! Connections on raw sockets: the timeouts, the connection limit, and the
//! connection facts a service gets.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{curl, read_response, start};

/// Waits until the server closes `stream`; how long that took.
async fn closed_after(stream: &mut TcpStream, bound: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0; 256];
    loop {
        match tokio::time::timeout(bound, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("not closed within {bound:?}"),
        }
    }
}

#[tokio::test]
async fn a_trickled_head_is_cut_soon_after_the_header_timeout() {
    let timeout = Duration::from_millis(400);
    let server = start(false, |b| {
        b.header_read_timeout(timeout)
            .idle_timeout(Duration::from_secs(30))
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if stream.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), trickle).await;
    let cut = start.elapsed();
    assert!(cut >= timeout, "cut before the timeout: {cut:?}");
    assert!(cut < Duration::from_secs(3), "cut only after {cut:?}");
}

#[tokio::test]
async fn a_keep_alive_connection_outlives_the_header_timeout_and_closes_when_idle() {
    let server = start(false, |b| {
        b.header_read_timeout(Duration::from_millis(200))
            .idle_timeout(Duration::from_millis(1200))
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    stream.write_all(request).await.unwrap();
    assert!(read_response(&mut stream).await.ends_with("HTTP/1.1 /a"));
    // Quiet for longer than the header timeout: nothing was sent, so no
    // head is late, and the connection is not idle long enough yet.
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream.write_all(request).await.unwrap();
    assert!(read_response(&mut stream).await.ends_with("HTTP/1.1 /a"));
    let idle = closed_after(&mut stream, Duration::from_secs(10)).await;
    assert!(
        idle >= Duration::from_millis(1200),
        "closed after {idle:?} of quiet"
    );
    assert!(
        idle < Duration::from_secs(4),
        "closed only after {idle:?} of quiet"
    );
}

#[tokio::test]
async fn a_request_longer_than_the_idle_timeout_completes() {
    // `/slow` takes 300 ms; the idle timeout is shorter.
    let server = start(false, |b| {
        b.header_read_timeout(Duration::from_millis(100))
            .idle_timeout(Duration::from_millis(100))
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_response(&mut stream).await.ends_with("slow done"));
}

#[tokio::test]
async fn past_max_connections_accepting_waits_and_nothing_fails() {
    let server = start(false, |b| b.max_connections(2)).await;
    let url = format!("http://127.0.0.1:{}/", server.port());
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        read_response(&mut stream).await;
        held.push(stream);
    }
    // A third client waits in the listen backlog, neither refused nor answered.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third
        .write_all(b"GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served past the limit: {early:?}"
    );
    // One held connection goes: the third is served.
    held.pop();
    assert!(read_response(&mut third).await.ends_with("HTTP/1.1 /third"));
    drop((held, third));
    let (body, _) = curl(&[&url]).await;
    assert_eq!(body, "HTTP/1.1 /");
}

#[tokio::test]
async fn conn_info_is_on_the_body_and_in_the_extensions_when_asked() {
    for (extension, expected) in [(false, "extension=None"), (true, "extension=Some(true)")] {
        let server = start(false, |b| b.conn_info_extension(extension)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /conn HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_response(&mut stream).await;
        let peer = stream.local_addr().unwrap();
        assert!(
            answer.ends_with(&format!("peer={peer} tls=false {expected}")),
            "{answer}"
        );
    }
}
