//! Servers that misbehave: scripted ones (they read our requests with the
//! crate's own pkt-line decoder and answer from a script), and a proxy
//! that cuts a real `git daemon` off mid-pack. Each time: a clear error,
//! and the local repository exactly as it was.

use std::path::Path;

use smart::proto::ProtocolError;
use smart::proto::pktline::{self, Decoded};
use smart::{Error, FetchOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// Reads pkt-lines until a flush, or the first packet when `one`.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, one: bool) {
    loop {
        let mut at = 0;
        let mut complete = false;
        while let Ok(Decoded::Complete { packet, consumed }) = pktline::decode(&buf[at..]) {
            at += consumed;
            if one || packet == pktline::Packet::Flush {
                complete = true;
                break;
            }
        }
        if complete {
            buf.drain(..at);
            return;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed early");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn text(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        match *line {
            "0000" => pktline::write_flush(&mut out),
            "0001" => pktline::write_delimiter(&mut out),
            l => pktline::write_text(&mut out, l).unwrap(),
        }
    }
    out
}

/// What the scripted v2 server sends as the pack.
enum PackScript {
    Whole(Vec<u8>),
    CutAfter(Vec<u8>, usize),
}

/// A v2 upload-pack that advertises `main` at `tip` and answers any fetch
/// with `pack` in side-band chunks.
async fn scripted_v2(tip: String, pack: PackScript) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        read_request(&mut s, &mut buf, true).await;
        s.write_all(&text(&[
            "version 2",
            "agent=scripted",
            "ls-refs=unborn",
            "fetch=shallow",
            "object-format=sha1",
            "0000",
        ]))
        .await
        .unwrap();
        read_request(&mut s, &mut buf, false).await; // ls-refs
        let head = format!("{tip} HEAD symref-target:refs/heads/main");
        let main = format!("{tip} refs/heads/main");
        s.write_all(&text(&[&head, &main, "0000"])).await.unwrap();
        read_request(&mut s, &mut buf, false).await; // fetch
        let (bytes, cut) = match pack {
            PackScript::Whole(bytes) => (bytes, None),
            PackScript::CutAfter(bytes, n) => (bytes, Some(n)),
        };
        let mut out = text(&["packfile"]);
        for chunk in bytes.chunks(1000) {
            let mut data = vec![1u8];
            data.extend_from_slice(chunk);
            pktline::write_data(&mut out, &data).unwrap();
        }
        pktline::write_flush(&mut out);
        let end = cut.map_or(out.len(), |n| n.min(out.len()));
        let _ = s.write_all(&out[..end]).await;
        // Dropping the stream closes the connection.
    });
    format!("git://{addr}/scripted.git")
}

/// A repository `local.git` with history, and the pack + tip of an
/// unrelated repository the scripted server will offer.
fn setup(scratch: &Path) -> (std::path::PathBuf, Vec<u8>, String) {
    let a = scratch.join("a");
    work_repo(&a, 3);
    let local = scratch.join("local.git");
    bare_from(&a, &local);
    let b = scratch.join("b");
    work_repo(&b, 2);
    commit_file(&b, "big.bin", &String::from_utf8_lossy(&noise(30_000, 7)));
    let list = git(&b, &["rev-list", "--objects", "--all"]);
    let mut cmd = git_command(&b);
    cmd.args(["pack-objects", "--stdout", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), list.as_bytes()).unwrap();
    drop(child.stdin.take());
    let pack = child.wait_with_output().unwrap().stdout;
    assert!(pack.starts_with(b"PACK") && pack.len() > 20_000);
    let tip = git(&b, &["rev-parse", "main"]).trim().to_string();
    (local, pack, tip)
}

fn snapshot(
    repo: &Path,
) -> (
    std::collections::BTreeMap<String, String>,
    Vec<String>,
    Vec<String>,
) {
    (refs(repo), pack_files(repo), objects(repo))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripted_server_serves_a_good_pack() {
    let scratch = tempfile::tempdir().unwrap();
    let (local, pack, tip) = setup(scratch.path());
    let remote = url(&scripted_v2(tip.clone(), PackScript::Whole(pack)).await);
    let outcome = client()
        .fetch(&remote, &local, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(refs(&local)["refs/heads/main"], tip);
    assert!(outcome.objects > 0);
    fsck(&local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_pack_leaves_the_repository_unchanged() {
    let scratch = tempfile::tempdir().unwrap();
    let (local, mut pack, tip) = setup(scratch.path());
    let before = snapshot(&local);
    let middle = pack.len() / 2;
    pack[middle] ^= 0x55;
    let remote = url(&scripted_v2(tip, PackScript::Whole(pack)).await);
    let err = client()
        .fetch(&remote, &local, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidPack { .. }), "{err:?}");
    assert_eq!(snapshot(&local), before);
    fsck(&local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_cut_short_leaves_the_repository_unchanged() {
    let scratch = tempfile::tempdir().unwrap();
    let (local, pack, tip) = setup(scratch.path());
    let before = snapshot(&local);
    let half = pack.len() / 2;
    let remote = url(&scripted_v2(tip, PackScript::CutAfter(pack, half)).await);
    let err = client()
        .fetch(&remote, &local, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    let Some(ProtocolError::Truncated {
        context, expected, ..
    }) = err.protocol()
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*context, *expected),
        ("fetch response", "the rest of the pack and a flush")
    );
    assert_eq!(snapshot(&local), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_pkt_line_is_a_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        read_request(&mut s, &mut buf, true).await;
        s.write_all(b"000eversion 2\nzzzz").await.unwrap();
    });
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("clone.git");
    let remote = url(&format!("git://{addr}/x.git"));
    let err = client()
        .clone(&remote, &dest, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    let Some(ProtocolError::PktLine { context, packet, .. }) = err.protocol() else {
        panic!("{err:?}")
    };
    assert_eq!((*context, *packet), ("ref advertisement", 2));
    assert!(!dest.exists(), "a failed clone leaves nothing");
}

/// Forwards to `target`, but closes both sides once `limit` bytes came back.
async fn cutting_proxy(target: std::net::SocketAddr, limit: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = TcpStream::connect(target).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let up = tokio::spawn(async move {
            let _ = tokio::io::copy(&mut cr, &mut sw).await;
        });
        let mut sent = 0;
        let mut buf = vec![0u8; 8192];
        while sent < limit {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n.min(limit - sent),
            };
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            sent += n;
        }
        up.abort();
        // Both halves dropped here: the client sees the connection end.
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_gone_mid_pack_is_a_clear_error_and_leaves_nothing() {
    let Some(daemon) = testkit::git_daemon::GitDaemon::start().unwrap() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    work_repo(&work, 1);
    std::fs::write(work.join("big.bin"), noise(400_000, 3)).unwrap();
    git(&work, &["add", "big.bin"]);
    git(&work, &["commit", "-q", "-m", "big"]);
    bare_from(&work, &daemon.base().join("big.git"));
    let proxy = cutting_proxy(daemon.addr(), 100_000).await;
    let dest = scratch.path().join("clone.git");
    let remote = url(&format!("git://{proxy}/big.git"));
    let err = client()
        .clone(&remote, &dest, &FetchOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    let Some(ProtocolError::Truncated { context, .. }) = err.protocol() else {
        panic!("{err:?}")
    };
    assert_eq!(*context, "fetch response");
    assert!(!dest.exists());
}
