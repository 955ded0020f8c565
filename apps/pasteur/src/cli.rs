//! The command line: raw flags (clap) -> a validated [`pasteur::Config`].
//! The flags are the original pasteur's (`-r`, `-h`, `-p`, `--https` and
//! its ACME and DNS options, `--ssh-*`), plus `--data`, `--listen`,
//! `--max`, `--length`, HTTP(S) remote credentials and `keygen`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gitkv::sync::Remote;
use paf::acme::dns01::{Rfc2136, TsigKey};
use paf::acme::{LETS_ENCRYPT, LETS_ENCRYPT_STAGING, Seed};
use pasteur::{Config, HttpsConfig, MAX_ID_LEN, MIN_ID_LEN, SyncTiming};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use smart::{Client, HostKeyPolicy, HttpAuth, HttpOptions, RemoteUrl, Scheme, SshKey, SshOptions};

/// A paste site whose pastes are commits in a Git repository.
///
/// With no arguments: http://127.0.0.1:4343, pastes in ./pasteur-data/pastes.git.
#[derive(Debug, Parser)]
#[command(name = "pasteur", version, disable_help_flag = true)]
pub(crate) struct Cli {
    /// Print help (`-h` is the hostname, as in the original pasteur).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(subcommand)]
    command: Option<Command>,
    /// Where pastes are pushed: git://, ssh://, user@host:path, http(s)://;
    /// `#branch` picks the remote branch.
    #[arg(short = 'r', long, value_name = "URL")]
    remote: Option<String>,
    /// The site's public host name (links and the certificate are for it).
    #[arg(short = 'h', long, value_name = "NAME")]
    hostname: Option<String>,
    /// The site's URL as clients see it, when another server (a TLS proxy
    /// such as contruno) is in front: links are made from it.
    #[arg(long, value_name = "URL", conflicts_with = "https")]
    public_url: Option<String>,
    /// A proxy in front (contruno): its X-Forwarded-For names the client
    /// for the rate limit. Repeat for several.
    #[arg(long, value_name = "IP")]
    trusted_proxy: Vec<IpAddr>,
    /// The port to listen on [default: 4343, 443 with --https].
    #[arg(short = 'p', long)]
    port: Option<u16>,
    /// The address to listen on (an IP, or IP:port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    listen: String,
    /// Where the repository (pastes.git) and the server's secret live.
    #[arg(long, value_name = "DIR", default_value = "pasteur-data")]
    data: PathBuf,
    /// Characters in a paste id.
    #[arg(long, default_value_t = 8)]
    length: usize,
    /// The largest paste (64KiB, 1MB, 100000, ...).
    #[arg(long, value_name = "SIZE", default_value = "64KiB")]
    max: bytesize::ByteSize,
    /// Pastes per client address and minute (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 60)]
    rate_limit: u32,
    /// Seconds between syncs with the remote when nothing happens.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    sync_interval: u64,
    /// SSH remotes: the client key derived from this seed (`keygen` makes one).
    #[arg(
        long,
        env = "PASTEUR_SSH_SEED",
        hide_env_values = true,
        conflicts_with = "ssh_key"
    )]
    ssh_seed: Option<String>,
    /// SSH remotes: an OpenSSH private key file.
    #[arg(long, value_name = "FILE")]
    ssh_key: Option<PathBuf>,
    /// SSH remotes: the server's host key fingerprint (`SHA256:...`, as
    /// `ssh-keygen -lf` prints it).
    #[arg(long, value_name = "SHA256:...")]
    ssh_auth: Option<String>,
    /// SSH remotes: a known_hosts file instead of --ssh-auth.
    #[arg(long, value_name = "FILE", conflicts_with = "ssh_auth")]
    ssh_known_hosts: Option<PathBuf>,
    /// HTTP(S) remotes: a bearer token.
    #[arg(long, env = "PASTEUR_REMOTE_TOKEN", hide_env_values = true)]
    remote_token: Option<String>,
    /// HTTP(S) remotes: the basic-auth user (or user:password@ in the URL).
    #[arg(long, value_name = "USER")]
    remote_user: Option<String>,
    /// HTTP(S) remotes: the basic-auth password.
    #[arg(long, env = "PASTEUR_REMOTE_PASSWORD", hide_env_values = true)]
    remote_password: Option<String>,
    /// HTTPS remotes: trust these PEM roots instead of the webpki roots.
    #[arg(long, value_name = "FILE")]
    remote_ca: Option<PathBuf>,
    /// Serve HTTPS with a certificate from Let's Encrypt (staging unless
    /// --production); port 80 answers HTTP-01 and redirects to HTTPS.
    #[arg(long, requires = "hostname")]
    https: bool,
    /// The ACME account's e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Seed of the certificate keys.
    #[arg(long, env = "PASTEUR_CERT_SEED", hide_env_values = true)]
    cert_seed: Option<String>,
    /// Seed of the ACME account key (same account after a restart).
    #[arg(long, env = "PASTEUR_ACCOUNT_SEED", hide_env_values = true)]
    account_seed: Option<String>,
    /// Let's Encrypt's production directory instead of staging.
    #[arg(long, conflicts_with = "acme_directory")]
    production: bool,
    /// Any other ACME directory URL.
    #[arg(long, value_name = "URL")]
    acme_directory: Option<String>,
    /// Trust these PEM roots for the ACME directory's HTTPS.
    #[arg(long, value_name = "FILE")]
    acme_ca: Option<PathBuf>,
    /// The plain-HTTP port of --https (HTTP-01 and redirects).
    #[arg(long, default_value_t = 80)]
    http_port: u16,
    /// DNS-01: the TSIG key, `name:algorithm:base64secret`.
    #[arg(long, env = "PASTEUR_DNS_KEY", hide_env_values = true, requires = "dns_addr")]
    dns_key: Option<TsigKey>,
    /// DNS-01: the primary server taking RFC 2136 updates.
    #[arg(long, value_name = "IP", requires = "dns_key")]
    dns_addr: Option<IpAddr>,
    /// DNS-01: its port.
    #[arg(long, default_value_t = 53)]
    dns_port: u16,
    /// DNS-01: the zone to update [default: the hostname without its first label].
    #[arg(long)]
    dns_zone: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a new SSH key seed and its public key line (for authorized_keys).
    Keygen,
}

/// The flags do not make a configuration.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("--length must be between {MIN_ID_LEN} and {MAX_ID_LEN}")]
    Length,
    #[error("--max must be at least 1 byte")]
    Max,
    #[error("--listen {0:?}: not an IP address or IP:port")]
    Listen(String),
    #[error("--remote {url:?}")]
    Remote { url: String, source: smart::UrlError },
    #[error("--ssh-key {path}")]
    SshKey {
        path: PathBuf,
        source: smart::ssh::KeyError,
    },
    #[error("an SSH remote needs a key: --ssh-seed or --ssh-key (`pasteur keygen` makes a seed)")]
    SshKeyMissing,
    #[error("an SSH remote needs the server's key: --ssh-auth SHA256:... or --ssh-known-hosts FILE")]
    SshHostKeyMissing,
    #[error("--remote-password needs --remote-user")]
    PasswordWithoutUser,
    #[error("cannot read PEM roots from {path}")]
    Roots {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("{path}: unusable root certificate")]
    Root { path: PathBuf, source: rustls::Error },
    #[error("{0}: a seed")]
    Seed(&'static str, #[source] paf::acme::keys::KeyError),
    #[error("--public-url {0:?}: an http(s) URL with a host and no path")]
    PublicUrl(String),
    #[error("--dns-zone is needed: the hostname {0:?} has no parent zone")]
    DnsZone(String),
    #[error("DNS-01 setup")]
    Dns(#[from] paf::acme::dns01::DnsError),
    #[error("the system random generator failed")]
    Random,
}

/// What to do.
pub(crate) enum Action {
    Serve(Box<Config>),
    Keygen,
}

impl Cli {
    pub(crate) fn action(self) -> Result<Action, CliError> {
        if let Some(Command::Keygen) = self.command {
            return Ok(Action::Keygen);
        }
        if !(MIN_ID_LEN..=MAX_ID_LEN).contains(&self.length) {
            return Err(CliError::Length);
        }
        if self.max.as_u64() == 0 {
            return Err(CliError::Max);
        }
        let port = self.port.unwrap_or(if self.https { 443 } else { 4343 });
        let listen = match (self.listen.parse::<SocketAddr>(), self.listen.parse::<IpAddr>()) {
            (Ok(addr), _) => addr,
            (_, Ok(ip)) => SocketAddr::new(ip, port),
            _ => return Err(CliError::Listen(self.listen.clone())),
        };
        let mut config = Config::new(&self.data);
        config.listen = listen;
        config.id_length = self.length;
        config.max_size = self.max.as_u64();
        config.rate_per_minute = self.rate_limit;
        config.trusted_proxies = self.trusted_proxy.clone();
        config.sync = SyncTiming {
            interval: Duration::from_secs(self.sync_interval.max(1)),
            ..SyncTiming::default()
        };
        config.public_url = self.hostname.as_ref().map(|host| {
            let (scheme, default) = if self.https { ("https", 443) } else { ("http", 80) };
            if listen.port() == default {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}:{}", listen.port())
            }
        });
        if let Some(url) = &self.public_url {
            let parsed: http::Uri = url.parse().map_err(|_| CliError::PublicUrl(url.clone()))?;
            let ok = matches!(parsed.scheme_str(), Some("http" | "https"))
                && parsed.authority().is_some()
                && parsed.path_and_query().is_none_or(|p| p.as_str() == "/");
            if !ok {
                return Err(CliError::PublicUrl(url.clone()));
            }
            config.public_url = Some(url.trim_end_matches('/').to_string());
        }
        if let Some(url) = &self.remote {
            config.remote = Some(self.remote(url)?);
        }
        if self.https {
            config.https = Some(self.https_config(listen.ip())?);
        }
        Ok(Action::Serve(Box::new(config)))
    }

    fn remote(&self, text: &str) -> Result<Remote, CliError> {
        let url = RemoteUrl::parse(text).map_err(|source| CliError::Remote {
            url: text.to_string(),
            source,
        })?;
        let mut client = Client::new(mimic::Resolver::new());
        match url.scheme() {
            Scheme::Ssh => {
                let key = match (&self.ssh_seed, &self.ssh_key) {
                    (Some(seed), _) => ssh_key_from_seed(seed).map_err(|source| CliError::SshKey {
                        path: PathBuf::from("--ssh-seed"),
                        source,
                    })?,
                    (None, Some(path)) => {
                        SshKey::from_file(path, None).map_err(|source| CliError::SshKey {
                            path: path.clone(),
                            source,
                        })?
                    }
                    (None, None) => return Err(CliError::SshKeyMissing),
                };
                let host_key = match (&self.ssh_auth, &self.ssh_known_hosts) {
                    (Some(fingerprint), _) => HostKeyPolicy::Fingerprint(fingerprint.clone()),
                    (None, Some(path)) => HostKeyPolicy::KnownHosts(path.clone()),
                    (None, None) => return Err(CliError::SshHostKeyMissing),
                };
                client = client.with_ssh(SshOptions::new(key, host_key));
            }
            Scheme::Http | Scheme::Https => {
                let auth = match (&self.remote_token, &self.remote_user, &self.remote_password) {
                    (Some(token), _, _) => Some(HttpAuth::Bearer(token.clone())),
                    (None, Some(user), password) => Some(HttpAuth::Basic {
                        user: user.clone(),
                        password: password.clone().unwrap_or_default(),
                    }),
                    (None, None, Some(_)) => return Err(CliError::PasswordWithoutUser),
                    (None, None, None) => None,
                };
                let tls_roots = self.remote_ca.as_ref().map(roots).transpose()?;
                client = client.with_http(HttpOptions { auth, tls_roots });
            }
            _ => {}
        }
        Ok(Remote::new("origin", url).with_client(client))
    }

    fn https_config(&self, ip: IpAddr) -> Result<HttpsConfig, CliError> {
        let hostname = self.hostname.clone().unwrap_or_default();
        let directory = match (&self.acme_directory, self.production) {
            (Some(url), _) => url.clone(),
            (None, true) => LETS_ENCRYPT.to_string(),
            (None, false) => LETS_ENCRYPT_STAGING.to_string(),
        };
        let dns = match (&self.dns_key, self.dns_addr) {
            (Some(key), Some(addr)) => {
                let zone = match &self.dns_zone {
                    Some(zone) => zone.clone(),
                    None => match hostname.split_once('.') {
                        Some((_, parent)) if parent.contains('.') || !parent.is_empty() => parent.to_string(),
                        _ => return Err(CliError::DnsZone(hostname.clone())),
                    },
                };
                Some(Rfc2136::new(SocketAddr::new(addr, self.dns_port), &zone, key)?)
            }
            _ => None,
        };
        let seed = |label: &'static str, text: &Option<String>| {
            text.as_ref()
                .map(|t| Seed::new(derive(label, t)).map_err(|e| CliError::Seed(label, e)))
                .transpose()
        };
        Ok(HttpsConfig {
            http_listen: SocketAddr::new(ip, self.http_port),
            directory,
            directory_roots: self.acme_ca.as_ref().map(roots).transpose()?,
            email: self.email.clone(),
            account_seed: seed("--account-seed", &self.account_seed)?,
            cert_seed: seed("--cert-seed", &self.cert_seed)?,
            dns,
            check_every: Duration::from_secs(12 * 3600),
            hostname,
        })
    }
}

/// 32 bytes from a seed of any length, distinct per use.
fn derive(label: &str, seed: &str) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"pasteur ");
    ctx.update(label.as_bytes());
    ctx.update(b"\0");
    ctx.update(seed.as_bytes());
    ctx.finish().as_ref().to_vec()
}

/// `--ssh-seed`: `rsa:SEED` or `ed25519:SEED`, or a bare seed (Ed25519).
pub(crate) fn ssh_key_from_seed(seed: &str) -> Result<SshKey, smart::ssh::KeyError> {
    if seed.starts_with("rsa:") || seed.starts_with("ed25519:") {
        SshKey::from_spec(seed)
    } else {
        SshKey::from_spec(&format!("ed25519:{seed}"))
    }
}

/// A new random seed (24 bytes, base64).
pub(crate) fn new_seed() -> Result<String, CliError> {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| CliError::Random)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn roots(path: &PathBuf) -> Result<Arc<RootCertStore>, CliError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| CliError::Roots {
            path: path.clone(),
            source,
        })?;
    let mut store = RootCertStore::empty();
    for cert in certs {
        store.add(cert).map_err(|source| CliError::Root {
            path: path.clone(),
            source,
        })?;
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Action, CliError> {
        let mut all = vec!["pasteur"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().action()
    }

    fn config(args: &[&str]) -> Config {
        match parse(args) {
            Ok(Action::Serve(config)) => *config,
            Ok(Action::Keygen) => panic!("keygen"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn public_url_behind_a_proxy() {
        let c = config(&["--public-url", "https://paste.example.com/"]);
        assert_eq!(c.public_url.as_deref(), Some("https://paste.example.com"));
        for bad in ["paste.example.com", "ftp://x", "https://x/sub"] {
            assert!(parse(&["--public-url", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_arguments_is_localhost_4343() {
        let c = config(&[]);
        assert_eq!(c.listen, "127.0.0.1:4343".parse().unwrap());
        assert_eq!(c.max_size, 64 * 1024);
        assert_eq!(c.id_length, 8);
        assert_eq!(c.data_dir, PathBuf::from("pasteur-data"));
        assert!(c.remote.is_none() && c.https.is_none() && c.public_url.is_none());
    }

    #[test]
    fn the_original_flags() {
        let c = config(&[
            "-h",
            "paste.example.com",
            "-p",
            "8080",
            "--max",
            "1MiB",
            "--length",
            "12",
            "-r",
            "git://127.0.0.1/p.git#pastes",
        ]);
        assert_eq!(c.public_url.as_deref(), Some("http://paste.example.com:8080"));
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.max_size, 1024 * 1024);
        assert_eq!(c.id_length, 12);
        assert_eq!(c.remote.unwrap().url().branch(), Some("pastes"));
        assert!(
            Cli::try_parse_from(["pasteur", "--help"]).is_err(),
            "--help prints help"
        );
        let c = config(&["--listen", "0.0.0.0:9000"]);
        assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
    }

    #[test]
    fn https_defaults_to_443_and_staging() {
        let c = config(&[
            "--https",
            "-h",
            "example.com",
            "--cert-seed",
            "x",
            "--account-seed",
            "y",
        ]);
        assert_eq!(c.listen.port(), 443);
        assert_eq!(c.public_url.as_deref(), Some("https://example.com"));
        let https = c.https.unwrap();
        assert_eq!(https.directory, LETS_ENCRYPT_STAGING);
        assert_eq!(https.http_listen.port(), 80);
        assert!(https.cert_seed.is_some() && https.account_seed.is_some());
        assert!(
            Cli::try_parse_from(["pasteur", "--https"]).is_err(),
            "--https needs -h"
        );
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(matches!(parse(&["--length", "2"]), Err(CliError::Length)));
        assert!(matches!(
            parse(&["--listen", "nowhere"]),
            Err(CliError::Listen(_))
        ));
        assert!(matches!(
            parse(&["-r", "ssh://git@h/r.git"]),
            Err(CliError::SshKeyMissing)
        ));
        assert!(matches!(
            parse(&["-r", "ssh://git@h/r.git", "--ssh-seed", "s"]),
            Err(CliError::SshHostKeyMissing)
        ));
        assert!(matches!(
            parse(&["-r", "http://h/r.git", "--remote-password", "p"]),
            Err(CliError::PasswordWithoutUser)
        ));
        assert!(Cli::try_parse_from(["pasteur", "--max", "lots"]).is_err());
    }

    #[test]
    fn seeds_give_stable_keys() {
        let a = ssh_key_from_seed("abc").unwrap();
        let b = ssh_key_from_seed("ed25519:abc").unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(new_seed().unwrap(), new_seed().unwrap());
    }
}
