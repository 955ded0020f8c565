//! `--https` against pebble: the certificate is ordered over HTTP-01 on
//! the plain-HTTP port, served on the TLS port, kept on the `certs`
//! branch, and used again after a restart without the ACME server; and
//! over DNS-01, with bind9 taking the TXT records by RFC 2136 updates.

use std::process::Command;
use std::time::{Duration, Instant};

use testkit::bind::Named;
use testkit::pebble::{Pebble, PebbleOptions};

use crate::support::{TestResult, curl, files, spawn_binary_on};

const NAME: &str = "paste.test";

/// Whether curl gets the page of `name` over HTTPS, trusting only `root`.
fn https_ok(name: &str, port: u16, root: &std::path::Path) -> bool {
    Command::new("curl")
        .args(["-sf", "--max-time", "5", "--cacert"])
        .arg(root)
        .args(["--resolve", &format!("{name}:{port}:127.0.0.1")])
        .arg(format!("https://{name}:{port}/"))
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn wait_https(port: u16, root: &std::path::Path, log: impl Fn() -> String) {
    wait_https_for(NAME, port, root, log).await
}

async fn wait_https_for(name: &str, port: u16, root: &std::path::Path, log: impl Fn() -> String) {
    let start = Instant::now();
    while !https_ok(name, port, root) {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no certificate served: {}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_certificate_from_pebble() -> TestResult {
    let http_port = testkit::peer::free_port()?;
    let https_port = testkit::peer::free_port()?;
    let options = PebbleOptions::new(http_port, https_port);
    let Some(pebble) = tokio::task::spawn_blocking(move || Pebble::start(&options)).await?? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let api_ca = dir.path().join("pebble-api.pem");
    std::fs::write(&api_ca, pebble.api_ca().cert_pem())?;
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pebble.issuing_root_pem()?)?;
    let data = dir.path().join("data");
    let directory = pebble.directory_url();
    let http = http_port.to_string();
    let args = [
        "--https",
        "-h",
        NAME,
        "--http-port",
        &http,
        "--acme-directory",
        &directory,
        "--acme-ca",
        api_ca.to_str().unwrap_or_default(),
        "--email",
        "admin@paste.test",
        "--account-seed",
        "account seed for the test",
        "--cert-seed",
        "certificate seed for the test",
    ];
    let proc = spawn_binary_on(&data, https_port, &args).await;
    wait_https(https_port, &root, || proc.log()).await;

    // A paste over HTTPS; links are https://.
    let resolve = format!("{NAME}:{https_port}:127.0.0.1");
    let root_arg = root.display().to_string();
    let created = curl(&[
        "--cacert",
        &root_arg,
        "--resolve",
        &resolve,
        "--data-binary",
        "over TLS",
        &format!("https://{NAME}:{https_port}/"),
    ])
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert!(
        created
            .text()
            .starts_with(&format!("https://{NAME}:{https_port}/"))
    );
    // Port 80's job: redirect to HTTPS.
    let redirect = curl(&[
        "-H",
        &format!("Host: {NAME}"),
        &format!("http://127.0.0.1:{http_port}/abc?x=1"),
    ])
    .await;
    assert_eq!(redirect.status, 308);
    assert_eq!(
        redirect.header("location"),
        Some(format!("https://{NAME}:{https_port}/abc?x=1").as_str())
    );
    // The certificate is on the certs branch, not on the pastes' branch.
    let repo = data.join(pasteur::REPOSITORY);
    let certs = files(&repo, "certs");
    assert!(certs.contains(&format!("{NAME}/fullchain.pem")), "{certs:?}");
    assert!(!files(&repo, "main").iter().any(|f| f.contains("pem")));

    // Restart without the ACME server: the stored certificate serves.
    drop(proc);
    drop(pebble);
    let proc = spawn_binary_on(&data, https_port, &args).await;
    wait_https(https_port, &root, || proc.log()).await;
    assert!(proc.log().contains("certificate loaded from the certs branch"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_dns01_through_bind9() -> TestResult {
    const ZONE: &str = "example.test";
    const HOST: &str = "paste.example.test";
    let Some(named) = tokio::task::spawn_blocking(|| Named::start(ZONE)).await?? else {
        return Ok(());
    };
    // pebble asks bind9 for the TXT record; its HTTP-01 and TLS-ALPN-01
    // ports lead nowhere, so only DNS-01 can succeed.
    let mut options = PebbleOptions::new(testkit::peer::free_port()?, testkit::peer::free_port()?);
    options.dns_server = Some(named.addr());
    let Some(pebble) = tokio::task::spawn_blocking(move || Pebble::start(&options)).await?? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let api_ca = dir.path().join("pebble-api.pem");
    std::fs::write(&api_ca, pebble.api_ca().cert_pem())?;
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pebble.issuing_root_pem()?)?;
    let data = dir.path().join("data");
    let https_port = testkit::peer::free_port()?;
    let http = testkit::peer::free_port()?.to_string();
    let directory = pebble.directory_url();
    let dns_port = named.addr().port().to_string();
    let key = named.tsig_key();
    let args = [
        "--https",
        "-h",
        HOST,
        "--http-port",
        &http,
        "--acme-directory",
        &directory,
        "--acme-ca",
        api_ca.to_str().unwrap_or_default(),
        "--account-seed",
        "account seed for the dns test",
        "--cert-seed",
        "certificate seed for the dns test",
        "--dns-key",
        &key,
        "--dns-addr",
        "127.0.0.1",
        "--dns-port",
        &dns_port,
    ];
    let proc = spawn_binary_on(&data, https_port, &args).await;
    wait_https_for(HOST, https_port, &root, || {
        format!("{}\nnamed log:\n{}", proc.log(), named.log())
    })
    .await;
    assert!(proc.log().contains("challenge=\"dns-01\""), "{}", proc.log());
    let repo = data.join(pasteur::REPOSITORY);
    let certs = files(&repo, "certs");
    assert!(certs.contains(&format!("{HOST}/fullchain.pem")), "{certs:?}");
    // The challenge record was withdrawn once the order was valid.
    let key: paf::acme::dns01::TsigKey = key.parse()?;
    let dns = paf::acme::dns01::Rfc2136::new(named.addr(), ZONE, &key)?;
    let left = dns.query_txt(&format!("_acme-challenge.{HOST}")).await?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}
