//! One set of a database (the main set or the named set) as groups: a
//! top-level entry and its continuations, in match order.
//!
//! The groups of a compiled database stay packed (`mgc::Packed`), or in
//! its file (`compiled::Source`), until the matcher first reaches them: the
//! top-level entry of a group is decoded when its index shortcut cannot
//! reject it, the continuations when the top-level entry matches.
//! Identifying one small file touches a few hundred of the ~4,000 groups
//! of file's `magic.mgc`, so a start-up does not pay for turning 22,000
//! records into entries. Decoded groups are kept (`OnceLock`), so later
//! identifications pay nothing.

use std::sync::{Arc, OnceLock};

use crate::compiled::Source;
use crate::entry::Entry;
use crate::mgc::Packed;

/// A set of entries, as groups.
#[derive(Default)]
pub(crate) struct Set {
    groups: Vec<Group>,
    /// The records of the groups of a compiled database (empty otherwise).
    packed: Packed,
    /// Where the continuation records are when `packed` holds the
    /// top-level records only: the open file, and the index past the last
    /// record of the set.
    file: Option<(Arc<Source>, u32)>,
}

struct Group {
    /// Where the group's records start in `packed` (they end where the
    /// next group's start).
    at: u32,
    /// The index of its top-level record in the file (with `Set::file`).
    record: u32,
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
            .field("in_file", &self.file.is_some())
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
                    record: 0,
                    entries: OnceLock::from(Box::new(decoded)),
                })
            })
            .collect();
        Set {
            groups,
            packed: Packed::default(),
            file: None,
        }
    }

    /// A set of packed groups: `starts` are where their first records are
    /// in `packed` and their indexes in the file, in order; with `file`,
    /// `packed` holds only those records and the others are in the file.
    pub(crate) fn from_packed(
        starts: Vec<(u32, u32)>,
        packed: Packed,
        file: Option<(Arc<Source>, u32)>,
    ) -> Set {
        let groups = starts
            .into_iter()
            .map(|(at, record)| Group {
                at,
                record,
                entries: OnceLock::new(),
            })
            .collect();
        Set { groups, packed, file }
    }

    /// Number of groups (top-level entries).
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    fn decoded(&self, g: usize) -> &Decoded {
        let group = &self.groups[g];
        group.entries.get_or_init(|| {
            let (top, _) = self.packed.decode(group.at as usize);
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
            None => self.packed.value(group.at as usize),
        }
    }

    /// The continuations of group `g`, in order.
    pub(crate) fn rest(&self, g: usize) -> &[Entry] {
        self.decoded(g).rest.get_or_init(|| {
            let group = &self.groups[g];
            let next = self.groups.get(g + 1);
            if let Some((source, end)) = &self.file {
                let first = group.record as usize + 1;
                let end = next.map_or(*end, |n| n.record) as usize;
                return source
                    .continuations(first, end.saturating_sub(first))
                    .into_boxed_slice();
            }
            let end = next.map_or(self.packed.len(), |n| n.at as usize);
            let mut at = self.packed.skip(group.at as usize);
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
