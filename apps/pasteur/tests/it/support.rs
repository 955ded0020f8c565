//! What the tests share: a site on a free port with a temp data dir and a
//! manual clock, `curl` and `git` as subprocesses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use pasteur::{Config, ManualClock, Running};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A running site.
pub(crate) struct Site {
    pub(crate) running: Running,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) base: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Site {
    pub(crate) fn repo(&self) -> PathBuf {
        self.running.repository().to_path_buf()
    }
}

/// The config of a test site: 127.0.0.1:0, data in `dir`, no rate limit.
pub(crate) fn config(dir: &Path) -> Config {
    let mut config = Config::new(dir.join("data"));
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.rate_per_minute = 0;
    config
}

pub(crate) async fn site(configure: impl FnOnce(&mut Config)) -> Site {
    let dir = tempfile::tempdir().expect("a temp dir");
    site_in(dir, configure).await
}

pub(crate) async fn site_in(dir: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> Site {
    let mut config = config(dir.path());
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let running = pasteur::start(config, clock.clone())
        .await
        .expect("the site starts");
    let base = format!("http://{}", running.addr());
    Site {
        running,
        clock,
        base,
        dir,
    }
}

/// A response as curl saw it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs `curl` with `args` (plus silent, a time limit, and the response
/// written to files); the last response's status, headers and body.
pub(crate) async fn curl(args: &[&str]) -> Reply {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || curl_blocking(&args))
        .await
        .expect("curl ran")
}

pub(crate) fn curl_blocking(args: &[String]) -> Reply {
    let dir = tempfile::tempdir().expect("a temp dir");
    let head = dir.path().join("head");
    let body = dir.path().join("body");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read_to_string(&head).unwrap_or_default();
    // The last block: after a `100 Continue` comes the real answer.
    let block = head
        .split("\r\n\r\n")
        .filter(|b| b.starts_with("HTTP/"))
        .last()
        .unwrap_or("");
    let mut lines = block.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: std::fs::read(&body).unwrap_or_default(),
    }
}

/// POSTs `content` as `curl --data-binary` does; the paste's URL.
pub(crate) async fn paste(base: &str, query: &str, content: &[u8]) -> Reply {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("paste");
    std::fs::write(&file, content).expect("written");
    let data = format!("@{}", file.display());
    curl(&["--data-binary", &data, &format!("{base}/{query}")]).await
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

/// Whether `git` succeeds.
pub(crate) fn git_ok(args: &[&str]) -> bool {
    Command::new("git")
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The id at the end of a paste URL.
pub(crate) fn id_of(url: &str) -> String {
    url.trim().rsplit('/').next().unwrap_or_default().to_string()
}

/// Polls `check` until it holds, for at most `limit` (waiting for a
/// condition, not for time: the loop ends as soon as it holds).
pub(crate) async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The files of `branch` in a bare repository.
pub(crate) fn files(repo: &Path, branch: &str) -> Vec<String> {
    let repo = repo.display().to_string();
    if !git_ok(&["--git-dir", &repo, "rev-parse", "--verify", "-q", branch]) {
        return Vec::new();
    }
    git(&["--git-dir", &repo, "ls-tree", "-r", "--name-only", branch])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `pasteur` binary, running on a free port.
pub(crate) struct Proc {
    pub(crate) child: std::process::Child,
    pub(crate) base: String,
    pub(crate) log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Starts the binary with `--data data --port <free>` and `args`; waits
/// until it answers.
pub(crate) async fn spawn_binary(data: &Path, args: &[&str]) -> Proc {
    let port = testkit::peer::free_port().expect("a free port");
    spawn_binary_on(data, port, args).await
}

/// Starts the binary on `port`.
pub(crate) async fn spawn_binary_on(data: &Path, port: u16, args: &[&str]) -> Proc {
    let log = data.with_extension(format!("{port}.log"));
    let out = std::fs::File::create(&log).expect("a log file");
    let err = out.try_clone().expect("a log file");
    let child = Command::new(env!("CARGO_BIN_EXE_pasteur"))
        .arg("--data")
        .arg(data)
        .args(["--port", &port.to_string(), "--rate-limit", "0"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("pasteur starts");
    let proc = Proc {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "pasteur did not start: {}",
            proc.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    proc
}

/// The repository key of paste `id`'s content.
pub(crate) fn key(id: &str) -> String {
    format!("pastes/{}/{}/{id}", &id[..1], &id[1..2])
}
