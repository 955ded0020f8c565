//! `blogger push`: the output directory as a commit on a branch of a
//! remote, through gitkv (a local bare repository, pulled first) and smart
//! (any transport). A commit is made only when some file differs from the
//! branch's tree, and its tree is exactly the output directory (the build
//! cache left out).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gitkv::sync::Remote;
use gitkv::{Batch, Policy, Signature, Store};

use crate::cache::{CACHE_FILE, blob_id};

/// What to push and as whom.
#[derive(Clone, Debug)]
pub struct PushOptions {
    /// The site to push (what `build` wrote).
    pub site: PathBuf,
    /// The local bare repository that mirrors the branch (created if
    /// missing; kept between pushes so that only new objects travel).
    pub repository: PathBuf,
    /// The branch (`gh-pages`).
    pub branch: String,
    /// The commit's author (and committer).
    pub author: Signature,
    /// The commit's message.
    pub message: String,
}

/// What a push did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushOutcome {
    /// The branch's tree already was the site: no commit.
    Unchanged,
    /// A commit was made and the remote's branch points at it.
    Pushed {
        /// The commit, hex.
        commit: String,
        /// Files added or changed.
        changed: usize,
        /// Files removed.
        removed: usize,
    },
}

/// A push that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The site cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file name of the site cannot be a Git path.
    #[error("{path:?} cannot be a path in Git")]
    Path {
        /// The file.
        path: String,
    },
    /// The local repository, the commit, the fetch or the push failed.
    #[error("git")]
    Git(#[from] gitkv::Error),
    /// The blocking work could not run.
    #[error("the blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// Pulls the branch from `remote`, commits the site over it if it differs,
/// and pushes. Must run inside a tokio runtime.
pub async fn push(remote: &Remote, options: &PushOptions) -> Result<PushOutcome, PushError> {
    let repository = options.repository.clone();
    let branch = options.branch.clone();
    let store =
        tokio::task::spawn_blocking(move || Store::builder(repository).branch(branch).open()).await??;
    // Theirs: the remote's branch is the truth; the commit below replaces
    // its tree by the site anyway.
    store.pull(remote, Policy::Theirs).await?;
    let site = options.site.clone();
    let files = tokio::task::spawn_blocking(move || read_site(&site)).await??;
    let snapshot = store.snapshot();
    let (batch, changed, removed) = {
        let snapshot = snapshot.clone();
        let author = options.author.clone();
        let message = options.message.clone();
        tokio::task::spawn_blocking(move || -> Result<_, PushError> {
            let mut batch = Batch::new(message).author(author);
            let mut changed = 0;
            for (path, bytes) in files.iter() {
                let id = snapshot.value_id(path)?.map(|id| id.to_hex().to_string());
                if id.as_deref() != Some(blob_id(bytes).as_str()) {
                    batch = batch.set(path.clone(), bytes.clone());
                    changed += 1;
                }
            }
            let mut removed = 0;
            if snapshot.head().is_some() {
                for key in snapshot.list("")? {
                    if !files.contains_key(&key) {
                        batch = batch.remove(key);
                        removed += 1;
                    }
                }
            }
            Ok((batch, changed, removed))
        })
        .await??
    };
    if !batch.is_empty() {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.commit(batch)).await??;
    } else if !store.unpushed(remote)? {
        return Ok(PushOutcome::Unchanged);
    }
    match store.push(remote).await? {
        gitkv::sync::PushOutcome::Pushed(commit) => Ok(PushOutcome::Pushed {
            commit: commit.to_hex().to_string(),
            changed,
            removed,
        }),
        _ => Ok(PushOutcome::Unchanged),
    }
}

/// Every file of the site (relative, `/`-separated) and its bytes, the
/// build cache left out.
fn read_site(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, PushError> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let read = |source| PushError::Read {
            path: path.clone(),
            source,
        };
        for entry in std::fs::read_dir(&path).map_err(read)? {
            let entry = entry.map_err(read)?;
            let name = entry.file_name().into_string().map_err(|name| PushError::Path {
                path: format!("{prefix}{}", name.to_string_lossy()),
            })?;
            let rel = format!("{prefix}{name}");
            let kind = entry.file_type().map_err(read)?;
            if kind.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            } else if prefix.is_empty() && (name == CACHE_FILE || name == format!("{CACHE_FILE}.tmp")) {
                continue;
            } else {
                let bytes = std::fs::read(entry.path()).map_err(|source| PushError::Read {
                    path: entry.path(),
                    source,
                })?;
                out.insert(rel, bytes);
            }
        }
    }
    Ok(out)
}
