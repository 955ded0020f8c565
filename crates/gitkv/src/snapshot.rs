//! A consistent read view of the branch at one commit.

use std::sync::Arc;

use gix::ObjectId;
use gix::objs::Kind;
use gix::objs::tree::EntryKind;

use crate::odb::Objects;
use crate::tree::{Node, Tree};
use crate::{Error, Result, key};

/// The branch at one commit, in memory. Cloning is cheap; reads never
/// walk history and load each tree at most once (trees are shared with
/// later snapshots).
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub(crate) head: Option<ObjectId>,
    pub(crate) root: Arc<Tree>,
    pub(crate) objects: Arc<Objects>,
}

impl Snapshot {
    /// The commit this snapshot shows (`None`: the branch has no commit yet).
    pub fn head(&self) -> Option<ObjectId> {
        self.head
    }

    /// The value of `key`, or `None` if it has none (a directory of other
    /// keys is not a value).
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.value_id(key)? {
            Some(id) => self.objects.read(&id, Kind::Blob).map(Some),
            None => Ok(None),
        }
    }

    /// The blob id of `key`'s value, without reading it.
    pub fn value_id(&self, key: &str) -> Result<Option<ObjectId>> {
        let path = key::split(key)?;
        match self.root.lookup(&self.objects, &path)? {
            Some(Node::Leaf { mode, .. }) if mode.kind() == EntryKind::Commit => Err(Error::NotAValue {
                key: key.to_string(),
                mode: mode.value(),
            }),
            Some(Node::Leaf { id, .. }) => Ok(Some(id)),
            Some(Node::Tree(_)) | None => Ok(None),
        }
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &str) -> Result<bool> {
        Ok(self.value_id(key)?.is_some())
    }

    /// Every key under `prefix` (`""`: all keys; `"pastes/"` or
    /// `"pastes"`: the keys below it), sorted. If `prefix` is
    /// itself a key with a value, that key alone.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let path = key::split_prefix(prefix)?;
        let mut out = Vec::new();
        match self.root.lookup(&self.objects, &path)? {
            Some(Node::Tree(tree)) => {
                let mut name = path.join("/");
                tree.walk(&self.objects, &mut name, &mut out)?;
            }
            Some(Node::Leaf { .. }) => return Ok(vec![path.join("/")]),
            None => {}
        }
        let mut keys: Vec<String> = out.into_iter().map(|(key, _)| key).collect();
        // Trees are in name order per level; `a.b` sorts before `a/x`.
        keys.sort_unstable();
        Ok(keys)
    }
}
