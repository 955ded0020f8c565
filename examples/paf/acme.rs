//! Get a certificate from an ACME directory (Let's Encrypt, its staging, or
//! pebble), answering the challenge with a paf server of its own, and write
//! `fullchain.pem` and `key.pem`.
//!
//! ```text
//! # Let's Encrypt staging, HTTP-01 on port 80 of this machine:
//! cargo run -p examples --example paf-acme -- --domain example.com --out certs/
//! # production, TLS-ALPN-01 on port 443, keys from a seed (same account after a restart):
//! cargo run -p examples --example paf-acme -- --production --challenge tls-alpn-01 \
//!     --seed-file acme-seed --domain example.com --domain www.example.com --out certs/
//! # a pebble of your own, whose API certificate your CA signed:
//! cargo run -p examples --example paf-acme -- --directory https://127.0.0.1:14000/dir \
//!     --ca ca.pem --listen 127.0.0.1:5002 --domain a.example.test --out certs/
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use paf::acme::{AcmeBuilder, CertKey, Http01Tokens, LETS_ENCRYPT, LETS_ENCRYPT_STAGING, Seed, Solver};
use paf::certs::Certificates;
use paf::{Body, Server, service_fn};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Challenge {
    /// Tokens served over HTTP (port 80 of every name).
    #[value(name = "http-01")]
    Http01,
    /// A validation certificate served on TLS with ALPN `acme-tls/1` (port 443).
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
}

/// Get a certificate from an ACME directory and write it to a directory.
#[derive(Parser)]
struct Args {
    /// A name the certificate is for (repeat for more).
    #[arg(long = "domain", required = true)]
    domains: Vec<String>,
    /// Where `fullchain.pem` and `key.pem` go.
    #[arg(long)]
    out: PathBuf,
    /// The directory URL; Let's Encrypt's staging by default.
    #[arg(long, conflicts_with = "production")]
    directory: Option<String>,
    /// Let's Encrypt's production directory.
    #[arg(long)]
    production: bool,
    /// Trust these roots (PEM) for the directory's HTTPS instead of the
    /// webpki roots.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// How to prove control of the names.
    #[arg(long, value_enum, default_value_t = Challenge::Http01)]
    challenge: Challenge,
    /// Where the challenge server listens (default 0.0.0.0:80 for
    /// http-01, 0.0.0.0:443 for tls-alpn-01).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// A file whose bytes (32 or more) seed the account and certificate
    /// keys; random keys otherwise.
    #[arg(long)]
    seed_file: Option<PathBuf>,
    /// A contact for the account (`mailto:...`).
    #[arg(long)]
    contact: Option<String>,
}

async fn not_found(_req: Request<Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut res = Response::new(Full::new(Bytes::from_static(
        b"nothing here but ACME challenges\n",
    )));
    *res.status_mut() = StatusCode::NOT_FOUND;
    Ok(res)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let directory = match (&args.directory, args.production) {
        (Some(url), _) => url.clone(),
        (None, true) => LETS_ENCRYPT.to_string(),
        (None, false) => LETS_ENCRYPT_STAGING.to_string(),
    };
    let seed = match &args.seed_file {
        Some(path) => Some(Seed::new(std::fs::read(path)?)?),
        None => None,
    };
    let (account_key, cert_key) = match &seed {
        Some(seed) => (seed.account_key()?, seed.certificate_key(&args.domains[0])?),
        None => (paf::acme::AccountKey::generate()?, CertKey::generate()?),
    };
    let mut builder = AcmeBuilder::new(&directory, account_key).request_timeout(Duration::from_secs(30));
    if let Some(contact) = &args.contact {
        builder = builder.contact(contact);
    }
    if let Some(ca) = &args.ca {
        builder = builder.roots(examples::roots_from_pem(ca)?);
    }
    let client = builder.connect().await?;
    eprintln!("account {} at {directory}", client.account_id());

    // The challenge server runs for as long as the order does.
    let (solver, server) = match args.challenge {
        Challenge::Http01 => {
            let tokens = Http01Tokens::new();
            let listen = args.listen.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 80)));
            let server = Server::builder().bind(listen).await?;
            eprintln!("answering http-01 on {}", server.local_addr()?);
            let serving = server.serve(tokens.layer(service_fn(not_found)));
            (Solver::Http01(tokens), tokio::spawn(serving))
        }
        Challenge::TlsAlpn01 => {
            let certs = Arc::new(Certificates::new());
            let listen = args.listen.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 443)));
            let server = Server::builder().tls(certs.clone())?.bind(listen).await?;
            eprintln!("answering tls-alpn-01 on {}", server.local_addr()?);
            let serving = server.serve(service_fn(not_found));
            (Solver::TlsAlpn01(certs), tokio::spawn(serving))
        }
    };
    let issued = client.issue(&args.domains, &cert_key, &solver).await;
    server.abort();
    let issued = issued?;

    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("fullchain.pem"), &issued.chain_pem)?;
    write_private(&args.out.join("key.pem"), issued.key_pem.as_bytes())?;
    let days = issued
        .not_after
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs()
        / 86_400;
    println!(
        "{}: certificate for {} (valid {days} more days)",
        args.out.display(),
        args.domains.join(", ")
    );
    Ok(())
}

/// Writes a private key readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
