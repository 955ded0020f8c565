//! C git as the checker, with a clean environment.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `git` binary, or `None` (the test skips; with `CI=true` it fails).
pub(crate) fn git_binary() -> Option<PathBuf> {
    testkit::peer::find_binary("git", "git").expect("git is installed (CI=true)")
}

pub(crate) fn git_command(git: &Path, repo: &Path) -> Command {
    let mut cmd = Command::new(git);
    cmd.arg("--git-dir")
        .arg(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

/// Runs git on the bare repository `repo`; its stdout, or a panic with its stderr.
pub(crate) fn git(git: &Path, repo: &Path, args: &[&str]) -> String {
    let out = git_command(git, repo).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} on {}: {}",
        repo.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `git fsck --strict` must pass with nothing to say but dangling objects.
pub(crate) fn fsck(git_bin: &Path, repo: &Path) {
    let out = git_command(git_bin, repo)
        .args(["fsck", "--strict", "--no-dangling", "--no-progress"])
        .output()
        .expect("git runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stderr.trim().is_empty() && stdout.trim().is_empty(),
        "git fsck --strict on {}: {stdout}{stderr}",
        repo.display()
    );
}

/// The keys of `branch` as C git lists them.
pub(crate) fn git_keys(git_bin: &Path, repo: &Path, branch: &str) -> Vec<String> {
    git(git_bin, repo, &["ls-tree", "-r", "--name-only", "-z", branch])
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `git init --bare -b main` at `path`.
pub(crate) fn init_bare(git_bin: &Path, path: &Path) {
    let out = Command::new(git_bin)
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
