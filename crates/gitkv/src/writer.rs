//! Group commit without a background task: the first caller that finds
//! the writer idle becomes the leader, takes every queued job, commits
//! them and hands each caller its result; callers that arrive meanwhile
//! queue up and one of them leads the next group.
//!
//! No thread or task is spawned: whoever calls does the work, and each
//! caller returns only when the group holding its job is done.
//!
//! Gathering: the callers of a group are acknowledged together and come
//! back together, but one of them is always first, finds the writer idle
//! and would lead a group of one while the others wait a whole commit
//! behind it: the groups alternate between a few callers and the rest,
//! and the throughput halves. So a new leader waits, briefly, until as
//! many jobs are queued as there were callers when the last group ended
//! (its own jobs and those queued behind it): at most a quarter of the
//! last group's commit time and never more than [`MAX_GATHER`]. When
//! fewer callers come back, the wait ends at the deadline once and the
//! next target is the smaller number.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a leader waits for the callers of the last group.
const MAX_GATHER: Duration = Duration::from_millis(2);

/// A queue of jobs `J` with results `R`, committed in groups.
pub(crate) struct GroupCommit<J, R> {
    state: Mutex<State<J, R>>,
    /// Results posted, or the writer freed.
    wake: Condvar,
    /// A job queued while the leader gathers.
    arrived: Condvar,
    /// Bounds of the gathering wait (before the quarter of the last run).
    min_gather: Duration,
    max_gather: Duration,
}

struct State<J, R> {
    queue: Vec<(u64, J)>,
    busy: bool,
    /// A leader is waiting for the callers of the last group.
    gathering: bool,
    next: u64,
    done: HashMap<u64, R>,
    /// How many jobs the last group had plus how many were queued when it
    /// ended (the callers to expect back), and how long it took.
    last_group: usize,
    last_run: Duration,
}

impl<J, R> std::fmt::Debug for GroupCommit<J, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<J, R> GroupCommit<J, R> {
    pub(crate) fn new() -> Self {
        Self::with_gather(Duration::ZERO, MAX_GATHER)
    }

    fn with_gather(min_gather: Duration, max_gather: Duration) -> Self {
        GroupCommit {
            state: Mutex::new(State {
                queue: Vec::new(),
                busy: false,
                gathering: false,
                next: 0,
                done: HashMap::new(),
                last_group: 0,
                last_run: Duration::ZERO,
            }),
            wake: Condvar::new(),
            arrived: Condvar::new(),
            min_gather,
            max_gather,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<J, R>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `job` and returns its result. `run` commits a group (it gets
    /// every queued job with its ticket and returns a result per ticket);
    /// `lost` is the result of a job `run` gave none for (it panicked).
    pub(crate) fn submit(
        &self,
        job: J,
        run: impl Fn(Vec<(u64, J)>) -> Vec<(u64, R)>,
        lost: impl Fn() -> R,
    ) -> R {
        let mut state = self.lock();
        let ticket = state.next;
        state.next += 1;
        state.queue.push((ticket, job));
        if state.gathering {
            self.arrived.notify_one();
        }
        loop {
            if let Some(result) = state.done.remove(&ticket) {
                return result;
            }
            if !state.busy {
                state.busy = true;
                state = self.gather(state);
                let jobs = std::mem::take(&mut state.queue);
                drop(state);
                let mut leading = Leading {
                    writer: self,
                    tickets: jobs.iter().map(|(t, _)| *t).collect(),
                    results: Vec::new(),
                    lost: &lost,
                    size: jobs.len(),
                    started: Instant::now(),
                };
                leading.results = run(jobs);
                drop(leading);
                state = self.lock();
                continue;
            }
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// The leader's wait for the callers of the last group (see the module
    /// docs); returns with the lock held.
    fn gather<'a>(&'a self, mut state: MutexGuard<'a, State<J, R>>) -> MutexGuard<'a, State<J, R>> {
        let target = state.last_group;
        if state.queue.len() >= target {
            return state;
        }
        let wait = (state.last_run / 4).clamp(self.min_gather, self.max_gather);
        let deadline = Instant::now() + wait;
        state.gathering = true;
        while state.queue.len() < target {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self
                .arrived
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state.gathering = false;
        state
    }

    /// Runs `f` while no group is being committed and none can start.
    pub(crate) fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut state = self.lock();
        while state.busy {
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state.busy = true;
        drop(state);
        let _release = Release(self);
        f()
    }
}

/// The leader's group: on drop (normal or panic), posts every result,
/// gives a `lost` result to tickets without one, and frees the writer.
struct Leading<'a, J, R, L: Fn() -> R> {
    writer: &'a GroupCommit<J, R>,
    tickets: Vec<u64>,
    results: Vec<(u64, R)>,
    lost: &'a L,
    size: usize,
    started: Instant,
}

impl<J, R, L: Fn() -> R> Drop for Leading<'_, J, R, L> {
    fn drop(&mut self) {
        let mut state = self.writer.lock();
        for (ticket, result) in self.results.drain(..) {
            state.done.insert(ticket, result);
        }
        for ticket in &self.tickets {
            if !state.done.contains_key(ticket) {
                state.done.insert(*ticket, (self.lost)());
            }
        }
        state.busy = false;
        state.last_group = self.size + state.queue.len();
        state.last_run = self.started.elapsed();
        drop(state);
        self.writer.wake.notify_all();
    }
}

struct Release<'a, J, R>(&'a GroupCommit<J, R>);

impl<J, R> Drop for Release<'_, J, R> {
    fn drop(&mut self) {
        self.0.lock().busy = false;
        self.0.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn every_job_gets_its_own_result_and_groups_form() {
        let writer = Arc::new(GroupCommit::<u32, u32>::new());
        let groups = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16u32)
            .map(|i| {
                let writer = Arc::clone(&writer);
                let groups = Arc::clone(&groups);
                std::thread::spawn(move || {
                    (0..50u32)
                        .map(|j| {
                            let job = i * 1000 + j;
                            let run = |jobs: Vec<(u64, u32)>| {
                                groups.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                jobs.into_iter().map(|(t, j)| (t, j * 2)).collect()
                            };
                            assert_eq!(writer.submit(job, run, || u32::MAX), job * 2);
                        })
                        .count()
                })
            })
            .collect();
        let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(total, 800);
        // 800 jobs, 16 at a time: far fewer groups than jobs.
        assert!(groups.load(Ordering::SeqCst) < 800);
    }

    #[test]
    fn a_new_leader_gathers_the_callers_of_the_last_group() {
        // A generous deadline: the test does not depend on timing.
        let long = Duration::from_secs(30);
        let writer = Arc::new(GroupCommit::<u32, u32>::with_gather(long, long));
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let run = {
            let sizes = Arc::clone(&sizes);
            move |jobs: Vec<(u64, u32)>| {
                sizes.lock().unwrap().push(jobs.len());
                if jobs.iter().any(|(_, j)| *j == 0) {
                    // The first group is held until the others are queued.
                    release_rx.lock().unwrap().recv().unwrap();
                }
                jobs
            }
        };
        let run = Arc::new(run);
        std::thread::scope(|s| {
            let first = {
                let (writer, run) = (Arc::clone(&writer), Arc::clone(&run));
                s.spawn(move || [0, 100, 200].map(|job| writer.submit(job, |jobs| run(jobs), || u32::MAX)))
            };
            while sizes.lock().unwrap().is_empty() {
                std::thread::yield_now();
            }
            // Two callers queue behind the first group; each caller submits
            // again as soon as it is acknowledged.
            let others: Vec<_> = (1..=2u32)
                .map(|i| {
                    let (writer, run) = (Arc::clone(&writer), Arc::clone(&run));
                    s.spawn(move || {
                        assert_eq!(writer.submit(i, |jobs| run(jobs), || u32::MAX), i);
                        assert_eq!(writer.submit(i + 10, |jobs| run(jobs), || u32::MAX), i + 10);
                    })
                })
                .collect();
            while writer.lock().queue.len() < 2 {
                std::thread::yield_now();
            }
            release_tx.send(()).unwrap();
            assert_eq!(first.join().unwrap(), [0, 100, 200]);
            for o in others {
                o.join().unwrap();
            }
        });
        // Three callers when the first group ended: the next groups wait
        // for all three (without gathering, the first caller back would
        // commit alone).
        assert_eq!(*sizes.lock().unwrap(), [1, 3, 3]);
    }

    #[test]
    fn a_panicking_leader_loses_only_its_group() {
        let writer = GroupCommit::<u32, Option<u32>>::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            writer.submit(1, |_| panic!("boom"), || None)
        }));
        assert!(caught.is_err());
        assert_eq!(
            writer.submit(
                2,
                |jobs| jobs.into_iter().map(|(t, j)| (t, Some(j))).collect(),
                || None
            ),
            Some(2)
        );
        assert_eq!(writer.exclusive(|| 7), 7);
    }
}
