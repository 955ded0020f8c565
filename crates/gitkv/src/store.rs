//! The store: a branch of a bare repository, its current snapshot, and
//! the writer that commits batches in groups.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::objs::{Kind, WriteTo};

use crate::batch::{Batch, Committed, Grouping, Signature};
use crate::durable::{self, sync_dir};
use crate::history::History;
use crate::odb::{NewObject, Objects};
use crate::pack::{self, PackBytes};
use crate::refs::{Cas, LockOptions, RefFile, write_file_durably};
use crate::snapshot::Snapshot;
use crate::tree::{self, Edit, Tree};
use crate::writer::GroupCommit;
use crate::{Error, Result, key};

const HASH: gix::hash::Kind = gix::hash::Kind::Sha1;

/// How many times a commit is rebuilt when other processes keep moving
/// the branch under it.
const MAX_CAS_ATTEMPTS: usize = 1000;

/// Options of [`Store::open`]: the branch, the default committer, locking
/// and grouping. `Builder::new(path)` has the defaults.
#[derive(Clone, Debug)]
pub struct Builder {
    path: PathBuf,
    branch: String,
    committer: Option<Signature>,
    lock_timeout: Duration,
    stale_lock_after: Duration,
    grouping: Grouping,
    create: bool,
}

impl Builder {
    /// Options for the repository at `path`: branch `main`, committer
    /// `gitkv <gitkv@localhost>`, created if missing, one commit per
    /// group, 10 s lock timeout, locks older than 5 s stale.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Builder {
            path: path.into(),
            branch: "main".to_string(),
            committer: None,
            lock_timeout: Duration::from_secs(10),
            stale_lock_after: Duration::from_secs(5),
            grouping: Grouping::OneCommit,
            create: true,
        }
    }

    /// The branch that holds the keys (a short name: `main`, `certs`).
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = branch.into();
        self
    }

    /// The committer (and default author) of commits whose batch names none.
    pub fn committer(mut self, committer: Signature) -> Self {
        self.committer = Some(committer);
        self
    }

    /// How long a write waits for another writer's lock on the branch.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// After how long a lock file is taken as left by a writer that died
    /// (and removed). Our writers hold it for about a millisecond; keep
    /// it well above what other Git programs writing this branch need.
    pub fn stale_lock_after(mut self, after: Duration) -> Self {
        self.stale_lock_after = after;
        self
    }

    /// How batches arriving together are committed.
    pub fn grouping(mut self, grouping: Grouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// Whether a missing repository is created (the default) or is an error.
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    /// Opens the repository, creating it first if it is missing (or an
    /// empty directory) and creation is allowed.
    pub fn open(self) -> Result<Store> {
        Store::open_with(self)
    }
}

/// A key-value store on a branch of a bare Git repository. Cloning is
/// cheap and every clone is the same store; it is `Send + Sync`.
///
/// Reads are served from the in-memory [`Snapshot`] of the branch; writes
/// ([`set`](Store::set), [`remove`](Store::remove),
/// [`commit`](Store::commit)) block until their commit is durable. Call
/// them from a blocking context (`tokio::task::spawn_blocking` in async
/// code): they fsync.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) git_dir: PathBuf,
    pub(crate) branch: String,
    pub(crate) reference: RefFile,
    pub(crate) objects: Arc<Objects>,
    pub(crate) current: ArcSwap<Snapshot>,
    writer: GroupCommit<Job, Result<Committed>>,
    pub(crate) committer: Signature,
    pub(crate) lock: LockOptions,
    grouping: Grouping,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("git_dir", &self.git_dir)
            .field("branch", &self.branch)
            .field("head", &self.current.load().head)
            .finish_non_exhaustive()
    }
}

/// A batch with its blobs hashed and compressed, waiting in the writer's
/// queue.
struct Job {
    edits: Vec<Edit>,
    blobs: Vec<pack::Entry>,
    message: String,
    author: Option<Signature>,
    committer: Option<Signature>,
}

impl Store {
    /// Opens (or creates) the repository at `path` with default options;
    /// see [`Builder`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Store> {
        Builder::new(path).open()
    }

    /// Options for opening the repository at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> Builder {
        Builder::new(path)
    }

    fn open_with(options: Builder) -> Result<Store> {
        let full_name = format!("refs/heads/{}", options.branch);
        gix::validate::reference::name(full_name.as_bytes().as_bstr()).map_err(|source| {
            Error::InvalidBranch {
                name: options.branch.clone(),
                source,
            }
        })?;
        let path = options.path.clone();
        if !is_repository(&path) {
            let empty_dir = std::fs::read_dir(&path).map(|mut d| d.next().is_none());
            match empty_dir {
                Ok(true) | Err(_) if options.create && !path.is_file() => {
                    create_repository(&path, &full_name)?;
                }
                _ => return Err(Error::NotARepository { path }),
            }
        }
        let committer = match options.committer {
            Some(c) => c,
            None => Signature::new("gitkv", "gitkv@localhost")?,
        };
        let objects = Arc::new(Objects::open(path.join("objects"))?);
        let reference = RefFile::new(&path, &full_name);
        let head = reference.read()?;
        let snapshot = load_snapshot(&objects, head)?;
        Ok(Store {
            inner: Arc::new(Inner {
                git_dir: path,
                branch: options.branch,
                reference,
                objects,
                current: ArcSwap::from_pointee(snapshot),
                writer: GroupCommit::new(),
                committer,
                lock: LockOptions {
                    timeout: options.lock_timeout,
                    stale_after: options.stale_lock_after,
                },
                grouping: options.grouping,
            }),
        })
    }

    /// The repository's directory (the bare repository itself).
    pub fn path(&self) -> &Path {
        &self.inner.git_dir
    }

    /// The branch's short name.
    pub fn branch(&self) -> &str {
        &self.inner.branch
    }

    /// The branch's current commit as this store knows it.
    pub fn head(&self) -> Option<ObjectId> {
        self.inner.current.load().head
    }

    /// The current snapshot: reads on it stay consistent while writes go on.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::clone(&self.inner.current.load())
    }

    /// The value of `key` in the current snapshot.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.inner.current.load().get(key)
    }

    /// Whether `key` has a value in the current snapshot.
    pub fn contains(&self, key: &str) -> Result<bool> {
        self.inner.current.load().contains(key)
    }

    /// The keys under `prefix` in the current snapshot (see [`Snapshot::list`]).
    pub fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.inner.current.load().list(prefix)
    }

    /// The commits that changed `key`, newest first, from the current head
    /// (see [`History`]).
    pub fn history(&self, key: &str) -> Result<History> {
        History::new(Arc::clone(&self.inner.objects), key, self.head())
    }

    /// Sets `key` to `value` in a commit of its own (or of its group);
    /// returns once it is durable.
    pub fn set(&self, key: &str, value: impl Into<Vec<u8>>) -> Result<Committed> {
        self.commit(Batch::new(format!("set {key}")).set(key, value))
    }

    /// Removes `key`; returns once the change is durable.
    pub fn remove(&self, key: &str) -> Result<Committed> {
        self.commit(Batch::new(format!("remove {key}")).remove(key))
    }

    /// Commits `batch` atomically; returns once the commit holding it and
    /// the branch update are on disk (fsync'd). Batches submitted while
    /// another group is being written are committed together (see the
    /// crate docs, "Group commit").
    pub fn commit(&self, batch: Batch) -> Result<Committed> {
        // Check the keys before writing anything.
        for (k, _) in &batch.changes {
            key::split(k)?;
        }
        // Blobs are hashed and compressed by the caller, in parallel with
        // other callers and with the group being committed (while it
        // waits for the disk); the leader copies them into its pack.
        let mut blobs = Vec::new();
        let mut edits = Vec::with_capacity(batch.changes.len());
        for (k, value) in batch.changes {
            let value = match value {
                Some(data) => {
                    let object = NewObject::new(Kind::Blob, data)?;
                    blobs.push(pack::entry(&object)?);
                    Some(object.id)
                }
                None => None,
            };
            edits.push(Edit { key: k, value });
        }
        let job = Job {
            edits,
            blobs,
            message: batch.message,
            author: batch.author,
            committer: batch.committer,
        };
        let result =
            self.inner
                .writer
                .submit(job, |jobs| self.commit_group(jobs), || Err(Error::WriterPanicked));
        // Our write is durable (or failed); now and then small packs are
        // merged, on a thread of their own: no caller waits for it.
        if self.inner.objects.take_consolidation_due() {
            Objects::consolidate_in_background(&self.inner.objects);
        }
        result
    }

    /// Waits until no pack merge started by this store's writes is running
    /// (merges run in the background, see the crate docs): before `git
    /// fsck`, `git gc` or a copy of the repository, or before exiting
    /// (a merge cut short loses nothing, but leaves its temp file).
    pub fn wait_for_merges(&self) {
        self.inner.objects.wait_for_background();
    }

    /// Re-reads the branch from disk and, if another process moved it,
    /// switches to its new commit. Returns whether it moved.
    pub fn refresh(&self) -> Result<bool> {
        self.inner.writer.exclusive(|| {
            let head = self.inner.reference.read()?;
            if head == self.head() {
                return Ok(false);
            }
            let snapshot = load_snapshot(&self.inner.objects, head)?;
            self.inner.current.store(Arc::new(snapshot));
            Ok(true)
        })
    }

    /// Runs `f` with the writer to itself (no group commit runs meanwhile).
    pub(crate) fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        self.inner.writer.exclusive(f)
    }

    /// Commits a group of jobs: applies each to the tree, writes the trees
    /// and commits, and moves the branch by compare-and-swap, rebuilding on
    /// the new head if another process moved it.
    fn commit_group(&self, jobs: Vec<(u64, Job)>) -> Vec<(u64, Result<Committed>)> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let base = self.inner.current.load_full();
            let mut root = Arc::clone(&base.root);
            let mut failed = Vec::new();
            let mut applied = Vec::new();
            for (ticket, job) in &jobs {
                match tree::apply(&self.inner.objects, &root, &job.edits) {
                    Ok(new_root) => {
                        root = new_root;
                        applied.push((*ticket, job, Arc::clone(&root)));
                    }
                    Err(e) => failed.push((*ticket, Err(e))),
                }
            }
            if applied.is_empty() {
                return failed;
            }
            let size = applied.len();
            let outcome = self.write_group(base.head, &applied);
            match outcome {
                Ok((commits, Cas::Updated)) => {
                    let tip = *commits.last().expect("at least one batch was applied");
                    self.inner.current.store(Arc::new(Snapshot {
                        head: Some(tip),
                        root,
                        objects: Arc::clone(&self.inner.objects),
                    }));
                    let mut results = failed;
                    for (i, (ticket, _, _)) in applied.iter().enumerate() {
                        let commit = commits[i.min(commits.len() - 1)];
                        results.push((
                            *ticket,
                            Ok(Committed {
                                commit,
                                group_size: size,
                            }),
                        ));
                    }
                    return results;
                }
                Ok((_, Cas::Changed(actual))) if attempts < MAX_CAS_ATTEMPTS => {
                    // Another process moved the branch: start again on its commit.
                    match load_snapshot(&self.inner.objects, actual) {
                        Ok(snapshot) => self.inner.current.store(Arc::new(snapshot)),
                        Err(e) => return fail_all(&jobs, e),
                    }
                }
                Ok((_, Cas::Changed(_))) => {
                    let e = Error::Locked {
                        lock: self
                            .inner
                            .git_dir
                            .join(format!("refs/heads/{}.lock", self.inner.branch)),
                        waited: Duration::ZERO,
                    };
                    return fail_all(&jobs, e);
                }
                Err(e) => return fail_all(&jobs, e),
            }
        }
    }

    /// Writes the group's objects and moves the branch from `parent` to
    /// its last commit, in the order of the `durable` module; returns the
    /// commit of each job, or what the branch held if it was not `parent`
    /// (then nothing was written).
    fn write_group(
        &self,
        parent: Option<ObjectId>,
        applied: &[(u64, &Job, Arc<Tree>)],
    ) -> Result<(Vec<ObjectId>, Cas)> {
        let (commits, objects) = self.build_commits(parent, applied)?;
        let tip = *commits.last().expect("at least one batch was applied");
        let entries = objects.iter().map(pack::entry).collect::<Result<Vec<_>>>()?;
        let blobs = applied.iter().flat_map(|(_, job, _)| job.blobs.iter());
        let pack = PackBytes::build(blobs.chain(entries.iter()))?;
        // Checked under the lock before anything is written.
        let lock = self.inner.reference.lock(self.inner.lock)?;
        let current = lock.current()?;
        if current != parent {
            return Ok((commits, Cas::Changed(current)));
        }
        let staged = lock.stage(tip)?;
        let pack_dir = self.inner.objects.pack_dir();
        if durable::commit(&pack_dir, pack.as_ref(), staged, &mut |_| {})?.is_some() {
            self.inner.objects.wrote_pack();
        }
        Ok((commits, Cas::Updated))
    }

    /// The trees and commit(s) of the applied jobs (not written); returns
    /// the commit of each job (one commit for all with
    /// [`Grouping::OneCommit`]) and the objects.
    fn build_commits(
        &self,
        parent: Option<ObjectId>,
        applied: &[(u64, &Job, Arc<Tree>)],
    ) -> Result<(Vec<ObjectId>, Vec<NewObject>)> {
        let now = gix::date::Time::now_utc();
        let mut objects: Vec<NewObject> = Vec::new();
        let mut commits = Vec::new();
        match self.inner.grouping {
            Grouping::CommitPerBatch => {
                let mut parent = parent;
                for (_, job, root) in applied {
                    let tree = root.serialize(&mut objects)?;
                    let committer = job.committer.as_ref().unwrap_or(&self.inner.committer);
                    let author = job.author.as_ref().unwrap_or(committer);
                    let commit = commit_object(
                        tree,
                        parent.into_iter().collect(),
                        author,
                        committer,
                        &job.message,
                        now,
                    )?;
                    parent = Some(commit.id);
                    commits.push(commit.id);
                    objects.push(commit);
                }
            }
            Grouping::OneCommit => {
                let (_, _, root) = applied.last().expect("at least one batch was applied");
                let tree = root.serialize(&mut objects)?;
                let (author, committer, message) = if let [(_, job, _)] = applied {
                    let committer = job.committer.as_ref().unwrap_or(&self.inner.committer);
                    (
                        job.author.as_ref().unwrap_or(committer),
                        committer,
                        job.message.clone(),
                    )
                } else {
                    let first = applied[0].1.author.as_ref();
                    let same_author = applied.iter().all(|(_, job, _)| job.author.as_ref() == first);
                    let committer = &self.inner.committer;
                    let author = if same_author {
                        first.unwrap_or(committer)
                    } else {
                        committer
                    };
                    let mut message = format!("{} writes\n\n", applied.len());
                    for (_, job, _) in applied {
                        let summary = job.message.lines().next().unwrap_or("");
                        message.push_str(&format!("- {summary}\n"));
                    }
                    (author, committer, message)
                };
                let commit = commit_object(
                    tree,
                    parent.into_iter().collect(),
                    author,
                    committer,
                    &message,
                    now,
                )?;
                commits.push(commit.id);
                objects.push(commit);
            }
        }
        Ok((commits, objects))
    }

    /// Moves the branch from `expected` to `new` (whose objects are
    /// already durable) and makes `snapshot` current. `Ok(false)`: the
    /// branch had moved; nothing changed.
    pub(crate) fn publish(&self, expected: Option<ObjectId>, snapshot: Snapshot) -> Result<bool> {
        let new = snapshot.head.expect("a published snapshot has a commit");
        match self
            .inner
            .reference
            .compare_and_swap(expected, new, self.inner.lock)?
        {
            Cas::Updated => {
                self.inner.current.store(Arc::new(snapshot));
                Ok(true)
            }
            Cas::Changed(actual) => {
                let snapshot = load_snapshot(&self.inner.objects, actual)?;
                self.inner.current.store(Arc::new(snapshot));
                Ok(false)
            }
        }
    }
}

fn fail_all(jobs: &[(u64, Job)], error: Error) -> Vec<(u64, Result<Committed>)> {
    let shared = Arc::new(error);
    jobs.iter()
        .map(|(ticket, _)| (*ticket, Err(Error::Commit(Arc::clone(&shared)))))
        .collect()
}

/// A commit object (not written).
pub(crate) fn commit_object(
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author: &Signature,
    committer: &Signature,
    message: &str,
    now: gix::date::Time,
) -> Result<NewObject> {
    let mut message = BString::from(message);
    if !message.ends_with(b"\n") {
        message.push(b'\n');
    }
    let commit = gix::objs::Commit {
        tree,
        parents: parents.into_iter().collect(),
        author: author.to_gix(now),
        committer: committer.to_gix(now),
        encoding: None,
        message,
        extra_headers: Vec::new(),
    };
    let mut data = Vec::with_capacity(commit.size() as usize);
    commit
        .write_to(&mut data)
        .map_err(Error::io("encode a commit for", "objects"))?;
    NewObject::new(Kind::Commit, data)
}

/// The snapshot of commit `head` (an empty tree for an unborn branch).
pub(crate) fn load_snapshot(objects: &Arc<Objects>, head: Option<ObjectId>) -> Result<Snapshot> {
    let root = match head {
        Some(id) => Tree::stored(commit_tree(objects, &id)?),
        None => Tree::empty(),
    };
    Ok(Snapshot {
        head,
        root,
        objects: Arc::clone(objects),
    })
}

/// The tree of commit `id`.
pub(crate) fn commit_tree(objects: &Objects, id: &ObjectId) -> Result<ObjectId> {
    let data = objects.read(id, Kind::Commit)?;
    let mut commit = gix::objs::CommitRefIter::from_bytes(&data, HASH);
    commit
        .tree_id()
        .map_err(|source| Error::Object { id: *id, source })
}

fn is_repository(path: &Path) -> bool {
    path.join("HEAD").is_file() && path.join("objects").is_dir() && path.join("refs").is_dir()
}

/// Creates a bare repository at `path` whose HEAD names `branch`: built
/// with gix in a temp directory beside it, made durable, then renamed into
/// place, so a crash never leaves half a repository.
fn create_repository(path: &Path, branch: &str) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(".{name}.gitkv-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    let create = || -> Result<()> {
        std::fs::create_dir_all(&parent).map_err(Error::io("create", &parent))?;
        gix::create::into(&temp, gix::create::Kind::Bare, gix::create::Options::default()).map_err(
            |source| Error::Create {
                path: path.to_path_buf(),
                source,
            },
        )?;
        write_file_durably(&temp.join("HEAD"), format!("ref: {branch}\n").as_bytes())?;
        let config = temp.join("config");
        std::fs::File::open(&config)
            .and_then(|f| f.sync_all())
            .map_err(Error::io("fsync", &config))?;
        for dir in [
            "objects/pack",
            "objects/info",
            "objects",
            "refs/heads",
            "refs/tags",
            "refs",
            "",
        ] {
            sync_dir(&temp.join(dir))?;
        }
        if path.is_dir() {
            // An empty directory: replace it.
            std::fs::remove_dir(path).map_err(Error::io("replace", path))?;
        }
        std::fs::rename(&temp, path).map_err(Error::io("rename", &temp))?;
        sync_dir(&parent)
    };
    let result = create();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    result
}
