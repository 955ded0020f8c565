//! Three-way merges by key: two stores on two branches of one repository
//! diverge from a common commit, then one merges the other's head.

use gitkv::{Batch, Error, MergeKind, Policy, Store};

use crate::support::{fsck, git, git_binary};

/// `main` and `other` share a first commit with keys `k1`..`k4`.
fn diverged(dir: &std::path::Path) -> (Store, Store) {
    let repo = dir.join("kv.git");
    let ours = Store::open(&repo).unwrap();
    ours.commit(
        Batch::new("base")
            .set("k1", "base1")
            .set("k2", "base2")
            .set("k3", "base3")
            .set("dir/k4", "base4"),
    )
    .unwrap();
    let theirs = Store::builder(&repo).branch("other").open().unwrap();
    let ff = theirs.merge(ours.head().unwrap(), Policy::Fail).unwrap();
    assert_eq!(ff.kind, MergeKind::FastForward);
    assert_eq!(theirs.get("k1").unwrap().as_deref(), Some(&b"base1"[..]));
    (ours, theirs)
}

#[test]
fn disjoint_changes_merge_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = diverged(dir.path());
    ours.commit(
        Batch::new("ours")
            .set("k1", "ours1")
            .set("new/ours", "o")
            .remove("k3"),
    )
    .unwrap();
    theirs
        .commit(
            Batch::new("theirs")
                .set("k2", "theirs2")
                .set("new/theirs", "t")
                .set("dir/k5", "5"),
        )
        .unwrap();
    let head_before = ours.head().unwrap();
    let their_head = theirs.head().unwrap();
    let merged = ours.merge(their_head, Policy::Fail).unwrap();
    assert_eq!(merged.kind, MergeKind::Merged);
    assert!(merged.conflicts.is_empty());
    assert_eq!(ours.head(), Some(merged.head));
    let get = |k: &str| ours.get(k).unwrap().map(|v| String::from_utf8(v).unwrap());
    assert_eq!(get("k1").as_deref(), Some("ours1"));
    assert_eq!(get("k2").as_deref(), Some("theirs2"));
    assert_eq!(get("k3"), None);
    assert_eq!(
        ours.list("").unwrap(),
        ["dir/k4", "dir/k5", "k1", "k2", "new/ours", "new/theirs"]
    );
    // Merging again: up to date. And the other way: a fast-forward.
    assert_eq!(
        ours.merge(theirs.head().unwrap(), Policy::Fail).unwrap().kind,
        MergeKind::UpToDate
    );
    assert_eq!(
        theirs.merge(merged.head, Policy::Fail).unwrap().kind,
        MergeKind::FastForward
    );
    assert_eq!(theirs.list("").unwrap(), ours.list("").unwrap());
    // History through the merge finds the commit that made the change.
    let k2: Vec<_> = ours.history("k2").unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        k2.iter().map(|r| r.summary.as_str()).collect::<Vec<_>>(),
        ["theirs", "base"]
    );

    let Some(git_bin) = git_binary() else { return };
    let repo = ours.path();
    fsck(&git_bin, repo);
    let parents = git(&git_bin, repo, &["show", "-s", "--format=%P", "main"]);
    let expected = format!("{head_before} {their_head}");
    assert_eq!(parents.trim(), expected);
    assert_eq!(git(&git_bin, repo, &["show", "main:k2"]), "theirs2");
    assert_eq!(
        git(&git_bin, repo, &["merge-base", "main", "other"]).trim(),
        merged.head.to_string()
    );
}

#[test]
fn same_key_changed_on_both_sides_follows_the_policy() {
    for policy in [Policy::Fail, Policy::Ours, Policy::Theirs] {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = diverged(dir.path());
        ours.commit(Batch::new("ours").set("k1", "ours1").set("k2", "same"))
            .unwrap();
        theirs
            .commit(Batch::new("theirs").set("k1", "theirs1").set("k2", "same"))
            .unwrap();
        let before = ours.head();
        let result = ours.merge(theirs.head().unwrap(), policy);
        if policy == Policy::Fail {
            let Err(Error::Conflicts { conflicts }) = result else {
                panic!("expected conflicts, got {result:?}")
            };
            assert_eq!(conflicts.len(), 1);
            assert_eq!(conflicts[0].key, "k1");
            assert!(!conflicts[0].is_delete_modify());
            assert_eq!(ours.head(), before, "nothing committed");
            continue;
        }
        let merged = result.unwrap();
        assert_eq!(merged.kind, MergeKind::Merged);
        // The same change on both sides (k2) is no conflict.
        assert_eq!(
            merged
                .conflicts
                .iter()
                .map(|c| c.key.as_str())
                .collect::<Vec<_>>(),
            ["k1"]
        );
        let expected = if policy == Policy::Ours {
            "ours1"
        } else {
            "theirs1"
        };
        assert_eq!(ours.get("k1").unwrap().as_deref(), Some(expected.as_bytes()));
        assert_eq!(ours.get("k2").unwrap().as_deref(), Some(&b"same"[..]));
        if let Some(git_bin) = git_binary() {
            fsck(&git_bin, ours.path());
            let message = git(&git_bin, ours.path(), &["show", "-s", "--format=%B", "main"]);
            assert!(
                message.contains("Conflicts") && message.contains("\tk1"),
                "{message}"
            );
        }
    }
}

#[test]
fn delete_against_modify_is_a_conflict() {
    for (policy, expected) in [(Policy::Ours, None), (Policy::Theirs, Some(&b"theirs3"[..]))] {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = diverged(dir.path());
        ours.remove("k3").unwrap();
        ours.remove("dir/k4").unwrap();
        theirs.set("k3", "theirs3").unwrap();
        theirs.set("dir/k4", "theirs4").unwrap();
        let merged = ours.merge(theirs.head().unwrap(), policy).unwrap();
        let keys: Vec<_> = merged.conflicts.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["dir/k4", "k3"]);
        assert!(
            merged
                .conflicts
                .iter()
                .all(|c| c.is_delete_modify() && c.ours.is_none())
        );
        assert_eq!(ours.get("k3").unwrap().as_deref(), expected);
        if let Some(git_bin) = git_binary() {
            fsck(&git_bin, ours.path());
        }
    }
}

#[test]
fn value_against_directory_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = diverged(dir.path());
    ours.set("x/y", "dir on our side").unwrap();
    theirs.set("x", "value on theirs").unwrap();
    let err = ours.merge(theirs.head().unwrap(), Policy::Fail).unwrap_err();
    let Error::Conflicts { conflicts } = err else {
        panic!("{err:?}")
    };
    assert_eq!(conflicts[0].key, "x");
    let merged = ours.merge(theirs.head().unwrap(), Policy::Theirs).unwrap();
    assert_eq!(merged.conflicts.len(), 1);
    assert_eq!(ours.get("x").unwrap().as_deref(), Some(&b"value on theirs"[..]));
    assert_eq!(ours.get("x/y").unwrap(), None);
}

#[test]
fn unrelated_histories_and_missing_commits() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let ours = Store::open(&repo).unwrap();
    ours.set("a", "1").unwrap();
    ours.set("same", "s").unwrap();
    let theirs = Store::builder(&repo).branch("other").open().unwrap();
    theirs.set("b", "2").unwrap();
    theirs.set("same", "s").unwrap();
    // No merge base: an empty base; keys on one side only are kept.
    let merged = ours.merge(theirs.head().unwrap(), Policy::Fail).unwrap();
    assert_eq!(merged.kind, MergeKind::Merged);
    assert_eq!(ours.list("").unwrap(), ["a", "b", "same"]);
    let missing = gitkv::ObjectId::from_hex(b"1234567890123456789012345678901234567890").unwrap();
    assert!(matches!(
        ours.merge(missing, Policy::Fail),
        Err(Error::MissingObject { .. })
    ));
}

/// After the other side merged us, merging it back is a fast-forward,
/// whatever the order of commit ids made within the same second (the merge
/// base must be the best common ancestor, not any).
#[test]
fn merging_back_a_merge_is_a_fast_forward() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = diverged(dir.path());
        ours.set(&format!("ours/{round}"), "o").unwrap();
        theirs.set(&format!("theirs/{round}"), "t").unwrap();
        let merged = theirs.merge(ours.head().unwrap(), Policy::Fail).unwrap();
        assert_eq!(merged.kind, MergeKind::Merged);
        let back = ours.merge(merged.head, Policy::Fail).unwrap();
        assert_eq!(back.kind, MergeKind::FastForward, "round {round}");
        assert_eq!(ours.head(), Some(merged.head));
    }
}
