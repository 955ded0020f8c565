//! ACME server problems surface as data: type, detail, status, and for
//! rate limits, when to retry.

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use paf::acme::{AccountKey, AcmeBuilder, CertKey, Error, Http01Tokens, Solver, Step};
use tokio::net::TcpListener;

use crate::support::{TestResult, pebble, require};

/// A scripted ACME server whose newAccount answers 429 rateLimited with
/// `Retry-After: 3600` (pebble has no rate limits to provoke).
async fn rate_limiting_server() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let dir = base.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let base = dir.clone();
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let base = base.clone();
                async move {
                    let response = match (req.method().as_str(), req.uri().path()) {
                        ("GET", "/dir") => http::Response::builder().body(Full::new(Bytes::from(format!(
                            r#"{{"newNonce": "{base}/nonce", "newAccount": "{base}/account", "newOrder": "{base}/order"}}"#
                        )))),
                        ("HEAD", "/nonce") => http::Response::builder()
                            .header("Replay-Nonce", "nonce-1")
                            .body(Full::new(Bytes::new())),
                        ("POST", "/account") => http::Response::builder()
                            .status(429)
                            .header("Content-Type", "application/problem+json")
                            .header("Retry-After", "3600")
                            .header("Replay-Nonce", "nonce-2")
                            .body(Full::new(Bytes::from_static(
                                br#"{"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many new accounts", "status": 429}"#,
                            ))),
                        _ => http::Response::builder().status(404).body(Full::new(Bytes::new())),
                    };
                    Ok::<_, Infallible>(response.expect("static response parts are valid"))
                }
            });
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(format!("{base}/dir"))
}

#[tokio::test]
async fn rate_limit_says_when_to_retry() -> TestResult {
    let directory = rate_limiting_server().await?;
    let before = SystemTime::now();
    let err = AcmeBuilder::new(directory, AccountKey::generate()?)
        .connect()
        .await
        .expect_err("the server rate-limits new accounts");
    let Error::Server { step, problem } = &err else {
        panic!("expected a server problem, got {err:?}");
    };
    assert_eq!(*step, Step::Account);
    assert!(problem.is_rate_limited());
    assert_eq!(problem.kind.as_deref(), Some(paf::acme::RATE_LIMITED));
    assert_eq!(problem.detail.as_deref(), Some("too many new accounts"));
    assert_eq!(problem.status, Some(429));
    let retry = err.retry_after().ok_or("a rate limit says when to retry")?;
    let wait = retry.duration_since(before)?;
    assert!(
        wait >= Duration::from_secs(3600) && wait < Duration::from_secs(3660),
        "{wait:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_validation_and_refused_identifier_carry_the_problem() -> TestResult {
    let mut env = require!(pebble(|_| {}).await?);
    // Nothing answers HTTP-01: pebble's validation cannot connect.
    drop(env.http.take());
    let client = env.client(AccountKey::generate()?).await?;
    let tokens = Http01Tokens::new();
    let names = vec!["down.example.test".to_string()];
    let err = client
        .issue(&names, &CertKey::generate()?, &Solver::Http01(tokens.clone()))
        .await
        .expect_err("nobody answers the challenge");
    match &err {
        Error::Validation { identifier, problem } => {
            assert_eq!(identifier, "down.example.test");
            assert_eq!(
                problem.kind.as_deref(),
                Some("urn:ietf:params:acme:error:connection")
            );
            assert!(problem.detail.is_some());
        }
        other => panic!("expected a validation problem, got {other:?}"),
    }
    assert!(tokens.is_empty(), "tokens are removed after a failure too");
    assert_eq!(err.retry_after(), None);

    // An identifier pebble refuses outright.
    let err = client
        .issue(
            &["x.*.example.test".to_string()],
            &CertKey::generate()?,
            &Solver::Http01(tokens),
        )
        .await
        .expect_err("pebble refuses the name");
    let Error::Server { step, problem } = &err else {
        panic!("expected a server problem, got {err:?}");
    };
    assert_eq!(*step, Step::NewOrder);
    assert!(
        problem
            .kind
            .as_deref()
            .is_some_and(|k| k.starts_with("urn:ietf:params:acme:error:")),
        "{problem:?}"
    );
    Ok(())
}

/// A scripted ACME server with renewal information (RFC 9773; pebble 2.4
/// has none): newAccount accepts, renewalInfo suggests a window.
async fn ari_server() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let dir = base.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let base = dir.clone();
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let base = base.clone();
                async move {
                    let path = req.uri().path().to_string();
                    let response = match (req.method().as_str(), path.as_str()) {
                        ("GET", "/dir") => http::Response::builder().body(Full::new(Bytes::from(format!(
                            r#"{{"newNonce": "{base}/nonce", "newAccount": "{base}/account", "newOrder": "{base}/order", "renewalInfo": "{base}/ari"}}"#
                        )))),
                        ("HEAD", "/nonce") => http::Response::builder()
                            .header("Replay-Nonce", "nonce-1")
                            .body(Full::new(Bytes::new())),
                        ("POST", "/account") => http::Response::builder()
                            .status(201)
                            .header("Location", format!("{base}/account/1"))
                            .header("Replay-Nonce", "nonce-2")
                            .body(Full::new(Bytes::from_static(br#"{"status": "valid"}"#))),
                        ("GET", p) if p.starts_with("/ari/") && p.contains('.') => http::Response::builder()
                            .header("Retry-After", "21600")
                            .body(Full::new(Bytes::from_static(
                                br#"{"suggestedWindow": {"start": "2030-01-02T00:00:00Z", "end": "2030-01-03T00:00:00Z"}}"#,
                            ))),
                        _ => http::Response::builder().status(404).body(Full::new(Bytes::new())),
                    };
                    Ok::<_, Infallible>(response.expect("static response parts are valid"))
                }
            });
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(format!("{base}/dir"))
}

#[tokio::test]
async fn renewal_information_moves_the_renewal() -> TestResult {
    let client = AcmeBuilder::new(ari_server().await?, AccountKey::generate()?)
        .connect()
        .await?;
    let ca = testkit::tls::TestCa::new("ARI test CA")?;
    let leaf = ca.issue(&["ari.example.test"])?;
    let (start, end) = client
        .renewal_window(&leaf.chain()[0])
        .await?
        .ok_or("the server offers renewal information")?;
    let start_expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_542_400); // 2030-01-02
    assert_eq!(start, start_expected);
    assert_eq!(end, start_expected + Duration::from_secs(86_400));
    // A certificate far from a third of its life left is due once the window opens.
    let issued = start_expected - Duration::from_secs(86_400);
    let expires = issued + Duration::from_secs(90 * 86_400);
    assert!(!paf::acme::renewal_due(
        issued,
        expires,
        start - Duration::from_secs(1),
        Some((start, end))
    ));
    assert!(paf::acme::renewal_due(issued, expires, start, Some((start, end))));
    Ok(())
}
