//! Sync to real remotes: git daemon (git://), sshd (ssh:// with a
//! seed-derived key and a pinned host key) and nginx + git http-backend
//! (http:// with basic auth). `git` reads the remote afterwards; a remote
//! that goes away and comes back loses nothing.

use std::path::Path;
use std::time::Duration;

use gitkv::sync::Remote;
use pasteur::SyncTiming;
use testkit::git_daemon::GitDaemon;
use testkit::git_http::{GitHttp, PASSWORD, USER};
use testkit::sshd::Sshd;

use crate::support::{TestResult, curl, eventually, files, git, id_of, paste, site, spawn_binary};

const WAIT: Duration = Duration::from_secs(60);

fn fast() -> SyncTiming {
    SyncTiming {
        interval: Duration::from_millis(500),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
    }
}

/// Whether the remote's `main` has every paste of `ids`.
fn has_all(repo: &Path, ids: &[String]) -> bool {
    let files = files(repo, "main");
    ids.iter()
        .all(|id| files.iter().any(|f| f == &crate::support::key(id)))
}

#[tokio::test(flavor = "multi_thread")]
async fn git_daemon_gets_every_paste_even_after_being_down() -> TestResult {
    let Some(mut daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let remote_repo = daemon.base().join("pastes.git");
    git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        &remote_repo.display().to_string(),
    ]);
    let url = daemon.url("pastes.git");
    let s = site(|c| {
        c.remote = Some(Remote::new("origin", url.parse().expect("a URL")));
        c.sync = fast();
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(id_of(
            &paste(&s.base, "", format!("paste {i}\n").as_bytes()).await.text(),
        ));
    }
    eventually(WAIT, "the pastes on the remote", || has_all(&remote_repo, &ids)).await;
    // Plain `git clone` over git:// shows them.
    let clone = s.dir.path().join("clone");
    git(&["clone", "-q", &url, &clone.display().to_string()]);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            std::fs::read_to_string(clone.join(crate::support::key(id)))?,
            format!("paste {i}\n")
        );
    }

    // The remote goes away: pastes are still accepted, the page says so.
    daemon.stop();
    for i in 3..5 {
        let created = paste(&s.base, "", format!("paste {i}\n").as_bytes()).await;
        assert_eq!(created.status, 201);
        ids.push(id_of(&created.text()));
    }
    let page = curl(&[&format!("{}/", s.base)]).await.text();
    let mut unreachable = page.contains("unreachable");
    for _ in 0..100 {
        if unreachable {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        unreachable = curl(&[&format!("{}/", s.base)])
            .await
            .text()
            .contains("unreachable");
    }
    let footer = curl(&[&format!("{}/", s.base)]).await.text();
    let footer = footer.split("sync-state").nth(1).unwrap_or_default().to_string();
    assert!(unreachable, "the page shows the sync state: {footer}");
    assert!(!has_all(&remote_repo, &ids));

    // It comes back: everything is pushed.
    let _daemon = tokio::task::spawn_blocking(move || daemon.restart().map(|_| daemon)).await??;
    eventually(WAIT, "the pastes made while down on the remote", || {
        has_all(&remote_repo, &ids)
    })
    .await;
    // The footer follows (the state is set when the sync call returns).
    let mut page = String::new();
    for _ in 0..100 {
        page = curl(&[&format!("{}/", s.base)]).await.text();
        if page.contains("sync-synced") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(page.contains("sync-synced"), "{page}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_remote_with_a_seed_key_and_a_pinned_host_key() -> TestResult {
    let seed = "pasteur-test-seed";
    let key = smart::SshKey::from_spec(&format!("ed25519:{seed}"))?;
    let line = key.public_key_line("pasteur-test");
    let Some(sshd) = tokio::task::spawn_blocking(move || Sshd::start(&[line])).await?? else {
        return Ok(());
    };
    let remote_repo = sshd.repos().join("pastes.git");
    git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        &remote_repo.display().to_string(),
    ]);
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let url = sshd.url(&user, "pastes.git");
    let dir = tempfile::tempdir()?;
    let pinned = sshd.host_key_fingerprint().to_string();
    let proc = spawn_binary(
        &dir.path().join("data"),
        &[
            "-r",
            &url,
            "--ssh-seed",
            seed,
            "--ssh-auth",
            &pinned,
            "--sync-interval",
            "1",
        ],
    )
    .await;
    let id = id_of(&paste(&proc.base, "", b"over ssh\n").await.text());
    let ids = vec![id];
    eventually(WAIT, "the paste on the ssh remote", || {
        has_all(&remote_repo, &ids)
    })
    .await;

    // A wrong pin: the paste is kept locally, never sent.
    let other = tempfile::tempdir()?;
    let wrong = spawn_binary(
        &other.path().join("data"),
        &[
            "-r",
            &url,
            "--ssh-seed",
            seed,
            "--ssh-auth",
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ],
    )
    .await;
    let created = paste(&wrong.base, "", b"must not leave\n").await;
    assert_eq!(created.status, 201);
    let id = id_of(&created.text());
    eventually(WAIT, "the host key refused", || {
        wrong.log().contains("host key mismatch")
    })
    .await;
    assert!(!has_all(&remote_repo, std::slice::from_ref(&id)));
    assert_eq!(
        curl(&[&format!("{}/raw/{id}", wrong.base)]).await.body,
        b"must not leave\n"
    );
    drop(proc);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn http_remote_with_basic_auth() -> TestResult {
    let Some(http) = tokio::task::spawn_blocking(GitHttp::start).await?? else {
        return Ok(());
    };
    let remote_repo = http.repos().join("pastes.git");
    git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        &remote_repo.display().to_string(),
    ]);
    let url = http.http_url("auth/pastes.git");
    let dir = tempfile::tempdir()?;
    let proc = spawn_binary(
        &dir.path().join("data"),
        &[
            "-r",
            &url,
            "--remote-user",
            USER,
            "--remote-password",
            PASSWORD,
            "--sync-interval",
            "1",
        ],
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..2 {
        ids.push(id_of(
            &paste(&proc.base, "", format!("over http {i}\n").as_bytes())
                .await
                .text(),
        ));
    }
    eventually(WAIT, "the pastes on the http remote", || {
        has_all(&remote_repo, &ids)
    })
    .await;
    let clone = dir.path().join("clone");
    git(&[
        "clone",
        "-q",
        &remote_repo.display().to_string(),
        &clone.display().to_string(),
    ]);
    assert_eq!(
        std::fs::read_to_string(clone.join(crate::support::key(&ids[1])))?,
        "over http 1\n"
    );
    Ok(())
}
