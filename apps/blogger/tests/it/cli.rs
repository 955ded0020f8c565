//! The `blogger` binary: exit codes and messages.

use std::process::Command;

use crate::support::{TestResult, sample_copy};

fn blogger() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blogger"))
}

#[test]
fn build_writes_site_and_exits_0() -> TestResult {
    let (_dir, blog, _) = sample_copy()?;
    let out = blogger()
        .args(["build", "--check-links", "-s"])
        .arg(&blog)
        .output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        blog.join("_site/index.html").is_file(),
        "_site in the blog by default"
    );
    Ok(())
}

#[test]
fn a_bad_article_exits_1_naming_it_and_a_bad_config_exits_2() -> TestResult {
    let (_dir, blog, output) = sample_copy()?;
    std::fs::write(
        blog.join("articles/bad.md"),
        "---\ntitle: Bad\ndraft: maybe\n---\n",
    )?;
    let out = blogger()
        .arg("build")
        .arg("-s")
        .arg(&blog)
        .arg("-o")
        .arg(&output)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("articles/bad.md:3: front matter: field `draft`: expected true or false"),
        "{stderr}"
    );
    assert!(output.join("articles/code.html").is_file());
    std::fs::write(blog.join("blogger.toml"), "per_page = 0\n")?;
    let out = blogger()
        .arg("build")
        .arg("-s")
        .arg(&blog)
        .arg("-o")
        .arg(&output)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("blogger.toml:1: per_page must be at least 1"),
        "{stderr}"
    );
    Ok(())
}
