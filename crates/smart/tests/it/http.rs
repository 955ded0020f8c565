//! Against `git http-backend` behind nginx (fcgiwrap), over http:// and
//! https:// (HTTP/2 by ALPN): the same operations as over git://, basic
//! and bearer auth, and the HTTP-specific failures.

use std::sync::Arc;

use smart::{Error, FetchOptions, HttpAuth, HttpOptions, PushOptions, PushStatus, Refspec};
use testkit::git_http::{self, GitHttp};

use crate::support::*;

/// The server with `repo.git` (3 commits on main, `dev`, tag v1).
fn served() -> Option<(GitHttp, tempfile::TempDir)> {
    let server = GitHttp::start().expect("nginx and fcgiwrap start")?;
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    work_repo(&work, 3);
    git(&work, &["branch", "dev", "HEAD~1"]);
    bare_from(&work, &server.repos().join("repo.git"));
    Some((server, scratch))
}

fn trusting(server: &GitHttp, auth: Option<HttpAuth>) -> smart::Client {
    client().with_http(HttpOptions {
        auth,
        tls_roots: Some(Arc::new(server.ca().root_store().unwrap())),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_fetch_and_push_over_http_v2_and_v0() {
    let Some((server, scratch)) = served() else { return };
    let served = server.repos().join("repo.git");
    let remote = url(&server.http_url("repo.git"));
    let c = client();

    let refs_v2 = c.ls_remote(&remote).await.unwrap();
    let refs_v0 = Clone::clone(&c)
        .with_protocol_v2(false)
        .ls_remote(&remote)
        .await
        .unwrap();
    assert_eq!(refs_v2, refs_v0);
    assert_eq!(refs_v2[0].symref_target.as_deref(), Some("refs/heads/main"));

    let theirs = scratch.path().join("theirs.git");
    git(
        scratch.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &server.http_url("repo.git"),
            theirs.to_str().unwrap(),
        ],
    );
    for v2 in [true, false] {
        let ours = scratch.path().join(format!("ours-{v2}.git"));
        let mut seen = Seen::default();
        let outcome = Clone::clone(&c)
            .with_protocol_v2(v2)
            .clone(&remote, &ours, &FetchOptions::default(), &mut seen.sink())
            .await
            .unwrap();
        assert_eq!(refs(&ours), refs(&theirs), "v2: {v2}");
        assert_eq!(objects(&ours), objects(&theirs), "v2: {v2}");
        assert_eq!(
            git(&ours, &["symbolic-ref", "HEAD"]),
            git(&theirs, &["symbolic-ref", "HEAD"])
        );
        assert_eq!(outcome.objects as usize, objects(&theirs).len());
        assert!(seen.remote.contains("Total"), "{}", seen.remote);
        fsck(&ours);
    }

    // Fetch after new commits: negotiation over stateless requests.
    let work = scratch.path().join("work");
    commit_file(&work, "new1.txt", "one\n");
    commit_file(&work, "new2.txt", "two\n");
    git(&work, &["push", "-q", served.to_str().unwrap(), "main"]);
    for v2 in [true, false] {
        let ours = scratch.path().join(format!("ours-{v2}.git"));
        let outcome = Clone::clone(&c)
            .with_protocol_v2(v2)
            .fetch(&remote, &ours, &FetchOptions::default(), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(outcome.objects, 6, "only the new objects (v2: {v2})");
        assert_eq!(
            refs(&ours)["refs/heads/main"],
            git(&work, &["rev-parse", "main"]).trim()
        );
        fsck(&ours);
    }

    // Shallow clone over stateless v2 and v0.
    for v2 in [true, false] {
        let shallow = scratch.path().join(format!("shallow-{v2}.git"));
        let options = FetchOptions {
            depth: Some(1),
            ..Default::default()
        };
        Clone::clone(&c)
            .with_protocol_v2(v2)
            .clone(&remote, &shallow, &options, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(git(&shallow, &["rev-list", "--count", "main"]).trim(), "1");
        fsck(&shallow);
    }

    // Push: a big pack (streamed past 1 MiB), a fast-forward, a refused
    // non-fast-forward, a delete.
    let push = |specs: &[&str]| {
        let specs: Vec<Refspec> = specs.iter().map(|s| s.parse().unwrap()).collect();
        let (c, remote, work) = (Clone::clone(&c), remote.clone(), work.clone());
        async move {
            c.push(&remote, &work, &specs, &PushOptions::default(), &mut |_| {})
                .await
                .unwrap()
        }
    };
    git(&work, &["checkout", "-q", "-b", "big"]);
    std::fs::write(work.join("noise.bin"), noise(3 << 20, 7)).unwrap();
    git(&work, &["add", "noise.bin"]);
    git(&work, &["commit", "-q", "-m", "noise"]);
    let outcome = push(&["big"]).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        refs(&served)["refs/heads/big"],
        git(&work, &["rev-parse", "big"]).trim()
    );
    fsck(&served);
    commit_file(&work, "after.txt", "after\n");
    assert_eq!(push(&["big"]).await.refs[0].status, PushStatus::Ok);
    assert_eq!(
        push(&["dev:big"]).await.refs[0].status,
        PushStatus::RejectedNonFastForward
    );
    assert_eq!(push(&[":big"]).await.refs[0].status, PushStatus::Ok);
    assert!(!refs(&served).contains_key("refs/heads/big"));
    fsck(&served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_basic_auth_and_bearer_token() {
    let Some((server, scratch)) = served() else { return };
    let served = server.repos().join("repo.git");

    // Basic auth from the URL's user:password, over HTTPS (HTTP/2).
    let password = git_http::PASSWORD.replace(' ', "%20");
    let with_password = url(&server
        .https_url("auth/repo.git")
        .replace("https://", &format!("https://{}:{password}@", git_http::USER)));
    let ours = scratch.path().join("ours.git");
    trusting(&server, None)
        .clone(&with_password, &ours, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(refs(&ours), refs(&served));
    fsck(&ours);

    // The same with explicit credentials, and a push.
    let auth = HttpAuth::Basic {
        user: git_http::USER.into(),
        password: git_http::PASSWORD.into(),
    };
    let work = scratch.path().join("work");
    commit_file(&work, "https.txt", "https\n");
    let specs: Vec<Refspec> = vec!["main".parse().unwrap()];
    let outcome = trusting(&server, Some(auth))
        .push(
            &url(&server.https_url("auth/repo.git")),
            &work,
            &specs,
            &PushOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        refs(&served)["refs/heads/main"],
        git(&work, &["rev-parse", "main"]).trim()
    );
    fsck(&served);

    // A bearer token.
    let token = HttpAuth::Bearer(git_http::TOKEN.into());
    let refs_token = trusting(&server, Some(token))
        .ls_remote(&url(&server.https_url("token/repo.git")))
        .await
        .unwrap();
    assert!(refs_token.iter().any(|r| r.name == "refs/heads/dev"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_missing_repository_and_unknown_ca() {
    let Some((server, scratch)) = served() else { return };
    let served = server.repos().join("repo.git");
    let before = refs(&served);
    let wrong = HttpAuth::Basic {
        user: git_http::USER.into(),
        password: "wrong".into(),
    };
    let err = trusting(&server, Some(wrong))
        .ls_remote(&url(&server.https_url("auth/repo.git")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AuthRefused { user: Some(u), .. } if u == git_http::USER),
        "{err:?}"
    );
    // No credentials at all, a push: refused, nothing changed.
    let work = scratch.path().join("work");
    commit_file(&work, "nope.txt", "nope\n");
    let specs: Vec<Refspec> = vec!["main".parse().unwrap()];
    let err = client()
        .push(
            &url(&server.http_url("auth/repo.git")),
            &work,
            &specs,
            &PushOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AuthRefused { user: None, .. }), "{err:?}");
    let err = trusting(&server, Some(HttpAuth::Bearer("bad".into())))
        .ls_remote(&url(&server.https_url("token/repo.git")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AuthRefused { .. }), "{err:?}");
    assert_eq!(refs(&served), before);

    // A missing repository: 404, and a failed clone leaves nothing.
    let dest = scratch.path().join("clone.git");
    let err = client()
        .clone(
            &url(&server.http_url("nope.git")),
            &dest,
            &FetchOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RepositoryNotFound { .. }), "{err:?}");
    assert!(!dest.exists());

    // HTTPS with the default roots: our test CA is not trusted.
    let err = client()
        .ls_remote(&url(&server.https_url("repo.git")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Connect { .. } | Error::Http { .. }),
        "{err:?}"
    );
}
