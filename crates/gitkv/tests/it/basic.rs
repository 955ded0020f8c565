//! The store's operations, checked by C git.

use gitkv::{Batch, Error, Grouping, Signature, Store};

use crate::support::{fsck, git, git_binary, git_keys};

#[test]
fn set_get_list_remove_history_and_git_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let store = Store::open(&repo).unwrap();
    assert_eq!(store.head(), None);
    assert_eq!(store.get("a").unwrap(), None);
    assert!(store.list("").unwrap().is_empty());

    let first = store.set("pastes/ab/cdef", "hello\n").unwrap();
    assert_eq!(first.group_size, 1);
    store.set("pastes/ab/cdef", "hello again\n").unwrap();
    let ada = Signature::new("Ada", "ada@example.com")
        .unwrap()
        .at(1_700_000_000, 3600);
    store
        .commit(
            Batch::new("meta and another")
                .author(ada.clone())
                .set("pastes/ab/cdef.meta", "{}")
                .set("pastes/cd/x", vec![0u8, 1, 2, 255]),
        )
        .unwrap();
    store.remove("pastes/cd/x").unwrap();
    // Removing what is absent changes nothing but still commits.
    store.remove("nope").unwrap();

    assert_eq!(
        store.get("pastes/ab/cdef").unwrap().as_deref(),
        Some(&b"hello again\n"[..])
    );
    assert_eq!(store.get("pastes/cd/x").unwrap(), None);
    assert_eq!(
        store.get("pastes/ab").unwrap(),
        None,
        "a directory is not a value"
    );
    assert_eq!(store.list("").unwrap(), ["pastes/ab/cdef", "pastes/ab/cdef.meta"]);
    assert_eq!(
        store.list("pastes/ab").unwrap(),
        ["pastes/ab/cdef", "pastes/ab/cdef.meta"]
    );
    assert_eq!(store.list("pastes/ab/cdef").unwrap(), ["pastes/ab/cdef"]);
    assert!(store.list("other/").unwrap().is_empty());

    let history: Vec<_> = store
        .history("pastes/ab/cdef")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].summary, "set pastes/ab/cdef");
    assert_eq!(history[1].commit, first.commit);
    let gone: Vec<_> = store
        .history("pastes/cd/x")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(gone.len(), 2);
    assert_eq!(gone[0].value, None, "newest first: the removal");
    assert_eq!(gone[1].author, "Ada");
    assert_eq!(gone[1].summary, "meta and another");

    // The same data after reopening.
    let head = store.head();
    drop(store);
    let store = Store::builder(&repo).create(false).open().unwrap();
    assert_eq!(store.head(), head);
    assert_eq!(
        store.get("pastes/ab/cdef.meta").unwrap().as_deref(),
        Some(&b"{}"[..])
    );

    let Some(git_bin) = git_binary() else { return };
    fsck(&git_bin, &repo);
    assert_eq!(
        git_keys(&git_bin, &repo, "main"),
        ["pastes/ab/cdef", "pastes/ab/cdef.meta"]
    );
    assert_eq!(
        git(&git_bin, &repo, &["show", "main:pastes/ab/cdef"]),
        "hello again\n"
    );
    let log = git(&git_bin, &repo, &["log", "--format=%an|%ae|%s", "main"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "gitkv|gitkv@localhost|remove nope",
            "gitkv|gitkv@localhost|remove pastes/cd/x",
            "Ada|ada@example.com|meta and another",
            "gitkv|gitkv@localhost|set pastes/ab/cdef",
            "gitkv|gitkv@localhost|set pastes/ab/cdef",
        ]
    );
    let ada_commit = git(&git_bin, &repo, &["show", "-s", "--format=%at %ai", "main~2"]);
    assert_eq!(ada_commit.trim(), "1700000000 2023-11-14 23:13:20 +0100");
    assert_eq!(
        git(&git_bin, &repo, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    assert_eq!(git(&git_bin, &repo, &["config", "core.bare"]).trim(), "true");
}

#[test]
fn invalid_keys_and_clashes_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("kv.git")).unwrap();
    for bad in ["", "/a", "a/", "a//b", "..", "a/.git/b"] {
        assert!(
            matches!(store.set(bad, "x"), Err(Error::InvalidKey { .. })),
            "{bad:?}"
        );
    }
    store.set("a", "value").unwrap();
    assert!(matches!(store.set("a/b", "x"), Err(Error::ParentIsValue { parent, .. }) if parent == "a"));
    store.set("d/e", "x").unwrap();
    assert!(matches!(store.set("d", "x"), Err(Error::IsDirectory { .. })));
    assert!(matches!(store.remove("d"), Err(Error::IsDirectory { .. })));
    assert!(matches!(
        store.commit(Batch::new("clash").set("k", "1").set("k/x", "2")),
        Err(Error::BatchConflict { .. })
    ));
    // Within a batch the last change of a key wins.
    store
        .commit(Batch::new("twice").set("k", "1").set("k", "2"))
        .unwrap();
    assert_eq!(store.get("k").unwrap().as_deref(), Some(&b"2"[..]));
    store
        .commit(Batch::new("set then remove").set("z", "1").remove("z"))
        .unwrap();
    assert_eq!(store.get("z").unwrap(), None);
    assert_eq!(store.list("").unwrap(), ["a", "d/e", "k"]);
    assert!(matches!(
        Signature::new("a<b", "x"),
        Err(Error::InvalidSignature { .. })
    ));
    assert!(matches!(
        Store::builder(dir.path().join("b.git"))
            .branch("bad..name")
            .open(),
        Err(Error::InvalidBranch { .. })
    ));
}

#[test]
fn open_refuses_what_is_not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(matches!(Store::open(&file), Err(Error::NotARepository { .. })));
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), "x").unwrap();
    assert!(matches!(Store::open(&full), Err(Error::NotARepository { .. })));
    let missing = dir.path().join("missing.git");
    assert!(matches!(
        Store::builder(&missing).create(false).open(),
        Err(Error::NotARepository { .. })
    ));
    // An empty directory becomes a repository.
    let empty = dir.path().join("empty.git");
    std::fs::create_dir(&empty).unwrap();
    Store::open(&empty).unwrap().set("k", "v").unwrap();
    assert_eq!(
        Store::open(&empty).unwrap().get("k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn corrupt_repository_bytes_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let store = Store::open(&repo).unwrap();
    store.set("a/b", "1").unwrap();
    let head = store.head().unwrap().to_hex().to_string();
    drop(store);
    // The ref names an object that does not exist.
    std::fs::write(
        repo.join("refs/heads/main"),
        "1111111111111111111111111111111111111111\n",
    )
    .unwrap();
    assert!(matches!(Store::open(&repo), Err(Error::MissingObject { .. })));
    std::fs::write(repo.join("refs/heads/main"), "not hex\n").unwrap();
    assert!(matches!(Store::open(&repo), Err(Error::BadRef { .. })));
    // The ref names a blob, not a commit.
    std::fs::write(repo.join("refs/heads/main"), format!("{head}\n")).unwrap();
    let store = Store::open(&repo).unwrap();
    let blob = store.snapshot().value_id("a/b").unwrap().unwrap();
    drop(store);
    std::fs::write(repo.join("refs/heads/main"), format!("{blob}\n")).unwrap();
    assert!(matches!(Store::open(&repo), Err(Error::WrongKind { .. })));
    // Every pack's bytes damaged: errors, never a panic.
    std::fs::write(repo.join("refs/heads/main"), format!("{head}\n")).unwrap();
    for entry in std::fs::read_dir(repo.join("objects/pack")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pack") {
            let mut bytes = std::fs::read(&path).unwrap();
            for b in bytes.iter_mut().skip(12) {
                *b ^= 0x5a;
            }
            std::fs::remove_file(&path).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
    }
    assert!(Store::open(&repo).and_then(|s| s.get("a/b")).is_err());
}

#[test]
fn writes_of_other_programs_are_seen_and_never_lost() {
    let Some(git_bin) = git_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let store = Store::open(&repo).unwrap();
    store.set("ours/1", "1").unwrap();
    // C git commits on the branch behind the store's back.
    let blob = {
        let mut cmd = crate::support::git_command(&git_bin, &repo);
        cmd.args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped());
        cmd.stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"from git\n").unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let base_tree = git(&git_bin, &repo, &["rev-parse", "main^{tree}"]);
    let sub = git(&git_bin, &repo, &["ls-tree", base_tree.trim()]);
    let mktree_input = format!("{sub}100644 blob {}\ttheirs\n", blob.trim());
    let tree = {
        let mut cmd = crate::support::git_command(&git_bin, &repo);
        cmd.arg("mktree")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(mktree_input.as_bytes())
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let commit = {
        let mut cmd = crate::support::git_command(&git_bin, &repo);
        cmd.args(["commit-tree", tree.trim(), "-p", "main", "-m", "by git"])
            .env("GIT_AUTHOR_NAME", "Git")
            .env("GIT_AUTHOR_EMAIL", "git@example.com")
            .env("GIT_COMMITTER_NAME", "Git")
            .env("GIT_COMMITTER_EMAIL", "git@example.com");
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    git(&git_bin, &repo, &["update-ref", "refs/heads/main", commit.trim()]);

    // Not seen yet: reads come from the store's snapshot.
    assert_eq!(store.get("theirs").unwrap(), None);
    // A write finds the branch moved (compare-and-swap), rebuilds on it.
    store.set("ours/2", "2").unwrap();
    assert_eq!(store.get("theirs").unwrap().as_deref(), Some(&b"from git\n"[..]));
    assert_eq!(store.list("").unwrap(), ["ours/1", "ours/2", "theirs"]);
    let log = git(&git_bin, &repo, &["log", "--format=%s", "main"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["set ours/2", "by git", "set ours/1"]
    );

    // refresh() picks up a move without writing.
    git(&git_bin, &repo, &["update-ref", "refs/heads/main", "main~1"]);
    assert!(store.refresh().unwrap());
    assert_eq!(store.get("ours/2").unwrap(), None);
    assert!(!store.refresh().unwrap());
    // After `git pack-refs` and `git gc` the store still reads and writes.
    git(&git_bin, &repo, &["gc", "-q", "--prune=now"]);
    assert!(!repo.join("refs/heads/main").exists(), "the ref is packed");
    let store = Store::open(&repo).unwrap();
    assert_eq!(store.get("theirs").unwrap().as_deref(), Some(&b"from git\n"[..]));
    store.set("after-gc", "x").unwrap();
    assert_eq!(store.list("").unwrap(), ["after-gc", "ours/1", "theirs"]);
    fsck(&git_bin, &repo);
}

#[test]
fn commit_per_batch_keeps_each_message_and_author() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let store = Store::builder(&repo)
        .grouping(Grouping::CommitPerBatch)
        .committer(Signature::new("Server", "server@example.com").unwrap())
        .open()
        .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let author = Signature::new(format!("user{i}"), format!("u{i}@example.com")).unwrap();
                for j in 0..10 {
                    let key = format!("pastes/{i:02}/{j}");
                    store
                        .commit(
                            Batch::new(format!("paste {key}"))
                                .author(author.clone())
                                .set(&key, key.clone()),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.list("").unwrap().len(), 80);
    store.wait_for_merges();
    let Some(git_bin) = git_binary() else { return };
    fsck(&git_bin, &repo);
    let log = git(&git_bin, &repo, &["log", "--format=%an|%cn|%s", "main"]);
    let lines: Vec<_> = log.lines().collect();
    assert_eq!(lines.len(), 80, "one commit per batch");
    for line in lines {
        let parts: Vec<_> = line.split('|').collect();
        assert!(
            parts[0].starts_with("user") && parts[1] == "Server" && parts[2].starts_with("paste pastes/")
        );
        // Each commit changes exactly its own key.
    }
    let stat = git(&git_bin, &repo, &["log", "--format=", "--name-only", "main"]);
    assert_eq!(stat.lines().filter(|l| !l.is_empty()).count(), 80);
}
