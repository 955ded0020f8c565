//! Expiry with a clock the test moves: hidden at once, removed from the
//! branch by the sweeper in a commit of its own.

use std::time::Duration;

use crate::support::{TestResult, curl, files, git, id_of, paste, site};

#[tokio::test(flavor = "multi_thread")]
async fn pastes_expire_on_the_clock_and_the_sweep_commits_it() -> TestResult {
    // The background sweeper is far away; the test sweeps itself.
    let s = site(|c| c.sweep_every = Duration::from_secs(3600)).await;
    let hour = id_of(&paste(&s.base, "?expire=1h", b"an hour").await.text());
    let day = id_of(&paste(&s.base, "?expire=1d", b"a day").await.text());
    let never = id_of(&paste(&s.base, "", b"for ever").await.text());
    assert!(
        files(&s.repo(), "main").iter().any(|f| f.starts_with("expires/")),
        "indexed"
    );
    let get = |id: &str| format!("{}/{id}", s.base);

    s.clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(curl(&[&get(&hour)]).await.status, 200);
    assert_eq!(s.running.sweep().await?, 0);

    s.clock.advance(Duration::from_secs(2 * 60));
    // Gone for readers before any sweep...
    assert_eq!(curl(&[&get(&hour)]).await.status, 404);
    assert_eq!(curl(&[&format!("{}/raw/{hour}", s.base)]).await.status, 404);
    assert!(files(&s.repo(), "main").iter().any(|f| f.contains(&hour)));
    // ...and from the branch after it.
    assert_eq!(s.running.sweep().await?, 1);
    let left = files(&s.repo(), "main");
    assert!(!left.iter().any(|f| f.contains(&hour)), "{left:?}");
    assert!(left.iter().any(|f| f.contains(&day)) && left.iter().any(|f| f.contains(&never)));
    let repo = s.repo().display().to_string();
    assert_eq!(
        git(&["--git-dir", &repo, "log", "-1", "--format=%s"]).trim(),
        "expire 1 paste"
    );

    s.clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(s.running.sweep().await?, 1);
    assert_eq!(curl(&[&get(&day)]).await.status, 404);
    assert_eq!(curl(&[&get(&never)]).await.status, 200);
    assert_eq!(
        files(&s.repo(), "main").len(),
        2,
        "only the paste that never expires"
    );
    assert_eq!(s.running.sweep().await?, 0);
    Ok(())
}
