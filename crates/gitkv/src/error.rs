//! The one error type of the store: what failed, with the key, path or
//! object it concerns; the cause stays in `source()`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gix::ObjectId;

use crate::merge::Conflict;

/// Why an operation of the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key is not a valid `/`-separated path.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The branch name is not a valid Git branch name.
    #[error("invalid branch name {name:?}")]
    InvalidBranch {
        /// The name as given.
        name: String,
        /// Why Git would refuse it.
        source: gix::validate::reference::name::Error,
    },
    /// A name or e-mail of a signature holds `<`, `>` or a line break.
    #[error("invalid signature field {field:?}")]
    InvalidSignature {
        /// The offending name or e-mail.
        field: String,
    },
    /// The directory exists but is not a bare repository (no `HEAD`,
    /// `objects` or `refs`).
    #[error("{path} is not a Git repository")]
    NotARepository {
        /// The directory.
        path: PathBuf,
    },
    /// gix could not initialise a new repository.
    #[error("cannot create a repository at {path}")]
    Create {
        /// Where.
        path: PathBuf,
        /// gitoxide's reason.
        source: gix::Error,
    },
    /// A file or directory of the repository could not be read or written.
    #[error("cannot {op} {path}")]
    Io {
        /// What was being done (`write`, `fsync`, `rename`...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// An object the branch refers to is not in the object database.
    #[error("object {id} is missing")]
    MissingObject {
        /// Its id.
        id: ObjectId,
    },
    /// An object could not be read, decoded or hashed.
    #[error("cannot read or decode object {id}")]
    Object {
        /// Its id (the null id when hashing new data failed).
        id: ObjectId,
        /// gitoxide's reason.
        source: gix::Error,
    },
    /// An object is not of the kind its place requires (a tree entry
    /// pointing at a commit, a ref pointing at a blob...).
    #[error("object {id} is a {actual}, expected a {expected}")]
    WrongKind {
        /// Its id.
        id: ObjectId,
        /// The kind required here.
        expected: gix::objs::Kind,
        /// The kind it has.
        actual: gix::objs::Kind,
    },
    /// A ref file holds something that is not an object id.
    #[error("ref {name} holds {content:?}, not an object id")]
    BadRef {
        /// The ref's full name.
        name: String,
        /// Its content (at most 100 bytes).
        content: String,
    },
    /// Another writer held the branch's lock file for longer than the
    /// configured timeout (and it is not old enough to be called stale).
    #[error("branch lock {lock} is held by another writer (waited {waited:?})")]
    Locked {
        /// The lock file.
        lock: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// A key cannot be set: a shorter key holds a value where this one
    /// needs a directory (`a` is set, `a/b` cannot be).
    #[error("cannot set {key:?}: {parent:?} holds a value")]
    ParentIsValue {
        /// The key being set.
        key: String,
        /// The key that holds a value.
        parent: String,
    },
    /// A key names a directory of other keys, not a value: it cannot be
    /// set or removed as one.
    #[error("{key:?} is a directory of other keys")]
    IsDirectory {
        /// The key.
        key: String,
    },
    /// A key names something that is not a value (a Git submodule entry).
    #[error("{key:?} is not a value (tree entry mode {mode:o})")]
    NotAValue {
        /// The key.
        key: String,
        /// The entry's mode.
        mode: u16,
    },
    /// The same batch both sets a key and a key below it.
    #[error("the batch sets both {key:?} and keys below it")]
    BatchConflict {
        /// The key.
        key: String,
    },
    /// A merge met conflicts and the policy was [`Policy::Fail`](crate::Policy::Fail):
    /// nothing was committed.
    #[error("merge has {} conflicting keys", conflicts.len())]
    Conflicts {
        /// Every conflict, by key.
        conflicts: Vec<Conflict>,
    },
    /// The commit this write was grouped into failed; every write of the
    /// group gets this error with the same cause.
    #[error("the group commit of this write failed")]
    Commit(#[source] Arc<Error>),
    /// The writer that took this write panicked; the write is not committed.
    #[error("the writer committing this write panicked")]
    WriterPanicked,
    /// Pull or push failed in the transport (crates/smart).
    #[cfg(feature = "sync")]
    #[error("sync with {remote} failed")]
    Remote {
        /// The remote's URL.
        remote: String,
        /// smart's reason (boxed: a large error would make every `Result` of
        /// the crate large).
        source: Box<smart::Error>,
    },
    /// The remote refused the pushed branch.
    #[cfg(feature = "sync")]
    #[error("{remote} refused the push of {branch}: {status:?}")]
    PushRejected {
        /// The remote's URL.
        remote: String,
        /// The remote branch.
        branch: String,
        /// What the remote said.
        status: smart::PushStatus,
    },
    /// A blocking task of pull or push could not finish.
    #[cfg(feature = "sync")]
    #[error("a blocking task of the sync was cancelled or panicked")]
    Join(#[from] tokio::task::JoinError),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }

    /// Whether trying again later may succeed: the branch was locked, or
    /// the disk or the remote failed (rather than the input or the
    /// repository's content being wrong).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Locked { .. } | Error::Io { .. } | Error::WriterPanicked => true,
            Error::Commit(inner) => inner.is_retryable(),
            #[cfg(feature = "sync")]
            Error::Remote { .. } | Error::PushRejected { .. } => true,
            _ => false,
        }
    }
}

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
