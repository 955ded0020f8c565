//! Racing targets the Happy Eyeballs way (RFC 8305).

use std::future::pending;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mimic::keys::{ADDRS, CONNECT_TIMEOUT, HAPPY_EYEBALLS_DELAY};
use mimic::{Context, DEFAULT_HAPPY_EYEBALLS_DELAY, Resolver, transport_each};

use crate::support::{greeter, pipe_flow, refusing_port};

/// Addresses 127.0.0.1:1.. stand for hosts; the first never answers, the
/// others connect. Records the order attempts started in, and when.
fn racing(started: Arc<Mutex<Vec<(u16, Duration)>>>) -> Resolver {
    let t0 = tokio::time::Instant::now();
    Resolver::bare()
        .transport(
            1,
            transport_each("race", ADDRS, move |addr: SocketAddr| {
                started.lock().unwrap().push((addr.port(), t0.elapsed()));
                async move {
                    if addr.port() == 1 {
                        pending::<()>().await;
                    }
                    Ok(pipe_flow(if addr.port() == 2 { "second" } else { "other" }))
                }
            }),
        )
        .build()
}

fn addrs(ports: &[u16]) -> Vec<SocketAddr> {
    ports
        .iter()
        .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_stalled_first_address_loses_to_the_second_after_the_delay() {
    let started = Arc::new(Mutex::new(Vec::new()));
    let resolver = racing(started.clone());
    let t0 = tokio::time::Instant::now();
    let flow = resolver
        .resolve(&Context::new().with(&ADDRS, addrs(&[1, 2, 3])))
        .await
        .unwrap();
    assert_eq!(flow.facts().protocol(), Some("second"));
    assert_eq!(t0.elapsed(), DEFAULT_HAPPY_EYEBALLS_DELAY);
    // The third was never started: the second won first.
    assert_eq!(
        *started.lock().unwrap(),
        [(1, Duration::ZERO), (2, DEFAULT_HAPPY_EYEBALLS_DELAY)]
    );
}

#[tokio::test(start_paused = true)]
async fn the_delay_comes_from_the_context() {
    let started = Arc::new(Mutex::new(Vec::new()));
    let delay = Duration::from_millis(40);
    let ctx = Context::new()
        .with(&ADDRS, addrs(&[1, 2]))
        .with(&HAPPY_EYEBALLS_DELAY, delay);
    let t0 = tokio::time::Instant::now();
    racing(started).resolve(&ctx).await.unwrap();
    assert_eq!(t0.elapsed(), delay);
}

#[tokio::test]
async fn a_refused_address_starts_the_next_at_once() {
    // Real sockets: the first address refuses, the second greets. With a
    // delay of an hour and a timeout of a minute, only "start the next as
    // soon as one fails" can connect.
    let (_refusing, refused) = refusing_port();
    let good = greeter(b"hi").await;
    let ctx = Context::new()
        .with(&ADDRS, vec![SocketAddr::from(([127, 0, 0, 1], refused)), good])
        .with(&HAPPY_EYEBALLS_DELAY, Duration::from_secs(3600))
        .with(&CONNECT_TIMEOUT, Duration::from_secs(60));
    let flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().peer_addr(), Some(good));
}
