//! pebble, the ACME test server of Let's Encrypt (Debian package `pebble`),
//! with `pebble-challtestsrv` answering every name with 127.0.0.1, or with a
//! DNS server of the test's choosing (bind9 for DNS-01).
//!
//! Each instance has its own temp dir, its own CA and leaf for its HTTPS API
//! (pebble ships none), free ports on 127.0.0.1, and is killed on drop.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, ServerName};

use crate::peer::{KillOnDrop, PeerError, find_binary, free_port, io_error, wait_for_port};
use crate::tls::TestCa;

/// How to start pebble.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PebbleOptions {
    /// The port pebble connects to on 127.0.0.1 for HTTP-01 (pebble's `httpPort`).
    pub http_port: u16,
    /// The port pebble connects to on 127.0.0.1 for TLS-ALPN-01 (pebble's `tlsPort`).
    pub tls_port: u16,
    /// The DNS server pebble asks (`-dnsserver`); `None` starts
    /// `pebble-challtestsrv` answering 127.0.0.1 for every name.
    pub dns_server: Option<SocketAddr>,
    /// The share of good nonces pebble rejects as bad, in percent
    /// (`PEBBLE_WFE_NONCEREJECT`; pebble's default is 5).
    pub nonce_reject_percent: u8,
    /// The share of authorizations pebble reuses, in percent (`PEBBLE_AUTHZREUSE`).
    pub authz_reuse_percent: u8,
}

impl PebbleOptions {
    /// Options with the given challenge ports, challtestsrv as DNS, no nonce
    /// rejection and no authorization reuse.
    pub fn new(http_port: u16, tls_port: u16) -> Self {
        Self {
            http_port,
            tls_port,
            dns_server: None,
            nonce_reject_percent: 0,
            authz_reuse_percent: 0,
        }
    }
}

/// A running pebble (and its challtestsrv); both killed on drop.
#[derive(Debug)]
pub struct Pebble {
    _pebble: KillOnDrop,
    _challtestsrv: Option<KillOnDrop>,
    ca: TestCa,
    listen: SocketAddr,
    management: SocketAddr,
    dir: tempfile::TempDir,
}

impl Pebble {
    /// Starts pebble; `Ok(None)` when it is not installed and `CI` is not
    /// `true` (the test then skips).
    pub fn start(options: &PebbleOptions) -> Result<Option<Self>, PeerError> {
        // Ports are picked free, then given to the peer: another test may
        // take one in between. Start again with new ports if so.
        let mut attempts = 0;
        loop {
            match Self::start_once(options) {
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

    fn start_once(options: &PebbleOptions) -> Result<Option<Self>, PeerError> {
        let Some(pebble) = find_binary("pebble", "pebble")? else {
            return Ok(None);
        };
        let challtestsrv = match options.dns_server {
            Some(_) => None,
            None => match find_binary("pebble-challtestsrv", "pebble")? {
                Some(path) => Some(path),
                None => return Ok(None),
            },
        };
        let dir = tempfile::tempdir().map_err(io_error("pebble"))?;
        let ca = TestCa::new("testkit pebble API CA")?;
        let leaf = ca.issue(&["localhost", "127.0.0.1"])?;
        let write = |name: &str, contents: &str| -> Result<PathBuf, PeerError> {
            let path = dir.path().join(name);
            std::fs::write(&path, contents).map_err(io_error("pebble"))?;
            Ok(path)
        };
        let cert = write("cert.pem", leaf.chain_pem())?;
        let key = write("key.pem", leaf.key_pem())?;

        let challtestsrv = match challtestsrv {
            None => None,
            Some(binary) => {
                let dns = SocketAddr::from((
                    [127, 0, 0, 1],
                    free_port().map_err(io_error("pebble-challtestsrv"))?,
                ));
                let management = free_port().map_err(io_error("pebble-challtestsrv"))?;
                let log = dir.path().join("challtestsrv.log");
                let out = File::create(&log).map_err(io_error("pebble-challtestsrv"))?;
                let err = out.try_clone().map_err(io_error("pebble-challtestsrv"))?;
                let child = Command::new(binary)
                    .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
                    .args(["-dns01", &dns.to_string()])
                    .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
                    .args(["-management", &format!("127.0.0.1:{management}")])
                    .stdin(Stdio::null())
                    .stdout(out)
                    .stderr(err)
                    .spawn()
                    .map_err(io_error("pebble-challtestsrv"))?;
                let mut child = KillOnDrop(child);
                // challtestsrv's DNS is UDP+TCP on the same port: wait for TCP.
                wait_for_port(
                    &mut child.0,
                    "pebble-challtestsrv",
                    dns,
                    Duration::from_secs(10),
                    || std::fs::read_to_string(&log).unwrap_or_default(),
                )?;
                Some((child, dns))
            }
        };
        let dns_server = match (&challtestsrv, options.dns_server) {
            (Some((_, dns)), _) => *dns,
            (None, Some(dns)) => dns,
            (None, None) => unreachable!("challtestsrv starts when no DNS server is given"),
        };

        let listen = SocketAddr::from(([127, 0, 0, 1], free_port().map_err(io_error("pebble"))?));
        let management = SocketAddr::from(([127, 0, 0, 1], free_port().map_err(io_error("pebble"))?));
        let config = format!(
            r#"{{"pebble": {{"listenAddress": "{listen}", "managementListenAddress": "{management}",
  "certificate": "{cert}", "privateKey": "{key}", "httpPort": {http}, "tlsPort": {tls},
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}}}"#,
            cert = cert.display(),
            key = key.display(),
            http = options.http_port,
            tls = options.tls_port,
        );
        let config_path = write("pebble-config.json", &config)?;
        let log = dir.path().join("pebble.log");
        let out = File::create(&log).map_err(io_error("pebble"))?;
        let err = out.try_clone().map_err(io_error("pebble"))?;
        let child = Command::new(pebble)
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &dns_server.to_string()])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", options.nonce_reject_percent.to_string())
            .env("PEBBLE_AUTHZREUSE", options.authz_reuse_percent.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io_error("pebble"))?;
        let mut child = KillOnDrop(child);
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        wait_for_port(&mut child.0, "pebble", listen, Duration::from_secs(10), read_log)?;
        wait_for_port(
            &mut child.0,
            "pebble",
            management,
            Duration::from_secs(10),
            read_log,
        )?;
        Ok(Some(Self {
            _pebble: child,
            _challtestsrv: challtestsrv.map(|(child, _)| child),
            ca,
            listen,
            management,
            dir,
        }))
    }

    /// The ACME directory URL (`https://127.0.0.1:PORT/dir`).
    pub fn directory_url(&self) -> String {
        format!("https://{}/dir", self.listen)
    }

    /// The CA that signed pebble's own HTTPS certificate: the ACME client must trust it.
    pub fn api_ca(&self) -> &TestCa {
        &self.ca
    }

    /// pebble's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// The root that issues certificates (new at every start), fetched from
    /// the management port's `/roots/0`.
    pub fn issuing_root(&self) -> Result<CertificateDer<'static>, PeerError> {
        let pem = self.issuing_root_pem()?;
        rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).map_err(|e| PeerError::Protocol {
            binary: "pebble".into(),
            what: format!("/roots/0 is not a PEM certificate: {e}"),
        })
    }

    /// The same root as PEM, as pebble gives it (for `curl --cacert`).
    pub fn issuing_root_pem(&self) -> Result<String, PeerError> {
        let pem = self.management_get("/roots/0")?;
        String::from_utf8(pem).map_err(|_| PeerError::Protocol {
            binary: "pebble".into(),
            what: "/roots/0 is not UTF-8".into(),
        })
    }

    /// A GET on the management port; the body.
    pub fn management_get(&self, path: &str) -> Result<Vec<u8>, PeerError> {
        https_get(&self.ca, self.management, path)
    }
}

/// A minimal blocking HTTPS/1.1 GET that trusts `ca` only.
fn https_get(ca: &TestCa, addr: SocketAddr, path: &str) -> Result<Vec<u8>, PeerError> {
    let tls = |source| PeerError::Tls {
        binary: "pebble".into(),
        source,
    };
    let config = Arc::new(ca.client_config(&[b"http/1.1"])?);
    let name = ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(config, name).map_err(tls)?;
    let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(io_error("pebble"))?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io_error("pebble"))?;
    let mut stream = rustls::StreamOwned::new(conn, sock);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(io_error("pebble"))?;
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        // pebble may close without close_notify; what was read is complete
        // (Connection: close).
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(io_error("pebble")(e)),
    }
    let protocol = |what: &str| PeerError::Protocol {
        binary: "pebble".into(),
        what: format!("GET {path}: {what}"),
    };
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| protocol("no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(protocol(head.lines().next().unwrap_or("")));
    }
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return Err(protocol("chunked bodies are not supported here"));
    }
    Ok(response[split + 4..].to_vec())
}
