//! What the tests share: the sample blog copied into a fresh temp dir, the
//! files of an output directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// `tests/sample`.
pub(crate) fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample")
}

/// `tests/golden`.
pub(crate) fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A copy of the sample blog in a fresh temp dir: (dir, blog, output).
pub(crate) fn sample_copy() -> std::io::Result<(tempfile::TempDir, PathBuf, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let blog = dir.path().join("blog");
    copy_dir(&sample(), &blog)?;
    let output = dir.path().join("site");
    Ok((dir, blog, output))
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Every file under `dir` (relative, `/`-separated) and its bytes, the
/// build cache left out.
pub(crate) fn files(dir: &Path) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        for entry in std::fs::read_dir(&path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            } else if name != blogger::CACHE_FILE {
                out.insert(rel, std::fs::read(entry.path())?);
            }
        }
    }
    Ok(out)
}

/// Checks that `text` is well-formed XML (every element closed, in order;
/// entities known); returns the name of the root element.
pub(crate) fn well_formed(text: &str) -> Result<String, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut root = None;
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("at byte {}: {e}", reader.buffer_position())),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    root.get_or_insert_with(|| String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                depth += 1;
            }
            Ok(Event::End(_)) => depth = depth.checked_sub(1).ok_or("an end tag too many")?,
            Ok(Event::Text(t)) => {
                t.decode().map_err(|e| e.to_string())?;
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let known = ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_ref())
                    || r.resolve_char_ref().map_err(|e| e.to_string())?.is_some();
                if !known {
                    return Err(format!("unknown entity &{name};"));
                }
            }
            Ok(_) => {}
        }
    }
    if depth != 0 {
        return Err(format!("{depth} elements left open"));
    }
    root.ok_or_else(|| "no root element".to_string())
}
