//! `blogger watch`: an edit is rebuilt and served, and a page's long poll
//! learns of it (what reloads open tabs).

use std::time::Duration;

use crate::serve::{get, request};
use crate::support::{TestResult, sample_copy};

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_is_rebuilt_and_the_long_poll_answers() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let watching = blogger::watch(blogger::WatchConfig {
        build: blogger::BuildOptions::new(&blog, &output),
        listen: "127.0.0.1:0".parse()?,
    })
    .await?;
    let addr = watching.addr();
    assert_eq!(watching.builds(), 1);
    let page = tokio::task::spawn_blocking(move || get(addr, "/articles/code.html")).await??;
    assert_eq!(page.status, 200);
    let text = String::from_utf8(page.body)?;
    assert!(text.contains(blogger::WAIT_PATH), "the reload script");
    assert!(
        text.contains(&format!("href=\"http://{addr}/style.css\"")),
        "links to the dev server"
    );
    assert!(!text.contains("blog.example.org"));

    // A page's long poll, under way while the article is edited.
    let poll = tokio::task::spawn_blocking(move || {
        request(addr, "GET", &format!("{}?since=1", blogger::WAIT_PATH), &[])
    });
    let path = blog.join("articles/code.md");
    let source = std::fs::read_to_string(&path)?;
    std::fs::write(&path, source.replace("Some Rust:", "Some Rust, watched:"))?;
    let answer = tokio::time::timeout(Duration::from_secs(20), poll).await???;
    let generation: u64 = String::from_utf8(answer.body)?.trim().parse()?;
    assert!(generation >= 2, "{generation}");
    let page = tokio::task::spawn_blocking(move || get(addr, "/articles/code.html")).await??;
    assert!(String::from_utf8(page.body)?.contains("Some Rust, watched:"));
    assert_eq!(
        tokio::task::spawn_blocking(move || get(addr, "/nope"))
            .await??
            .status,
        404
    );
    watching.shutdown(Duration::from_secs(1));
    Ok(())
}
