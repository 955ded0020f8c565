//! The proxy with its repository on git daemon: domains registered with
//! contruno-add, served by SNI, forwarded with the right headers, added
//! while running, backends failing over, and a restart without the remote.

use std::time::Duration;

use gitkv::sync::Remote;
use testkit::git_daemon::GitDaemon;

use crate::support::{Backend, Certs, TestResult, contruno_add, curl_https, remote_repo};

fn config(dir: &std::path::Path, url: &str) -> contruno::Config {
    let mut config = contruno::Config::new(dir);
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.http_listen = Some("127.0.0.1:0".parse().expect("an address"));
    config.admin = Some("127.0.0.1:0".parse().expect("an address"));
    config.remote = Some(Remote::new("origin", url.parse().expect("a URL")));
    config.fetch_every = Duration::from_secs(3600);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_from_git_served_by_sni_and_added_while_running() -> TestResult {
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let url = remote_repo(&daemon, "routes.git");
    let dir = tempfile::tempdir()?;
    let certs = Certs::new(dir.path())?;
    let one = Backend::start("one").await?;
    let two = Backend::start("two").await?;
    let (a_chain, a_key) = certs.issue(&["a.test"])?;
    let (b_chain, b_key) = certs.issue(&["b.test"])?;

    // a.test with two backends, registered before contruno starts.
    let (ok, _, err) = tokio::task::spawn_blocking({
        let (url, one, two) = (url.clone(), one.addr.to_string(), two.addr.to_string());
        let (chain, key) = (a_chain.clone(), a_key.clone());
        move || {
            contruno_add(&[
                "-r", &url, "-h", "a.test", "-i", &one, "-i", &two, "--cert", &chain, "-p", &key, "--pass",
                "s3cret",
            ])
        }
    })
    .await?;
    assert!(ok, "{err}");
    // The repository holds the route, the certificate and a hash, never the password.
    let clone = dir.path().join("clone");
    crate::support::git(&["clone", "-q", &url, &clone.display().to_string()]);
    assert!(clone.join("domains/a.test/route.json").exists());
    assert!(clone.join("domains/a.test/fullchain.pem").exists());
    let hash = std::fs::read_to_string(clone.join("contruno/password"))?;
    assert!(hash.starts_with("pbkdf2-sha256$") && !hash.contains("s3cret"));

    let running = contruno::start(config(&dir.path().join("data"), &url)).await?;
    let port = running.addr().port();
    let admin = running.admin_addr().expect("an admin listener").to_string();
    let ca = certs.ca_file.clone();

    // Round robin over both backends, Host kept, forwarding headers set.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let reply = tokio::task::spawn_blocking({
            let ca = ca.clone();
            move || curl_https("a.test", port, &ca, "/x?y=1", &[])
        })
        .await?;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(reply.body.contains("host=a.test "), "{}", reply.body);
        assert!(reply.body.contains("xff=127.0.0.1 "), "{}", reply.body);
        assert!(reply.body.contains("proto=https "), "{}", reply.body);
        assert!(
            reply.body.contains("fwd=for=127.0.0.1;proto=https;host=a.test"),
            "{}",
            reply.body
        );
        seen.push(reply.body.split(' ').next().unwrap_or_default().to_string());
    }
    assert!(
        seen.contains(&"one".to_string()) && seen.contains(&"two".to_string()),
        "{seen:?}"
    );

    // HTTP/2 from the client as well.
    let reply = tokio::task::spawn_blocking({
        let ca = ca.clone();
        move || curl_https("a.test", port, &ca, "/", &["--http2"])
    })
    .await?;
    assert_eq!(reply.status, 200, "{reply:?}");

    // b.test is not known yet: no certificate for it (TLS alert).
    let reply = tokio::task::spawn_blocking({
        let ca = ca.clone();
        move || curl_https("b.test", port, &ca, "/", &[])
    })
    .await?;
    assert_ne!(reply.code, 0, "{reply:?}");
    // A request for b.test over a.test's connection is misdirected.
    let reply = tokio::task::spawn_blocking({
        let ca = ca.clone();
        move || curl_https("a.test", port, &ca, "/", &["-H", "Host: b.test"])
    })
    .await?;
    assert_eq!(reply.status, 421, "{reply:?}");

    // A wrong password is refused before anything is pushed.
    let (ok, _, err) = tokio::task::spawn_blocking({
        let (url, one, admin) = (url.clone(), one.addr.to_string(), admin.clone());
        let (chain, key) = (b_chain.clone(), b_key.clone());
        move || {
            contruno_add(&[
                "-r", &url, "-h", "b.test", "-i", &one, "--cert", &chain, "-p", &key, "--pass", "wrong",
                "-t", &admin,
            ])
        }
    })
    .await?;
    assert!(!ok && err.contains("wrong password"), "{err}");

    // b.test added while running, and the proxy told to reload.
    let (ok, out, err) = tokio::task::spawn_blocking({
        let (url, two, admin) = (url.clone(), two.addr.to_string(), admin.clone());
        move || {
            contruno_add(&[
                "-r", &url, "-h", "b.test", "-i", &two, "--cert", &b_chain, "-p", &b_key, "--pass", "s3cret",
                "-t", &admin,
            ])
        }
    })
    .await?;
    assert!(ok, "{err}");
    assert!(out.contains("\"b.test\""), "{out}");
    let reply = tokio::task::spawn_blocking({
        let ca = ca.clone();
        move || curl_https("b.test", port, &ca, "/", &[])
    })
    .await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body.starts_with("two "), "{reply:?}");

    // --list shows both.
    let (ok, out, err) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || contruno_add(&["-r", &url, "--list"])
    })
    .await?;
    assert!(ok, "{err}");
    assert!(out.contains("a.test\t") && out.contains("b.test\t"), "{out}");

    // A backend down: a.test's requests all go to the other one.
    one.stop().await;
    let before = two.hits.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..4 {
        let reply = tokio::task::spawn_blocking({
            let ca = ca.clone();
            move || curl_https("a.test", port, &ca, "/", &[])
        })
        .await?;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(reply.body.starts_with("two "), "{reply:?}");
    }
    assert_eq!(two.hits.load(std::sync::atomic::Ordering::SeqCst), before + 4);

    // Port 80 redirects to HTTPS.
    let http = running.http_addr().expect("port 80's listener");
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-H",
            "Host: a.test",
        ])
        .arg(format!("http://{http}/p?q=1"))
        .output()?;
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.starts_with("308 https://a.test"), "{out}");

    // /metrics on the admin listener: what was answered, and the certificates' expiry.
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("http://{admin}/metrics")])
        .output()?;
    let metrics = String::from_utf8_lossy(&out.stdout);
    let count = |series: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(count("contruno_requests_total{class=\"2xx\"}") >= 10, "{metrics}");
    assert!(count("contruno_requests_total{class=\"4xx\"}") >= 1, "{metrics}");
    assert!(count("contruno_reloads_total") >= 2, "{metrics}");
    assert!(
        count("contruno_certificate_expiry_seconds{domain=\"a.test\"}") > 1_700_000_000,
        "{metrics}"
    );
    assert!(
        count("contruno_certificate_expiry_seconds{domain=\"b.test\"}") > 1_700_000_000,
        "{metrics}"
    );

    // A restart with the remote down serves from the local copy.
    drop(running);
    drop(daemon);
    let running = contruno::start(config(&dir.path().join("data"), &url)).await?;
    let port = running.addr().port();
    let reply = tokio::task::spawn_blocking(move || curl_https("b.test", port, &ca, "/", &[])).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    two.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contruno_add_checks_before_pushing() -> TestResult {
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let url = remote_repo(&daemon, "routes.git");
    let dir = tempfile::tempdir()?;
    let certs = Certs::new(dir.path())?;
    let (chain, key) = certs.issue(&["other.test"])?;
    let (_, other_key) = certs.issue(&["c.test"])?;
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "-h".into(),
                "a.test".into(),
                "-i".into(),
                "127.0.0.1:1".into(),
                "--cert".into(),
                chain.clone(),
                "-p".into(),
                key.clone(),
            ],
            "not for a.test",
        ),
        (
            vec![
                "-h".into(),
                "other.test".into(),
                "-i".into(),
                "127.0.0.1:1".into(),
                "--cert".into(),
                chain.clone(),
                "-p".into(),
                other_key,
            ],
            "does not match",
        ),
        (
            vec![
                "-h".into(),
                "Not_A_Name".into(),
                "-i".into(),
                "127.0.0.1:1".into(),
            ],
            "not a domain name",
        ),
        (
            vec!["-h".into(), "a.test".into(), "-i".into(), "ftp://x:1".into()],
            "scheme",
        ),
        (
            vec!["-h".into(), "gone.test".into(), "--remove".into()],
            "not registered",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["-r".to_string(), url.clone()];
        all.extend(args);
        let (ok, _, err) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            contruno_add(&refs)
        })
        .await?;
        assert!(!ok, "accepted; expected {expected}");
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
    // Nothing was pushed.
    let heads = crate::support::git(&["ls-remote", &url]);
    assert!(heads.trim().is_empty(), "{heads}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_connection_survives_a_reload_and_its_certificate_rotating() -> TestResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let url = remote_repo(&daemon, "routes.git");
    let dir = tempfile::tempdir()?;
    let certs = Certs::new(dir.path())?;
    let (backend, _task) = crate::support::echo_upgrade_backend().await?;
    let (chain, key) = certs.issue(&["ws.test"])?;
    let add = |chain: String, key: String, admin: Option<String>| {
        let (url, backend) = (url.clone(), backend.to_string());
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "-r", &url, "-h", "ws.test", "-i", &backend, "--cert", &chain, "-p", &key, "--pass", "pw",
            ];
            if let Some(admin) = &admin {
                args.extend(["-t", admin.as_str()]);
            }
            contruno_add(&args)
        })
    };
    let (ok, _, err) = add(chain, key, None).await?;
    assert!(ok, "{err}");
    let running = contruno::start(config(&dir.path().join("data"), &url)).await?;
    let admin = running.admin_addr().expect("admin").to_string();

    // A raw TLS connection asking for the upgrade.
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(certs.ca.client_config(&[b"http/1.1"])?));
    let tcp = tokio::net::TcpStream::connect(running.addr()).await?;
    let mut stream = tls
        .connect(rustls_pki_types::ServerName::try_from("ws.test")?, tcp)
        .await?;
    stream
        .write_all(b"GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        .await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await?, 1, "connection closed in the head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: echo"), "{head}");
    stream.write_all(b"ping\n").await?;
    let mut got = [0u8; 5];
    stream.read_exact(&mut got).await?;
    assert_eq!(&got, b"ping\n");

    // The certificate rotates and the routes reload: the connection stays.
    let (chain, key) = certs.issue(&["ws.test"])?;
    let (ok, out, err) = add(chain, key, Some(admin)).await?;
    assert!(ok, "{err}");
    assert!(out.contains("ws.test"), "{out}");
    stream.write_all(b"again\n").await?;
    let mut got = [0u8; 6];
    stream.read_exact(&mut got).await?;
    assert_eq!(&got, b"again\n");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_added_and_a_certificate_rotated_under_h2load_fail_no_request() -> TestResult {
    let Some(h2load) = testkit::peer::find_binary("h2load", "nghttp2-client")? else {
        return Ok(());
    };
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let url = remote_repo(&daemon, "routes.git");
    let dir = tempfile::tempdir()?;
    let certs = Certs::new(dir.path())?;
    let backend = Backend::start("load").await?;
    let add = |domain: &'static str, cert: (String, String), admin: Option<String>| {
        let (url, backend) = (url.clone(), backend.addr.to_string());
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "-r", &url, "-h", domain, "-i", &backend, "--cert", &cert.0, "-p", &cert.1, "--pass", "pw",
            ];
            if let Some(admin) = &admin {
                args.extend(["-t", admin.as_str()]);
            }
            contruno_add(&args)
        })
    };
    let (ok, _, err) = add("a.test", certs.issue(&["a.test"])?, None).await?;
    assert!(ok, "{err}");
    let running = contruno::start(config(&dir.path().join("data"), &url)).await?;
    let port = running.addr().port();
    let admin = running.admin_addr().expect("admin").to_string();

    // HTTP/2 load on a.test for 4 s, while routes change under it.
    let load = tokio::task::spawn_blocking(move || {
        std::process::Command::new(h2load)
            .args(["-c", "8", "-m", "4", "-D", "4"])
            .arg(format!("--connect-to=127.0.0.1:{port}"))
            .arg(format!("https://a.test:{port}/"))
            .output()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (domain, cert) in [
        ("b.test", certs.issue(&["b.test"])?),
        ("a.test", certs.issue(&["a.test"])?),
        ("c.test", certs.issue(&["c.test"])?),
    ] {
        let (ok, _, err) = add(domain, cert, Some(admin.clone())).await?;
        assert!(ok, "{domain}: {err}");
    }
    let out = load.await??;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("requests:"))
        .unwrap_or_default();
    let field = |name: &str| -> u64 {
        line.split(',')
            .find_map(|part| {
                part.trim()
                    .strip_suffix(name)?
                    .trim()
                    .rsplit(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(u64::MAX)
    };
    let succeeded = field("succeeded");
    assert!(succeeded > 100 && succeeded != u64::MAX, "{text}");
    assert_eq!(field("failed"), 0, "{text}");
    assert_eq!(field("errored"), 0, "{text}");
    assert!(text.contains("0 4xx, 0 5xx"), "{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_speak_what_their_route_says() -> TestResult {
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let url = remote_repo(&daemon, "routes.git");
    let dir = tempfile::tempdir()?;
    let certs = Certs::new(dir.path())?;
    let backend = Backend::start("b").await?;
    for (domain, alpn) in [("one.test", "http/1.1"), ("two.test", "h2")] {
        let (chain, key) = certs.issue(&[domain])?;
        let (url, backend) = (url.clone(), format!("http://{}", backend.addr));
        let (ok, _, err) = tokio::task::spawn_blocking(move || {
            contruno_add(&[
                "-r", &url, "-h", domain, "-i", &backend, "--alpn", alpn, "--cert", &chain, "-p", &key,
            ])
        })
        .await?;
        assert!(ok, "{err}");
    }
    let running = contruno::start(config(&dir.path().join("data"), &url)).await?;
    let port = running.addr().port();
    let ca = certs.ca_file.clone();
    let replies = tokio::task::spawn_blocking(move || {
        [
            curl_https("one.test", port, &ca, "/", &["--http2"]),
            curl_https("two.test", port, &ca, "/", &["--http1.1"]),
        ]
    })
    .await?;
    // Whatever the client spoke: HTTP/1.1 to the first backend, HTTP/2
    // with prior knowledge (h2c) to the second.
    assert!(replies[0].body.contains("version=HTTP/1.1"), "{:?}", replies[0]);
    assert!(replies[1].body.contains("version=HTTP/2.0"), "{:?}", replies[1]);
    assert!(replies[1].body.contains("host=two.test "), "{:?}", replies[1]);
    Ok(())
}
