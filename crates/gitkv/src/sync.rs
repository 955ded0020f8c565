//! Pull and push through crates/smart (feature `sync`).
//!
//! - [`Store::pull`]: fetch the remote branch, then [`Store::merge`] it
//!   (fast-forward or three-way merge, conflicts by [`Policy`]).
//! - [`Store::push`]: push the branch's commit if the remote does not have
//!   it yet; a remote that moved meanwhile refuses (non-fast-forward):
//!   pull, then push again ([`Store::sync`] does both).
//! - [`Store::unpushed`]: whether local commits wait for a push. What the
//!   remote was last seen to have is kept durably in
//!   `refs/remotes/<name>/<branch>`, so unpushed commits are known after a
//!   restart and pushed by the next successful push.
//!
//! Local writes never wait for the network: pull and push take the
//! writer only for the merge itself (milliseconds), never while talking
//! to the remote. A remote that is down makes `pull`/`push` fail with
//! [`Error::Remote`] (retryable) and changes nothing locally.
//!
//! smart's fetch mirrors the remote's branch under the same name in the
//! repository it fetches into, which would overwrite our branch. So the
//! fetch goes into a small side repository inside ours,
//! `gitkv/remotes/<name>/`, whose `objects` is a symbolic link to our
//! object directory: the pack lands in our objects, the mirrored ref in
//! the side repository. Before the fetch, our head is written there too
//! (`refs/gitkv/local`) so that it is offered as a `have` and the remote
//! sends only what we lack. smart does not fsync the pack it receives;
//! we fsync the new pack files before anything refers to them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use smart::{Client, FetchOptions, PushOptions, PushStatus, Refspec, RemoteUrl};

use crate::durable::sync_dir;
use crate::merge::{MergeKind, MergeOutcome, Policy};
use crate::refs::{Cas, RefFile, write_file_durably};
use crate::{Error, Result, Store};

/// A remote to pull from and push to: a name (for the tracking ref), a
/// URL (`git://host/repo.git#branch`; the branch defaults to the store's)
/// and the smart client that connects to it.
#[derive(Clone, Debug)]
pub struct Remote {
    name: String,
    url: RemoteUrl,
    client: Client,
}

impl Remote {
    /// A remote called `name` (`origin`) at `url`, reached with a default
    /// smart client (mimic's resolver).
    pub fn new(name: impl Into<String>, url: RemoteUrl) -> Self {
        Remote {
            name: name.into(),
            url,
            client: Client::new(mimic::Resolver::new()),
        }
    }

    /// Uses `client` (its resolver decides how connections are made).
    pub fn with_client(mut self, client: Client) -> Self {
        self.client = client;
        self
    }

    /// The remote's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The remote's URL.
    pub fn url(&self) -> &RemoteUrl {
        &self.url
    }

    fn branch<'a>(&'a self, store: &'a Store) -> &'a str {
        self.url.branch().unwrap_or(store.branch())
    }

    fn error(&self) -> impl FnOnce(smart::Error) -> Error + '_ {
        move |source| Error::Remote {
            remote: self.url.to_string(),
            source: Box::new(source),
        }
    }
}

/// What [`Store::pull`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullOutcome {
    /// The remote branch's commit (`None`: the remote has no such branch).
    pub fetched: Option<ObjectId>,
    /// The merge of it (`None` when nothing was fetched).
    pub merge: Option<MergeOutcome>,
}

/// What [`Store::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushOutcome {
    /// The branch has no commit yet: nothing to push.
    Empty,
    /// The remote already had our commit (as far as we know, or it said so).
    UpToDate,
    /// The remote's branch now points at this commit of ours.
    Pushed(ObjectId),
}

impl Store {
    /// Fetches the remote's branch and merges it into ours with `policy`
    /// (see [`Store::merge`]). Must run inside a tokio runtime.
    pub async fn pull(&self, remote: &Remote, policy: Policy) -> Result<PullOutcome> {
        let store = self.clone();
        let name = remote.name.clone();
        let (side, packs_before) = tokio::task::spawn_blocking(move || {
            let side = side_repository(&store, &name)?;
            if let Some(head) = store.head() {
                let local = RefFile::new(&side, "refs/gitkv/local");
                update_ref(&local, head, &store)?;
            }
            let packs = pack_files(&store.path().join("objects/pack"))?;
            Ok::<_, Error>((side, packs))
        })
        .await??;
        let options = FetchOptions {
            branch: Some(remote.branch(self).to_string()),
            depth: None,
        };
        let fetched = remote
            .client
            .fetch(&remote.url, &side, &options, &mut |_| {})
            .await
            .map_err(remote.error())?;
        let wanted = format!("refs/heads/{}", remote.branch(self));
        let tip = fetched
            .remote_refs
            .iter()
            .find(|r| r.name == wanted)
            .and_then(|r| r.target);
        let Some(tip) = tip else {
            return Ok(PullOutcome {
                fetched: None,
                merge: None,
            });
        };
        let store = self.clone();
        let tracking = self.tracking_ref(remote);
        let merge = tokio::task::spawn_blocking(move || {
            // The pack smart wrote is not fsync'd: make it durable before
            // a ref or a commit of ours names its objects.
            let pack_dir = store.path().join("objects/pack");
            let after = pack_files(&pack_dir)?;
            for new in after.difference(&packs_before) {
                let path = pack_dir.join(new);
                std::fs::File::open(&path)
                    .and_then(|f| f.sync_all())
                    .map_err(Error::io("fsync", &path))?;
            }
            sync_dir(&pack_dir)?;
            update_ref(&tracking, tip, &store)?;
            store.merge(tip, policy)
        })
        .await??;
        Ok(PullOutcome {
            fetched: Some(tip),
            merge: Some(merge),
        })
    }

    /// Pushes the branch's commit to the remote unless it has it already.
    /// Must run inside a tokio runtime.
    pub async fn push(&self, remote: &Remote) -> Result<PushOutcome> {
        let Some(head) = self.head() else {
            return Ok(PushOutcome::Empty);
        };
        let tracking = self.tracking_ref(remote);
        let known = {
            let tracking = tracking.clone();
            tokio::task::spawn_blocking(move || tracking.read()).await??
        };
        if known == Some(head) {
            return Ok(PushOutcome::UpToDate);
        }
        let dst = format!("refs/heads/{}", remote.branch(self));
        let spec = Refspec {
            src: Some(head.to_hex().to_string()),
            dst: dst.clone(),
            force: false,
        };
        let outcome = remote
            .client
            .push(
                &remote.url,
                self.path(),
                &[spec],
                &PushOptions::default(),
                &mut |_| {},
            )
            .await
            .map_err(remote.error())?;
        let status = outcome
            .refs
            .into_iter()
            .find(|r| r.name == dst)
            .map(|r| r.status)
            .unwrap_or(PushStatus::RejectedByRemote(
                "no status for the branch".to_string(),
            ));
        match status {
            PushStatus::Ok | PushStatus::UpToDate => {
                let store = self.clone();
                tokio::task::spawn_blocking(move || update_ref(&tracking, head, &store)).await??;
                Ok(if status == PushStatus::Ok {
                    PushOutcome::Pushed(head)
                } else {
                    PushOutcome::UpToDate
                })
            }
            status => Err(Error::PushRejected {
                remote: remote.url.to_string(),
                branch: dst,
                status,
            }),
        }
    }

    /// Pulls, then pushes what the remote lacks: the usual round of a
    /// store kept in sync with a remote.
    pub async fn sync(&self, remote: &Remote, policy: Policy) -> Result<(PullOutcome, PushOutcome)> {
        let pulled = self.pull(remote, policy).await?;
        let pushed = self.push(remote).await?;
        Ok((pulled, pushed))
    }

    /// Whether the branch has commits the remote was not seen to have
    /// (by the last successful pull or push).
    pub fn unpushed(&self, remote: &Remote) -> Result<bool> {
        let Some(head) = self.head() else {
            return Ok(false);
        };
        Ok(self.tracking_ref(remote).read()? != Some(head))
    }

    /// What the remote's branch was last seen to hold.
    pub fn remote_head(&self, remote: &Remote) -> Result<Option<ObjectId>> {
        self.tracking_ref(remote).read()
    }

    fn tracking_ref(&self, remote: &Remote) -> RefFile {
        let name = format!("refs/remotes/{}/{}", remote.name, remote.branch(self));
        RefFile::new(self.path(), &name)
    }
}

/// Whether an outcome changed the branch.
impl MergeOutcome {
    /// Whether the branch moved (a fast-forward or a merge commit).
    pub fn moved(&self) -> bool {
        self.kind != MergeKind::UpToDate
    }
}

/// Sets `reference` to `new` whatever it held (retrying if it moves meanwhile).
fn update_ref(reference: &RefFile, new: ObjectId, store: &Store) -> Result<()> {
    loop {
        let old = reference.read()?;
        if old == Some(new) {
            return Ok(());
        }
        if reference.compare_and_swap(old, new, store.inner.lock)? == Cas::Updated {
            return Ok(());
        }
    }
}

/// The side repository smart fetches into (created on first use).
fn side_repository(store: &Store, name: &str) -> Result<PathBuf> {
    let full = format!("refs/remotes/{name}");
    gix::validate::reference::name(gix::bstr::BStr::new(full.as_bytes())).map_err(|source| {
        Error::InvalidBranch {
            name: name.to_string(),
            source,
        }
    })?;
    let side = store.path().join("gitkv").join("remotes").join(name);
    if side.join("HEAD").is_file() {
        return Ok(side);
    }
    for dir in ["refs/heads", "refs/tags"] {
        let path = side.join(dir);
        std::fs::create_dir_all(&path).map_err(Error::io("create", &path))?;
    }
    let objects = side.join("objects");
    if std::fs::symlink_metadata(&objects).is_err() {
        std::os::unix::fs::symlink("../../../objects", &objects).map_err(Error::io("link", &objects))?;
    }
    write_file_durably(
        &side.join("config"),
        b"[core]\n\trepositoryformatversion = 0\n\tbare = true\n",
    )?;
    write_file_durably(
        &side.join("HEAD"),
        format!("ref: refs/heads/{}\n", store.branch()).as_bytes(),
    )?;
    Ok(side)
}

fn pack_files(dir: &Path) -> Result<HashSet<std::ffi::OsString>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(Error::io("list", dir)(e)),
    };
    let mut names = HashSet::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("list", dir))?;
        names.insert(entry.file_name());
    }
    Ok(names)
}
