//! The branch's tree in memory: loaded lazily, shared between snapshots,
//! edited by path copying.
//!
//! A [`Tree`] is either stored (its id is known; its entries are read on
//! first use and kept) or new (built by an edit; its id is computed when
//! it is written). Editing a key copies only the trees on its path, so a
//! write of `pastes/ab/cdef` with 100,000 keys under `pastes/` copies the
//! root, `pastes` (256 entries) and `pastes/ab` (a few hundred) and shares
//! everything else with the previous snapshot.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::{EntryKind, EntryMode};
use gix::objs::{Kind, WriteTo};

use crate::odb::{NewObject, Objects};
use crate::{Error, Result};

const HASH: gix::hash::Kind = gix::hash::Kind::Sha1;

/// An entry of a tree: a value (blob, executable, symlink or submodule
/// commit: a leaf) or a subtree.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Leaf { id: ObjectId, mode: EntryMode },
    Tree(Arc<Tree>),
}

impl Node {
    pub(crate) fn blob(id: ObjectId) -> Self {
        Node::Leaf {
            id,
            mode: EntryKind::Blob.into(),
        }
    }

    /// The id of a leaf or of a stored tree; `None` for a tree not written yet.
    pub(crate) fn id(&self) -> Option<ObjectId> {
        match self {
            Node::Leaf { id, .. } => Some(*id),
            Node::Tree(tree) => tree.id.get().copied(),
        }
    }

    /// Same object and same mode (trees compare by id).
    pub(crate) fn same(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Leaf { id: a, mode: m }, Node::Leaf { id: b, mode: n }) => a == b && m == n,
            (Node::Tree(a), Node::Tree(b)) => {
                Arc::ptr_eq(a, b) || matches!((a.id.get(), b.id.get()), (Some(x), Some(y)) if x == y)
            }
            _ => false,
        }
    }
}

pub(crate) type Entries = BTreeMap<BString, Node>;

/// A directory of keys. At least one of `id` and `entries` is set.
#[derive(Debug)]
pub(crate) struct Tree {
    id: OnceLock<ObjectId>,
    entries: OnceLock<Arc<Entries>>,
}

impl Tree {
    pub(crate) fn stored(id: ObjectId) -> Arc<Self> {
        Arc::new(Tree {
            id: OnceLock::from(id),
            entries: OnceLock::new(),
        })
    }

    pub(crate) fn new(entries: Entries) -> Arc<Self> {
        Arc::new(Tree {
            id: OnceLock::new(),
            entries: OnceLock::from(Arc::new(entries)),
        })
    }

    pub(crate) fn empty() -> Arc<Self> {
        Tree::new(Entries::new())
    }

    /// The entries, read from the object database on first use.
    pub(crate) fn entries(&self, objects: &Objects) -> Result<&Arc<Entries>> {
        if let Some(entries) = self.entries.get() {
            return Ok(entries);
        }
        let id = *self.id.get().expect("a tree without entries has an id");
        let loaded = Arc::new(load(objects, &id)?);
        // Another reader may have won the race: both loaded the same object.
        Ok(self.entries.get_or_init(|| loaded))
    }

    /// The node at `path` (a leaf or a subtree), if any.
    pub(crate) fn lookup(self: &Arc<Self>, objects: &Objects, path: &[&str]) -> Result<Option<Node>> {
        let mut tree = Arc::clone(self);
        for (i, name) in path.iter().enumerate() {
            let Some(node) = tree.entries(objects)?.get(name.as_bytes().as_bstr()).cloned() else {
                return Ok(None);
            };
            if i + 1 == path.len() {
                return Ok(Some(node));
            }
            match node {
                Node::Tree(sub) => tree = sub,
                Node::Leaf { .. } => return Ok(None),
            }
        }
        Ok(Some(Node::Tree(tree)))
    }

    /// Every leaf under this tree, as (`prefix` + path, node), in name order.
    pub(crate) fn walk(
        &self,
        objects: &Objects,
        prefix: &mut String,
        out: &mut Vec<(String, Node)>,
    ) -> Result<()> {
        for (name, node) in self.entries(objects)?.iter() {
            // Keys are UTF-8: entries with other names (written by other
            // Git tools) cannot be addressed and are not listed.
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(name);
            match node {
                Node::Tree(sub) => sub.walk(objects, prefix, out)?,
                Node::Leaf { .. } => out.push((prefix.clone(), node.clone())),
            }
            prefix.truncate(len);
        }
        Ok(())
    }

    /// Serialises this tree and every new subtree (bottom-up), appending
    /// the objects to write to `out`; returns this tree's id.
    pub(crate) fn serialize(&self, out: &mut Vec<NewObject>) -> Result<ObjectId> {
        if let Some(id) = self.id.get() {
            return Ok(*id);
        }
        let entries = self.entries.get().expect("a tree without an id has entries");
        // Subtrees first; then the entries borrowed, not copied.
        let mut ids = Vec::with_capacity(entries.len());
        for node in entries.values() {
            ids.push(match node {
                Node::Leaf { id, .. } => *id,
                Node::Tree(sub) => sub.serialize(out)?,
            });
        }
        let mut tree = gix::objs::TreeRef {
            entries: Vec::with_capacity(entries.len()),
        };
        for ((name, node), id) in entries.iter().zip(&ids) {
            let mode = match node {
                Node::Leaf { mode, .. } => *mode,
                Node::Tree(_) => EntryKind::Tree.into(),
            };
            tree.entries.push(gix::objs::tree::EntryRef {
                mode,
                filename: name.as_bstr(),
                oid: id.as_ref(),
            });
        }
        // Git's order: a tree sorts as if its name ended with '/' (nearly
        // the map's order already).
        tree.entries.sort();
        let mut data = Vec::with_capacity(tree.size() as usize);
        tree.write_to(&mut data)
            .map_err(Error::io("encode a tree for", "objects"))?;
        let object = NewObject::new(Kind::Tree, data)?;
        let id = object.id;
        out.push(object);
        Ok(*self.id.get_or_init(|| id))
    }
}

fn load(objects: &Objects, id: &ObjectId) -> Result<Entries> {
    let data = objects.read(id, Kind::Tree)?;
    let tree =
        gix::objs::TreeRef::from_bytes(&data, HASH).map_err(|source| Error::Object { id: *id, source })?;
    let mut entries = Entries::new();
    for entry in tree.entries {
        let node = if entry.mode.is_tree() {
            Node::Tree(Tree::stored(entry.oid.to_owned()))
        } else {
            Node::Leaf {
                id: entry.oid.to_owned(),
                mode: entry.mode,
            }
        };
        entries.insert(entry.filename.to_owned(), node);
    }
    Ok(entries)
}

/// One change of a batch: set a key to a blob, or remove it.
#[derive(Clone, Debug)]
pub(crate) struct Edit {
    pub(crate) key: String,
    pub(crate) value: Option<ObjectId>,
}

/// Applies `edits` (in order; a later edit of the same key wins) to
/// `root`, returning the new root. Nothing is written.
pub(crate) fn apply(objects: &Objects, root: &Arc<Tree>, edits: &[Edit]) -> Result<Arc<Tree>> {
    let mut split: Vec<(Vec<&str>, Option<ObjectId>, usize)> = Vec::with_capacity(edits.len());
    for (order, edit) in edits.iter().enumerate() {
        split.push((crate::key::split(&edit.key)?, edit.value, order));
    }
    // Group by path; within a key, the last edit wins.
    split.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    split.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            *earlier = std::mem::take(later);
            true
        } else {
            false
        }
    });
    let refs: Vec<(&[&str], Option<ObjectId>)> = split.iter().map(|(p, v, _)| (p.as_slice(), *v)).collect();
    match edit_tree(objects, Some(root), &refs, 0)? {
        Some(tree) => Ok(tree),
        None => Ok(Tree::empty()),
    }
}

/// Edits one tree at `depth`; `edits` are sorted by path and all share
/// the first `depth` components. `None`: the tree became empty.
fn edit_tree(
    objects: &Objects,
    tree: Option<&Arc<Tree>>,
    edits: &[(&[&str], Option<ObjectId>)],
    depth: usize,
) -> Result<Option<Arc<Tree>>> {
    let mut entries: Entries = match tree {
        Some(tree) => (**tree.entries(objects)?).clone(),
        None => Entries::new(),
    };
    let mut changed = false;
    let mut rest = edits;
    while let Some((first, _)) = rest.first() {
        let name = first[depth];
        let end = rest
            .iter()
            .position(|(p, _)| p[depth] != name)
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(end);
        rest = tail;
        let key = |path: &[&str]| path.join("/");
        let name_b = BString::from(name);
        // Sorted: a leaf edit of `name` itself comes first in its group.
        if group[0].0.len() == depth + 1 {
            if group.len() > 1 {
                return Err(Error::BatchConflict { key: key(group[0].0) });
            }
            let (path, value) = group[0];
            match (entries.get(&name_b), value) {
                (Some(Node::Tree(_)), _) => return Err(Error::IsDirectory { key: key(path) }),
                (existing, Some(id)) => {
                    let node = Node::blob(id);
                    if !existing.is_some_and(|e| e.same(&node)) {
                        entries.insert(name_b, node);
                        changed = true;
                    }
                }
                (Some(_), None) => {
                    entries.remove(&name_b);
                    changed = true;
                }
                (None, None) => {}
            }
        } else {
            let sub = match entries.get(&name_b) {
                Some(Node::Tree(sub)) => Some(Arc::clone(sub)),
                Some(Node::Leaf { .. }) => {
                    if group.iter().all(|(_, v)| v.is_none()) {
                        // Removing keys below a value: there are none.
                        continue;
                    }
                    return Err(Error::ParentIsValue {
                        key: key(group[0].0),
                        parent: key(&group[0].0[..=depth]),
                    });
                }
                None => None,
            };
            let edited = edit_tree(objects, sub.as_ref(), group, depth + 1)?;
            match (sub, edited) {
                (Some(old), Some(new)) if Arc::ptr_eq(&old, &new) => {}
                (_, Some(new)) => {
                    entries.insert(name_b, Node::Tree(new));
                    changed = true;
                }
                (Some(_), None) => {
                    entries.remove(&name_b);
                    changed = true;
                }
                (None, None) => {}
            }
        }
    }
    if !changed {
        return Ok(tree.cloned());
    }
    if entries.is_empty() {
        return Ok(None);
    }
    Ok(Some(Tree::new(entries)))
}
