//! The terminal API with curl, the pages, and the repository with git.

use crate::support::{TestResult, curl, files, git, id_of, paste, site, site_in};

const RUST: &[u8] = b"fn main() {\n    println!(\"hello\");\n}\n";

#[tokio::test(flavor = "multi_thread")]
async fn curl_data_binary_gets_a_url_and_the_repository_a_commit() -> TestResult {
    let s = site(|_| {}).await;
    let created = paste(&s.base, "?lang=rs", RUST).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let url = created.text().trim().to_string();
    assert!(url.starts_with(&s.base), "{url}");
    let id = id_of(&url);
    assert_eq!(id.len(), 8);

    let raw = curl(&[&format!("{}/raw/{id}", s.base)]).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, RUST);
    assert_eq!(raw.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    assert!(
        raw.header("content-security-policy")
            .is_some_and(|c| c.contains("sandbox"))
    );
    // The original's ?raw=true.
    assert_eq!(curl(&[&format!("{url}?raw=true")]).await.body, RUST);

    let page = curl(&[&url]).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("hl-storage") || html.contains("hl-keyword"),
        "highlighted"
    );
    assert!(html.contains("id=\"L3\""), "linkable lines");
    assert!(html.contains("class=\"ln\""), "line numbers");
    assert!(html.contains(">Rust<"));
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("script-src 'self'"))
    );
    // ?ln=false hides the numbers, ?hl= picks another language.
    assert!(
        !curl(&[&format!("{url}?ln=false")])
            .await
            .text()
            .contains("class=\"ln\"")
    );
    assert!(curl(&[&format!("{url}?hl=py")]).await.text().contains(">Python<"));

    let download = curl(&[&format!("{}/download/{id}", s.base)]).await;
    assert_eq!(download.body, RUST);
    assert!(
        download
            .header("content-disposition")
            .is_some_and(|d| d.contains("attachment"))
    );

    // The repository: one commit per paste, content and metadata, clonable.
    let repo = s.repo().display().to_string();
    let log = git(&["--git-dir", &repo, "log", "--format=%s"]);
    assert_eq!(log.trim(), format!("paste {id}"));
    let clone = s.dir.path().join("clone");
    git(&["clone", "-q", &repo, &clone.display().to_string()]);
    let key = crate::support::key(&id);
    assert_eq!(std::fs::read(clone.join(&key))?, RUST);
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(clone.join(format!("{key}.json")))?)?;
    assert_eq!(meta["lang"], "rs");
    git(&["--git-dir", &repo, "fsck", "--strict"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_uploads_keep_their_detected_type() -> TestResult {
    let s = site(|_| {}).await;
    let dir = tempfile::tempdir()?;
    // A 1x1 PNG.
    let png: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0,
        0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c,
        0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
        0x60, 0x82,
    ];
    std::fs::write(dir.path().join("dot.png"), png)?;
    let form = format!("file=@{}", dir.path().join("dot.png").display());
    let created = curl(&["-F", &form, &format!("{}/", s.base)]).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = id_of(&created.text());
    let raw = curl(&[&format!("{}/raw/{id}", s.base)]).await;
    assert_eq!(raw.body, png);
    assert_eq!(raw.header("content-type"), Some("image/png"));
    let download = curl(&[&format!("{}/download/{id}", s.base)]).await;
    assert!(
        download
            .header("content-disposition")
            .is_some_and(|d| d.contains("dot.png"))
    );
    let page = curl(&[&format!("{}/{id}", s.base)]).await.text();
    assert!(
        page.contains("PNG image data, 1 x 1"),
        "the page says what it is: {page}"
    );

    // An HTML file is text: served as text/plain, never as HTML.
    std::fs::write(
        dir.path().join("x.html"),
        "<!doctype html><html><script>alert(1)</script></html>\n",
    )?;
    let form = format!("file=@{}", dir.path().join("x.html").display());
    let created = curl(&["-F", &form, "-F", "title=page", &format!("{}/", s.base)]).await;
    let id = id_of(&created.text());
    let raw = curl(&[&format!("{}/raw/{id}", s.base)]).await;
    assert_eq!(raw.header("content-type"), Some("text/plain; charset=utf-8"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_paste_is_shown_as_text() -> TestResult {
    let s = site(|_| {}).await;
    let evil = b"<script>document.title='pwned'</script><img src=x onerror=alert(1)>";
    let created = paste(&s.base, "?lang=html", evil).await;
    let url = created.text().trim().to_string();
    let html = curl(&[&url]).await.text();
    assert!(!html.contains("<script>document"), "escaped");
    assert!(!html.contains("<img src=x"), "escaped");
    assert!(html.contains("&lt;"), "{html}");
    let plain = curl(&[&format!("{url}?hl=txt")]).await.text();
    assert!(!plain.contains("<script>document"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_tokens_work_once_and_across_restarts() -> TestResult {
    let s = site(|_| {}).await;
    let created = paste(&s.base, "", b"to be deleted\n").await;
    let url = created.text().trim().to_string();
    let id = id_of(&url);
    let delete = created.header("x-delete-url").expect("a delete URL").to_string();
    assert!(delete.contains(&format!("/delete/{id}?token=")));

    // A wrong token is refused, the paste stays.
    let wrong = curl(&["-X", "DELETE", &format!("{url}?token=AAAAAAAAAAAAAAAAAAAAAA")]).await;
    assert_eq!(wrong.status, 403);
    assert_eq!(curl(&[&url]).await.status, 200);

    // Restart on the same data: the token still works (derived from the
    // persisted secret), through the confirmation page's form.
    let dir = {
        let Site { running, dir, .. } = s;
        running.shutdown(std::time::Duration::from_millis(100));
        drop(running);
        dir
    };
    let s = site_in(dir, |_| {}).await;
    let delete = delete.replace(&url[..url.len() - id.len() - 1], &s.base);
    let confirm = curl(&[&delete]).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.text().contains("confirm-delete"));
    let token = delete.rsplit("token=").next().unwrap_or_default();
    let done = curl(&[
        "-H",
        "Accept: text/html",
        "--data",
        &format!("token={token}"),
        &format!("{}/delete/{id}", s.base),
    ])
    .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(curl(&[&format!("{}/{id}", s.base)]).await.status, 404);
    assert_eq!(
        curl(&["-X", "POST", &format!("{}/delete/{id}?token={token}", s.base)])
            .await
            .status,
        404
    );
    let repo = s.repo().display().to_string();
    let log = git(&["--git-dir", &repo, "log", "--format=%s"]);
    assert!(
        log.starts_with(&format!("paste {id} deleted by its owner")),
        "{log}"
    );
    assert!(files(&s.repo(), "main").is_empty());
    Ok(())
}

use crate::support::Site;
