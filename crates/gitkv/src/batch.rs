//! What a write is made of: a batch of changes, the signatures and the
//! message of its commit, and what the store answers once it is durable.

use gix::ObjectId;

use crate::{Error, Result};

/// Who made a change (Git's author or committer line).
///
/// The time is taken when the commit is written unless set with
/// [`Signature::at`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    name: String,
    email: String,
    time: Option<gix::date::Time>,
}

impl Signature {
    /// A name and an e-mail; neither may hold `<`, `>` or a line break.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Result<Self> {
        let (name, email) = (name.into(), email.into());
        for field in [&name, &email] {
            if field.contains(['<', '>', '\n', '\0']) {
                return Err(Error::InvalidSignature { field: field.clone() });
            }
        }
        Ok(Signature {
            name,
            email,
            time: None,
        })
    }

    /// The same signature at a fixed time: `seconds` since the Unix
    /// epoch, `offset` seconds east of UTC.
    pub fn at(mut self, seconds: i64, offset: i32) -> Self {
        self.time = Some(gix::date::Time::new(seconds, offset));
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The e-mail.
    pub fn email(&self) -> &str {
        &self.email
    }

    pub(crate) fn to_gix(&self, now: gix::date::Time) -> gix::actor::Signature {
        gix::actor::Signature {
            name: self.name.as_str().into(),
            email: self.email.as_str().into(),
            time: self.time.unwrap_or(now),
        }
    }
}

/// Changes committed atomically: all of them are in the same commit, or
/// none is.
///
/// ```
/// let batch = gitkv::Batch::new("add two pastes")
///     .set("pastes/ab/cdef", "hello")
///     .set("pastes/ab/cdef.meta", "{}")
///     .remove("pastes/zz/old");
/// assert_eq!(batch.len(), 3);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub(crate) changes: Vec<(String, Option<Vec<u8>>)>,
    pub(crate) message: String,
    pub(crate) author: Option<Signature>,
    pub(crate) committer: Option<Signature>,
}

impl Batch {
    /// An empty batch whose commit will have `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Batch {
            message: message.into(),
            ..Batch::default()
        }
    }

    /// Sets `key` to `value`. Within a batch, a later change of the same
    /// key wins.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.changes.push((key.into(), Some(value.into())));
        self
    }

    /// Removes `key` (nothing happens if it has no value).
    pub fn remove(mut self, key: impl Into<String>) -> Self {
        self.changes.push((key.into(), None));
        self
    }

    /// The commit's author (the store's committer by default).
    pub fn author(mut self, author: Signature) -> Self {
        self.author = Some(author);
        self
    }

    /// The commit's committer (the store's by default).
    pub fn committer(mut self, committer: Signature) -> Self {
        self.committer = Some(committer);
        self
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether the batch has no change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// How batches that arrive together are committed (see the crate docs,
/// "Group commit").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grouping {
    /// One commit for the whole group: fewest objects to write. Its
    /// message lists the batches' messages when there are several.
    #[default]
    OneCommit,
    /// One commit per batch, chained, with the batch's own author and
    /// message (so `git log` and `git revert` see each batch), and still
    /// one ref update and one round of fsyncs for the group.
    CommitPerBatch,
}

/// A durable write: the commit that contains it is on disk and the branch
/// points at it or at a descendant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Committed {
    /// The commit that has this batch's changes.
    pub commit: ObjectId,
    /// How many batches were committed in the same group (1: alone).
    pub group_size: usize,
}
