//! A key-value store in a Git repository, from the command line: set,
//! get, list, remove, history, and sync with a remote over git://.
//!
//! ```text
//! cargo run -p examples --example gitkv-demo -- --repo kv.git set greeting/en "hello"
//! cargo run -p examples --example gitkv-demo -- --repo kv.git get greeting/en
//! cargo run -p examples --example gitkv-demo -- --repo kv.git list greeting/
//! cargo run -p examples --example gitkv-demo -- --repo kv.git history greeting/en
//! cargo run -p examples --example gitkv-demo -- --repo kv.git burst 1000   # 16 writers, group commit
//! cargo run -p examples --example gitkv-demo -- --repo kv.git sync git://127.0.0.1/kv.git
//! git --git-dir kv.git log --stat                                        # plain Git reads it
//! ```
//!
//! Exit status: 0 done, 1 key not found or merge conflicts, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use gitkv::sync::Remote;
use gitkv::{Batch, Error, Policy, Store};

/// A key-value store on a branch of a bare Git repository.
#[derive(Parser)]
#[command(name = "gitkv-demo")]
struct Args {
    /// The bare repository (created if missing).
    #[arg(long, default_value = "kv.git")]
    repo: PathBuf,
    /// The branch holding the keys.
    #[arg(long, default_value = "main")]
    branch: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set a key (value from the argument, or stdin when absent).
    Set { key: String, value: Option<String> },
    /// Print a key's value.
    Get { key: String },
    /// Remove keys (one commit).
    Rm { keys: Vec<String> },
    /// List the keys under a prefix.
    List {
        #[arg(default_value = "")]
        prefix: String,
    },
    /// The commits that changed a key, newest first.
    History { key: String },
    /// Write N keys from 16 threads and report durable writes/s.
    Burst { n: usize },
    /// Pull (merge) then push, with a git:// remote.
    Sync {
        url: smart::RemoteUrl,
        /// What to keep when both sides changed a key.
        #[arg(long, value_enum, default_value = "fail")]
        conflicts: Conflicts,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Conflicts {
    Ours,
    Theirs,
    Fail,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            let mut message = format!("gitkv-demo: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            let _ = writeln!(std::io::stderr(), "{message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, Error> {
    let store = Store::builder(&args.repo).branch(&args.branch).open()?;
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| {
        let _ = writeln!(out, "{line}");
    };
    match args.command {
        Command::Set { key, value } => {
            let value = match value {
                Some(v) => v.into_bytes(),
                None => {
                    let mut buf = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|source| {
                        Error::Io {
                            op: "read",
                            path: "stdin".into(),
                            source,
                        }
                    })?;
                    buf
                }
            };
            let committed = store.set(&key, value)?;
            say(format!("{} {key}", committed.commit));
        }
        Command::Get { key } => match store.get(&key)? {
            Some(value) => {
                let _ = std::io::stdout().write_all(&value);
            }
            None => return Ok(ExitCode::from(1)),
        },
        Command::Rm { keys } => {
            let batch = keys
                .iter()
                .fold(Batch::new(format!("remove {}", keys.join(" "))), |b, k| {
                    b.remove(k)
                });
            say(store.commit(batch)?.commit.to_string());
        }
        Command::List { prefix } => {
            for key in store.list(&prefix)? {
                say(key);
            }
        }
        Command::History { key } => {
            for revision in store.history(&key)? {
                let r = revision?;
                let what = r.value.map_or("removed".to_string(), |v| format!("blob {v}"));
                say(format!("{} {} {} ({what})", r.commit, r.author, r.summary));
            }
        }
        Command::Burst { n } => {
            let start = Instant::now();
            let threads: Vec<_> = (0..16)
                .map(|t| {
                    let store = store.clone();
                    std::thread::spawn(move || -> Result<usize, Error> {
                        let mut grouped = 0;
                        for i in (t..n).step_by(16) {
                            let c = store.set(&format!("burst/{:02x}/{i}", i % 256), format!("value {i}"))?;
                            grouped += usize::from(c.group_size > 1);
                        }
                        Ok(grouped)
                    })
                })
                .collect();
            let mut grouped = 0;
            for t in threads {
                grouped += t.join().expect("writer thread")?;
            }
            let secs = start.elapsed().as_secs_f64();
            say(format!(
                "{n} durable writes in {secs:.2} s: {:.0}/s, {grouped} shared a commit with others",
                n as f64 / secs
            ));
        }
        Command::Sync { url, conflicts } => {
            let policy = match conflicts {
                Conflicts::Ours => Policy::Ours,
                Conflicts::Theirs => Policy::Theirs,
                Conflicts::Fail => Policy::Fail,
            };
            let remote = Remote::new("origin", url);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|source| Error::Io {
                    op: "start a runtime for",
                    path: "sync".into(),
                    source,
                })?;
            match runtime.block_on(store.sync(&remote, policy)) {
                Ok((pulled, pushed)) => {
                    if let Some(merge) = pulled.merge {
                        say(format!("pull: {:?} -> {}", merge.kind, merge.head));
                        for c in merge.conflicts {
                            say(format!("conflict (resolved by policy): {}", c.key));
                        }
                    }
                    say(format!("push: {pushed:?}"));
                }
                Err(Error::Conflicts { conflicts }) => {
                    for c in conflicts {
                        say(format!("conflict: {}", c.key));
                    }
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
