//! bind9's `named` (Debian package `bind9`, and `bind9-utils` for
//! `tsig-keygen`) as the authoritative primary of one zone that accepts
//! RFC 2136 updates of TXT records signed with a TSIG key.
//!
//! Runs in the foreground (`named -g -4`) on its own config in a temp dir,
//! on a free port of 127.0.0.1, with no control channel; killed on drop.

use std::fs::File;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::peer::{KillOnDrop, PeerError, find_binary, free_port, io_error, wait_for_log, wait_for_port};

/// A running `named`, primary for one zone.
#[derive(Debug)]
pub struct Named {
    _child: KillOnDrop,
    addr: SocketAddr,
    zone: String,
    key_name: String,
    key_secret: String,
    dir: tempfile::TempDir,
}

impl Named {
    /// Starts `named` as primary for `zone` (e.g. `example.test`), with a
    /// TSIG key (hmac-sha256) allowed to update TXT records under it.
    /// `Ok(None)` when bind9 is not installed and `CI` is not `true`.
    pub fn start(zone: &str) -> Result<Option<Self>, PeerError> {
        // Ports are picked free, then given to the peer: another test may
        // take one in between. Start again with new ports if so.
        let mut attempts = 0;
        loop {
            match Self::start_once(zone) {
                Err(PeerError::NotReady { log, .. })
                    if attempts < 3
                        && (log.contains("address already in use") || log.contains("address in use")) =>
                {
                    attempts += 1;
                }
                other => return other,
            }
        }
    }

    fn start_once(zone: &str) -> Result<Option<Self>, PeerError> {
        let Some(named) = find_binary("named", "bind9")? else {
            return Ok(None);
        };
        let Some(keygen) = find_binary("tsig-keygen", "bind9-utils")? else {
            return Ok(None);
        };
        let dir = tempfile::tempdir().map_err(io_error("named"))?;
        let key_name = "paf-acme-test";
        let output = Command::new(keygen)
            .args(["-a", "hmac-sha256", key_name])
            .output()
            .map_err(io_error("tsig-keygen"))?;
        let key_conf = String::from_utf8_lossy(&output.stdout).into_owned();
        let key_secret = key_conf
            .split("secret \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| PeerError::Protocol {
                binary: "tsig-keygen".into(),
                what: format!("no secret in {key_conf:?}"),
            })?
            .to_string();
        let port = free_port().map_err(io_error("named"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let d = dir.path().display();
        let write = |name: &str, contents: &str| {
            std::fs::write(dir.path().join(name), contents).map_err(io_error("named"))
        };
        write("tsig.key", &key_conf)?;
        write(
            "zone.db",
            &format!(
                "$TTL 60\n@ IN SOA ns.{zone}. hostmaster.{zone}. 1 60 60 600 60\n@ IN NS ns.{zone}.\nns IN A 127.0.0.1\n"
            ),
        )?;
        write(
            "named.conf",
            &format!(
                r#"include "{d}/tsig.key";
options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
}};
controls {{ }};
zone "{zone}" {{
    type primary;
    file "{d}/zone.db";
    journal "{d}/zone.db.jnl";
    update-policy {{ grant {key_name} zonesub TXT; }};
}};
"#
            ),
        )?;
        let log = dir.path().join("named.log");
        let out = File::create(&log).map_err(io_error("named"))?;
        let err = out.try_clone().map_err(io_error("named"))?;
        let child = Command::new(named)
            .args(["-g", "-4", "-c"])
            .arg(dir.path().join("named.conf"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io_error("named"))?;
        let mut child = KillOnDrop(child);
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        wait_for_port(&mut child.0, "named", addr, Duration::from_secs(10), read_log)?;
        // named listens before its zones are loaded (updates then get
        // SERVFAIL): it logs `running` once they are.
        wait_for_log(
            &mut child.0,
            "named",
            addr,
            Duration::from_secs(10),
            "running",
            read_log,
        )?;
        Ok(Some(Self {
            _child: child,
            addr,
            zone: zone.to_string(),
            key_name: key_name.to_string(),
            key_secret,
            dir,
        }))
    }

    /// Where `named` listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The zone it is primary for.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The TSIG key as `name:algorithm:base64secret`
    /// (`paf-acme-test:hmac-sha256:...`).
    pub fn tsig_key(&self) -> String {
        format!("{}:hmac-sha256:{}", self.key_name, self.key_secret)
    }

    /// `named`'s log so far (a wrong TSIG shows up here as `BADSIG`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }
}
