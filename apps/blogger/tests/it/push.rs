//! `blogger push` to a real `git daemon`, read back by C `git clone`: the
//! branch's tree equals the site, a push with nothing new makes no commit.

use std::path::Path;
use std::process::Command;

use testkit::git_daemon::GitDaemon;

use crate::support::{TestResult, files, sample_copy};

fn git(args: &[&str], dir: &Path) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    if !out.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A fresh `git clone` of the branch: its files, `.git` left out.
fn clone(
    url: &str,
    branch: &str,
    dir: &Path,
) -> Result<std::collections::BTreeMap<String, Vec<u8>>, Box<dyn std::error::Error + Send + Sync>> {
    let target = dir.join(format!("clone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&target);
    git(
        &["clone", "-q", "-b", branch, url, &target.display().to_string()],
        dir,
    )?;
    git(&["fsck", "--strict"], &target)?;
    let mut out = files(&target)?;
    out.retain(|name, _| !name.starts_with(".git/"));
    std::fs::remove_dir_all(&target)?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn push_to_git_daemon_then_clone_equals_the_site() -> TestResult {
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    git(
        &["init", "-q", "--bare", "-b", "main", "site.git"],
        &daemon.base(),
    )?;
    let url = daemon.url("site.git");
    let (dir, blog, output) = sample_copy()?;

    // The binary: build, then the first commit of the branch.
    let out = Command::new(env!("CARGO_BIN_EXE_blogger"))
        .args([
            "push",
            "--branch",
            "gh-pages",
            "--author",
            "Ada",
            "--email",
            "ada@example.org",
            "-r",
            &url,
            "-s",
        ])
        .arg(&blog)
        .arg("-o")
        .arg(&output)
        .output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let site = files(&output)?;
    assert_eq!(clone(&url, "gh-pages", dir.path())?, site);
    let log = git(
        &["log", "--format=%an <%ae> %s", "gh-pages"],
        &daemon.base().join("site.git"),
    )?;
    assert_eq!(log, "Ada <ada@example.org> Site built by blogger\n");

    // The library, from the same mirror: nothing new, no commit.
    let remote = gitkv::sync::Remote::new("origin", url.parse()?);
    let options = blogger::PushOptions {
        site: output.clone(),
        repository: blog.join(".blogger/push.git"),
        branch: "gh-pages".into(),
        author: gitkv::Signature::new("Bob", "bob@example.org")?,
        message: "Edited".into(),
    };
    assert_eq!(
        blogger::push(&remote, &options).await?,
        blogger::PushOutcome::Unchanged
    );

    // An edit and a removal: one commit with just those.
    let path = blog.join("articles/code.md");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, text.replace("Some Rust:", "Some Rust, edited:"))?;
    std::fs::remove_file(blog.join("articles/hello-world.md"))?;
    let mut build = blogger::BuildOptions::new(&blog, &output);
    build.check_links = false;
    let built = blogger::build(&build)?;
    assert!(built.errors.is_empty(), "{:?}", built.errors);
    let outcome = blogger::push(&remote, &options).await?;
    let blogger::PushOutcome::Pushed { changed, removed, .. } = outcome else {
        return Err(format!("{outcome:?}").into());
    };
    assert!(
        built.removed.contains(&"articles/hello-world.html".to_string()),
        "{:?}",
        built.removed
    );
    assert_eq!(removed, built.removed.len());
    assert_eq!(changed, built.written.len());
    assert_eq!(clone(&url, "gh-pages", dir.path())?, files(&output)?);
    let count = git(
        &["rev-list", "--count", "gh-pages"],
        &daemon.base().join("site.git"),
    )?;
    assert_eq!(count.trim(), "2");

    // A fresh mirror (another machine) agrees that nothing changed.
    let mut elsewhere = options.clone();
    elsewhere.repository = dir.path().join("other-mirror.git");
    assert_eq!(
        blogger::push(&remote, &elsewhere).await?,
        blogger::PushOutcome::Unchanged
    );
    Ok(())
}
