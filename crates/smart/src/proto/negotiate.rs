//! Which `have`s to send, round after round, until the server is ready.
//!
//! The caller gives the candidates (its commits, newest first: ref tips,
//! then their ancestors by commit date) and feeds back what the server
//! acknowledged. Each round sends every common commit found so far (a v2
//! server keeps no state between requests) and a new batch of candidates,
//! 16 then doubling up to 512. When the server says `ready`, the pack is
//! in the same response; when the candidates run out, the round says
//! `done`.
//!
//! Candidates whose ancestors the server already acknowledged are not
//! skipped: a long local history the server lacks costs extra `have`
//! lines, not extra pack data. That is simpler than Git's skipping
//! negotiator and fine for the histories this crate serves.

use std::collections::{HashSet, VecDeque};

use gix::ObjectId;

/// One round: what to put in a fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    /// The `have` lines: common commits so far, then new candidates.
    pub haves: Vec<ObjectId>,
    /// Whether to send `done` (no more rounds).
    pub done: bool,
}

/// The negotiation state.
///
/// ```
/// use smart::proto::Negotiator;
/// # let id = |n: u8| gix::ObjectId::from_bytes_or_panic(&[n; 20]);
///
/// let mut n = Negotiator::new((1..=40).map(id));
/// let round = n.next_round();
/// assert_eq!((round.haves.len(), round.done), (16, false));
/// n.ack(id(3));
/// let round = n.next_round();
/// assert_eq!(round.haves[0], id(3)); // the common commit is sent again
/// assert_eq!((round.haves.len(), round.done), (1 + 24, true)); // the last 24 candidates
/// ```
#[derive(Debug)]
pub struct Negotiator {
    candidates: VecDeque<ObjectId>,
    common: Vec<ObjectId>,
    common_set: HashSet<ObjectId>,
    batch: usize,
    ready: bool,
    done: bool,
}

const FIRST_BATCH: usize = 16;
const MAX_BATCH: usize = 512;

impl Negotiator {
    /// A negotiation over `candidates` (newest first, no duplicates needed).
    pub fn new(candidates: impl IntoIterator<Item = ObjectId>) -> Self {
        let mut seen = HashSet::new();
        let candidates = candidates.into_iter().filter(|id| seen.insert(*id)).collect();
        Self {
            candidates,
            common: Vec::new(),
            common_set: HashSet::new(),
            batch: FIRST_BATCH,
            ready: false,
            done: false,
        }
    }

    /// The next request's haves, and whether it ends the negotiation.
    pub fn next_round(&mut self) -> Round {
        let take = self.batch.min(self.candidates.len());
        let mut haves = self.common.clone();
        haves.extend(
            self.candidates
                .drain(..take)
                .filter(|id| !self.common_set.contains(id)),
        );
        self.batch = (self.batch * 2).min(MAX_BATCH);
        self.done = self.candidates.is_empty();
        Round {
            haves,
            done: self.done,
        }
    }

    /// The server has `id`.
    pub fn ack(&mut self, id: ObjectId) {
        if self.common_set.insert(id) {
            self.common.push(id);
        }
    }

    /// The server said `ready`: the pack comes with this response.
    pub fn ready(&mut self) {
        self.ready = true;
    }

    /// Whether the server said `ready`, or the last round said `done`.
    pub fn is_finished(&self) -> bool {
        self.ready || self.done
    }

    /// The commits both sides have, as acknowledged so far.
    pub fn common(&self) -> &[ObjectId] {
        &self.common
    }
}
