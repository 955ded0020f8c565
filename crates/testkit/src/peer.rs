//! What every launcher of a real peer shares: finding its binary (with the
//! CI rule), free ports, waiting for a port, and the child killed on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Why a peer could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The peer's binary is not installed (and `CI=true`, so this is a failure).
    #[error("`{binary}` is not installed (Debian package `{package}`)")]
    Missing {
        /// The binary looked for in `PATH`.
        binary: String,
        /// The Debian package that has it.
        package: String,
    },
    /// Writing the peer's files or starting it failed.
    #[error("cannot start `{binary}`")]
    Io {
        /// The binary.
        binary: String,
        /// Why.
        source: std::io::Error,
    },
    /// The peer did not come up in time; its log says why.
    #[error("`{binary}` did not listen on {addr} within {waited:?}; its log:\n{log}")]
    NotReady {
        /// The binary.
        binary: String,
        /// The address it should listen on.
        addr: SocketAddr,
        /// How long we waited.
        waited: Duration,
        /// The peer's output so far.
        log: String,
    },
    /// The peer answered, but not as expected.
    #[error("unexpected answer from `{binary}`: {what}")]
    Protocol {
        /// The binary.
        binary: String,
        /// What was wrong.
        what: String,
    },
    /// The TLS client of a peer's HTTPS endpoint refused its certificate.
    #[error("TLS with `{binary}` failed")]
    Tls {
        /// The binary.
        binary: String,
        /// Why.
        source: rustls::Error,
    },
    /// Test certificates could not be made.
    #[error("cannot make test certificates")]
    Certificates(#[from] crate::tls::Error),
}

/// Finds `binary` in `PATH`. A missing binary is `Ok(None)` (the test may
/// skip, and says so on stderr) unless the environment has `CI=true`, where
/// it is an error: in CI, a peer that is not installed fails the test.
pub fn find_binary(binary: &str, package: &str) -> Result<Option<PathBuf>, PeerError> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    find_binary_in(std::env::var_os("PATH"), binary, package, ci)
}

fn find_binary_in(
    path: Option<std::ffi::OsString>,
    binary: &str,
    package: &str,
    ci: bool,
) -> Result<Option<PathBuf>, PeerError> {
    // sbin is not in every user's PATH, and named lives there.
    let dirs = path
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")]);
    let found = dirs
        .map(|dir| dir.join(binary))
        .find(|candidate| is_executable(candidate));
    match found {
        Some(path) => Ok(Some(path)),
        None if ci => Err(PeerError::Missing {
            binary: binary.to_string(),
            package: package.to_string(),
        }),
        None => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "skipping: `{binary}` is not installed (Debian package `{package}`; with CI=true this fails)"
                );
            }
            Ok(None)
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A free TCP port on 127.0.0.1 (bound, then released: a peer that needs
/// the number before it starts gets it this way).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `addr` accepts TCP connections, for at most `deadline`;
/// gives up early if the child exits.
pub(crate) fn wait_for_port(
    child: &mut Child,
    binary: &str,
    addr: SocketAddr,
    deadline: Duration,
    log: impl Fn() -> String,
) -> Result<(), PeerError> {
    let ready = || TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok();
    poll_ready(child, binary, addr, deadline, &log, ready)
}

/// Waits until the peer's log has a line ending with `marker`, for at
/// most `deadline`; gives up early if the child exits.
pub(crate) fn wait_for_log(
    child: &mut Child,
    binary: &str,
    addr: SocketAddr,
    deadline: Duration,
    marker: &str,
    log: impl Fn() -> String,
) -> Result<(), PeerError> {
    let ready = || log().lines().any(|line| line.trim_end().ends_with(marker));
    poll_ready(child, binary, addr, deadline, &log, ready)
}

/// Waits until `path` exists (a unix socket, a pid file), for at most
/// `deadline`; gives up early if the child exits.
pub(crate) fn wait_for_file(
    child: &mut Child,
    binary: &str,
    addr: SocketAddr,
    deadline: Duration,
    path: &Path,
    log: impl Fn() -> String,
) -> Result<(), PeerError> {
    poll_ready(child, binary, addr, deadline, &log, || path.exists())
}

/// Polls `ready` with a growing pause (5 ms to 100 ms) until it holds, for
/// at most `deadline`; gives up early if the child exits. The peers give no
/// readiness signal, so polling with a bound is the way.
fn poll_ready(
    child: &mut Child,
    binary: &str,
    addr: SocketAddr,
    deadline: Duration,
    log: &impl Fn() -> String,
    mut ready: impl FnMut() -> bool,
) -> Result<(), PeerError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if ready() {
            return Ok(());
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if exited || start.elapsed() > deadline {
            return Err(PeerError::NotReady {
                binary: binary.to_string(),
                addr,
                waited: start.elapsed(),
                log: log(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// A child process killed (and reaped) on drop.
#[derive(Debug)]
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child that leads its own process group (spawned with
/// `process_group(0)`), killed with the whole group on drop: nginx's
/// workers and fcgiwrap's preforked children would otherwise outlive it.
#[derive(Debug)]
pub(crate) struct KillGroupOnDrop(pub(crate) Child);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        // No libc here: kill(1) signals the group (`-PGID`).
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn io_error(binary: &str) -> impl Fn(std::io::Error) -> PeerError + '_ {
    move |source| PeerError::Io {
        binary: binary.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_peer_skips_locally_and_fails_in_ci() {
        let missing = "testkit-no-such-peer";
        assert!(matches!(find_binary_in(None, missing, "none", false), Ok(None)));
        assert!(matches!(
            find_binary_in(None, missing, "none", true),
            Err(PeerError::Missing { binary, .. }) if binary == missing
        ));
        let path = std::env::var_os("PATH");
        assert!(matches!(find_binary_in(path, "sh", "dash", true), Ok(Some(_))));
    }
}
