//! The `contruno` binary with `--acme` against pebble: a domain
//! registered without a certificate gets one over HTTP-01 on port 80,
//! committed and pushed to the routes repository, and served again after
//! a restart without the ACME server.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::git_daemon::GitDaemon;
use testkit::pebble::{Pebble, PebbleOptions};

use crate::support::{Backend, TestResult, contruno_add, curl_https, git, remote_repo};

/// The proxy process, killed on drop; its log in a file.
struct Proxy {
    child: Child,
    log: std::path::PathBuf,
}

impl Proxy {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[String], log: std::path::PathBuf) -> std::io::Result<Proxy> {
    let out = std::fs::File::create(&log)?;
    let child = Command::new(env!("CARGO_BIN_EXE_contruno"))
        .args(args)
        .env_remove("CONTRUNO_PASS")
        .stdout(Stdio::null())
        .stderr(out)
        .spawn()?;
    Ok(Proxy { child, log })
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool, log: impl Fn() -> String) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what} never happened:\n{}", log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_without_a_certificate_gets_one_from_pebble() -> TestResult {
    order_serve_and_restart("http-01").await
}

/// With port 80 closed: the validation certificate on the TLS listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn_01_when_only_the_tls_port_is_open() -> TestResult {
    order_serve_and_restart("tls-alpn-01").await
}

async fn order_serve_and_restart(challenge: &str) -> TestResult {
    let http_port = testkit::peer::free_port()?;
    let port = testkit::peer::free_port()?;
    // pebble validates HTTP-01 on http_port and TLS-ALPN-01 on the proxy's TLS port.
    let options = PebbleOptions::new(http_port, port);
    let Some(pebble) = tokio::task::spawn_blocking(move || Pebble::start(&options)).await?? else {
        return Ok(());
    };
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let url = remote_repo(&daemon, "routes.git");
    let dir = tempfile::tempdir()?;
    let api_ca = dir.path().join("pebble-api.pem");
    std::fs::write(&api_ca, pebble.api_ca().cert_pem())?;
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pebble.issuing_root_pem()?)?;
    let backend = Backend::start("site").await?;

    let admin = format!("127.0.0.1:{}", testkit::peer::free_port()?);
    let args: Vec<String> = [
        "-r",
        &url,
        "--data",
        &dir.path().join("data").display().to_string(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--http-listen",
        &if challenge == "http-01" {
            format!("127.0.0.1:{http_port}")
        } else {
            "none".to_string()
        },
        "--admin",
        &admin,
        "--pass",
        "s3cret",
        "--acme",
        "--acme-directory",
        &pebble.directory_url(),
        "--acme-ca",
        &api_ca.display().to_string(),
        "--account-seed",
        "the test account",
        "--acme-challenge",
        challenge,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let proxy = spawn(&args, dir.path().join("contruno.log"))?;
    wait_for(
        "contruno listening",
        Duration::from_secs(30),
        || std::net::TcpStream::connect(&admin).is_ok(),
        || proxy.log(),
    )
    .await;

    // Registered without --cert: the proxy orders one.
    let (ok, _, err) = tokio::task::spawn_blocking({
        let (url, backend, admin) = (url.clone(), backend.addr.to_string(), admin.clone());
        move || {
            contruno_add(&[
                "-r", &url, "-h", "c.test", "-i", &backend, "--pass", "s3cret", "-t", &admin,
            ])
        }
    })
    .await?;
    assert!(ok, "{err}");
    let served = |root: std::path::PathBuf| move || curl_https("c.test", port, &root, "/", &[]).status == 200;
    wait_for(
        "a certificate for c.test",
        Duration::from_secs(90),
        served(root.clone()),
        || proxy.log(),
    )
    .await;
    let reply = curl_https("c.test", port, &root, "/", &[]);
    assert!(reply.body.starts_with("site host=c.test "), "{reply:?}");

    // The certificate is in the remote repository, for a restart or another instance.
    let clone = dir.path().join("clone");
    wait_for(
        "the certificate pushed",
        Duration::from_secs(30),
        || {
            let _ = std::fs::remove_dir_all(&clone);
            git(&["clone", "-q", &url, &clone.display().to_string()]);
            clone.join("domains/c.test/fullchain.pem").exists()
        },
        || proxy.log(),
    )
    .await;
    assert!(clone.join("domains/c.test/privkey.pem").exists());
    // Its lock was released.
    assert!(!clone.join("locks/c.test").exists());

    // Restarted with a fresh local copy and no ACME server: served at once.
    drop(proxy);
    drop(pebble);
    let mut args = args;
    let data = args.iter().position(|a| a == "--data").map_or(0, |i| i + 1);
    args[data] = dir.path().join("data2").display().to_string();
    let proxy = spawn(&args, dir.path().join("contruno2.log"))?;
    wait_for(
        "c.test served after a restart",
        Duration::from_secs(30),
        served(root),
        || proxy.log(),
    )
    .await;
    assert!(!proxy.log().contains("certificate issued"), "{}", proxy.log());
    backend.stop().await;
    Ok(())
}
