//! `git daemon` (Debian package `git`) serving every repository under a
//! temp dir over git:// on a free port of 127.0.0.1, with receive-pack
//! (anonymous push) enabled; killed on drop.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::peer::{KillOnDrop, PeerError, find_binary, free_port, io_error, wait_for_port};

/// A running `git daemon`.
#[derive(Debug)]
pub struct GitDaemon {
    child: Option<KillOnDrop>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl GitDaemon {
    /// Starts `git daemon` over a new, empty base directory (see
    /// [`GitDaemon::base`]). `Ok(None)` when git is not installed and `CI`
    /// is not `true`.
    pub fn start() -> Result<Option<Self>, PeerError> {
        let mut attempts = 0;
        loop {
            match Self::start_once() {
                Err(PeerError::NotReady { log, .. }) if attempts < 3 && log.contains("in use") => {
                    attempts += 1
                }
                other => return other,
            }
        }
    }

    fn start_once() -> Result<Option<Self>, PeerError> {
        let Some(git) = find_binary("git", "git")? else {
            return Ok(None);
        };
        let dir = tempfile::tempdir().map_err(io_error("git"))?;
        let base = dir.path().join("repos");
        std::fs::create_dir(&base).map_err(io_error("git"))?;
        let port = free_port().map_err(io_error("git"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = spawn(&git, dir.path(), addr)?;
        Ok(Some(Self {
            child: Some(child),
            addr,
            dir,
        }))
    }

    /// Starts the daemon again after [`GitDaemon::stop`], on the same port
    /// and directory (a remote that comes back).
    pub fn restart(&mut self) -> Result<(), PeerError> {
        self.child.take();
        let git = find_binary("git", "git")?.ok_or_else(|| PeerError::Missing {
            binary: "git".into(),
            package: "git".into(),
        })?;
        // The port was ours a moment ago; another process may grab it in
        // between only by chance, and then the start fails loudly.
        self.child = Some(spawn(&git, self.dir.path(), self.addr)?);
        Ok(())
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The directory it serves: `base()/x.git` is `git://.../x.git`.
    pub fn base(&self) -> std::path::PathBuf {
        self.dir.path().join("repos")
    }

    /// The git:// URL of `path` (relative to [`GitDaemon::base`]).
    pub fn url(&self, path: &str) -> String {
        format!("git://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Stops the daemon now (connections under way are served by their
    /// own processes and finish).
    pub fn stop(&mut self) {
        self.child.take();
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// The temp dir, for the test's own files.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }
}

/// Spawns `git daemon` on `addr` serving `dir/repos`, logging to
/// `dir/daemon.log` (appended), and waits until it accepts.
fn spawn(git: &Path, dir: &Path, addr: SocketAddr) -> Result<KillOnDrop, PeerError> {
    let base = dir.join("repos");
    let log = dir.join("daemon.log");
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(io_error("git"))?;
    let err = out.try_clone().map_err(io_error("git"))?;
    // `git daemon` runs `git-daemon` as a child and waits for it: killing
    // `git` would leave the daemon serving. Run `git-daemon` itself.
    let exec_path = Command::new(git)
        .arg("--exec-path")
        .output()
        .map_err(io_error("git"))?;
    let daemon = Path::new(String::from_utf8_lossy(&exec_path.stdout).trim()).join("git-daemon");
    let mut command = if daemon.is_file() {
        Command::new(daemon)
    } else {
        let mut command = Command::new(git);
        command.arg("daemon");
        command
    };
    let child = command
        .arg(format!("--base-path={}", base.display()))
        .args([
            "--export-all",
            "--enable=receive-pack",
            "--informative-errors",
            "--reuseaddr",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={}", addr.port()))
        .arg(&base)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(io_error("git"))?;
    let mut child = KillOnDrop(child);
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for_port(
        &mut child.0,
        "git daemon",
        addr,
        Duration::from_secs(10),
        read_log,
    )?;
    Ok(child)
}
