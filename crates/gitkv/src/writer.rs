//! Group commit without a background task: the first caller that finds
//! the writer idle becomes the leader, takes every queued job, commits
//! them and hands each caller its result; callers that arrive meanwhile
//! queue up and one of them leads the next group.
//!
//! No thread or task is spawned: whoever calls does the work, and each
//! caller returns only when the group holding its job is done.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// A queue of jobs `J` with results `R`, committed in groups.
pub(crate) struct GroupCommit<J, R> {
    state: Mutex<State<J, R>>,
    wake: Condvar,
}

struct State<J, R> {
    queue: Vec<(u64, J)>,
    busy: bool,
    next: u64,
    done: HashMap<u64, R>,
}

impl<J, R> std::fmt::Debug for GroupCommit<J, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<J, R> GroupCommit<J, R> {
    pub(crate) fn new() -> Self {
        GroupCommit {
            state: Mutex::new(State {
                queue: Vec::new(),
                busy: false,
                next: 0,
                done: HashMap::new(),
            }),
            wake: Condvar::new(),
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
        loop {
            if let Some(result) = state.done.remove(&ticket) {
                return result;
            }
            if !state.busy {
                state.busy = true;
                let jobs = std::mem::take(&mut state.queue);
                drop(state);
                let mut leading = Leading {
                    writer: self,
                    tickets: jobs.iter().map(|(t, _)| *t).collect(),
                    results: Vec::new(),
                    lost: &lost,
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
