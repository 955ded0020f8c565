//! `contruno-add`: registers a domain in contruno's repository (by a
//! push), removes one or lists them, and tells the running proxy to
//! reload. The original's flags are kept (`-h` is the domain; help is
//! `--help`).

// A command-line tool: what it prints is its interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use contruno::add::{self, Change, Registration};
use contruno::remote::RemoteArgs;

/// Register a domain with contruno (push to its repository, then ask it to reload).
#[derive(Debug, Parser)]
#[command(name = "contruno-add", version, disable_help_flag = true)]
struct Cli {
    #[command(flatten)]
    remote: RemoteArgs,
    /// The domain.
    #[arg(
        short = 'h',
        long = "hostname",
        value_name = "DOMAIN",
        required_unless_present = "list"
    )]
    domain: Option<String>,
    /// A backend (`host:port` or `http(s)://host:port`); repeat for several (round robin).
    #[arg(short = 'i', long = "backend", value_name = "BACKEND")]
    backends: Vec<String>,
    /// What the backends speak, comma separated (`http/1.1`, `h2`).
    #[arg(long, value_delimiter = ',', default_value = "http/1.1")]
    alpn: Vec<String>,
    /// The certificate chain (PEM); without it, the proxy orders one by ACME.
    #[arg(long, requires = "privkey")]
    cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(short = 'p', long = "privkey", requires = "cert")]
    privkey: Option<PathBuf>,
    /// The reload password (the first registration with one stores its hash).
    #[arg(long, env = "CONTRUNO_PASS", hide_env_values = true)]
    pass: Option<String>,
    /// Tell the proxy at this admin address (`host:port`) to reload.
    #[arg(short = 't', long = "target", value_name = "CONTRUNO_ADDR", requires = "pass")]
    target: Option<String>,
    /// The branch of the routes.
    #[arg(long, default_value = "main")]
    branch: String,
    /// Remove the domain instead.
    #[arg(long, conflicts_with_all = ["backends", "cert"])]
    remove: bool,
    /// List the registered domains.
    #[arg(long, conflicts_with_all = ["remove", "backends", "cert", "target"])]
    list: bool,
    /// The commit's author name.
    #[arg(long, default_value = "contruno-add")]
    author: String,
    /// The commit's author e-mail.
    #[arg(long, default_value = "contruno-add@localhost")]
    email: String,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("contruno-add: tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("contruno-add: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let chain = |e: &(dyn std::error::Error + 'static)| contruno::error_chain(e);
    let remote = cli
        .remote
        .remote()
        .map_err(|e| chain(&e))?
        .ok_or("-r/--remote is needed: the routes repository")?;
    let author = gitkv::Signature::new(&cli.author, &cli.email).map_err(|e| chain(&e))?;
    if cli.list {
        for listed in add::list(&remote, &cli.branch, &author)
            .await
            .map_err(|e| chain(&e))?
        {
            let cert = match listed.not_after {
                Some(t) => {
                    let secs = t
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default();
                    format!("certificate until {secs} (unix)")
                }
                None => "no certificate".to_string(),
            };
            println!("{}\t{}\t{cert}", listed.domain, listed.backends.join(","));
        }
        return Ok(());
    }
    let domain = cli.domain.clone().unwrap_or_default();
    let change = if cli.remove {
        Change::Remove(domain.clone())
    } else {
        if cli.backends.is_empty() {
            return Err(format!("{domain}: at least one backend (-i host:port)"));
        }
        let cert = match (&cli.cert, &cli.privkey) {
            (Some(cert), Some(key)) => {
                let read =
                    |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
                Some((read(cert)?, read(key)?))
            }
            _ => None,
        };
        Change::Add(Registration {
            domain: domain.clone(),
            backends: cli.backends.clone(),
            alpn: cli.alpn.clone(),
            cert,
        })
    };
    let commit = add::apply(&remote, &cli.branch, &change, cli.pass.as_deref(), &author)
        .await
        .map_err(|e| chain(&e))?;
    eprintln!("contruno-add: {domain}: pushed {commit}");
    if let (Some(target), Some(pass)) = (&cli.target, &cli.pass) {
        let report = add::notify(target, pass).await.map_err(|e| chain(&e))?;
        println!("{report}");
    }
    Ok(())
}
