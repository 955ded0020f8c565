//! A tiny git client on smart: ls-remote, clone, fetch and push over
//! git://, ssh:// and http(s)://, with the server's progress on stderr;
//! and `keygen`, which prints the `authorized_keys` line of a seeded key.
//!
//! ```text
//! cargo run -p examples --example smart -- ls-remote git://127.0.0.1/repo.git
//! cargo run -p examples --example smart -- clone --depth 1 git://127.0.0.1/repo.git repo.git
//! cargo run -p examples --example smart -- fetch https://example.com/repo.git repo.git --token T
//! cargo run -p examples --example smart -- push ssh://git@127.0.0.1:2222/repo.git . main \
//!     --ssh-key ed25519:my-seed --ssh-fingerprint SHA256:...
//! cargo run -p examples --example smart -- keygen ed25519:my-seed   # the line for authorized_keys
//! ```
//!
//! SSH needs `--ssh-key` (an OpenSSH private key file, `ed25519:SEED` or
//! `rsa:SEED`) and the server's host key: `--ssh-fingerprint SHA256:...`
//! (as `ssh-keygen -lf` prints it) or `--known-hosts FILE` (default
//! `~/.ssh/known_hosts`). HTTP(S) takes credentials from the URL
//! (`https://user:pass@host/...`) or `--token`, and extra roots with `--ca`.
//!
//! Exit status: 0 done, 1 some ref of a push was rejected, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args as ClapArgs, Parser, Subcommand};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use smart::{
    Client, FetchOptions, HostKeyPolicy, HttpAuth, HttpOptions, Progress, PushOptions, PushStatus, Refspec,
    RemoteUrl, SshKey, SshOptions,
};

/// Git smart protocol client (no git executable needed).
#[derive(Parser)]
#[command(name = "smart")]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    remote: RemoteFlags,
}

/// How to reach remotes (every subcommand but keygen).
#[derive(ClapArgs)]
struct RemoteFlags {
    /// SSH client key: an OpenSSH private key file, `ed25519:SEED` or `rsa:SEED`.
    #[arg(long, global = true, value_name = "FILE|ed25519:SEED|rsa:SEED")]
    ssh_key: Option<String>,
    /// The SSH server's host key fingerprint, as `ssh-keygen -lf` prints it.
    #[arg(
        long,
        global = true,
        value_name = "SHA256:...",
        conflicts_with = "known_hosts"
    )]
    ssh_fingerprint: Option<String>,
    /// A known_hosts file with the SSH server's key (default `~/.ssh/known_hosts`).
    #[arg(long, global = true, value_name = "FILE")]
    known_hosts: Option<PathBuf>,
    /// The SSH user when the URL names none (default `git`).
    #[arg(long, global = true)]
    ssh_user: Option<String>,
    /// A bearer token for HTTP(S).
    #[arg(long, global = true)]
    token: Option<String>,
    /// PEM certificates to trust for HTTPS instead of the webpki roots.
    #[arg(long, global = true, value_name = "FILE")]
    ca: Option<PathBuf>,
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
    /// Print the `authorized_keys` line of a key (its fingerprint on stderr).
    Keygen {
        /// `ed25519:SEED`, `rsa:SEED` or an OpenSSH private key file.
        key: String,
        /// The comment at the end of the line.
        #[arg(long, default_value = "smart")]
        comment: String,
    },
}

/// The raw flags, checked and turned into a client.
fn client(flags: RemoteFlags) -> Result<Client, Box<dyn std::error::Error>> {
    let mut client = Client::new(mimic::Resolver::new());
    if let Some(spec) = &flags.ssh_key {
        let key = SshKey::from_spec(spec)?;
        let host_key = match (flags.ssh_fingerprint, flags.known_hosts) {
            (Some(fingerprint), _) => HostKeyPolicy::Fingerprint(fingerprint),
            (None, Some(file)) => HostKeyPolicy::KnownHosts(file),
            (None, None) => {
                let home = std::env::var_os("HOME")
                    .ok_or("--ssh-key needs --ssh-fingerprint or --known-hosts (no HOME)")?;
                HostKeyPolicy::KnownHosts(PathBuf::from(home).join(".ssh/known_hosts"))
            }
        };
        let mut options = SshOptions::new(key, host_key);
        options.user = flags.ssh_user;
        client = client.with_ssh(options);
    } else if flags.ssh_fingerprint.is_some() || flags.known_hosts.is_some() {
        return Err("--ssh-fingerprint and --known-hosts need --ssh-key".into());
    }
    let mut http = HttpOptions {
        auth: flags.token.map(HttpAuth::Bearer),
        ..Default::default()
    };
    if let Some(file) = &flags.ca {
        let mut roots = rustls::RootCertStore::empty();
        for cert in
            CertificateDer::pem_file_iter(file).map_err(|e| format!("--ca {}: {e}", file.display()))?
        {
            roots.add(cert.map_err(|e| format!("--ca {}: {e}", file.display()))?)?;
        }
        http.tls_roots = Some(Arc::new(roots));
    }
    Ok(client.with_http(http))
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
async fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let client = client(args.remote)?;
    let mut progress = progress();
    match args.command {
        Command::Keygen { key, comment } => {
            let key = SshKey::from_spec(&key)?;
            out!("{}", key.public_key_line(&comment));
            eprintln!("{}", key.fingerprint());
        }
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
            let mut source = err.source();
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
