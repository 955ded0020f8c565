//! HTTP-01 end to end against pebble, with pebble's default 5% of good
//! nonces rejected (instant-acme's badNonce retry at work).

use std::sync::Arc;

use paf::acme::{CertKey, Http01Tokens, Seed, Solver};
use paf::certs::Certificates;

use crate::support::{TestResult, handshake, pebble, require, verify_chain};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_issues_a_chain_that_verifies_and_serves() -> TestResult {
    let mut env = require!(pebble(|o| o.nonce_reject_percent = 5).await?);
    let tokens = Http01Tokens::new();
    env.serve_http01(&tokens);

    let seed = Seed::new(b"http-01 test seed, 32 bytes long")?;
    let client = env
        .builder(seed.account_key()?)
        .contact("mailto:admin@example.test")
        .connect()
        .await?;
    // The same seed finds the same account (what a restarted app does).
    let again = env.client(seed.account_key()?).await?;
    assert_eq!(client.account_id(), again.account_id());
    let other = env
        .client(Seed::new(b"another seed for another account")?.account_key()?)
        .await?;
    assert_ne!(client.account_id(), other.account_id());

    let names = vec!["paste.example.test".to_string(), "www.example.test".to_string()];
    let key = seed.certificate_key("paste.example.test")?;
    let issued = client
        .issue(&names, &key, &Solver::Http01(tokens.clone()))
        .await?;
    assert!(tokens.is_empty(), "tokens are removed after the order");
    assert_eq!(issued.key_pem, key.to_pem());
    assert!(issued.certified_key.cert.len() >= 2, "leaf and intermediate");
    for name in &names {
        verify_chain(&env.pebble, &issued, name)?;
    }
    assert!(verify_chain(&env.pebble, &issued, "other.example.test").is_err());

    // Installed with the hot swap, it is what a client of the site gets.
    let certs = Arc::new(Certificates::new());
    certs.insert("paste.example.test", issued.certified_key.clone());
    handshake(&env.pebble, certs.clone(), "paste.example.test").await?;

    // A second order (random key) replaces it in place.
    let renewed = client
        .issue(
            &names[..1],
            &CertKey::generate()?,
            &Solver::Http01(tokens.clone()),
        )
        .await?;
    certs.insert("paste.example.test", renewed.certified_key.clone());
    let served = certs.get("paste.example.test").ok_or("installed")?;
    assert_eq!(served.cert[0], renewed.certified_key.cert[0]);
    assert_ne!(served.cert[0], issued.certified_key.cert[0]);
    handshake(&env.pebble, certs, "paste.example.test").await?;
    Ok(())
}
