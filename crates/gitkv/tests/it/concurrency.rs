//! Concurrent writers, in one store and in two stores on one repository
//! (as two processes would be): no write is lost, groups form.

use std::time::Duration;

use gitkv::Store;

use crate::support::{fsck, git, git_binary};

#[test]
fn sixteen_writers_lose_nothing_and_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let store = Store::open(&repo).unwrap();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut grouped = 0;
                for i in 0..40 {
                    let key = format!("pastes/{t:02x}/{i:04}");
                    let committed = store.set(&key, format!("{t}-{i}")).unwrap();
                    // Acknowledged: readable at once from the same store.
                    assert_eq!(store.get(&key).unwrap(), Some(format!("{t}-{i}").into_bytes()));
                    if committed.group_size > 1 {
                        grouped += 1;
                    }
                }
                grouped
            })
        })
        .collect();
    let grouped: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(grouped > 0, "16 concurrent writers never shared a commit");
    assert_eq!(store.list("pastes/").unwrap().len(), 640);
    store.wait_for_merges();
    let Some(git_bin) = git_binary() else { return };
    fsck(&git_bin, &repo);
    let commits: usize = git(&git_bin, &repo, &["rev-list", "--count", "main"])
        .trim()
        .parse()
        .unwrap();
    assert!(commits < 640, "{commits} commits for 640 writes: no group commit");
}

#[test]
fn two_stores_on_one_repository_serialise_by_the_ref_lock() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let a = Store::builder(&repo)
        .lock_timeout(Duration::from_secs(30))
        .open()
        .unwrap();
    let b = Store::builder(&repo)
        .lock_timeout(Duration::from_secs(30))
        .open()
        .unwrap();
    let threads: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .flat_map(|(s, store)| {
            (0..4).map(move |t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        store.set(&format!("s{s}/t{t}/{i}"), "x").unwrap();
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    a.refresh().unwrap();
    b.refresh().unwrap();
    assert_eq!(a.list("").unwrap().len(), 200);
    assert_eq!(a.list("").unwrap(), b.list("").unwrap());
    a.wait_for_merges();
    b.wait_for_merges();
    let Some(git_bin) = git_binary() else { return };
    fsck(&git_bin, &repo);
}

/// Every write adds a pack; thousands of them must neither exhaust the
/// object database's index slots nor leave thousands of packs behind.
#[test]
fn many_packs_are_consolidated_and_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let store = Store::open(&repo).unwrap();
    for i in 0..600 {
        let key = format!("k/{:02x}/{i}", i % 256);
        store.set(&key, format!("{i}")).unwrap();
        assert_eq!(store.get(&key).unwrap(), Some(format!("{i}").into_bytes()));
        if i % 97 == 0 {
            // Old values stay readable across consolidations.
            assert_eq!(store.get("k/00/0").unwrap().as_deref(), Some(&b"0"[..]));
        }
    }
    // Merges run beside the writes: count the packs once they are done.
    store.wait_for_merges();
    let packs = std::fs::read_dir(repo.join("objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert!(packs <= 40, "{packs} packs after 600 writes");
    let reopened = Store::open(&repo).unwrap();
    assert_eq!(reopened.list("k/").unwrap().len(), 600);
    reopened.wait_for_merges();
    let Some(git_bin) = git_binary() else { return };
    fsck(&git_bin, &repo);
}
