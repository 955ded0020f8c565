//! The `paf-acme` example as a user runs it, against pebble: HTTP-01 and
//! TLS-ALPN-01 each end with a chain in `fullchain.pem` that verifies
//! against pebble's issuing root, and a key in `key.pem`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use testkit::pebble::{Pebble, PebbleOptions};
use testkit::peer::free_port;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The example binary cargo built next to this test (`target/<profile>/examples`).
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join("examples").join("paf-acme");
    assert!(
        path.exists(),
        "{} is missing: cargo builds examples with the tests",
        path.display()
    );
    path
}

fn run(challenge: &str, listen_port: u16, pebble: &Pebble, out: &std::path::Path) -> TestResult {
    let ca = out.with_extension("ca.pem");
    std::fs::write(&ca, pebble.api_ca().cert_pem())?;
    let status = Command::new(example())
        .args(["--directory", &pebble.directory_url()])
        .arg("--ca")
        .arg(&ca)
        .args(["--challenge", challenge])
        .args(["--listen", &format!("127.0.0.1:{listen_port}")])
        .args(["--domain", "one.example.test", "--domain", "two.example.test"])
        .arg("--out")
        .arg(out)
        .status()?;
    assert!(
        status.success(),
        "paf-acme {challenge} failed: {status}\n{}",
        pebble.log()
    );
    Ok(())
}

fn verify(pebble: &Pebble, out: &std::path::Path) -> TestResult {
    let chain = CertificateDer::pem_file_iter(out.join("fullchain.pem"))?.collect::<Result<Vec<_>, _>>()?;
    PrivateKeyDer::from_pem_file(out.join("key.pem"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pebble.issuing_root()?)?;
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), paf::certs::provider()).build()?;
    for name in ["one.example.test", "two.example.test"] {
        verifier.verify_server_cert(
            &chain[0],
            &chain[1..],
            &ServerName::try_from(name)?,
            &[],
            UnixTime::now(),
        )?;
    }
    Ok(())
}

#[test]
fn paf_acme_gets_certificates_by_http01_and_tls_alpn01() -> TestResult {
    let (http_port, tls_port) = (free_port()?, free_port()?);
    let Some(pebble) = Pebble::start(&PebbleOptions::new(http_port, tls_port))? else {
        return Ok(()); // pebble not installed, and not CI
    };
    let dir = tempfile::tempdir()?;
    let http = dir.path().join("http");
    run("http-01", http_port, &pebble, &http)?;
    verify(&pebble, &http)?;
    let tls = dir.path().join("tls");
    run("tls-alpn-01", tls_port, &pebble, &tls)?;
    verify(&pebble, &tls)?;
    Ok(())
}
