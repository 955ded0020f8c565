//! TLS-ALPN-01 against pebble: the validation certificate is answered by
//! the same TLS listener (`certs::server_config`) that serves the site.

use std::sync::Arc;

use paf::acme::{CertKey, KeyType, Seed, Solver};
use paf::certs::Certificates;

use crate::support::{TestResult, alpn_challenge_answered, handshake, pebble, require, verify_chain};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_answers_on_the_tls_listener() -> TestResult {
    let mut env = require!(pebble(|_| {}).await?);
    let certs = Arc::new(Certificates::new());
    env.serve_tls(certs.clone());

    let seed = Seed::new(b"tls-alpn-01 test seed, 32 bytes!")?;
    let client = env.client(seed.account_key()?).await?;
    let names = vec!["blog.example.test".to_string()];
    let issued = client
        .issue(
            &names,
            &seed.certificate_key("blog")?,
            &Solver::TlsAlpn01(certs.clone()),
        )
        .await?;
    verify_chain(&env.pebble, &issued, "blog.example.test")?;
    certs.insert("blog.example.test", issued.certified_key.clone());
    handshake(&env.pebble, certs.clone(), "blog.example.test").await?;
    // The validation certificate is gone once the order is done (and the
    // probe itself works: it sees one that is put in place).
    assert!(!alpn_challenge_answered(certs.clone(), "blog.example.test").await?);
    let probe = paf::acme::tls_alpn01::validation_key("blog.example.test", &[7; 32])?;
    certs.insert_alpn_challenge("blog.example.test", probe);
    assert!(alpn_challenge_answered(certs.clone(), "blog.example.test").await?);
    certs.remove_alpn_challenge("blog.example.test");

    // An RSA certificate key, given as PEM (openssl makes it: ring cannot).
    let Some(openssl) = testkit::peer::find_binary("openssl", "openssl")? else {
        return Ok(());
    };
    let rsa = std::process::Command::new(openssl)
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()?;
    let key = CertKey::from_pem(&rsa.stdout)?;
    assert_eq!(key.key_type(), KeyType::Rsa);
    let issued = client
        .issue(&names, &key, &Solver::TlsAlpn01(certs.clone()))
        .await?;
    verify_chain(&env.pebble, &issued, "blog.example.test")?;
    certs.insert("blog.example.test", issued.certified_key.clone());
    handshake(&env.pebble, certs, "blog.example.test").await?;
    Ok(())
}
