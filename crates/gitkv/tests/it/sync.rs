//! Pull and push through smart against `git daemon`: two stores share a
//! remote; the remote goes away and comes back.

use gitkv::sync::{PushOutcome, Remote};
use gitkv::{MergeKind, Policy, Store};
use testkit::git_daemon::GitDaemon;

use crate::support::{fsck, git, git_binary, init_bare};

fn remote(daemon: &GitDaemon, path: &str) -> Remote {
    Remote::new("origin", daemon.url(path).parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_sync_through_git_daemon() {
    let Some(git_bin) = git_binary() else { return };
    let Some(daemon) = GitDaemon::start().unwrap() else {
        return;
    };
    let bare = daemon.base().join("kv.git");
    init_bare(&git_bin, &bare);
    let origin = remote(&daemon, "kv.git");
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path().join("a.git")).unwrap();
    let b = Store::open(dir.path().join("b.git")).unwrap();

    // An empty remote: nothing to pull; A's first push creates the branch.
    let pulled = a.pull(&origin, Policy::Fail).await.unwrap();
    assert_eq!(pulled.fetched, None);
    assert_eq!(a.push(&origin).await.unwrap(), PushOutcome::Empty);
    a.set("pastes/aa/one", "1").unwrap();
    assert!(a.unpushed(&origin).unwrap());
    assert_eq!(
        a.push(&origin).await.unwrap(),
        PushOutcome::Pushed(a.head().unwrap())
    );
    assert!(!a.unpushed(&origin).unwrap());
    assert_eq!(a.push(&origin).await.unwrap(), PushOutcome::UpToDate);

    // B pulls (a fast-forward), writes and pushes.
    let pulled = b.pull(&origin, Policy::Fail).await.unwrap();
    assert_eq!(pulled.merge.unwrap().kind, MergeKind::FastForward);
    assert_eq!(b.get("pastes/aa/one").unwrap().as_deref(), Some(&b"1"[..]));
    b.set("pastes/bb/two", "2").unwrap();
    b.push(&origin).await.unwrap();

    // A wrote meanwhile: its push is refused until it pulls (a merge).
    a.set("pastes/cc/three", "3").unwrap();
    assert!(a.push(&origin).await.is_err());
    let (pulled, pushed) = a.sync(&origin, Policy::Fail).await.unwrap();
    assert_eq!(pulled.merge.unwrap().kind, MergeKind::Merged);
    assert!(matches!(pushed, PushOutcome::Pushed(_)));
    assert_eq!(
        a.list("").unwrap(),
        ["pastes/aa/one", "pastes/bb/two", "pastes/cc/three"]
    );

    // The remote as C git sees it.
    fsck(&git_bin, &bare);
    fsck(&git_bin, a.path());
    assert_eq!(git(&git_bin, &bare, &["show", "main:pastes/bb/two"]), "2");
    assert_eq!(
        git(&git_bin, &bare, &["rev-parse", "main"]).trim(),
        a.head().unwrap().to_string()
    );
    // Our branch was never overwritten by the fetch: b's own ref is intact.
    b.pull(&origin, Policy::Fail).await.unwrap();
    assert_eq!(b.list("").unwrap(), a.list("").unwrap());
    assert_eq!(
        git(&git_bin, b.path(), &["rev-parse", "main"]).trim(),
        a.head().unwrap().to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_remote_blocks_nothing_and_gets_the_commits_later() {
    let Some(git_bin) = git_binary() else { return };
    let Some(daemon) = GitDaemon::start().unwrap() else {
        return;
    };
    let bare = daemon.base().join("kv.git");
    init_bare(&git_bin, &bare);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("kv.git")).unwrap();
    store.set("k/1", "1").unwrap();
    let up = remote(&daemon, "kv.git");
    store.push(&up).await.unwrap();

    // The same remote ("origin"), unreachable: nothing listens there.
    let port = testkit::peer::free_port().unwrap();
    let down = Remote::new(
        "origin",
        format!("git://127.0.0.1:{port}/kv.git").parse().unwrap(),
    );
    store.set("k/2", "2").unwrap();
    store.set("k/3", "3").unwrap();
    let err = store.push(&down).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(store.pull(&down, Policy::Fail).await.is_err());
    assert!(store.unpushed(&down).unwrap());
    store.set("k/4", "4").unwrap();
    assert_eq!(store.list("k/").unwrap().len(), 4);

    // Reachable again: the unpushed commits go out with the next push,
    // also after a restart of the store (the tracking ref is on disk).
    drop(store);
    let store = Store::open(dir.path().join("kv.git")).unwrap();
    assert!(store.unpushed(&up).unwrap());
    assert_eq!(
        store.push(&up).await.unwrap(),
        PushOutcome::Pushed(store.head().unwrap())
    );
    assert!(!store.unpushed(&up).unwrap());
    assert_eq!(
        git(&git_bin, &bare, &["rev-parse", "main"]).trim(),
        store.head().unwrap().to_string()
    );
    assert_eq!(git(&git_bin, &bare, &["show", "main:k/4"]), "4");
    fsck(&git_bin, &bare);
}
