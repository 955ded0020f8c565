//! Helpers: C git with a clean environment, repositories made from
//! scratch, and comparisons.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub(crate) fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.test")
        .env("GIT_AUTHOR_DATE", "1700000000 +0000")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.test")
        .env("GIT_COMMITTER_DATE", "1700000000 +0000");
    cmd
}

/// Runs git in `dir`; its stdout, or a panic with its stderr.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether git succeeds, and its stderr.
pub(crate) fn git_ok(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = git_command(dir).args(args).output().expect("git runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A working repository at `path` (branch `main`) with `commits` commits,
/// each adding a file, and a tag `v1` (annotated) on the first.
pub(crate) fn work_repo(path: &Path, commits: usize) {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "-q", "-b", "main"]);
    for i in 0..commits {
        commit_file(path, &format!("file{i}.txt"), &format!("content {i}\n"));
        if i == 0 {
            git(path, &["tag", "-a", "-m", "first", "v1"]);
        }
    }
}

/// Writes `name` and commits it.
pub(crate) fn commit_file(repo: &Path, name: &str, contents: &str) {
    std::fs::write(repo.join(name), contents).unwrap();
    git(repo, &["add", name]);
    git(repo, &["commit", "-q", "-m", &format!("add {name}")]);
}

/// A bare copy of `work` at `bare` (what the daemon serves).
pub(crate) fn bare_from(work: &Path, bare: &Path) {
    git(
        work.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
}

/// `refname -> object id` of every ref.
pub(crate) fn refs(repo: &Path) -> BTreeMap<String, String> {
    git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"])
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, id)| (n.to_string(), id.to_string()))
        .collect()
}

/// Every object id in the repository, sorted.
pub(crate) fn objects(repo: &Path) -> Vec<String> {
    let mut ids: Vec<String> = git(
        repo,
        &["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"],
    )
    .lines()
    .map(str::to_string)
    .collect();
    ids.sort();
    ids
}

/// Files under `objects/pack` (to check nothing was left behind).
pub(crate) fn pack_files(repo: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo.join("objects/pack"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub(crate) fn fsck(repo: &Path) {
    let (ok, stderr) = git_ok(repo, &["fsck", "--strict", "--no-dangling"]);
    assert!(ok, "git fsck --strict failed in {}: {stderr}", repo.display());
}

pub(crate) fn client() -> smart::Client {
    smart::Client::new(mimic::Resolver::new())
}

pub(crate) fn url(s: &str) -> smart::RemoteUrl {
    s.parse().unwrap()
}

/// A progress sink that keeps the remote's messages.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) remote: String,
    pub(crate) received: u64,
}

impl Seen {
    pub(crate) fn sink(&mut self) -> impl FnMut(smart::Progress<'_>) + Send + '_ {
        |p| match p {
            smart::Progress::Remote(text) => self.remote.push_str(&String::from_utf8_lossy(text)),
            smart::Progress::Received(n) => self.received = n,
            _ => {}
        }
    }
}

/// Deterministic incompressible bytes (a pack big enough to cut in the middle).
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
