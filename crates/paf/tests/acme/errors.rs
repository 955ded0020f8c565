//! ACME server problems surface as data: type, detail, status, and for
//! rate limits, when to retry.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use paf::acme::{AccountKey, AcmeBuilder, CertKey, Error, Http01Tokens, Solver, Step};
use tokio::net::TcpListener;

use crate::support::{TestResult, pebble, require};

type Reply = http::Response<Full<Bytes>>;

/// A scripted ACME server on plain HTTP (the parts of ACME the tests need
/// and pebble cannot provoke). `script(method, path, base)` answers each
/// request; the directory is at `{base}/dir`.
async fn scripted(
    script: impl Fn(&str, &str, &str) -> Reply + Send + Sync + 'static,
) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let script = Arc::new(script);
    let dir = base.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (base, script) = (dir.clone(), script.clone());
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let reply = script(req.method().as_str(), req.uri().path(), &base);
                async move { Ok::<_, Infallible>(reply) }
            });
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(format!("{base}/dir"))
}

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
    let mut response = http::Response::new(Full::new(body.into()));
    *response.status_mut() = http::StatusCode::from_u16(status).expect("test statuses are valid");
    for (name, value) in headers {
        response.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("test header names are valid"),
            http::HeaderValue::from_str(value).expect("test header values are valid"),
        );
    }
    response
}

/// The directory, newNonce and (unless `script` answers first) 404.
fn common(method: &str, path: &str, base: &str) -> Reply {
    match (method, path) {
        ("GET", "/dir") => reply(
            200,
            &[],
            format!(
                r#"{{"newNonce": "{base}/nonce", "newAccount": "{base}/account", "newOrder": "{base}/order", "renewalInfo": "{base}/ari"}}"#
            ),
        ),
        ("HEAD", "/nonce") => reply(200, &[("Replay-Nonce", "nonce-0")], ""),
        _ => reply(404, &[], ""),
    }
}

fn account_created(base: &str) -> Reply {
    reply(
        201,
        &[
            ("Location", &format!("{base}/account/1")),
            ("Replay-Nonce", "nonce-2"),
        ],
        r#"{"status": "valid"}"#,
    )
}

#[tokio::test]
async fn rate_limit_says_when_to_retry() -> TestResult {
    // newAccount answers 429 rateLimited with `Retry-After: 3600`.
    let directory = scripted(|method, path, base| match (method, path) {
        ("POST", "/account") => reply(
            429,
            &[
                ("Content-Type", "application/problem+json"),
                ("Retry-After", "3600"),
                ("Replay-Nonce", "nonce-1"),
            ],
            r#"{"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many new accounts", "status": 429}"#,
        ),
        _ => common(method, path, base),
    })
    .await?;
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

#[tokio::test]
async fn renewal_information_moves_the_renewal() -> TestResult {
    // Renewal information (RFC 9773; pebble 2.4 has none) suggests a window.
    let directory = scripted(|method, path, base| match (method, path) {
        ("POST", "/account") => account_created(base),
        ("GET", p) if p.starts_with("/ari/") && p.contains('.') => reply(
            200,
            &[("Retry-After", "21600")],
            r#"{"suggestedWindow": {"start": "2030-01-02T00:00:00Z", "end": "2030-01-03T00:00:00Z"}}"#,
        ),
        _ => common(method, path, base),
    })
    .await?;
    let client = AcmeBuilder::new(directory, AccountKey::generate()?)
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

/// A server that refuses the first `refusals` newAccount requests with
/// badNonce; how many it received.
async fn refusing_nonces(refusals: usize) -> std::io::Result<(String, Arc<AtomicUsize>)> {
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let directory = scripted(move |method, path, base| match (method, path) {
        ("POST", "/account") if seen.fetch_add(1, Ordering::SeqCst) < refusals => reply(
            400,
            &[("Content-Type", "application/problem+json"), ("Replay-Nonce", "fresh")],
            r#"{"type": "urn:ietf:params:acme:error:badNonce", "detail": "JWS has an invalid anti-replay nonce", "status": 400}"#,
        ),
        ("POST", "/account") => account_created(base),
        _ => common(method, path, base),
    })
    .await?;
    Ok((directory, attempts))
}

#[tokio::test]
async fn bad_nonces_are_retried_then_reported() -> TestResult {
    // One refusal: instant-acme's own retry.
    let (directory, attempts) = refusing_nonces(1).await?;
    let client = AcmeBuilder::new(directory, AccountKey::generate()?)
        .connect()
        .await?;
    assert!(client.account_id().ends_with("/account/1"));
    assert_eq!(attempts.load(Ordering::SeqCst), 2);

    // Four: more than instant-acme's three attempts; paf sends again.
    let (directory, attempts) = refusing_nonces(4).await?;
    AcmeBuilder::new(directory, AccountKey::generate()?)
        .connect()
        .await?;
    assert_eq!(attempts.load(Ordering::SeqCst), 5);

    // Always: after 4 x 3 attempts the problem is reported.
    let (directory, attempts) = refusing_nonces(usize::MAX).await?;
    let err = AcmeBuilder::new(directory, AccountKey::generate()?)
        .connect()
        .await
        .expect_err("the server never accepts a nonce");
    assert_eq!(attempts.load(Ordering::SeqCst), 12);
    let problem = err.problem().ok_or("a server problem")?;
    assert_eq!(
        problem.kind.as_deref(),
        Some("urn:ietf:params:acme:error:badNonce")
    );
    assert_eq!(err.retry_after(), None);
    Ok(())
}
