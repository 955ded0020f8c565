//! The `smart` example as a user runs it: `keygen` prints the same
//! `authorized_keys` line as the library, bad flags are refused, and the
//! SSH and HTTPS flags reach a real sshd and nginx + git http-backend.

use std::path::PathBuf;
use std::process::Command;

/// The example binary cargo built next to this test (`target/<profile>/examples`).
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join("examples").join("smart");
    assert!(
        path.exists(),
        "{} is missing: cargo builds examples with the tests",
        path.display()
    );
    path
}

#[test]
fn keygen_prints_the_public_key_line_of_a_seed() {
    let out = Command::new(example())
        .args(["keygen", "ed25519:example seed", "--comment", "me@example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = smart::SshKey::from_spec("ed25519:example seed").unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", key.public_key_line("me@example"))
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), key.fingerprint());
}

#[test]
fn a_host_key_flag_without_a_client_key_is_refused() {
    let out = Command::new(example())
        .args([
            "ls-remote",
            "ssh://git@127.0.0.1:1/x.git",
            "--ssh-fingerprint",
            "SHA256:x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("need --ssh-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository with one commit on `main` at `path`.
fn bare_repo(path: &std::path::Path) {
    let scratch = tempfile::tempdir().unwrap();
    let git = |dir: &std::path::Path, args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.test")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.test")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(scratch.path(), &["init", "-q", "-b", "main", "w"]);
    let work = scratch.path().join("w");
    std::fs::write(work.join("f"), "x\n").unwrap();
    git(&work, &["add", "f"]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(
        scratch.path(),
        &["clone", "-q", "--bare", "w", path.to_str().unwrap()],
    );
}

fn ls_remote(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(example())
        .arg("ls-remote")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ssh_flags_reach_sshd() {
    let key = smart::SshKey::from_spec("ed25519:cli test").unwrap();
    let Some(sshd) = testkit::sshd::Sshd::start(&[key.public_key_line("cli")]).unwrap() else {
        return;
    };
    bare_repo(&sshd.repos().join("r.git"));
    let url = sshd.url("root", "r.git");
    let (ok, stdout, stderr) = ls_remote(&[
        &url,
        "--ssh-key",
        "ed25519:cli test",
        "--ssh-fingerprint",
        sshd.host_key_fingerprint(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("refs/heads/main"), "{stdout}");
    let known_hosts = sshd.scratch().join("kh");
    std::fs::write(&known_hosts, sshd.known_hosts_line() + "\n").unwrap();
    let (ok, _, stderr) = ls_remote(&[
        &url,
        "--ssh-key",
        "ed25519:cli test",
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    // Another pinned key: exit 2, both fingerprints named.
    let other = smart::SshKey::from_spec("ed25519:other").unwrap().fingerprint();
    let (ok, _, stderr) = ls_remote(&[&url, "--ssh-key", "ed25519:cli test", "--ssh-fingerprint", &other]);
    assert!(
        !ok && stderr.contains(&other) && stderr.contains(sshd.host_key_fingerprint()),
        "{stderr}"
    );
}

#[test]
fn https_flags_reach_git_http_backend() {
    let Some(server) = testkit::git_http::GitHttp::start().unwrap() else {
        return;
    };
    bare_repo(&server.repos().join("r.git"));
    let ca = server.scratch().join("ca.pem");
    std::fs::write(&ca, server.ca().cert_pem()).unwrap();
    let url = server.https_url("token/r.git");
    let (ok, stdout, stderr) = ls_remote(&[
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "--token",
        testkit::git_http::TOKEN,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("refs/heads/main"), "{stdout}");
    let (ok, _, stderr) = ls_remote(&[&url, "--ca", ca.to_str().unwrap(), "--token", "wrong"]);
    assert!(!ok && stderr.contains("refused the credentials"), "{stderr}");
}
