//! The binary's command line: `keygen` and `--help`.

use std::process::Command;

use crate::support::TestResult;

#[test]
fn keygen_prints_a_seed_and_the_public_key_it_derives() -> TestResult {
    let out = Command::new(env!("CARGO_BIN_EXE_pasteur"))
        .arg("keygen")
        .output()?;
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout)?;
    let mut lines = text.lines();
    let seed = lines
        .next()
        .and_then(|l| l.strip_prefix("seed: "))
        .ok_or("a seed line")?;
    let public = lines.next().ok_or("a public key line")?;
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    // `--ssh-seed SEED` uses the same key.
    let key = smart::SshKey::from_spec(&format!("ed25519:{seed}"))?;
    assert_eq!(key.public_key_line("pasteur"), public);
    let again = Command::new(env!("CARGO_BIN_EXE_pasteur"))
        .arg("keygen")
        .output()?;
    assert_ne!(again.stdout, text.as_bytes(), "a new seed each time");
    Ok(())
}

#[test]
fn help_is_long_only_and_h_is_the_hostname() -> TestResult {
    let out = Command::new(env!("CARGO_BIN_EXE_pasteur"))
        .arg("--help")
        .output()?;
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout)?;
    for flag in [
        "-h, --hostname",
        "-r, --remote",
        "-p, --port",
        "--https",
        "--ssh-auth",
        "--max",
        "--data",
        "keygen",
    ] {
        assert!(help.contains(flag), "{flag} in:\n{help}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_pasteur"))
        .args(["--length", "1"])
        .output()?;
    assert_eq!(bad.status.code(), Some(2), "a bad flag is a usage error");
    Ok(())
}
