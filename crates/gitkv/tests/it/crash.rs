//! Crash safety: a writer process killed with SIGKILL, again and again.
//! After each kill the repository passes `git fsck --strict` and holds
//! every write the killed process had acknowledged.
//!
//! The writer is this test binary run again with `GITKV_CRASH_WRITER`
//! set, executing the ignored test `crash::writer_process`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gitkv::Store;

use crate::support::{fsck, git_binary};

const ENV: &str = "GITKV_CRASH_WRITER";

/// The writer: 4 threads setting keys as fast as they can, printing
/// `ack <key> <value>` after each acknowledged write. Runs only as the
/// child of `sigkill_loop_keeps_every_acknowledged_write`.
#[test]
#[ignore = "run by sigkill_loop_keeps_every_acknowledged_write as its child process"]
fn writer_process() {
    let Ok(spec) = std::env::var(ENV) else { return };
    let (repo, round) = spec.split_once('|').expect("repo|round");
    let store = Store::builder(repo)
        .stale_lock_after(Duration::from_millis(300))
        .open()
        .expect("open");
    let round = round.to_string();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            let round = round.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let key = format!("r{round}/t{t}/{i:05}");
                    let value = format!("{round}.{t}.{i}");
                    store.set(&key, value.clone()).expect("set");
                    #[allow(clippy::print_stdout)]
                    {
                        println!("ack {key} {value}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn sigkill_loop_keeps_every_acknowledged_write() {
    let Some(git_bin) = git_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged = Vec::new();
    for round in 0..12u32 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::writer_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV, format!("{}|{round}", repo.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Kill after a varying number of acknowledgements (and so at a
        // varying point of the commit cycle).
        let kill_after = 5 + (round as usize * 7) % 40;
        let mut acks = 0;
        let started = Instant::now();
        let mut lines = BufReader::new(stdout).lines();
        while acks < kill_after {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(rest) = line.strip_prefix("ack ") {
                let (key, value) = rest.split_once(' ').unwrap();
                acknowledged.push((key.to_string(), value.to_string()));
                acks += 1;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the writer makes no progress"
            );
        }
        child.kill().unwrap(); // SIGKILL
        // Acknowledgements printed before the kill landed count too.
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("ack ") {
                let (key, value) = rest.split_once(' ').unwrap();
                acknowledged.push((key.to_string(), value.to_string()));
            }
        }
        child.wait().unwrap();
        assert!(acks > 0, "round {round}: the writer acknowledged nothing");

        fsck(&git_bin, &repo);
        let store = Store::builder(&repo).create(false).open().unwrap();
        for (key, value) in &acknowledged {
            assert_eq!(
                store.get(key).unwrap().as_deref(),
                Some(value.as_bytes()),
                "round {round}: acknowledged {key} is lost"
            );
        }
    }
    assert!(acknowledged.len() >= 12 * 5);
}
