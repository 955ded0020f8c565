//! A tiny git client on smart: ls-remote, clone, fetch and push over
//! git:// (SSH and HTTP when smart has them), with the server's progress
//! on stderr.
//!
//! ```text
//! cargo run -p examples --example smart -- ls-remote git://127.0.0.1/repo.git
//! cargo run -p examples --example smart -- clone --depth 1 git://127.0.0.1/repo.git repo.git
//! cargo run -p examples --example smart -- fetch git://127.0.0.1/repo.git repo.git
//! cargo run -p examples --example smart -- push git://127.0.0.1/repo.git . main +dev:dev :old
//! ```
//!
//! Exit status: 0 done, 1 some ref of a push was rejected, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use smart::{Client, FetchOptions, Progress, PushOptions, PushStatus, Refspec, RemoteUrl};

/// Git smart protocol client (no git executable needed).
#[derive(Parser)]
#[command(name = "smart")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the remote's refs (`git ls-remote`).
    LsRemote {
        /// The remote (`git://host/path`, `#branch` allowed).
        url: RemoteUrl,
    },
    /// Clone into a new bare repository (`git clone --bare`).
    Clone {
        /// The remote.
        url: RemoteUrl,
        /// The new repository's directory.
        dir: PathBuf,
        /// Only this many commits of history.
        #[arg(long)]
        depth: Option<u32>,
    },
    /// Fetch branches and tags into an existing repository.
    Fetch {
        /// The remote.
        url: RemoteUrl,
        /// The repository.
        dir: PathBuf,
        /// Limit (or deepen) history to this many commits.
        #[arg(long)]
        depth: Option<u32>,
    },
    /// Push refs (`[+]src[:dst]`, `:dst` deletes).
    Push {
        /// The remote.
        url: RemoteUrl,
        /// The local repository.
        dir: PathBuf,
        /// What to push.
        #[arg(required = true)]
        refspecs: Vec<Refspec>,
        /// All or nothing (when the server supports it).
        #[arg(long)]
        atomic: bool,
    },
}

/// Prints the server's messages as git does, and bytes moved every 256 KiB.
fn progress() -> impl FnMut(Progress<'_>) + Send {
    let mut last_step = 0;
    move |p| {
        let mut err = std::io::stderr().lock();
        let _ = match p {
            Progress::Remote(text) => err.write_all(text),
            Progress::Received(n) | Progress::Sent(n) if n / (256 * 1024) != last_step => {
                last_step = n / (256 * 1024);
                let verb = if matches!(p, Progress::Sent(_)) {
                    "sent"
                } else {
                    "received"
                };
                write!(err, "\r{verb} {} KiB", n / 1024)
            }
            _ => Ok(()),
        };
    }
}

/// Writes a line to stdout; a closed stdout (`| head`) ends the listing quietly.
macro_rules! out {
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            return Ok(ExitCode::SUCCESS);
        }
    };
}

#[allow(clippy::print_stderr)]
async fn run(args: Args) -> Result<ExitCode, smart::Error> {
    let client = Client::new(mimic::Resolver::new());
    let mut progress = progress();
    match args.command {
        Command::LsRemote { url } => {
            for r in client.ls_remote(&url).await? {
                match (&r.target, &r.symref_target) {
                    (Some(id), _) => out!("{id}\t{}", r.name),
                    (None, Some(to)) => out!("unborn\t{} -> {to}", r.name),
                    (None, None) => out!("unborn\t{}", r.name),
                }
                if let Some(peeled) = r.peeled {
                    out!("{peeled}\t{}^{{}}", r.name);
                }
            }
        }
        Command::Clone { url, dir, depth } => {
            let options = FetchOptions {
                depth,
                ..Default::default()
            };
            let outcome = client.clone(&url, &dir, &options, &mut progress).await?;
            eprintln!(
                "\ncloned into {}: {} objects, {} refs",
                dir.display(),
                outcome.objects,
                outcome.updated.len()
            );
        }
        Command::Fetch { url, dir, depth } => {
            let options = FetchOptions {
                depth,
                ..Default::default()
            };
            let outcome = client.fetch(&url, &dir, &options, &mut progress).await?;
            for u in &outcome.updated {
                let old = u
                    .old
                    .map_or_else(|| "(new)".to_string(), |id| id.to_hex_with_len(7).to_string());
                out!("{old}..{} {}", u.new.to_hex_with_len(7), u.name);
            }
            eprintln!("\n{} objects fetched", outcome.objects);
        }
        Command::Push {
            url,
            dir,
            refspecs,
            atomic,
        } => {
            let outcome = client
                .push(&url, &dir, &refspecs, &PushOptions { atomic }, &mut progress)
                .await?;
            for r in &outcome.refs {
                let status = match &r.status {
                    PushStatus::Ok => "ok".to_string(),
                    PushStatus::UpToDate => "up to date".to_string(),
                    PushStatus::RejectedNonFastForward => "rejected (non-fast-forward)".to_string(),
                    PushStatus::RejectedByRemote(reason) => format!("rejected by the remote ({reason})"),
                    other => format!("{other:?}"),
                };
                out!("{}\t{status}", r.name);
            }
            if !outcome.is_ok() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(err) => {
            let mut message = format!("smart: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{message}");
            }
            ExitCode::from(2)
        }
    }
}
