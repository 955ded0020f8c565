//! HTTP/1.1 and HTTP/2 by ALPN over TLS, HTTP/1.1 and h2c in clear text,
//! checked with curl and h2load.

use crate::support::{assert_echoes, curl, h2load_counts, run, start};

#[tokio::test]
async fn curl_http1_and_http2_over_tls_by_alpn() {
    let server = start(true, |b| b).await;
    let ca = server.ca_file();
    let url = format!("https://localhost:{}/alpn", server.port());
    let common = ["--cacert", ca.to_str().unwrap(), &url];
    let (body, version) = curl(&[&["--http1.1"], &common[..]].concat()).await;
    assert_eq!((body.as_str(), version.as_str()), ("HTTP/1.1 /alpn", "1.1"));
    let (body, version) = curl(&[&["--http2"], &common[..]].concat()).await;
    assert_eq!((body.as_str(), version.as_str()), ("HTTP/2.0 /alpn", "2"));
}

#[tokio::test]
async fn curl_clear_text_http1_and_h2c_prior_knowledge() {
    let server = start(false, |b| b).await;
    let url = format!("http://127.0.0.1:{}/clear", server.port());
    let (body, version) = curl(&[&url]).await;
    assert_eq!((body.as_str(), version.as_str()), ("HTTP/1.1 /clear", "1.1"));
    let (body, version) = curl(&["--http2-prior-knowledge", &url]).await;
    assert_eq!((body.as_str(), version.as_str()), ("HTTP/2.0 /clear", "2"));
}

#[tokio::test]
async fn request_bodies_stream_through() {
    let server = start(true, |b| b).await;
    let ca = server.ca_file();
    let url = format!("https://localhost:{}/echo", server.port());
    let file = server.dir.path().join("big");
    std::fs::write(&file, "x".repeat(300_000)).unwrap();
    let data = format!("@{}", file.display());
    assert_echoes(&ca, &url, &data, 300_000).await;
}

#[tokio::test]
async fn h2load_many_concurrent_streams() {
    let server = start(true, |b| b).await;
    let url = format!("https://127.0.0.1:{}/load", server.port());
    let out = run("h2load", &["-n", "4000", "-c", "8", "-m", "32", &url]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        h2load_counts(&out),
        (4000, 0, 0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Application protocol: h2"), "{text}");
}
