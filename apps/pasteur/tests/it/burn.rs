//! Burn after reading: a click-through page first (link previews do not
//! burn it), then one reading, then gone, with the removal in history.

use crate::support::{TestResult, curl, files, git, id_of, paste, site};

#[tokio::test(flavor = "multi_thread")]
async fn burn_after_reading_shows_once_after_a_click() -> TestResult {
    let s = site(|_| {}).await;
    let created = paste(&s.base, "?burn=1", b"the secret\n").await;
    let url = created.text().trim().to_string();
    let id = id_of(&url);

    // GETs, as a link preview bot makes them, do not burn it.
    for _ in 0..3 {
        let page = curl(&[&url]).await;
        assert_eq!(page.status, 200);
        let html = page.text();
        assert!(
            html.contains("burns after reading") && !html.contains("the secret"),
            "{html}"
        );
        assert_eq!(page.header("cache-control"), Some("no-store"));
    }
    let raw = curl(&[&format!("{}/raw/{id}", s.base)]).await;
    assert_eq!(raw.status, 403);
    assert!(!raw.text().contains("the secret"));

    // The click: a POST shows it, and it is gone for good.
    let shown = curl(&["--data", "reveal=1", &url]).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text().contains("the secret"));
    assert_eq!(curl(&["--data", "reveal=1", &url]).await.status, 404);
    assert_eq!(curl(&[&url]).await.status, 404);
    let repo = s.repo().display().to_string();
    let log = git(&["--git-dir", &repo, "log", "--format=%s"]);
    assert!(
        log.starts_with(&format!("paste {id} burnt after reading\npaste {id}")),
        "{log}"
    );
    assert!(files(&s.repo(), "main").is_empty());

    // The terminal's way: POST /raw/<id>.
    let created = paste(&s.base, "?burn=true", b"raw secret").await;
    let id = id_of(&created.text());
    let raw = curl(&["-X", "POST", &format!("{}/raw/{id}", s.base)]).await;
    assert_eq!(raw.body, b"raw secret");
    assert_eq!(
        curl(&["-X", "POST", &format!("{}/raw/{id}", s.base)])
            .await
            .status,
        404
    );
    Ok(())
}
