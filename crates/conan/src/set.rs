//! One set of a database (the main set or the named set) as groups: a
//! top-level entry and its continuations, in match order.
//!
//! The groups of a compiled database stay packed (`mgc::Packed`) until the
//! matcher first reaches them: the top-level entry of a group is decoded
//! when its index shortcut cannot reject it, the continuations when the
//! top-level entry matches. Identifying one small file touches a few
//! hundred of the ~4,000 groups of file's `magic.mgc`, so a start-up does
//! not pay for turning 22,000 records into entries. Decoded groups are kept
//! (`OnceLock`), so later identifications pay nothing.

use std::sync::OnceLock;

use crate::entry::Entry;
use crate::mgc::Packed;

/// A set of entries, as groups.
#[derive(Default)]
pub(crate) struct Set {
    groups: Vec<Group>,
    /// The records of the groups of a compiled database (empty otherwise).
    packed: Packed,
}

struct Group {
    /// Where the group's records start in `packed` (they end where the
    /// next group's start).
    at: usize,
    /// The decoded entries, on first use (set up front for text magic).
    entries: OnceLock<Box<Decoded>>,
}

struct Decoded {
    top: Entry,
    /// The continuations, on first use.
    rest: OnceLock<Box<[Entry]>>,
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Set")
            .field("groups", &self.groups.len())
            .field("packed_bytes", &self.packed.len())
            .finish()
    }
}

impl Set {
    /// A set of decoded groups (each a top-level entry first).
    pub(crate) fn from_groups(groups: impl IntoIterator<Item = Vec<Entry>>) -> Set {
        let groups = groups
            .into_iter()
            .filter_map(|g| {
                let mut g = g.into_iter();
                let top = g.next()?;
                let decoded = Decoded {
                    top,
                    rest: OnceLock::from(g.collect::<Box<[Entry]>>()),
                };
                Some(Group {
                    at: 0,
                    entries: OnceLock::from(Box::new(decoded)),
                })
            })
            .collect();
        Set {
            groups,
            packed: Packed::default(),
        }
    }

    /// A set of packed groups: `starts` are the offsets of their first
    /// records in `packed`, in order.
    pub(crate) fn from_packed(starts: Vec<usize>, packed: Packed) -> Set {
        let groups = starts
            .into_iter()
            .map(|at| Group {
                at,
                entries: OnceLock::new(),
            })
            .collect();
        Set { groups, packed }
    }

    /// Number of groups (top-level entries).
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    fn decoded(&self, g: usize) -> &Decoded {
        let group = &self.groups[g];
        group.entries.get_or_init(|| {
            let (top, _) = self.packed.decode(group.at);
            Box::new(Decoded {
                top,
                rest: OnceLock::new(),
            })
        })
    }

    /// The top-level entry of group `g`.
    pub(crate) fn top(&self, g: usize) -> &Entry {
        &self.decoded(g).top
    }

    /// The string value of the top-level entry of group `g` (a `name`'s
    /// name), without decoding the group.
    pub(crate) fn top_value(&self, g: usize) -> Vec<u8> {
        let group = &self.groups[g];
        match group.entries.get() {
            Some(d) => d.top.bytes().to_vec(),
            None => self.packed.value(group.at),
        }
    }

    /// The continuations of group `g`, in order.
    pub(crate) fn rest(&self, g: usize) -> &[Entry] {
        self.decoded(g).rest.get_or_init(|| {
            let end = self.groups.get(g + 1).map_or(self.packed.len(), |n| n.at);
            let mut at = self.packed.skip(self.groups[g].at);
            let mut rest = Vec::new();
            while at < end {
                let (e, next) = self.packed.decode(at);
                rest.push(e);
                at = next;
            }
            rest.into_boxed_slice()
        })
    }

    /// Every entry, group by group (decoding them all).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        (0..self.len()).flat_map(|g| std::iter::once(self.top(g)).chain(self.rest(g)))
    }
}
