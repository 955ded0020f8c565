//! A second build writes only what changed, and dependents follow.

use std::time::{Duration, SystemTime};

use crate::support::{TestResult, files, sample_copy};

/// Sets every output's mtime far in the past, so that a rewrite shows.
fn age(dir: &std::path::Path) -> TestResult {
    let past = SystemTime::now() - Duration::from_secs(3600);
    for name in files(dir)?.keys() {
        let file = std::fs::File::options().write(true).open(dir.join(name))?;
        file.set_modified(past)?;
    }
    Ok(())
}

fn modified_since(
    dir: &std::path::Path,
    since: SystemTime,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let mut out = Vec::new();
    for name in files(dir)?.keys() {
        if std::fs::metadata(dir.join(name))?.modified()? > since {
            out.push(name.clone());
        }
    }
    Ok(out)
}

#[test]
fn nothing_changed_nothing_written() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    let first = blogger::build(&options)?;
    assert_eq!(first.rendered, 6);
    age(&output)?;
    let since = SystemTime::now() - Duration::from_secs(60);
    let second = blogger::build(&options)?;
    assert_eq!(second.rendered, 0);
    assert!(second.written.is_empty(), "{:?}", second.written);
    assert!(modified_since(&output, since)?.is_empty());
    Ok(())
}

#[test]
fn an_edited_body_rewrites_its_page_only() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    age(&output)?;
    let since = SystemTime::now() - Duration::from_secs(60);
    let path = blog.join("articles/code.md");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, text.replace("Some Rust:", "Some Rust, edited:"))?;
    let outcome = blogger::build(&options)?;
    assert_eq!(outcome.rendered, 1);
    assert_eq!(outcome.written, ["articles/code.html"]);
    assert_eq!(modified_since(&output, since)?, ["articles/code.html"]);
    assert!(std::fs::read_to_string(output.join("articles/code.html"))?.contains("Some Rust, edited:"));
    Ok(())
}

#[test]
fn a_new_title_follows_into_the_index_tags_and_feeds() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    let path = blog.join("articles/code.md");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(
        &path,
        text.replace("\"Highlighted code\"", "\"Code, highlighted\""),
    )?;
    let outcome = blogger::build(&options)?;
    assert_eq!(outcome.rendered, 1);
    let written: Vec<&str> = outcome.written.iter().map(String::as_str).collect();
    assert_eq!(
        written,
        [
            "articles/code.html",
            "atom.xml",
            "index.html",
            "rss.xml",
            "tags/code/index.html",
            "tags/rust/index.html"
        ]
    );
    Ok(())
}

#[test]
fn a_removed_article_removes_its_page_and_its_only_tag() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    std::fs::remove_file(blog.join("articles/code.md"))?;
    let outcome = blogger::build(&options)?;
    assert_eq!(
        outcome.removed,
        [
            "articles/code.html",
            "tags/code/index.html",
            "tags/rust/index.html"
        ]
    );
    assert!(!output.join("tags/code").exists(), "empty directories go too");
    assert!(!std::fs::read_to_string(output.join("index.html"))?.contains("code.html"));
    Ok(())
}

#[test]
fn a_template_change_rebuilds_everything_and_a_fresh_build_agrees() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    std::fs::create_dir_all(blog.join("templates"))?;
    std::fs::write(
        blog.join("templates/page.html"),
        "<!DOCTYPE html>\n<html><body><h1>{{ page.title }}</h1>{{ page.content }}</body></html>\n",
    )?;
    let outcome = blogger::build(&options)?;
    assert_eq!(outcome.rendered, 6);
    assert_eq!(outcome.written, ["about.html"], "only the page's bytes changed");
    // The incremental output equals a build from nothing.
    let fresh = blog.parent().ok_or("a parent")?.join("fresh");
    blogger::build(&blogger::BuildOptions::new(&blog, &fresh))?;
    assert_eq!(files(&output)?, files(&fresh)?);
    Ok(())
}

#[test]
fn a_deleted_output_is_written_again() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    std::fs::remove_file(output.join("articles/hello-world.html"))?;
    std::fs::remove_file(output.join("img/logo.svg"))?;
    let outcome = blogger::build(&options)?;
    assert_eq!(outcome.written, ["articles/hello-world.html", "img/logo.svg"]);
    Ok(())
}

#[test]
fn a_source_with_the_same_size_and_time_is_not_read_again() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    // Sources older than the cache, as after any edit but the latest.
    let past = SystemTime::now() - Duration::from_secs(3600);
    for name in files(&blog.join("articles"))?.keys() {
        std::fs::File::options()
            .write(true)
            .open(blog.join("articles").join(name))?
            .set_modified(past)?;
    }
    let options = blogger::BuildOptions::new(&blog, &output);
    blogger::build(&options)?;
    // Same size, same time, other bytes: trusted as unchanged (as Git's index does)...
    let path = blog.join("articles/code.md");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, text.replace("Some Rust:", "Some Rost:"))?;
    std::fs::File::options()
        .write(true)
        .open(&path)?
        .set_modified(past)?;
    let outcome = blogger::build(&options)?;
    assert_eq!(outcome.rendered, 0);
    assert!(outcome.written.is_empty(), "{:?}", outcome.written);
    // ...and read as soon as its time moves.
    std::fs::File::options()
        .write(true)
        .open(&path)?
        .set_modified(past + Duration::from_secs(1))?;
    let outcome = blogger::build(&options)?;
    assert_eq!(outcome.written, ["articles/code.html"]);
    Ok(())
}
