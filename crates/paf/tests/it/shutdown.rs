//! Graceful shutdown: requests under way finish, new connections are refused.

use std::time::Duration;

use crate::support::{curl, run, start};

#[tokio::test]
async fn graceful_shutdown_lets_requests_in_flight_complete() {
    let server = start(true, |b| b).await;
    let ca = server.ca_file();
    let url = format!("https://localhost:{}/slow", server.port());
    let mut clients = Vec::new();
    for http in ["--http1.1", "--http2", "--http1.1", "--http2"] {
        let (ca, url) = (ca.clone(), url.clone());
        clients.push(tokio::spawn(async move {
            curl(&[http, "--cacert", ca.to_str().unwrap(), &url]).await
        }));
    }
    // Wait until each request is under way at the server (the handler takes 300 ms).
    wait_for_connections(&server.addr, 4).await;
    server.handle.shutdown(Duration::from_secs(10));
    for client in clients {
        let (body, _) = client.await.unwrap();
        assert_eq!(body, "slow done");
    }
    server.serving.await.unwrap().unwrap();
    // Nothing listens any more.
    let out = run("curl", &["-sS", "--cacert", ca.to_str().unwrap(), &url]).await;
    assert_eq!(out.status.code(), Some(7), "curl should fail to connect");
}

/// Waits (bounded) until `n` TCP connections to `addr` are established,
/// as the kernel sees them.
async fn wait_for_connections(addr: &std::net::SocketAddr, n: usize) {
    let port = format!(":{:X}", addr.port());
    for _ in 0..200 {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let established = table
            .lines()
            .filter(|l| {
                let cols: Vec<_> = l.split_whitespace().collect();
                cols.len() > 3 && cols[1].ends_with(&port) && cols[3] == "01"
            })
            .count();
        if established >= n {
            // Give the requests their first bytes on the wire.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} connections never came");
}
