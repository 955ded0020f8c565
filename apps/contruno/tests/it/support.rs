//! Backends, the routes repository, curl, contruno-add.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use paf::{Body, Handle, Server, service_fn};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A backend that answers `<name> host=<Host> xff=<X-Forwarded-For>
/// proto=<X-Forwarded-Proto> fwd=<Forwarded>` and counts its requests.
pub(crate) struct Backend {
    pub(crate) addr: SocketAddr,
    pub(crate) hits: Arc<AtomicUsize>,
    handle: Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Backend {
    pub(crate) async fn start(name: &'static str) -> std::io::Result<Self> {
        let server = Server::builder().bind("127.0.0.1:0").await?;
        let addr = server.local_addr()?;
        let hits = Arc::new(AtomicUsize::new(0));
        let handle = server.handle();
        let counter = hits.clone();
        let task = tokio::spawn(server.serve(service_fn(move |req: Request<Body>| {
            counter.fetch_add(1, Ordering::SeqCst);
            let header = |n: &str| {
                req.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string()
            };
            let text = format!(
                "{name} host={} xff={} proto={} fwd={} version={:?}\n",
                header("host"),
                header("x-forwarded-for"),
                header("x-forwarded-proto"),
                header("forwarded"),
                req.version(),
            );
            async move { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(text)))) }
        })));
        Ok(Backend {
            addr,
            hits,
            handle,
            task,
        })
    }

    /// Stops it: connections are refused from now on.
    pub(crate) async fn stop(self) {
        self.handle.shutdown(std::time::Duration::ZERO);
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Runs git with no user or system config; its stdout.
pub(crate) fn git(args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An empty bare repository `name` served by `daemon`; its URL.
pub(crate) fn remote_repo(daemon: &testkit::git_daemon::GitDaemon, name: &str) -> String {
    let path = daemon.base().join(name);
    git(&["init", "-q", "--bare", "-b", "main", &path.display().to_string()]);
    daemon.url(name)
}

/// What curl got.
#[derive(Debug)]
pub(crate) struct Reply {
    /// curl's exit code.
    pub(crate) code: i32,
    pub(crate) status: u16,
    pub(crate) body: String,
}

/// `curl` over HTTPS to `name` on the proxy at `port`, trusting `ca`.
pub(crate) fn curl_https(name: &str, port: u16, ca: &Path, path: &str, extra: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}", "--cacert"])
        .arg(ca)
        .args(["--resolve", &format!("{name}:{port}:127.0.0.1")])
        .args(extra)
        .arg(format!("https://{name}:{port}{path}"))
        .output()
        .expect("curl is installed");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    Reply {
        code: out.status.code().unwrap_or(-1),
        status: status.trim().parse().unwrap_or(0),
        body: body.to_string(),
    }
}

/// Runs contruno-add with `args`; (success, stdout, stderr).
pub(crate) fn contruno_add(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_contruno-add"))
        .args(args)
        .env_remove("CONTRUNO_PASS")
        .output()
        .expect("contruno-add runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A test CA and certificate files for names, in `dir`.
pub(crate) struct Certs {
    pub(crate) ca: testkit::tls::TestCa,
    pub(crate) ca_file: PathBuf,
    dir: PathBuf,
}

impl Certs {
    pub(crate) fn new(dir: &Path) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let ca = testkit::tls::TestCa::new("contruno test CA")?;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.cert_pem())?;
        Ok(Certs {
            ca,
            ca_file,
            dir: dir.to_path_buf(),
        })
    }

    /// (chain file, key file) of a new certificate for `names`.
    pub(crate) fn issue(
        &self,
        names: &[&str],
    ) -> Result<(String, String), Box<dyn std::error::Error + Send + Sync>> {
        let cert = self.ca.issue(names)?;
        let chain = self.dir.join(format!("{}.pem", names[0]));
        let key = self.dir.join(format!("{}.key", names[0]));
        std::fs::write(&chain, cert.chain_pem())?;
        std::fs::write(&key, cert.key_pem())?;
        Ok((chain.display().to_string(), key.display().to_string()))
    }
}

/// A backend that takes `Upgrade: echo` (101) and then echoes bytes.
pub(crate) async fn echo_upgrade_backend()
-> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let server = Server::builder().bind("127.0.0.1:0").await?;
    let addr = server.local_addr()?;
    let task = tokio::spawn(server.serve(service_fn(|mut req: Request<Body>| async move {
        let asks = req.headers().get("upgrade").is_some_and(|v| v == "echo");
        if !asks {
            return Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(
                b"no upgrade\n",
            ))));
        }
        let upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                let mut io = hyper_util::rt::TokioIo::new(upgraded);
                let (mut r, mut w) = tokio::io::split(&mut io);
                let _ = tokio::io::copy(&mut r, &mut w).await;
            }
        });
        let mut res = Response::new(Full::new(Bytes::new()));
        *res.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
        res.headers_mut()
            .insert("connection", http::HeaderValue::from_static("upgrade"));
        res.headers_mut()
            .insert("upgrade", http::HeaderValue::from_static("echo"));
        Ok(res)
    })));
    Ok((addr, task))
}
