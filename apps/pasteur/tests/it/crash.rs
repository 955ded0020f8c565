//! kill -9 under load: every paste that got its URL back is in the
//! repository afterwards, the repository is valid, and the site restarts
//! on it.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{TestResult, curl, git, id_of, spawn_binary};

const CLIENTS: usize = 8;

#[tokio::test(flavor = "multi_thread")]
async fn every_acknowledged_paste_survives_kill_9() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let mut proc = spawn_binary(&data, &[]).await;
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (acked, stop, base) = (acked.clone(), stop.clone(), proc.base.clone());
        clients.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let content = format!("client {client} paste {n}\n");
                n += 1;
                // No assertion here: requests under way when the server
                // dies fail, and that is fine; only answered ones count.
                let out = Command::new("curl")
                    .args([
                        "-s",
                        "--max-time",
                        "10",
                        "-w",
                        "\n%{http_code}",
                        "--data-binary",
                        &content,
                    ])
                    .arg(format!("{base}/"))
                    .output();
                let Ok(out) = out else { continue };
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                if let Some((url, "201")) = text.trim().rsplit_once('\n') {
                    acked
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((id_of(url), content));
                }
            }
        }));
    }
    // Load until enough pastes are acknowledged (bounded), then SIGKILL.
    let start = Instant::now();
    while acked.lock().unwrap_or_else(|e| e.into_inner()).len() < 60
        && start.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proc.child.kill()?; // SIGKILL
    proc.child.wait()?;
    let acked_at_kill = acked.lock().unwrap_or_else(|e| e.into_inner()).len();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().map_err(|_| "a client thread panicked")?;
    }
    let acked = acked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        acked.len() >= acked_at_kill && acked.len() >= 10,
        "load ran: {}",
        acked.len()
    );

    let repo = data.join(pasteur::REPOSITORY).display().to_string();
    git(&["--git-dir", &repo, "fsck", "--strict"]);
    for (id, content) in &acked {
        let stored = git(&[
            "--git-dir",
            &repo,
            "show",
            &format!("main:{}", crate::support::key(id)),
        ]);
        assert_eq!(&stored, content, "paste {id}");
    }

    // The site starts again on the same repository and serves them.
    let proc = spawn_binary(&data, &[]).await;
    for (id, content) in acked.iter().take(5) {
        let raw = curl(&[&format!("{}/raw/{id}", proc.base)]).await;
        assert_eq!(raw.text(), *content);
    }
    assert_eq!(
        curl(&["--data-binary", "after the crash", &format!("{}/", proc.base)])
            .await
            .status,
        201
    );
    Ok(())
}
