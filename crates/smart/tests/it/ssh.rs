//! Against OpenSSH's sshd (own config, host key, authorized_keys, a
//! ForceCommand wrapper allowing only Git commands): the same operations
//! as over git://, and the SSH-specific failures.

use smart::ssh::{HostKeyError, SshKey};
use smart::{Error, FetchOptions, HostKeyPolicy, PushOptions, PushStatus, Refspec, SshOptions};
use testkit::sshd::Sshd;

use crate::support::*;

const SEED: &str = "ed25519:smart ssh tests";

fn key() -> SshKey {
    SEED.parse().unwrap()
}

/// sshd trusting `keys`, serving `repo.git` (3 commits on main, `dev`, tag v1).
fn served(keys: &[&SshKey]) -> Option<(Sshd, tempfile::TempDir)> {
    let lines: Vec<String> = keys.iter().map(|k| k.public_key_line("smart-test")).collect();
    let sshd = Sshd::start(&lines).expect("sshd starts")?;
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    work_repo(&work, 3);
    git(&work, &["branch", "dev", "HEAD~1"]);
    bare_from(&work, &sshd.repos().join("repo.git"));
    Some((sshd, scratch))
}

fn ssh_client(key: SshKey, host_key: HostKeyPolicy) -> smart::Client {
    client().with_ssh(SshOptions::new(key, host_key))
}

fn pinned(sshd: &Sshd) -> HostKeyPolicy {
    HostKeyPolicy::Fingerprint(sshd.host_key_fingerprint().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_fetch_and_push_over_ssh() {
    let Some((sshd, scratch)) = served(&[&key()]) else {
        return;
    };
    let c = ssh_client(key(), pinned(&sshd));
    let remote = url(&sshd.url("root", "repo.git"));
    let served = sshd.repos().join("repo.git");

    // Clone == git clone --bare, and passes fsck.
    let ours = scratch.path().join("ours.git");
    let theirs = scratch.path().join("theirs.git");
    let mut seen = Seen::default();
    let outcome = c
        .clone(&remote, &ours, &FetchOptions::default(), &mut seen.sink())
        .await
        .unwrap();
    git(
        scratch.path(),
        &[
            "clone",
            "-q",
            "--bare",
            "--no-local",
            served.to_str().unwrap(),
            theirs.to_str().unwrap(),
        ],
    );
    assert_eq!(refs(&ours), refs(&theirs));
    assert_eq!(objects(&ours), objects(&theirs));
    assert_eq!(
        git(&ours, &["symbolic-ref", "HEAD"]),
        git(&theirs, &["symbolic-ref", "HEAD"])
    );
    fsck(&ours);
    assert_eq!(outcome.objects as usize, objects(&theirs).len());
    assert!(seen.received > 0);
    // Protocol v2 was asked for through AcceptEnv.
    assert!(
        sshd.commands().contains("git-upload-pack '/repo.git'|version=2"),
        "{}",
        sshd.commands()
    );

    // Fetch after two new commits moves only their objects.
    let work = scratch.path().join("work");
    commit_file(&work, "new1.txt", "one\n");
    commit_file(&work, "new2.txt", "two\n");
    git(&work, &["push", "-q", served.to_str().unwrap(), "main"]);
    let outcome = c
        .fetch(&remote, &ours, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(outcome.objects, 6, "2 commits, 2 trees, 2 blobs");
    assert_eq!(
        refs(&ours)["refs/heads/main"],
        git(&work, &["rev-parse", "main"]).trim()
    );
    fsck(&ours);

    // Protocol v0 over SSH too.
    let v0 = Clone::clone(&c).with_protocol_v2(false);
    let ours_v0 = scratch.path().join("v0.git");
    v0.clone(&remote, &ours_v0, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(refs(&ours_v0), refs(&ours));
    fsck(&ours_v0);

    // Push: a new branch, a fast-forward, a refused non-fast-forward, a delete.
    let push = |specs: &[&str]| {
        let specs: Vec<Refspec> = specs.iter().map(|s| s.parse().unwrap()).collect();
        let (c, remote, work) = (Clone::clone(&c), remote.clone(), work.clone());
        async move {
            c.push(&remote, &work, &specs, &PushOptions::default(), &mut |_| {})
                .await
                .unwrap()
        }
    };
    git(&work, &["checkout", "-q", "-b", "topic"]);
    commit_file(&work, "topic.txt", "topic\n");
    let outcome = push(&["topic"]).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        refs(&served)["refs/heads/topic"],
        git(&work, &["rev-parse", "topic"]).trim()
    );
    assert_eq!(
        git(&served, &["log", "-1", "--format=%s", "topic"]),
        "add topic.txt\n"
    );
    fsck(&served);
    commit_file(&work, "topic2.txt", "more\n");
    assert_eq!(push(&["topic"]).await.refs[0].status, PushStatus::Ok);
    assert_eq!(
        push(&["dev:topic"]).await.refs[0].status,
        PushStatus::RejectedNonFastForward
    );
    assert_eq!(push(&[":topic"]).await.refs[0].status, PushStatus::Ok);
    assert!(!refs(&served).contains_key("refs/heads/topic"));
    fsck(&served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_seed_key_file_and_known_hosts() {
    let rsa = SshKey::from_spec("rsa:smart ssh tests").unwrap();
    let file_key_dir = tempfile::tempdir().unwrap();
    let file = file_key_dir.path().join("id_ed25519");
    let Some(keygen) = testkit::peer::find_binary("ssh-keygen", "openssh-client").unwrap() else {
        return;
    };
    let out = std::process::Command::new(&keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_file = SshKey::from_spec(file.to_str().unwrap()).unwrap();
    assert_eq!(
        from_file.public_key_line("x").split_whitespace().nth(1),
        std::fs::read_to_string(file.with_extension("pub"))
            .unwrap()
            .split_whitespace()
            .nth(1),
    );

    // A seeded key written out is a key OpenSSH reads, with our fingerprint.
    let written = file_key_dir.path().join("seeded");
    std::fs::write(&written, rsa.to_openssh().unwrap()).unwrap();
    std::fs::set_permissions(&written, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = std::process::Command::new(&keygen)
        .arg("-y")
        .arg("-f")
        .arg(&written)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1),
        rsa.public_key_line("x").split_whitespace().nth(1)
    );
    let out = std::process::Command::new(&keygen)
        .args(["-l", "-E", "sha256", "-f"])
        .arg(&written)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1),
        Some(rsa.fingerprint().as_str())
    );

    let Some((sshd, scratch)) = served(&[&rsa, &from_file]) else {
        return;
    };
    let known_hosts = scratch.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOOfpGvRDIjab3GUmUcLJuwyXy8I1plO8tJBsuRfyjXk\n{}\n", sshd.known_hosts_line())).unwrap();
    let remote = url(&sshd.url("root", "repo.git"));
    for key in [rsa, from_file] {
        let refs = ssh_client(key, HostKeyPolicy::KnownHosts(known_hosts.clone()))
            .ls_remote(&remote)
            .await
            .unwrap();
        assert_eq!(refs[0].symref_target.as_deref(), Some("refs/heads/main"));
        assert_eq!(refs.len(), 4, "HEAD, dev, main, v1: {refs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_host_key_stops_before_anything_is_sent() {
    let Some((sshd, scratch)) = served(&[&key()]) else {
        return;
    };
    let remote = url(&sshd.url("root", "repo.git"));
    let served = sshd.repos().join("repo.git");
    let before = refs(&served);
    let impostor = SshKey::from_spec("ed25519:not the host").unwrap().fingerprint();
    let work = scratch.path().join("work");
    commit_file(&work, "x.txt", "x\n");

    let c = ssh_client(key(), HostKeyPolicy::Fingerprint(impostor.clone()));
    let specs: Vec<Refspec> = vec!["main".parse().unwrap()];
    let err = c
        .push(&remote, &work, &specs, &PushOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    match &err {
        Error::HostKey { source, .. } => match source.as_ref() {
            HostKeyError::Mismatch { expected, got } => {
                assert_eq!(expected, &vec![impostor.clone()]);
                assert_eq!(got, sshd.host_key_fingerprint());
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let text = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        text.contains(&impostor) && text.contains(sshd.host_key_fingerprint()),
        "{text}"
    );

    // known_hosts with another key for this host: the same refusal.
    let known_hosts = scratch.path().join("known_hosts");
    let other_line = SshKey::from_spec("ed25519:not the host")
        .unwrap()
        .public_key_line("");
    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{} {}\n", sshd.addr().port(), other_line.trim()),
    )
    .unwrap();
    let err = ssh_client(key(), HostKeyPolicy::KnownHosts(known_hosts))
        .ls_remote(&remote)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::HostKey { source, .. }
            if matches!(source.as_ref(), HostKeyError::Mismatch { got, .. } if got == sshd.host_key_fingerprint())),
        "{err:?}"
    );

    // Nothing ran and nobody logged in; the repository is as it was.
    assert_eq!(sshd.commands(), "");
    assert!(!sshd.log().contains("Accepted publickey"), "{}", sshd.log());
    assert_eq!(refs(&served), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_key_is_refused() {
    let Some((sshd, _scratch)) = served(&[&key()]) else {
        return;
    };
    let remote = url(&sshd.url("root", "repo.git"));
    let stranger = SshKey::from_spec("ed25519:a stranger").unwrap();
    let err = ssh_client(stranger, pinned(&sshd))
        .ls_remote(&remote)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AuthRefused { user: Some(u), .. } if u == "root"),
        "{err:?}"
    );
    assert_eq!(sshd.commands(), "");

    // No SSH options at all: a clear error, no connection.
    let err = client().ls_remote(&remote).await.unwrap_err();
    assert!(matches!(err, Error::SshNotConfigured { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repository_says_what_the_server_said() {
    let Some((sshd, scratch)) = served(&[&key()]) else {
        return;
    };
    let c = ssh_client(key(), pinned(&sshd));
    let remote = url(&sshd.url("root", "nope.git"));
    let err = c.ls_remote(&remote).await.unwrap_err();
    match &err {
        Error::RemoteCommand { source, .. } => {
            assert_eq!(source.status, Some(128), "{source}");
            assert!(
                source.stderr.contains("does not appear to be a git repository"),
                "{source}"
            );
        }
        other => panic!("{other:?}"),
    }
    let dest = scratch.path().join("clone.git");
    let err = c
        .clone(&remote, &dest, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RemoteCommand { .. }), "{err:?}");
    assert!(!dest.exists());
    // The wrapper refuses paths outside its directory; git never runs.
    let err = c
        .ls_remote(&url(&sshd.url("root", "../etc.git")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::RemoteCommand { source, .. } if source.stderr.contains("path not allowed")),
        "{err:?}"
    );
}
