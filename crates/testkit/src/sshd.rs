//! OpenSSH `sshd` (Debian package `openssh-server`) on a free port of
//! 127.0.0.1 with a throwaway config, host key and `authorized_keys`,
//! limited by a `ForceCommand` wrapper to `git-upload-pack` and
//! `git-receive-pack` on repositories under its temp dir; killed on drop.
//!
//! Runs as root (the tests do): sshd needs `/run/sshd` (created here) and
//! logs in as the current user, so `PermitRootLogin prohibit-password`.
//! `AcceptEnv GIT_PROTOCOL` lets clients ask for protocol v2.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::peer::{KillOnDrop, PeerError, find_binary, free_port, io_error, wait_for_log};

/// A running `sshd` serving Git repositories.
#[derive(Debug)]
pub struct Sshd {
    child: Option<KillOnDrop>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    fingerprint: String,
    host_public_key: String,
}

/// The wrapper every login runs instead of what the client asked: it logs
/// the request, then runs `git upload-pack` or `git receive-pack` on
/// `repos/<path>` (paths as git daemon's `--base-path` maps them).
const WRAPPER: &str = r#"#!/bin/sh
# ForceCommand wrapper (testkit::sshd): only git-upload-pack and
# git-receive-pack, only on repositories under the base directory.
printf '%s|%s\n' "$SSH_ORIGINAL_COMMAND" "$GIT_PROTOCOL" >> "@DIR@/commands.log"
case "$SSH_ORIGINAL_COMMAND" in
    "git-upload-pack '"*"'") service=upload-pack ;;
    "git-receive-pack '"*"'") service=receive-pack ;;
    *) echo "testkit sshd: command not allowed: $SSH_ORIGINAL_COMMAND" >&2; exit 1 ;;
esac
path=${SSH_ORIGINAL_COMMAND#* \'}
path=${path%\'}
case "$path" in
    *..*|*\'*) echo "testkit sshd: path not allowed: $path" >&2; exit 1 ;;
esac
path=${path#/}
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
exec git "$service" "@DIR@/repos/$path"
"#;

impl Sshd {
    /// Starts sshd trusting `authorized_keys` (lines as in an
    /// `authorized_keys` file). `Ok(None)` when sshd or ssh-keygen is not
    /// installed and `CI` is not `true`.
    pub fn start(authorized_keys: &[String]) -> Result<Option<Self>, PeerError> {
        let mut attempts = 0;
        loop {
            match Self::start_once(authorized_keys) {
                Err(PeerError::NotReady { log, .. })
                    if attempts < 3 && log.contains("Address already in use") =>
                {
                    attempts += 1
                }
                other => return other,
            }
        }
    }

    fn start_once(authorized_keys: &[String]) -> Result<Option<Self>, PeerError> {
        let Some(sshd) = find_binary("sshd", "openssh-server")? else {
            return Ok(None);
        };
        let Some(keygen) = find_binary("ssh-keygen", "openssh-client")? else {
            return Ok(None);
        };
        let err = io_error("sshd");
        let dir = tempfile::tempdir().map_err(&err)?;
        let d = dir.path();
        std::fs::create_dir(d.join("repos")).map_err(&err)?;
        // sshd's privilege separation directory.
        std::fs::create_dir_all("/run/sshd").map_err(&err)?;

        let host_key = d.join("host_ed25519");
        let out = Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "testkit-sshd", "-f"])
            .arg(&host_key)
            .output()
            .map_err(io_error("ssh-keygen"))?;
        if !out.status.success() {
            return Err(PeerError::Protocol {
                binary: "ssh-keygen".into(),
                what: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let out = Command::new(&keygen)
            .args(["-l", "-E", "sha256", "-f"])
            .arg(host_key.with_extension("pub"))
            .output()
            .map_err(io_error("ssh-keygen"))?;
        let listing = String::from_utf8_lossy(&out.stdout).into_owned();
        let fingerprint = listing
            .split_whitespace()
            .nth(1)
            .filter(|f| f.starts_with("SHA256:"))
            .ok_or_else(|| PeerError::Protocol {
                binary: "ssh-keygen".into(),
                what: format!("no fingerprint in {listing:?}"),
            })?
            .to_string();
        let public = std::fs::read_to_string(host_key.with_extension("pub")).map_err(&err)?;
        let host_public_key = public.split_whitespace().take(2).collect::<Vec<_>>().join(" ");

        let wrapper = d.join("git-only");
        std::fs::write(&wrapper, WRAPPER.replace("@DIR@", &d.display().to_string())).map_err(&err)?;
        set_mode(&wrapper, 0o755).map_err(&err)?;
        std::fs::write(d.join("authorized_keys"), authorized_keys.join("\n") + "\n").map_err(&err)?;

        let port = free_port().map_err(&err)?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\n\
                 Port {port}\n\
                 HostKey {host_key}\n\
                 PidFile {pid}\n\
                 AuthorizedKeysFile {authorized}\n\
                 UsePAM no\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 StrictModes no\n\
                 PermitRootLogin prohibit-password\n\
                 AcceptEnv GIT_PROTOCOL\n\
                 ForceCommand {wrapper}\n\
                 LogLevel VERBOSE\n",
                host_key = host_key.display(),
                pid = d.join("sshd.pid").display(),
                authorized = d.join("authorized_keys").display(),
                wrapper = wrapper.display(),
            ),
        )
        .map_err(&err)?;

        let log = d.join("sshd.log");
        let out = File::create(&log).map_err(&err)?;
        let child = Command::new(&sshd)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(&err)?)
            .stderr(out)
            .spawn()
            .map_err(&err)?;
        let mut child = KillOnDrop(child);
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        wait_for_log(
            &mut child.0,
            "sshd",
            addr,
            Duration::from_secs(10),
            &format!("port {port}."),
            read_log,
        )?;
        Ok(Some(Self {
            child: Some(child),
            addr,
            dir,
            fingerprint,
            host_public_key,
        }))
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The repositories: `repos()/x.git` is `ssh://USER@ADDR/x.git`.
    pub fn repos(&self) -> PathBuf {
        self.dir.path().join("repos")
    }

    /// The `ssh://` URL of `path` (relative to [`Sshd::repos`]) for `user`.
    pub fn url(&self, user: &str, path: &str) -> String {
        format!("ssh://{user}@{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`).
    pub fn host_key_fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A known_hosts line for this server (`[127.0.0.1]:PORT ssh-ed25519 AAAA...`).
    pub fn known_hosts_line(&self) -> String {
        format!(
            "[{}]:{} {}",
            self.addr.ip(),
            self.addr.port(),
            self.host_public_key
        )
    }

    /// The commands the wrapper was asked to run, one `command|GIT_PROTOCOL` a line.
    pub fn commands(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("commands.log")).unwrap_or_default()
    }

    /// sshd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// The temp dir, for the test's own files.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Stops sshd now.
    pub fn stop(&mut self) {
        self.child.take();
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
