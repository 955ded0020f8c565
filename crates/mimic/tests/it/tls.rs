//! The tls layer against a real rustls server with a testkit certificate:
//! SNI and ALPN checked on the server's side.

use std::sync::Arc;

use mimic::facts::{Layers, TlsVersion};
use mimic::keys::{ADDRS, ALPN, MEMORY, SCHEME, TLS_CONFIG, TLS_ROOTS, TLS_SERVER_NAME};
use mimic::{Context, Resolver, Stage, memory};
use testkit::tls::TestCa;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::tls_echo;

async fn echo(flow: &mut mimic::Flow, line: &[u8]) -> Vec<u8> {
    flow.write_all(line).await.unwrap();
    let mut back = Vec::new();
    flow.read_to_end(&mut back).await.unwrap();
    back
}

#[tokio::test]
async fn tls_over_tcp_sends_sni_and_negotiates_alpn() {
    let ca = TestCa::new("mimic test CA").unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let (addr, seen) = tls_echo(&cert, &[b"h2", b"http/1.1"]).await;
    let ctx = Context::from_url(&format!("tls://localhost:{}", addr.port()))
        .unwrap()
        .with(&ADDRS, vec![addr])
        .with(&TLS_ROOTS, Arc::new(ca.root_store().unwrap()))
        .with(&ALPN, vec![b"h2".to_vec()]);
    let mut flow = Resolver::new().resolve(&ctx).await.unwrap();
    let facts = flow.facts().clone();
    assert_eq!(facts.protocol(), Some("tcp"));
    assert_eq!(facts.get::<Layers>().unwrap().0, ["tls"]);
    assert_eq!(facts.alpn(), Some(&b"h2"[..]));
    assert_eq!(facts.server_name(), Some("localhost"));
    assert_eq!(facts.peer_addr(), Some(addr));
    assert_eq!(
        facts.get::<TlsVersion>().unwrap().0,
        rustls::ProtocolVersion::TLSv1_3
    );
    assert_eq!(echo(&mut flow, b"over tls").await, b"over tls");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].sni.as_deref(), Some("localhost"));
    assert_eq!(seen[0].alpn.as_deref(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn the_server_name_can_differ_from_the_host() {
    let ca = TestCa::new("mimic test CA").unwrap();
    let cert = ca.issue(&["paste.example.test"]).unwrap();
    let (addr, seen) = tls_echo(&cert, &[b"http/1.1"]).await;
    let ctx = Context::from_url(&format!("https://{addr}"))
        .unwrap()
        .with(&TLS_SERVER_NAME, "paste.example.test".to_string())
        .with(&TLS_ROOTS, Arc::new(ca.root_store().unwrap()))
        .with(&ALPN, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    let mut flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().alpn(), Some(&b"http/1.1"[..]));
    assert_eq!(echo(&mut flow, b"x").await, b"x");
    assert_eq!(seen.lock().unwrap()[0].sni.as_deref(), Some("paste.example.test"));
}

#[tokio::test]
async fn an_ip_address_is_verified_against_the_certificate() {
    let ca = TestCa::new("mimic test CA").unwrap();
    let cert = ca.issue(&["127.0.0.1"]).unwrap();
    let (addr, seen) = tls_echo(&cert, &[]).await;
    let ctx = Context::from_url(&format!("tls://{addr}"))
        .unwrap()
        .with(&TLS_ROOTS, Arc::new(ca.root_store().unwrap()));
    let mut flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().alpn(), None);
    assert_eq!(echo(&mut flow, b"ip").await, b"ip");
    // No SNI is sent for an IP address (RFC 6066).
    assert_eq!(seen.lock().unwrap()[0].sni, None);
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_fails_without_downgrade() {
    let ca = TestCa::new("mimic test CA").unwrap();
    let other = TestCa::new("someone else").unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let (addr, seen) = tls_echo(&cert, &[]).await;
    // Trusting another CA, then trusting the webpki roots (the default).
    for ctx in [
        Context::from_url(&format!("tls://localhost:{}", addr.port()))
            .unwrap()
            .with(&ADDRS, vec![addr])
            .with(&TLS_ROOTS, Arc::new(other.root_store().unwrap())),
        Context::from_url(&format!("https://localhost:{}", addr.port()))
            .unwrap()
            .with(&ADDRS, vec![addr]),
    ] {
        let err = Resolver::new().resolve(&ctx).await.unwrap_err();
        let attempts = err.attempts();
        assert_eq!(attempts.len(), 1, "{err}");
        assert_eq!(attempts[0].stage, Stage::Layer { layer: "tls".into() });
        assert!(
            err.to_string()
                .contains("invalid peer certificate: UnknownIssuer"),
            "{err}"
        );
    }
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_server_name_fails_before_connecting() {
    let ctx = Context::from_url("https://127.0.0.1:1")
        .unwrap()
        .with(&TLS_SERVER_NAME, "not a name!".to_string());
    let err = Resolver::new().resolve(&ctx).await.unwrap_err();
    assert_eq!(err.attempts().len(), 1);
    assert_eq!(err.attempts()[0].stage, Stage::Derive { key: "tls" });
    assert!(
        err.to_string()
            .contains("invalid TLS server name \"not a name!\""),
        "{err}"
    );
}

#[tokio::test]
async fn tls_runs_over_any_flow_and_a_given_config_is_used() {
    // TLS over the in-memory transport, with a client configuration given
    // directly (no scheme needed).
    let ca = TestCa::new("mimic test CA").unwrap();
    let cert = ca.issue(&["memory.test"]).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cert.server_config(&[b"x-test"]).unwrap()));
    let (connector, mut listener) = memory::listener(1);
    let server = tokio::spawn(async move {
        let pipe = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(pipe).await.unwrap();
        tls.write_all(b"in memory").await.unwrap();
        tls.shutdown().await.unwrap();
    });
    let config = Arc::new(ca.client_config(&[b"x-test"]).unwrap());
    let ctx = Context::new()
        .with(&MEMORY, connector)
        .with(&TLS_CONFIG, config)
        .with(&TLS_SERVER_NAME, "memory.test".into());
    let mut flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().protocol(), Some("memory"));
    assert_eq!(flow.facts().alpn(), Some(&b"x-test"[..]));
    let mut text = String::new();
    flow.read_to_string(&mut text).await.unwrap();
    assert_eq!(text, "in memory");
    server.await.unwrap();
}

#[tokio::test]
async fn a_given_config_is_not_applied_to_a_clear_text_scheme() {
    let ca = TestCa::new("mimic test CA").unwrap();
    let addr = crate::support::greeter(b"plain").await;
    let base = Context::new().with(&TLS_CONFIG, Arc::new(ca.client_config(&[]).unwrap()));
    for (url, tls) in [("http", false), ("tcp", false), ("https", true), ("tls", true)] {
        let ctx = Context::from_url(&format!("{url}://localhost:{}", addr.port())).unwrap();
        let mut with_base = base.clone();
        for key in [mimic::keys::SCHEME, mimic::keys::HOST] {
            with_base.insert(&key, ctx.get(&key).unwrap().clone());
        }
        with_base.insert(&ADDRS, vec![addr]);
        let outcome = Resolver::new().resolve(&with_base).await;
        match outcome {
            Ok(flow) => assert!(!tls && flow.facts().get::<Layers>().is_none(), "{url}"),
            // The greeter speaks no TLS: the handshake fails, which shows TLS was tried.
            Err(e) => assert!(
                tls && e.attempts()[0].stage == Stage::Layer { layer: "tls".into() },
                "{url}: {e}"
            ),
        }
    }
}

#[tokio::test]
async fn a_clear_text_scheme_gets_no_tls() {
    let addr = crate::support::greeter(b"plain").await;
    let ctx = Context::new()
        .with(&SCHEME, "http".to_string())
        .with(&ADDRS, vec![addr])
        .with(&mimic::keys::HOST, "localhost".to_string());
    let flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert!(flow.facts().get::<Layers>().is_none());
}
