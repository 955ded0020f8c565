//! Three-way merge of trees by key, and the local half of a pull: merging
//! a commit that is already in the object database into the branch.

use std::collections::BTreeSet;
use std::sync::Arc;

use gix::ObjectId;
use gix::bstr::{BStr, BString};

use crate::history::merge_base;
use crate::odb::Objects;
use crate::snapshot::Snapshot;
use crate::store::{Store, commit_object, commit_tree, load_snapshot};
use crate::tree::{Entries, Node, Tree};
use crate::{Error, Result};

/// What to do with a key both sides changed differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Policy {
    /// Keep our value (the local branch's); the conflict is reported.
    Ours,
    /// Take their value (the fetched commit's); the conflict is reported.
    Theirs,
    /// Commit nothing and return [`Error::Conflicts`].
    Fail,
}

/// A key both sides changed differently since their merge base. The ids
/// are blobs, or trees when one side has a directory where the other has
/// a value; `None` means absent on that side (never created, or removed).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conflict {
    /// The key (or the directory, for a value/directory clash).
    pub key: String,
    /// At the merge base.
    pub base: Option<ObjectId>,
    /// On our side.
    pub ours: Option<ObjectId>,
    /// On their side.
    pub theirs: Option<ObjectId>,
}

impl Conflict {
    /// Whether one side removed the key while the other changed it.
    pub fn is_delete_modify(&self) -> bool {
        self.ours.is_none() || self.theirs.is_none()
    }
}

/// How the branch changed in [`Store::merge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeKind {
    /// Their commit was already in our history: nothing to do.
    UpToDate,
    /// Our commit was in their history: the branch now points at theirs.
    FastForward,
    /// A merge commit with both as parents.
    Merged,
}

/// What [`Store::merge`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeOutcome {
    /// How the branch changed.
    pub kind: MergeKind,
    /// The branch's commit afterwards.
    pub head: ObjectId,
    /// The conflicts, resolved by the policy (empty for a clean merge).
    pub conflicts: Vec<Conflict>,
}

impl Store {
    /// Merges commit `theirs` (already in the object database, e.g. just
    /// fetched) into the branch: a fast-forward when possible, otherwise a
    /// three-way merge by key against the merge base, committed with both
    /// commits as parents. Keys changed on one side only take that side's
    /// value; keys changed differently on both sides are conflicts, handled
    /// by `policy` and always listed in the outcome. Durable when it returns.
    pub fn merge(&self, theirs: ObjectId, policy: Policy) -> Result<MergeOutcome> {
        self.exclusive(|| {
            loop {
                let current = self.snapshot();
                let their_tree = commit_tree(&self.inner.objects, &theirs)?;
                let Some(head) = current.head else {
                    if self.fast_forward(None, theirs)? {
                        return Ok(outcome(MergeKind::FastForward, theirs, Vec::new()));
                    }
                    continue;
                };
                if head == theirs {
                    return Ok(outcome(MergeKind::UpToDate, head, Vec::new()));
                }
                let base = merge_base(&self.inner.objects, head, theirs)?;
                if base == Some(theirs) {
                    return Ok(outcome(MergeKind::UpToDate, head, Vec::new()));
                }
                if base == Some(head) {
                    if self.fast_forward(Some(head), theirs)? {
                        return Ok(outcome(MergeKind::FastForward, theirs, Vec::new()));
                    }
                    continue;
                }
                let base_tree = match base {
                    Some(base) => Tree::stored(commit_tree(&self.inner.objects, &base)?),
                    None => Tree::empty(),
                };
                let mut conflicts = Vec::new();
                let merged = merge_trees(
                    &self.inner.objects,
                    &base_tree,
                    &current.root,
                    &Tree::stored(their_tree),
                    policy,
                    &mut String::new(),
                    &mut conflicts,
                )?
                .unwrap_or_else(Tree::empty);
                if policy == Policy::Fail && !conflicts.is_empty() {
                    return Err(Error::Conflicts { conflicts });
                }
                let mut objects = Vec::new();
                let tree = merged.serialize(&mut objects)?;
                let mut message = format!("Merge commit {theirs}\n");
                if !conflicts.is_empty() {
                    let side = if policy == Policy::Theirs {
                        "theirs"
                    } else {
                        "ours"
                    };
                    message.push_str(&format!("\nConflicts (kept {side}):\n"));
                    for c in &conflicts {
                        message.push_str(&format!("\t{}\n", c.key));
                    }
                }
                let committer = &self.inner.committer;
                let commit = commit_object(
                    tree,
                    vec![head, theirs],
                    committer,
                    committer,
                    &message,
                    gix::date::Time::now_utc(),
                )?;
                let id = commit.id;
                objects.push(commit);
                self.inner
                    .objects
                    .write_durably(&objects.iter().collect::<Vec<_>>())?;
                let snapshot = Snapshot {
                    head: Some(id),
                    root: merged,
                    objects: Arc::clone(&self.inner.objects),
                };
                if self.publish(Some(head), snapshot)? {
                    return Ok(outcome(MergeKind::Merged, id, conflicts));
                }
            }
        })
    }

    fn fast_forward(&self, expected: Option<ObjectId>, theirs: ObjectId) -> Result<bool> {
        let snapshot = load_snapshot(&self.inner.objects, Some(theirs))?;
        self.publish(expected, snapshot)
    }
}

fn outcome(kind: MergeKind, head: ObjectId, conflicts: Vec<Conflict>) -> MergeOutcome {
    MergeOutcome {
        kind,
        head,
        conflicts,
    }
}

fn same(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same(b),
        _ => false,
    }
}

fn is_tree_or_none(n: Option<&Node>) -> bool {
    matches!(n, None | Some(Node::Tree(_)))
}

fn as_tree(n: Option<&Node>) -> Arc<Tree> {
    match n {
        Some(Node::Tree(t)) => Arc::clone(t),
        _ => Tree::empty(),
    }
}

/// Merges `ours` and `theirs` against `base`, key by key. Subtrees equal
/// on two sides are taken whole without being read. `None`: empty.
pub(crate) fn merge_trees(
    objects: &Objects,
    base: &Arc<Tree>,
    ours: &Arc<Tree>,
    theirs: &Arc<Tree>,
    policy: Policy,
    prefix: &mut String,
    conflicts: &mut Vec<Conflict>,
) -> Result<Option<Arc<Tree>>> {
    let (b, o, t) = (
        Node::Tree(Arc::clone(base)),
        Node::Tree(Arc::clone(ours)),
        Node::Tree(Arc::clone(theirs)),
    );
    if o.same(&t) || b.same(&t) {
        return non_empty(objects, ours);
    }
    if b.same(&o) {
        return non_empty(objects, theirs);
    }
    let (be, oe, te) = (
        base.entries(objects)?,
        ours.entries(objects)?,
        theirs.entries(objects)?,
    );
    let names: BTreeSet<&BString> = be.keys().chain(oe.keys()).chain(te.keys()).collect();
    let mut out = Entries::new();
    for name in names {
        let (bn, on, tn) = (be.get(name), oe.get(name), te.get(name));
        let picked: Option<Node> = if same(on, tn) || same(bn, tn) {
            on.cloned()
        } else if same(bn, on) {
            tn.cloned()
        } else if is_tree_or_none(bn) && is_tree_or_none(on) && is_tree_or_none(tn) {
            let len = prefix.len();
            push_name(prefix, name.as_ref());
            let sub = merge_trees(
                objects,
                &as_tree(bn),
                &as_tree(on),
                &as_tree(tn),
                policy,
                prefix,
                conflicts,
            )?;
            prefix.truncate(len);
            sub.map(Node::Tree)
        } else {
            let len = prefix.len();
            push_name(prefix, name.as_ref());
            conflicts.push(Conflict {
                key: prefix.clone(),
                base: bn.and_then(Node::id),
                ours: on.and_then(Node::id),
                theirs: tn.and_then(Node::id),
            });
            prefix.truncate(len);
            match policy {
                Policy::Theirs => tn.cloned(),
                Policy::Ours | Policy::Fail => on.cloned(),
            }
        };
        if let Some(node) = picked {
            out.insert(name.clone(), node);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(Tree::new(out)))
}

fn non_empty(objects: &Objects, tree: &Arc<Tree>) -> Result<Option<Arc<Tree>>> {
    Ok(if tree.entries(objects)?.is_empty() {
        None
    } else {
        Some(Arc::clone(tree))
    })
}

fn push_name(prefix: &mut String, name: &BStr) {
    if !prefix.is_empty() {
        prefix.push('/');
    }
    prefix.push_str(&String::from_utf8_lossy(name));
}
