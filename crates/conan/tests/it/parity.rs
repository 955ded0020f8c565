//! Parity with the real `file` on a corpus built from this system's files
//! and from files made by installed tools (`tests/corpus.sh`).
//!
//! Needs `file` 5.44 on PATH (it answers from the system's `magic.mgc`) and
//! the text Magdir of the same version in `CONAN_MAGDIR` (see
//! `tests/fetch-magdir.sh`). Without them the test is skipped, except under
//! `CI=true`, where it fails. Differences that remain are listed with their
//! reason in `tests/parity-differences.txt`; any other difference fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use conan::{Database, Magic};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn unavailable(what: &str) {
    assert!(!in_ci(), "parity test cannot run under CI=true: {what}");
    eprintln!("skipping parity test: {what}");
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn file_lines(list: &Path, flag: Option<&str>) -> Vec<String> {
    let mut cmd = Command::new("file");
    cmd.env("LC_ALL", "C").env("TZ", "UTC").arg("-b");
    if let Some(f) = flag {
        cmd.arg(f);
    }
    let out = cmd.arg("-f").arg(list).output().expect("file runs");
    assert!(
        out.status.success(),
        "file failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn parity_with_file() {
    let Some(magdir) = std::env::var_os("CONAN_MAGDIR").map(PathBuf::from) else {
        return unavailable("CONAN_MAGDIR is not set (run crates/conan/tests/fetch-magdir.sh)");
    };
    let version = match Command::new("file").arg("--version").output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => return unavailable(&format!("no `file` binary: {e}")),
    };
    if !version.starts_with("file-5.44") {
        return unavailable(&format!(
            "`file` is not 5.44: {}",
            version.lines().next().unwrap_or("")
        ));
    }
    let db = Database::load(&magdir).expect("the Magdir loads");
    let magic = Magic::new(db);
    let keep_going = Magic::new(Database::load(&magdir).expect("the Magdir loads")).with_keep_going(true);

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = TempDir(std::env::temp_dir().join(format!("conan-parity-{}-{nanos}", std::process::id())));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus.sh");
    let status = Command::new("sh")
        .arg(&script)
        .arg(&tmp.0)
        .status()
        .expect("corpus.sh runs");
    assert!(status.success());

    let mut files = Vec::new();
    for sub in ["sys", "gen"] {
        let dir = tmp.0.join(sub);
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("corpus dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| !p.is_symlink())
            .collect();
        names.sort();
        files.extend(names);
    }
    let list = tmp.0.join("list");
    let text: String = files.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::write(&list, text).expect("write list");
    let descs = file_lines(&list, None);
    let mimes = file_lines(&list, Some("--mime-type"));
    let encs = file_lines(&list, Some("--mime-encoding"));
    let keeps = file_lines(&list, Some("-k"));
    let exts = file_lines(&list, Some("--extension"));
    assert_eq!(descs.len(), files.len());

    // The system's compiled database must give the same answers as the
    // Magdir it was compiled from.
    let compiled = Database::load_default().map(Magic::new);
    if compiled.is_err() {
        unavailable("no compiled system database (magic.mgc)");
    }
    let known = load_known();
    let mut diffs = BTreeSet::new();
    let mut agree = BTreeMap::<&str, usize>::new();
    let mut report = String::new();
    for (i, path) in files.iter().enumerate() {
        let name = path.strip_prefix(&tmp.0).unwrap_or(path).display().to_string();
        let ours = magic.identify_path(path).expect("readable corpus file");
        if let Ok(c) = &compiled {
            let from_mgc = c.identify_path(path).expect("readable corpus file");
            assert_eq!(ours, from_mgc, "Magdir and magic.mgc disagree on {name}");
        }
        let all = keep_going.identify_path(path).expect("readable corpus file");
        let ext = if ours.extensions.is_empty() {
            "???".to_owned()
        } else {
            ours.extensions.join("/")
        };
        for (field, theirs, mine) in [
            ("mime", &mimes[i], &ours.mime),
            ("description", &descs[i], &ours.description),
            ("encoding", &encs[i], &ours.encoding),
            ("keep-going", &keeps[i], &all.description),
            ("extension", &exts[i], &ext),
        ] {
            if theirs == mine {
                *agree.entry(field).or_default() += 1;
            } else {
                diffs.insert((field.to_owned(), name.clone()));
                if !known.contains_key(&(field.to_owned(), name.clone())) {
                    report.push_str(&format!("{field}\t{name}\tfile: {theirs}\tconan: {mine}\n"));
                }
            }
        }
    }
    let n = files.len();
    for field in ["mime", "description", "encoding", "keep-going", "extension"] {
        let a = agree.get(field).copied().unwrap_or(0);
        eprintln!(
            "parity {field}: {a}/{n} = {:.2}%",
            100.0 * a as f64 / n.max(1) as f64
        );
    }
    let stale: Vec<_> = known.keys().filter(|k| !diffs.contains(*k)).collect();
    if !stale.is_empty() {
        eprintln!(
            "{} listed differences no longer occur (fixed, or not in this corpus)",
            stale.len()
        );
    }
    if let Some(out) = std::env::var_os("CONAN_PARITY_REPORT") {
        std::fs::write(out, &report).expect("write report");
    }
    assert!(
        report.is_empty(),
        "differences with file not listed in tests/parity-differences.txt:\n{report}"
    );
}

/// `field<TAB>corpus name<TAB>reason` lines; `#` comments.
fn load_known() -> BTreeMap<(String, String), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity-differences.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut p = l.splitn(3, '\t');
            Some((
                (p.next()?.to_owned(), p.next()?.to_owned()),
                p.next().unwrap_or("").to_owned(),
            ))
        })
        .collect()
}
