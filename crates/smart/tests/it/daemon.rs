//! Against `git daemon`: ls-remote, clone, fetch, shallow, push.

use smart::{FetchOptions, PushOptions, PushStatus, Refspec};
use testkit::git_daemon::GitDaemon;

use crate::support::*;

fn daemon() -> Option<GitDaemon> {
    GitDaemon::start().expect("git daemon starts")
}

/// A daemon serving `repo.git`: 3 commits on main, a branch `dev`, tag v1.
fn served() -> Option<(GitDaemon, tempfile::TempDir)> {
    let daemon = daemon()?;
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    work_repo(&work, 3);
    git(&work, &["branch", "dev", "HEAD~1"]);
    bare_from(&work, &daemon.base().join("repo.git"));
    Some((daemon, scratch))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_remote_matches_git_ls_remote() {
    let Some((daemon, scratch)) = served() else { return };
    let refs = client().ls_remote(&url(&daemon.url("repo.git"))).await.unwrap();
    let ours: Vec<String> = refs
        .iter()
        .flat_map(|r| {
            let mut lines = vec![format!("{}\t{}", r.target.unwrap(), r.name)];
            if let Some(peeled) = r.peeled {
                lines.push(format!("{peeled}\t{}^{{}}", r.name));
            }
            lines
        })
        .collect();
    let theirs: Vec<String> = git(scratch.path(), &["ls-remote", &daemon.url("repo.git")])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(refs[0].name, "HEAD");
    assert_eq!(refs[0].symref_target.as_deref(), Some("refs/heads/main"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_gives_what_git_clone_gives_and_passes_fsck() {
    let Some((daemon, scratch)) = served() else { return };
    let ours = scratch.path().join("ours.git");
    let theirs = scratch.path().join("theirs.git");
    let mut seen = Seen::default();
    let outcome = client()
        .clone(
            &url(&daemon.url("repo.git")),
            &ours,
            &FetchOptions::default(),
            &mut seen.sink(),
        )
        .await
        .unwrap();
    git(
        scratch.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &daemon.url("repo.git"),
            theirs.to_str().unwrap(),
        ],
    );
    assert_eq!(refs(&ours), refs(&theirs));
    assert_eq!(objects(&ours), objects(&theirs));
    assert_eq!(
        git(&ours, &["symbolic-ref", "HEAD"]),
        git(&theirs, &["symbolic-ref", "HEAD"])
    );
    fsck(&ours);
    assert_eq!(outcome.objects as usize, objects(&theirs).len());
    assert_eq!(outcome.updated.len(), 3, "main, dev, v1: {:?}", outcome.updated);
    assert!(seen.received > 0 && seen.received == outcome.pack_bytes);
    assert!(
        seen.remote.contains("Enumerating objects") || seen.remote.contains("Total"),
        "{}",
        seen.remote
    );
    // No .keep file left once the refs point into the pack.
    assert!(
        pack_files(&ours).iter().all(|f| !f.ends_with(".keep")),
        "{:?}",
        pack_files(&ours)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_after_new_commits_transfers_only_new_objects() {
    let Some((daemon, scratch)) = served() else { return };
    let ours = scratch.path().join("ours.git");
    let remote = url(&daemon.url("repo.git"));
    client()
        .clone(&remote, &ours, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();

    // Two new commits on the server's main.
    let work = scratch.path().join("work");
    let before = git(&work, &["rev-parse", "main"]).trim().to_string();
    commit_file(&work, "new1.txt", "one\n");
    commit_file(&work, "new2.txt", "two\n");
    git(
        &work,
        &[
            "push",
            "-q",
            daemon.base().join("repo.git").to_str().unwrap(),
            "main",
        ],
    );
    let after = git(&work, &["rev-parse", "main"]).trim().to_string();
    let new_objects = git(&work, &["rev-list", "--objects", &format!("{before}..{after}")])
        .lines()
        .count();
    assert_eq!(new_objects, 6, "2 commits, 2 trees, 2 blobs");

    let outcome = client()
        .fetch(&remote, &ours, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        outcome.objects as usize, new_objects,
        "only the new objects travel"
    );
    assert_eq!(outcome.updated.len(), 1);
    assert_eq!(outcome.updated[0].name, "refs/heads/main");
    assert_eq!(outcome.updated[0].new.to_string(), after);
    assert_eq!(refs(&ours)["refs/heads/main"], after);
    fsck(&ours);

    // Nothing new: nothing transferred, nothing changed.
    let again = client()
        .fetch(&remote, &ours, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!((again.objects, again.updated.len()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_clone_then_deepen_by_fetch() {
    let Some((daemon, scratch)) = served() else { return };
    let ours = scratch.path().join("ours.git");
    let remote = url(&format!("{}#main", daemon.url("repo.git")));
    let options = FetchOptions {
        depth: Some(1),
        ..Default::default()
    };
    let outcome = client()
        .clone(&remote, &ours, &options, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(git(&ours, &["rev-list", "--count", "main"]).trim(), "1");
    assert_eq!(outcome.objects, 1 + 1 + 3, "one commit, its tree, three blobs");
    assert_eq!(
        std::fs::read_to_string(ours.join("shallow"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    assert_eq!(
        refs(&ours).keys().collect::<Vec<_>>(),
        ["refs/heads/main"],
        "only the #branch"
    );
    fsck(&ours);

    // Deepen to the whole history: the boundary goes, the shallow file too.
    let deeper = FetchOptions {
        depth: Some(10),
        ..Default::default()
    };
    let outcome = client()
        .fetch(&remote, &ours, &deeper, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(git(&ours, &["rev-list", "--count", "main"]).trim(), "3");
    assert!(
        outcome.objects >= 4,
        "two commits, their trees, blobs: {}",
        outcome.objects
    );
    assert!(!ours.join("shallow").exists());
    fsck(&ours);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_create_fast_forward_refused_forced_delete() {
    let Some(daemon) = daemon() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let server = daemon.base().join("empty.git");
    git(
        scratch.path(),
        &["init", "-q", "--bare", server.to_str().unwrap()],
    );
    let work = scratch.path().join("work");
    work_repo(&work, 2);
    let remote = url(&daemon.url("empty.git"));
    let push = |specs: &'static [&'static str]| {
        let work = work.clone();
        let remote = remote.clone();
        async move {
            let specs: Vec<Refspec> = specs.iter().map(|s| s.parse().unwrap()).collect();
            client()
                .push(&remote, &work, &specs, &PushOptions::default(), &mut |_| {})
                .await
                .unwrap()
        }
    };

    // Create a branch and a tag.
    let outcome = push(&["main", "refs/tags/v1"]).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(refs(&server), refs(&work).into_iter().collect());
    fsck(&server);
    assert_eq!(
        git(&server, &["log", "--format=%s", "main"]),
        "add file1.txt\nadd file0.txt\n"
    );

    // From now on our objects are in a pack (entries are copied from it).
    git(&work, &["repack", "-adq"]);
    assert!(
        pack_files(&work.join(".git"))
            .iter()
            .any(|f| f.ends_with(".pack"))
    );

    // Fast-forward: only the new objects go.
    commit_file(&work, "ff.txt", "ff\n");
    let outcome = push(&["main"]).await;
    assert_eq!(outcome.refs[0].status, PushStatus::Ok);
    assert_eq!(outcome.objects, 3, "commit, tree, blob");
    assert_eq!(refs(&server)["refs/heads/main"], refs(&work)["refs/heads/main"]);

    // Rewrite history: refused without +, accepted with it.
    git(&work, &["reset", "-q", "--hard", "HEAD~1"]);
    commit_file(&work, "other.txt", "other\n");
    let server_main = refs(&server)["refs/heads/main"].clone();
    let outcome = push(&["main"]).await;
    assert_eq!(outcome.refs[0].status, PushStatus::RejectedNonFastForward);
    assert_eq!(refs(&server)["refs/heads/main"], server_main);
    git(&work, &["repack", "-adq"]);
    let outcome = push(&["+main"]).await;
    assert_eq!(outcome.refs[0].status, PushStatus::Ok);
    assert_eq!(refs(&server)["refs/heads/main"], refs(&work)["refs/heads/main"]);
    fsck(&server);

    // Up to date, then delete.
    assert_eq!(push(&["main:side"]).await.refs[0].status, PushStatus::Ok);
    assert_eq!(push(&["main:side"]).await.refs[0].status, PushStatus::UpToDate);
    assert_eq!(push(&[":side"]).await.refs[0].status, PushStatus::Ok);
    assert!(!refs(&server).contains_key("refs/heads/side"));
    fsck(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_push_and_a_rejecting_hook() {
    let Some(daemon) = daemon() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let server = daemon.base().join("hooked.git");
    git(
        scratch.path(),
        &["init", "-q", "--bare", server.to_str().unwrap()],
    );
    let work = scratch.path().join("work");
    work_repo(&work, 1);
    git(&work, &["branch", "b"]);
    let remote = url(&daemon.url("hooked.git"));
    let specs: Vec<Refspec> = ["main", "b"].iter().map(|s| s.parse().unwrap()).collect();
    let atomic = PushOptions { atomic: true };
    let outcome = client()
        .push(&remote, &work, &specs, &atomic, &mut |_| {})
        .await
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(refs(&server).len(), 2);

    let hook = server.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'no pushes today' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    commit_file(&work, "more.txt", "more\n");
    let before = refs(&server);
    let mut seen = Seen::default();
    let outcome = client()
        .push(
            &remote,
            &work,
            &specs[..1],
            &PushOptions::default(),
            &mut seen.sink(),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.refs[0].status,
        PushStatus::RejectedByRemote("pre-receive hook declined".into())
    );
    assert!(!outcome.is_ok());
    assert!(
        seen.remote.contains("no pushes today"),
        "hook output is progress: {:?}",
        seen.remote
    );
    assert_eq!(refs(&server), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repository_is_a_clear_error_and_leaves_nothing() {
    let Some(daemon) = daemon() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let remote = url(&daemon.url("nope.git"));
    let err = client().ls_remote(&remote).await.unwrap_err();
    let proto = err.protocol().expect("a protocol error");
    assert!(proto.is_remote(), "{proto:?}");
    assert!(proto.to_string().contains("no such repository"), "{proto}");

    let dest = scratch.path().join("clone.git");
    let err = client()
        .clone(&remote, &dest, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.protocol().is_some_and(|p| p.is_remote()), "{err:?}");
    assert!(!dest.exists());

    // Nothing listening: mimic's reason per address.
    let closed = url(&format!(
        "git://127.0.0.1:{}/x.git",
        testkit::peer::free_port().unwrap()
    ));
    let err = client().ls_remote(&closed).await.unwrap_err();
    assert!(matches!(err, smart::Error::Connect { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_v0_clone_fetch_and_shallow() {
    let Some((daemon, scratch)) = served() else { return };
    let v0 = client().with_protocol_v2(false);
    let remote = url(&daemon.url("repo.git"));
    let refs_v0 = v0.ls_remote(&remote).await.unwrap();
    let refs_v2 = client().ls_remote(&remote).await.unwrap();
    assert_eq!(refs_v0, refs_v2, "same refs, symrefs and peeled tags either way");

    let ours = scratch.path().join("ours.git");
    let theirs = scratch.path().join("theirs.git");
    let mut seen = Seen::default();
    v0.clone(&remote, &ours, &FetchOptions::default(), &mut seen.sink())
        .await
        .unwrap();
    git(
        scratch.path(),
        &[
            "-c",
            "protocol.version=0",
            "clone",
            "-q",
            "--bare",
            &daemon.url("repo.git"),
            theirs.to_str().unwrap(),
        ],
    );
    assert_eq!(refs(&ours), refs(&theirs));
    assert_eq!(objects(&ours), objects(&theirs));
    assert!(seen.remote.contains("Total"), "{}", seen.remote);
    fsck(&ours);

    let work = scratch.path().join("work");
    commit_file(&work, "v0.txt", "v0\n");
    git(
        &work,
        &[
            "push",
            "-q",
            daemon.base().join("repo.git").to_str().unwrap(),
            "main",
        ],
    );
    let outcome = v0
        .fetch(&remote, &ours, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(outcome.objects, 3, "commit, tree, blob: the haves worked");
    assert_eq!(
        refs(&ours)["refs/heads/main"],
        git(&work, &["rev-parse", "main"]).trim()
    );
    fsck(&ours);

    let shallow = scratch.path().join("shallow.git");
    let options = FetchOptions {
        depth: Some(1),
        ..Default::default()
    };
    v0.clone(&remote, &shallow, &options, &mut |_| {}).await.unwrap();
    assert_eq!(git(&shallow, &["rev-list", "--count", "main"]).trim(), "1");
    fsck(&shallow);
}
