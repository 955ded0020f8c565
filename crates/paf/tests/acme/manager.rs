//! The manager against pebble: obtains, stores, keeps while fresh, renews
//! when due (time is a parameter), and two managers sharing a store order
//! once.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use paf::acme::store::{CertStore, Lock, cert_id};
use paf::acme::{CertManager, FileStore, Http01Tokens, Renewal, Seed, Solver};
use paf::certs::Certificates;

use crate::support::{TestResult, handshake, pebble, require};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obtains_keeps_renews_and_shares_a_store() -> TestResult {
    // 30% of good nonces rejected: paf's retries on top of instant-acme's.
    let mut env = require!(pebble(|o| o.nonce_reject_percent = 30).await?);
    let tokens = Http01Tokens::new();
    env.serve_http01(&tokens);
    let dir = tempfile::tempdir()?;
    let seed = Seed::new(b"manager test seed, 32 bytes long")?;
    let names = vec!["shop.example.test".to_string()];
    let id = cert_id(&names[0])?;

    let certs = Arc::new(Certificates::new());
    let manager = CertManager::new(
        FileStore::new(dir.path()),
        env.client(seed.account_key()?).await?,
        certs.clone(),
        Solver::Http01(tokens.clone()),
        "instance-a",
    )
    .seed(seed.clone());

    let now = SystemTime::now();
    let Renewal::Issued { not_after } = manager.ensure(&names, now).await? else {
        panic!("the first run orders a certificate");
    };
    handshake(&env.pebble, certs.clone(), "shop.example.test").await?;
    let first = certs.get("shop.example.test").ok_or("installed")?;

    // A second instance with its own Certificates finds it in the store.
    let certs_b = Arc::new(Certificates::new());
    let manager_b = CertManager::new(
        FileStore::new(dir.path()),
        env.client(seed.account_key()?).await?,
        certs_b.clone(),
        Solver::Http01(tokens.clone()),
        "instance-b",
    )
    .seed(seed.clone());
    assert_eq!(manager_b.ensure(&names, now).await?, Renewal::Fresh { not_after });
    assert_eq!(
        certs_b.get("shop.example.test").ok_or("installed")?.cert[0],
        first.cert[0]
    );

    // When renewal is due while instance A holds the lock, B does not order.
    let stored = manager.store().load(&id).await?.ok_or("stored")?;
    let issued = paf::acme::Issued::from_pem(stored.chain_pem, stored.key_pem)?;
    let lifetime = issued.not_after.duration_since(issued.not_before)?;
    let due = issued.not_before + lifetime * 2 / 3 + Duration::from_secs(60);
    assert!(paf::acme::renewal_due(
        issued.not_before,
        issued.not_after,
        due,
        None
    ));
    let lock = manager
        .store()
        .lock(&id, "instance-a", due, Duration::from_secs(600))
        .await?;
    assert!(matches!(lock, Lock::Acquired { .. }));
    assert_eq!(
        manager_b.ensure(&names, due).await?,
        Renewal::Locked {
            holder: "instance-a".into()
        }
    );
    manager.store().unlock(&id, "instance-a").await?;

    // Then the renewal happens, and the new certificate is hot-swapped in.
    let Renewal::Issued { .. } = manager_b.ensure(&names, due).await? else {
        panic!("due and unlocked: renewed");
    };
    let renewed = certs_b.get("shop.example.test").ok_or("installed")?;
    assert_ne!(renewed.cert[0], first.cert[0]);
    handshake(&env.pebble, certs_b, "shop.example.test").await?;
    // Seeded: the renewed certificate keeps the key.
    let stored = manager.store().load(&id).await?.ok_or("stored")?;
    assert_eq!(stored.key_pem, seed.certificate_key(&id)?.to_pem());

    // Instance A finds and installs B's certificate from the store.
    assert!(matches!(
        manager.ensure(&names, now).await?,
        Renewal::Fresh { .. }
    ));
    assert_eq!(
        certs.get("shop.example.test").ok_or("installed")?.cert[0],
        renewed.cert[0]
    );
    Ok(())
}
