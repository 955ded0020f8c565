//! DNS-01 with bind9 as the primary (RFC 2136 updates signed with TSIG)
//! and pebble's resolver pointed straight at it.

use paf::acme::dns01::{DnsError, Rfc2136, TsigKey};
use paf::acme::{Seed, Solver};
use testkit::bind::Named;

use crate::support::{TestResult, pebble, require, verify_chain};

async fn named(zone: &str) -> Result<Option<Named>, Box<dyn std::error::Error + Send + Sync>> {
    let zone = zone.to_string();
    Ok(tokio::task::spawn_blocking(move || Named::start(&zone)).await??)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tsig_updates_land_and_bad_keys_are_refused() -> TestResult {
    let named = require!(named("example.test").await?);
    let key: TsigKey = named.tsig_key().parse()?;
    let dns = Rfc2136::new(named.addr(), named.zone(), &key)?;
    let name = "_acme-challenge.x.example.test";
    dns.add_txt(name, "value-1").await?;
    dns.add_txt(name, "value-2").await?;
    let mut values = dns.query_txt(name).await?;
    values.sort();
    assert_eq!(values, ["value-1", "value-2"]);
    dns.wait_visible(name, "value-2").await?;
    dns.remove_txt(name, "value-1").await?;
    assert_eq!(dns.query_txt(name).await?, ["value-2"]);
    // A value never published is never visible: the wait is bounded.
    let quick = dns
        .clone()
        .with_visible_within(std::time::Duration::from_millis(100));
    assert!(matches!(
        quick.wait_visible(name, "value-1").await,
        Err(DnsError::NotVisible { .. })
    ));

    // A key with the right name and the wrong secret is refused (BADSIG).
    let wrong: TsigKey = format!("{}:hmac-sha256:d3Jvbmcgc2VjcmV0", key.name()).parse()?;
    let bad = Rfc2136::new(named.addr(), named.zone(), &wrong)?;
    let err = bad
        .add_txt(name, "forged")
        .await
        .expect_err("a forged update is refused");
    assert!(
        matches!(err, DnsError::Refused { .. } | DnsError::Exchange { .. }),
        "{err:?}"
    );
    assert_eq!(dns.query_txt(name).await?, ["value-2"]);
    // Names outside the zone are refused before anything is sent.
    assert!(matches!(
        dns.add_txt("_acme-challenge.other.test", "v").await,
        Err(DnsError::BadName { .. })
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns01_issues_a_wildcard() -> TestResult {
    let named = require!(named("example.test").await?);
    let env = require!(pebble(|o| o.dns_server = Some(named.addr())).await?);
    let key: TsigKey = named.tsig_key().parse()?;
    let dns = Rfc2136::new(named.addr(), named.zone(), &key)?;

    let seed = Seed::new(b"dns-01 test seed, 32 bytes long!")?;
    let client = env.client(seed.account_key()?).await?;
    let names = vec!["*.example.test".to_string(), "example.test".to_string()];
    let issued = client
        .issue(
            &names,
            &seed.certificate_key("wild")?,
            &Solver::Dns01(dns.clone()),
        )
        .await
        .map_err(|e| format!("{e:?}\nnamed log:\n{}", named.log()))?;
    verify_chain(&env.pebble, &issued, "anything.example.test")?;
    verify_chain(&env.pebble, &issued, "example.test")?;
    // The challenge records are gone afterwards.
    assert!(dns.query_txt("_acme-challenge.example.test").await?.is_empty());
    Ok(())
}
