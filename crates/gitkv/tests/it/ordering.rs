//! The order of the durability syscalls, as the kernel sees them: a
//! writer process with 4 threads runs under `strace -f`, and for every
//! move of the branch the trace must show
//!
//! - the ref's lock file fsync'd, and the pack's index renamed into place
//!   and `objects/pack` fsync'd after it, all completed before the rename
//!   of the lock file over the ref starts (objects and their names are
//!   durable before the ref names them);
//! - the ref's directory fsync'd after that rename, before the writes of
//!   that commit are acknowledged (each ack names its commit; the trace
//!   shows which lock file write held it).
//!
//! The writer is this test binary run again with `GITKV_ORDER_WRITER`
//! set, executing the ignored test `ordering::writer_process`.

use std::process::{Command, Stdio};

use gitkv::Store;

const ENV: &str = "GITKV_ORDER_WRITER";

/// The writer: 4 threads, 25 writes each, `ack <key> <commit>` printed
/// (one `write` syscall) after each acknowledged write.
#[test]
#[ignore = "run by durability_syscalls_come_in_order as its child process under strace"]
fn writer_process() {
    let Ok(repo) = std::env::var(ENV) else { return };
    let store = Store::open(repo).expect("open");
    std::thread::scope(|s| {
        for t in 0..4 {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..25 {
                    let key = format!("t{t}/{i:03}");
                    let committed = store.set(&key, format!("{t}.{i}")).expect("set");
                    let line = format!("ack {key} {}\n", committed.commit);
                    std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes())
                        .expect("stdout");
                }
            });
        }
    });
}

/// One syscall of the trace: its name, its arguments as strace printed
/// them, and the lines where it started and completed.
#[derive(Debug)]
struct Call {
    pid: String,
    name: String,
    args: String,
    start: usize,
    end: usize,
    ok: bool,
}

/// Parses `strace -f -y` output: `<pid> name(args) = ret`, or a call split
/// in `<pid> name(args <unfinished ...>` and `<pid> <... name resumed>...) = ret`.
fn parse(trace: &str) -> Vec<Call> {
    let mut pending: std::collections::HashMap<&str, (String, String, usize)> = Default::default();
    let mut calls = Vec::new();
    for (n, line) in trace.lines().enumerate() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            if let Some((name, args)) = head.split_once('(') {
                pending.insert(pid, (name.to_string(), args.to_string(), n));
            }
        } else if let Some(tail) = rest.strip_prefix("<... ") {
            if let Some((name, args, start)) = pending.remove(pid) {
                let ok = tail.ends_with("= 0");
                let more = tail.split_once("resumed>").map_or("", |(_, more)| more);
                calls.push(Call {
                    pid: pid.to_string(),
                    name,
                    args: args + more,
                    start,
                    end: n,
                    ok,
                });
            }
        } else if let Some((name, args)) = rest.split_once('(')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            calls.push(Call {
                pid: pid.to_string(),
                name: name.to_string(),
                args: args.to_string(),
                start: n,
                end: n,
                ok: !rest.contains("= -1"),
            });
        }
    }
    calls.sort_by_key(|c| c.end);
    calls
}

fn is_rename(c: &Call) -> bool {
    c.name.starts_with("rename")
}

/// An fsync of the file or directory whose path ends with `suffix`
/// (`-y` prints the fd as `5</path>`).
fn is_fsync_of(c: &Call, suffix: &str) -> bool {
    c.name == "fsync" && c.ok && c.args.contains(&format!("{suffix}>"))
}

#[test]
fn durability_syscalls_come_in_order() {
    let Some(strace) = testkit::peer::find_binary("strace", "strace").expect("strace is installed (CI=true)")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kv.git");
    // Created first, so that the trace holds only writes.
    drop(Store::open(&repo).unwrap());
    let trace_file = dir.path().join("trace");
    let exe = std::env::current_exe().unwrap();
    let status = Command::new(&strace)
        .args(["-f", "-qq", "-y", "-s", "64", "-e", "signal=none"])
        .args(["-e", "trace=fsync,rename,renameat,renameat2,write", "-o"])
        .arg(&trace_file)
        .arg(&exe)
        .args([
            "--exact",
            "ordering::writer_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV, &repo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the traced writer failed: {status}");
    let trace = std::fs::read_to_string(&trace_file).unwrap();
    let calls = parse(&trace);

    let ref_moves: Vec<&Call> = calls
        .iter()
        .filter(|c| {
            is_rename(c)
                && c.ok
                && c.args.contains("refs/heads/main.lock\", ")
                && c.args.contains("refs/heads/main\"")
        })
        .collect();
    assert!(!ref_moves.is_empty(), "no ref rename in the trace:\n{trace}");
    let acks: Vec<&Call> = calls
        .iter()
        .filter(|c| c.name == "write" && c.args.contains("\"ack "))
        .collect();
    assert_eq!(acks.len(), 100, "every write acknowledged once");

    for (i, r) in ref_moves.iter().enumerate() {
        // The leader thread names its pack (index last)...
        let idx_named = calls
            .iter()
            .filter(|c| {
                c.pid == r.pid && c.end < r.start && is_rename(c) && c.ok && c.args.contains(".idx\"")
            })
            .map(|c| c.end)
            .max()
            .unwrap_or_else(|| panic!("ref move {i}: no pack named before it"));
        // ...fsyncs objects/pack after that, before the ref moves...
        assert!(
            calls.iter().any(|c| c.pid == r.pid
                && is_fsync_of(c, "/objects/pack")
                && c.start > idx_named
                && c.end < r.start),
            "ref move {i}: objects/pack not fsync'd between the pack's rename and the ref's"
        );
        // ...and this lock file (created after the previous move) had its
        // content synced, by any thread of the round, before it becomes
        // the ref.
        let previous = if i == 0 { 0 } else { ref_moves[i - 1].end };
        assert!(
            calls
                .iter()
                .any(|c| is_fsync_of(c, "refs/heads/main.lock") && c.start > previous && c.end < r.start),
            "ref move {i}: lock file not fsync'd before its rename"
        );
    }
    // Each ack: its commit was written into the lock file, that lock file
    // renamed over the ref, and the ref's directory fsync'd, by the same
    // thread, before the ack is printed.
    for (n, ack) in acks.iter().enumerate() {
        let commit = ack
            .args
            .split("\"ack ")
            .nth(1)
            .and_then(|rest| rest.split(' ').nth(1))
            .map(|hex| &hex[..40])
            .unwrap_or_else(|| panic!("ack {n} without a commit: {}", ack.args));
        let lock_write = calls
            .iter()
            .find(|c| {
                c.name == "write" && c.args.contains("refs/heads/main.lock>") && c.args.contains(commit)
            })
            .unwrap_or_else(|| panic!("ack {n}: commit {commit} never written into the lock file"));
        let moved = ref_moves
            .iter()
            .find(|r| r.pid == lock_write.pid && r.start > lock_write.end)
            .unwrap_or_else(|| panic!("ack {n}: the lock file holding {commit} never became the ref"));
        let dir_synced = calls
            .iter()
            .find(|c| c.pid == moved.pid && is_fsync_of(c, "/refs/heads") && c.start > moved.end)
            .unwrap_or_else(|| panic!("ack {n}: refs/heads never fsync'd after the ref move"));
        assert!(
            dir_synced.end < ack.start,
            "ack {n}: printed before the ref's directory was fsync'd"
        );
    }
}
