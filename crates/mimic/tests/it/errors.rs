//! Errors that say what was tried and why it failed; timeouts; cancellation.

use std::future::pending;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mimic::keys::{ADDRS, CONNECT_TIMEOUT, HOST, UNIX_PATH};
use mimic::{Context, Error, Key, Resolver, Stage, transport_each};

use crate::support::refusing_port;

#[tokio::test]
async fn nothing_to_try_names_the_missing_keys() {
    let err = Resolver::new().resolve(&Context::new()).await.unwrap_err();
    let Error::NoProtocol { missing } = &err else {
        panic!("{err:?}")
    };
    let names: Vec<_> = missing.iter().map(|m| (m.protocol.as_str(), m.key)).collect();
    assert_eq!(
        names,
        [("memory", "memory"), ("unix", "unix-path"), ("tcp", "addrs")]
    );
    assert_eq!(missing[2].inputs, ["host", "port"]);
    // With a host but no port nor scheme, the port is what tcp lacks.
    let err = Resolver::new()
        .resolve(&Context::new().with(&HOST, "localhost".to_string()))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("tcp needs `addrs` (or to derive it: `port`)"),
        "{err}"
    );
}

#[tokio::test]
async fn every_failed_candidate_is_listed_with_its_reason() {
    let (_a, port_a) = refusing_port();
    let (_b, port_b) = refusing_port();
    let dir = tempfile::tempdir().unwrap();
    let missing_socket = dir.path().join("nobody.sock");
    let addrs: Vec<SocketAddr> = vec![([127, 0, 0, 1], port_a).into(), ([127, 0, 0, 1], port_b).into()];
    let ctx = Context::new()
        .with(&ADDRS, addrs.clone())
        .with(&UNIX_PATH, missing_socket.clone());
    let err = Resolver::new().resolve(&ctx).await.unwrap_err();
    let attempts = err.attempts();
    let tried: Vec<_> = attempts
        .iter()
        .map(|a| (a.protocol.as_str(), a.target.clone().unwrap()))
        .collect();
    assert_eq!(
        tried,
        [
            ("unix", missing_socket.display().to_string()),
            ("tcp", addrs[0].to_string()),
            ("tcp", addrs[1].to_string()),
        ]
    );
    assert!(attempts.iter().all(|a| a.stage == Stage::Connect));
    let text = err.to_string();
    assert!(
        text.starts_with("could not connect: 3 attempts failed: unix "),
        "{text}"
    );
    assert!(
        text.contains(&format!("tcp {}: Connection refused", addrs[0])),
        "{text}"
    );
    assert!(
        text.contains(&format!("tcp {}: Connection refused", addrs[1])),
        "{text}"
    );
    assert!(err.is_transient());
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn an_unknown_host_is_a_lookup_error() {
    let ctx = Context::from_url("tcp://no-such-host.invalid:80").unwrap();
    let err = Resolver::new().resolve(&ctx).await.unwrap_err();
    let attempts = err.attempts();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].stage, Stage::Derive { key: "addrs" });
    assert!(
        err.to_string().contains("could not look up no-such-host.invalid"),
        "{err}"
    );
}

/// Counts live attempts: incremented when an attempt starts, decremented
/// when its future is dropped, whatever the reason.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

const TARGETS: Key<Vec<String>> = Key::new("test.targets");

fn stalling(live: Arc<AtomicUsize>) -> Resolver {
    Resolver::bare()
        .transport(
            1,
            transport_each("stall", TARGETS, move |_target: String| {
                let guard = Live::new(&live);
                async move {
                    let _guard = guard;
                    pending::<()>().await;
                    unreachable!()
                }
            }),
        )
        .build()
}

#[tokio::test(start_paused = true)]
async fn the_timeout_names_what_was_still_under_way() {
    let live = Arc::new(AtomicUsize::new(0));
    let ctx = Context::new()
        .with(&TARGETS, vec!["a".into(), "b".into()])
        .with(&CONNECT_TIMEOUT, Duration::from_secs(1));
    let start = tokio::time::Instant::now();
    let err = stalling(live.clone()).resolve(&ctx).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    let Error::Timeout { after, attempts } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*after, Duration::from_secs(1));
    let targets: Vec<_> = attempts.iter().map(|a| a.target.as_deref().unwrap()).collect();
    assert_eq!(targets, ["a", "b"]);
    assert_eq!(
        err.to_string(),
        "timed out after 1s: 2 attempts failed: stall a: still connecting when the timeout expired; \
         stall b: still connecting when the timeout expired"
    );
    assert_eq!(live.load(Ordering::SeqCst), 0, "every attempt was dropped");
}

#[tokio::test(start_paused = true)]
async fn cancelling_resolve_leaves_nothing_running() {
    let live = Arc::new(AtomicUsize::new(0));
    let ctx = Context::new().with(&TARGETS, vec!["a".into(), "b".into(), "c".into()]);
    let resolver = stalling(live.clone());
    let mut resolve = Box::pin(resolver.resolve(&ctx));
    // Let it start two staggered attempts, then drop it.
    tokio::select! {
        _ = &mut resolve => panic!("cannot connect"),
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    assert_eq!(live.load(Ordering::SeqCst), 2);
    drop(resolve);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}
