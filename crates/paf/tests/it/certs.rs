//! Certificates by SNI, and swapped while h2load holds connections open.

use std::time::Duration;

use paf::certs::certified_key_from_pem;

use crate::support::{curl, h2load_counts, run, start};

#[tokio::test]
async fn sni_picks_the_certificate_and_unknown_names_get_an_alert() {
    let server = start(true, |b| b).await;
    let other = server.ca.issue(&["other.test"]).unwrap();
    let key = certified_key_from_pem(other.chain_pem().as_bytes(), other.key_pem().as_bytes()).unwrap();
    server.certs.insert("other.test", key);
    server.certs.set_default(None);
    let ca = server.ca_file();
    let port = server.port();
    for name in ["localhost", "other.test"] {
        let resolve = format!("{name}:{port}:127.0.0.1");
        let url = format!("https://{name}:{port}/sni");
        // curl checks the certificate against the name: success means the right one.
        let (body, _) = curl(&["--cacert", ca.to_str().unwrap(), "--resolve", &resolve, &url]).await;
        assert_eq!(body, "HTTP/2.0 /sni");
    }
    let resolve = format!("unknown.test:{port}:127.0.0.1");
    let url = format!("https://unknown.test:{port}/");
    let out = run(
        "curl",
        &[
            "-sS",
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &resolve,
            &url,
        ],
    )
    .await;
    // 35: the TLS handshake failed (the server sent an alert).
    assert_eq!(
        out.status.code(),
        Some(35),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn certificates_swap_under_load_without_a_failed_request() {
    let server = start(true, |b| b).await;
    let url = format!("https://127.0.0.1:{}/swap", server.port());
    let load =
        tokio::spawn(async move { run("h2load", &["-n", "20000", "-c", "16", "-m", "10", &url]).await });
    // Swap the certificate again and again while the load runs.
    let mut swaps = 0;
    while !load.is_finished() {
        let leaf = server.ca.issue(&["localhost", "127.0.0.1"]).unwrap();
        let key = certified_key_from_pem(leaf.chain_pem().as_bytes(), leaf.key_pem().as_bytes()).unwrap();
        server
            .certs
            .replace_all(vec![("localhost".into(), key.clone())], Some(key));
        swaps += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = load.await.unwrap();
    assert!(swaps > 1, "the load ended before any swap");
    assert_eq!(
        h2load_counts(&out),
        (20000, 0, 0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // New handshakes get the new certificate: still trusted, still served.
    let ca = server.ca_file();
    let (body, _) = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        &format!("https://localhost:{}/after", server.port()),
    ])
    .await;
    assert_eq!(body, "HTTP/2.0 /after");
}
