//! `contruno`: the proxy. See the crate docs for what it does.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use contruno::password::PasswordHash;
use contruno::remote::RemoteArgs;

/// A TLS termination proxy whose routes and certificates live in a Git repository.
#[derive(Debug, Parser)]
#[command(name = "contruno", version, disable_help_flag = true)]
struct Cli {
    #[command(flatten)]
    remote: RemoteArgs,
    /// The local copy of the repository lives here (`<DIR>/routes.git`).
    #[arg(long, default_value = "contruno-data", value_name = "DIR")]
    data: PathBuf,
    /// The branch of the routes.
    #[arg(long, default_value = "main")]
    branch: String,
    /// The TLS listener.
    #[arg(long, default_value = "0.0.0.0:443")]
    listen: SocketAddr,
    /// Port 80's listener (redirect to https); `none` for none.
    #[arg(long, default_value = "0.0.0.0:80")]
    http_listen: String,
    /// The admin listener (`contruno-add -t` posts reloads there); `none` for none.
    #[arg(long, default_value = "127.0.0.1:9080")]
    admin: String,
    /// The reload password (else the hash `contruno-add --pass` stored in the repository).
    #[arg(long, env = "CONTRUNO_PASS", hide_env_values = true)]
    pass: Option<String>,
    /// Seconds between fetches of the remote.
    #[arg(long, default_value_t = 60)]
    fetch_every: u64,
    /// Order certificates by ACME for domains without one (HTTP-01 on port 80).
    #[arg(long)]
    acme: bool,
    /// ACME: the account's contact e-mail.
    #[arg(long, requires = "acme")]
    email: Option<String>,
    /// ACME: derive the account key from this seed (same account after a restart).
    #[arg(
        long,
        env = "CONTRUNO_ACCOUNT_SEED",
        hide_env_values = true,
        requires = "acme"
    )]
    account_seed: Option<String>,
    /// ACME: Let's Encrypt's production directory (staging by default).
    #[arg(long, conflicts_with = "acme_directory", requires = "acme")]
    production: bool,
    /// ACME: any other directory URL.
    #[arg(long, value_name = "URL", requires = "acme")]
    acme_directory: Option<String>,
    /// ACME: the challenge answered: `http-01` (port 80) or `tls-alpn-01` (the TLS listener).
    #[arg(long, default_value = "http-01", requires = "acme")]
    acme_challenge: contruno::acme::Challenge,
    /// ACME: trust these PEM roots for the directory's HTTPS.
    #[arg(long, value_name = "FILE", requires = "acme")]
    acme_ca: Option<PathBuf>,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

fn optional_addr(flag: &str, text: &str) -> Result<Option<SocketAddr>, String> {
    if text == "none" {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("{flag} {text}: not an address (ip:port) or `none`"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let config = match config(&cli) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::from(2);
        }
    };
    // One core (a pinned proxy): the current-thread scheduler, without the
    // work-stealing machinery a single worker does not use.
    let one_core = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_core {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

fn config(cli: &Cli) -> Result<contruno::Config, String> {
    let mut config = contruno::Config::new(&cli.data);
    config.branch = cli.branch.clone();
    config.listen = cli.listen;
    config.http_listen = optional_addr("--http-listen", &cli.http_listen)?;
    config.admin = optional_addr("--admin", &cli.admin)?;
    config.remote = cli.remote.remote().map_err(|e| contruno::error_chain(&e))?;
    config.fetch_every = Duration::from_secs(cli.fetch_every.max(1));
    if cli.acme {
        let directory = match (&cli.acme_directory, cli.production) {
            (Some(url), _) => url.clone(),
            (None, true) => paf::acme::LETS_ENCRYPT.to_string(),
            (None, false) => paf::acme::LETS_ENCRYPT_STAGING.to_string(),
        };
        let mut acme = contruno::acme::AcmeConfig::new(directory);
        acme.email = cli.email.clone();
        acme.challenge = cli.acme_challenge;
        acme.account_seed = cli
            .account_seed
            .as_deref()
            .map(|seed| {
                let digest = ring::digest::digest(
                    &ring::digest::SHA256,
                    format!("contruno account {seed}").as_bytes(),
                );
                paf::acme::Seed::new(digest.as_ref()).map_err(|e| format!("--account-seed: {e}"))
            })
            .transpose()?;
        acme.directory_roots = cli.acme_ca.as_deref().map(roots).transpose()?;
        config.acme = Some(acme);
    }
    config.password = cli
        .pass
        .as_deref()
        .map(PasswordHash::new)
        .transpose()
        .map_err(|e| contruno::error_chain(&e))?;
    Ok(config)
}

async fn run(config: contruno::Config) -> ExitCode {
    let running = match contruno::start(config).await {
        Ok(running) => running,
        Err(error) => {
            tracing::error!("{}", contruno::error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    let control = running.controller();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) => {
                let control = control.clone();
                tokio::spawn(async move {
                    while hangups.recv().await.is_some() {
                        tracing::info!(target: "contruno", "SIGHUP: reloading");
                        if let Err(error) = control.reload().await {
                            tracing::warn!(target: "contruno", error = %contruno::error_chain(&error), "reload failed; still serving the last routes");
                        }
                    }
                });
            }
            Err(error) => tracing::warn!("no SIGHUP handler: {error}"),
        }
    }
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!(target: "contruno", "stopping");
            control.shutdown(Duration::from_secs(10));
        }
    });
    match running.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{}", contruno::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

fn roots(path: &std::path::Path) -> Result<std::sync::Arc<rustls::RootCertStore>, String> {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--acme-ca {}: {e}", path.display()))?;
    let mut store = rustls::RootCertStore::empty();
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| format!("--acme-ca {}: {e}", path.display()))?;
    }
    Ok(std::sync::Arc::new(store))
}
