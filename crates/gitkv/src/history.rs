//! Walking commits: the history of one key, and merge bases.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::Kind;

use crate::odb::Objects;
use crate::{Error, Result, key};

const HASH: gix::hash::Kind = gix::hash::Kind::Sha1;

/// One commit that changed a key, as [`Store::history`](crate::Store::history) yields it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revision {
    /// The commit.
    pub commit: ObjectId,
    /// The key's blob after this commit (`None`: the commit removed it).
    pub value: Option<ObjectId>,
    /// The committer's time, seconds since the Unix epoch.
    pub time: i64,
    /// The author's name.
    pub author: String,
    /// The first line of the commit message.
    pub summary: String,
}

/// What a walk needs of a commit.
pub(crate) struct CommitInfo {
    pub(crate) tree: ObjectId,
    pub(crate) parents: Vec<ObjectId>,
    pub(crate) time: i64,
}

pub(crate) fn commit_info(objects: &Objects, id: &ObjectId) -> Result<(CommitInfo, Vec<u8>)> {
    let data = objects.read(id, Kind::Commit)?;
    let info = {
        let commit = gix::objs::CommitRef::from_bytes(&data, HASH)
            .map_err(|source| Error::Object { id: *id, source })?;
        CommitInfo {
            tree: commit.tree(),
            parents: commit.parents().collect(),
            time: commit.time().map(|t| t.seconds).unwrap_or(0),
        }
    };
    Ok((info, data))
}

/// The commits that changed a key, newest first (by committer time). A
/// commit is listed when the key's value (or absence) differs from that
/// in each of its parents; a merge that took one side's value unchanged
/// is not listed, the commit that made the change is.
///
/// Each step reads one commit and the trees on the key's path; a walk
/// over the whole history costs in proportion to it, so take what you
/// need (`store.history(key)?.take(10)`).
pub struct History {
    objects: Arc<Objects>,
    path: Vec<String>,
    /// Newest first; equal times in insertion order (as Git's queue), so
    /// that a parent never comes before a child with the same time.
    queue: BinaryHeap<(i64, Reverse<u64>, ObjectId)>,
    inserted: u64,
    seen: HashSet<ObjectId>,
    /// Value of the key per (depth, tree id): subtrees repeat across commits.
    values: HashMap<(usize, ObjectId), Option<ObjectId>>,
    failed: bool,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl History {
    pub(crate) fn new(objects: Arc<Objects>, key: &str, head: Option<ObjectId>) -> Result<Self> {
        let path = key::split(key)?.into_iter().map(str::to_string).collect();
        let mut history = History {
            objects,
            path,
            queue: BinaryHeap::new(),
            inserted: 0,
            seen: HashSet::new(),
            values: HashMap::new(),
            failed: false,
        };
        if let Some(head) = head {
            let (info, _) = commit_info(&history.objects, &head)?;
            history.seen.insert(head);
            history.enqueue(info.time, head);
        }
        Ok(history)
    }

    /// The key's blob in `tree`, looked up level by level; every tree
    /// visited on the way is memoised with the answer.
    fn value_in(&mut self, tree: ObjectId) -> Result<Option<ObjectId>> {
        let mut id = tree;
        let mut visited = Vec::new();
        let mut value = None;
        for depth in 0..self.path.len() {
            if let Some(known) = self.values.get(&(depth, id)) {
                value = *known;
                break;
            }
            visited.push((depth, id));
            let data = self.objects.read(&id, Kind::Tree)?;
            let name = self.path[depth].as_bytes().as_bstr();
            let mut found = None;
            for entry in gix::objs::TreeRefIter::from_bytes(&data, HASH) {
                let entry = entry.map_err(|source| Error::Object { id, source })?;
                if entry.filename == name {
                    found = Some((entry.mode, entry.oid.to_owned()));
                    break;
                }
            }
            let last = depth + 1 == self.path.len();
            match found {
                Some((mode, oid)) if last && !mode.is_tree() => {
                    value = Some(oid);
                    break;
                }
                Some((mode, oid)) if !last && mode.is_tree() => id = oid,
                _ => break,
            }
        }
        for at in visited {
            self.values.insert(at, value);
        }
        Ok(value)
    }

    fn enqueue(&mut self, time: i64, id: ObjectId) {
        self.inserted += 1;
        self.queue.push((time, Reverse(self.inserted), id));
    }

    fn step(&mut self) -> Result<Option<Revision>> {
        while let Some((_, _, id)) = self.queue.pop() {
            let (info, data) = commit_info(&self.objects, &id)?;
            let value = self.value_in(info.tree)?;
            let mut parent_values = Vec::with_capacity(info.parents.len());
            for parent in &info.parents {
                let (pinfo, _) = commit_info(&self.objects, parent)?;
                parent_values.push(self.value_in(pinfo.tree)?);
                if self.seen.insert(*parent) {
                    self.enqueue(pinfo.time, *parent);
                }
            }
            let changed = if parent_values.is_empty() {
                value.is_some()
            } else {
                parent_values.iter().all(|p| *p != value)
            };
            if changed {
                let commit = gix::objs::CommitRef::from_bytes(&data, HASH)
                    .map_err(|source| Error::Object { id, source })?;
                let author = commit
                    .author()
                    .map(|a| a.name.to_str_lossy().into_owned())
                    .unwrap_or_default();
                return Ok(Some(Revision {
                    commit: id,
                    value,
                    time: info.time,
                    author,
                    summary: commit.message().summary().to_str_lossy().into_owned(),
                }));
            }
        }
        Ok(None)
    }
}

impl Iterator for History {
    type Item = Result<Revision>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(Some(revision)) => Some(Ok(revision)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The merge base of `a` and `b`, as Git computes it (`paint_down_to_common`
/// then `remove_redundant`): walk both histories newest first, a commit
/// reached from both is a candidate and makes its ancestors stale; the
/// walk ends when only stale commits are queued; candidates reachable
/// from another candidate are dropped. Equal or skewed commit times only
/// cost a longer walk. With several bases left (criss-cross merges) the
/// newest is used: still a common ancestor, so a three-way merge on it
/// may report more conflicts, never lose a change silently.
pub(crate) fn merge_base(objects: &Objects, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>> {
    const A: u8 = 1;
    const B: u8 = 2;
    const STALE: u8 = 4;
    const RESULT: u8 = 8;
    if a == b {
        return Ok(Some(a));
    }
    let mut flags: HashMap<ObjectId, u8> = HashMap::new();
    let mut times: HashMap<ObjectId, i64> = HashMap::new();
    let mut queue = BinaryHeap::new();
    for (id, flag) in [(a, A), (b, B)] {
        let (info, _) = commit_info(objects, &id)?;
        *flags.entry(id).or_default() |= flag;
        times.insert(id, info.time);
        queue.push((info.time, id));
    }
    let mut results = Vec::new();
    while queue
        .iter()
        .any(|(_, id)| flags.get(id).copied().unwrap_or(0) & STALE == 0)
    {
        let Some((_, id)) = queue.pop() else { break };
        let all = flags.get(&id).copied().unwrap_or(0);
        let mut flag = all & (A | B | STALE);
        if flag == A | B {
            if all & RESULT == 0 {
                flags.insert(id, all | RESULT);
                results.push(id);
            }
            flag |= STALE;
        }
        let (info, _) = commit_info(objects, &id)?;
        for parent in info.parents {
            let entry = flags.entry(parent).or_default();
            if *entry & flag == flag {
                continue;
            }
            *entry |= flag;
            let time = match times.get(&parent) {
                Some(t) => *t,
                None => {
                    let t = commit_info(objects, &parent)?.0.time;
                    times.insert(parent, t);
                    t
                }
            };
            queue.push((time, parent));
        }
    }
    // Drop candidates that are ancestors of another candidate.
    let mut kept = Vec::new();
    for (i, candidate) in results.iter().enumerate() {
        let others: Vec<ObjectId> = results
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, id)| *id)
            .collect();
        if !reachable_from(objects, &others, candidate)? {
            kept.push(*candidate);
        }
    }
    Ok(kept.first().copied())
}

/// Whether `target` is an ancestor of (or one of) `tips`.
fn reachable_from(objects: &Objects, tips: &[ObjectId], target: &ObjectId) -> Result<bool> {
    let mut seen: HashSet<ObjectId> = tips.iter().copied().collect();
    let mut stack: Vec<ObjectId> = tips.to_vec();
    while let Some(id) = stack.pop() {
        if id == *target {
            return Ok(true);
        }
        for parent in commit_info(objects, &id)?.0.parents {
            if seen.insert(parent) {
                stack.push(parent);
            }
        }
    }
    Ok(false)
}
