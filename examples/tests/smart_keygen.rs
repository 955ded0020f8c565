//! The `smart` example as a user runs it: `keygen` prints the same
//! `authorized_keys` line as the library, and bad flags are refused.

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
