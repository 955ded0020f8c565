//! Indexing a received pack the way C git's index-pack does, in two passes:
//!
//! 1. stream: gix-pack's entry iterator reads the pack as it arrives
//!    (checking each entry's zlib stream and the trailing checksum) while
//!    the bytes go to a temporary file; what is kept of each entry is a
//!    few numbers ([`resolve::Entry`]). For a thin pack, gix-pack's
//!    lookup iterator inserts the missing bases from the repository.
//! 2. resolve: [`resolve::ids`] computes each object's id, reading the
//!    file back with `pread`; then [`idx::write_v2`] writes the index.
//!
//! Only then are the pack, its index and a `.keep` file moved into place.

use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix_pack::data::entry::Header;
use gix_pack::data::input;

use super::idx::{self, IdxEntry};
use super::resolve::{self, EntryKind, ResolveError};

/// Why a pack could not be indexed (what gix-pack's iterator finds is a `gix::Error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IndexError {
    /// Writing or reading the temporary pack or index file.
    #[error("cannot write the pack or its index in {dir}")]
    Io { dir: PathBuf, source: io::Error },
    /// An `OFS_DELTA` whose base offset is not where an entry starts.
    #[error("the delta at offset {offset} refers to offset {base}, where no entry starts")]
    NoEntryAtBase { offset: u64, base: u64 },
    /// More than `u32::MAX` entries.
    #[error("the pack has more entries than an index can hold")]
    TooManyEntries,
    /// The pack's entries ended without its trailing checksum.
    #[error("the pack has no trailing checksum")]
    NoTrailer,
    /// Ids could not be computed.
    #[error("cannot resolve the pack's deltas")]
    Resolve(#[from] ResolveError),
    /// A pack of no objects whose trailer is not the checksum of its header.
    #[error("the checksum of the empty pack is wrong")]
    EmptyPackChecksum,
    /// Bytes after the pack's trailer.
    #[error("data after the end of the pack")]
    TrailingData,
}

/// The files of an indexed pack; `keep` is `None` when the same pack was
/// already there.
#[derive(Debug)]
pub(crate) struct Files {
    pub(crate) pack: PathBuf,
    pub(crate) idx: PathBuf,
    pub(crate) keep: Option<PathBuf>,
}

impl Files {
    /// Removes what this indexing added.
    pub(crate) fn remove(&self) {
        if let Some(keep) = &self.keep {
            let _ = std::fs::remove_file(&self.idx);
            let _ = std::fs::remove_file(&self.pack);
            let _ = std::fs::remove_file(keep);
        }
    }
}

/// Reads a pack from `input` (up to its trailer) into `pack_dir` and
/// indexes it. `thin_bases` completes a thin pack. `None` for a pack of no
/// objects (nothing is written).
pub(crate) fn index_pack(
    input: &mut dyn BufRead,
    pack_dir: &Path,
    thin_bases: Option<impl gix::objs::Find>,
) -> Result<Option<Files>, gix::Error> {
    let io_error = |source| {
        gix::Error::from_error(IndexError::Io {
            dir: pack_dir.to_owned(),
            source,
        })
    };
    let temp = tempfile::Builder::new()
        .prefix("tmp_pack_")
        .tempfile_in(pack_dir)
        .map_err(io_error)?;
    let hash = gix::hash::Kind::Sha1;
    let (entries, ref_bases, trailer, version) = match thin_bases {
        Some(bases) => {
            let entries = input::LookupRefDeltaObjectsIter::new(
                input::BytesToEntriesIter::new_from_header(
                    &mut *input,
                    input::Mode::Verify,
                    input::EntryDataMode::KeepAndCrc32,
                    hash,
                )?,
                bases,
                Default::default(),
            );
            let version = entries.inner.version();
            let mut entries = input::EntriesToBytesIter::new(entries, temp.as_file(), version, hash);
            let (entries, ref_bases, trailer) = record(&mut entries)?;
            (entries, ref_bases, trailer, version)
        }
        None => {
            let mut tee = Tee {
                inner: &mut *input,
                file: io::BufWriter::with_capacity(64 * 1024, temp.as_file()),
                error: None,
            };
            let mut entries = input::BytesToEntriesIter::new_from_header(
                &mut tee,
                input::Mode::Verify,
                input::EntryDataMode::Crc32,
                hash,
            )?;
            let version = entries.version();
            let (recorded, ref_bases, trailer) = record(&mut entries)?;
            drop(entries);
            if let Some(error) = tee.error.take() {
                return Err(io_error(error));
            }
            tee.file.flush().map_err(io_error)?;
            (recorded, ref_bases, trailer, version)
        }
    };
    if entries.is_empty() {
        // gix-pack's iterator stops before the trailer of a pack of no
        // objects: it is checked here.
        let mut trailer = [0u8; 20];
        input
            .read_exact(&mut trailer)
            .map_err(|_| gix::Error::from_error(IndexError::NoTrailer))?;
        let mut hasher = gix::hash::hasher(hash);
        hasher.update(&gix_pack::data::header::encode(version, 0));
        if hasher.try_finalize()?.as_slice() != trailer {
            return Err(gix::Error::from_error(IndexError::EmptyPackChecksum));
        }
        return Ok(None);
    }
    let pack_hash = trailer.ok_or_else(|| gix::Error::from_error(IndexError::NoTrailer))?;
    let ids = resolve::ids(temp.as_file(), &entries, &ref_bases, hash)
        .map_err(|e| gix::Error::from_error(IndexError::from(e)))?;
    // Collected in place, into the entries' allocation.
    let mut idx_entries: Vec<IdxEntry> = entries
        .into_iter()
        .zip(ids)
        .map(|(entry, id)| IdxEntry {
            id,
            offset: entry.offset,
            crc32: entry.crc32,
        })
        .collect();

    let pack_path = pack_dir.join(format!("pack-{}.pack", pack_hash.to_hex()));
    let idx_path = pack_path.with_extension("idx");
    let keep_path = pack_path.with_extension("keep");
    let idx_temp = tempfile::Builder::new()
        .prefix("tmp_idx_")
        .tempfile_in(pack_dir)
        .map_err(io_error)?;
    idx::write_v2(idx_temp.as_file(), &mut idx_entries, &pack_hash).map_err(io_error)?;
    let keep = if pack_path.is_file() {
        // The same pack is there already (same checksum, same content).
        None
    } else {
        std::fs::write(&keep_path, b"").map_err(io_error)?;
        if let Err(e) = temp.persist(&pack_path) {
            let _ = std::fs::remove_file(&keep_path);
            return Err(io_error(e.error));
        }
        Some(keep_path)
    };
    let files = Files {
        pack: pack_path,
        idx: idx_path,
        keep,
    };
    if !files.idx.is_file()
        && let Err(e) = idx_temp.persist(&files.idx)
    {
        files.remove();
        return Err(io_error(e.error));
    }
    Ok(Some(files))
}

/// Entries as the first pass keeps them, the `REF_DELTA` bases by entry,
/// and the pack's checksum.
type Recorded = (Vec<resolve::Entry>, Vec<(u32, ObjectId)>, Option<ObjectId>);

fn record<E>(entries: &mut dyn Iterator<Item = Result<input::Entry, E>>) -> Result<Recorded, gix::Error>
where
    gix::Error: From<E>,
{
    let (lower, _) = entries.size_hint();
    let mut out: Vec<resolve::Entry> = Vec::with_capacity(lower.min(1 << 20));
    let mut ref_bases = Vec::new();
    let mut trailer = None;
    for entry in entries {
        let entry = entry?;
        let index =
            u32::try_from(out.len()).map_err(|_| gix::Error::from_error(IndexError::TooManyEntries))?;
        let data_start = entry.pack_offset + u64::from(entry.header_size);
        let kind = match entry.header {
            Header::Commit => EntryKind::Base(gix::object::Kind::Commit),
            Header::Tree => EntryKind::Base(gix::object::Kind::Tree),
            Header::Blob => EntryKind::Base(gix::object::Kind::Blob),
            Header::Tag => EntryKind::Base(gix::object::Kind::Tag),
            Header::RefDelta { base_id } => {
                ref_bases.push((index, base_id));
                EntryKind::RefDelta
            }
            Header::OfsDelta { base_distance } => {
                let no_base = || {
                    gix::Error::from_error(IndexError::NoEntryAtBase {
                        offset: entry.pack_offset,
                        base: entry.pack_offset.wrapping_sub(base_distance),
                    })
                };
                let base = Header::verified_base_pack_offset(entry.pack_offset, base_distance)
                    .ok_or_else(no_base)?;
                let base = out
                    .binary_search_by_key(&base, |e| e.offset)
                    .map_err(|_| no_base())?;
                EntryKind::Delta(base as u32)
            }
        };
        out.push(resolve::Entry {
            offset: entry.pack_offset,
            data: data_start..data_start + entry.compressed_size,
            size: entry.decompressed_size,
            crc32: entry.crc32.unwrap_or_default(),
            kind,
        });
        if entry.trailer.is_some() {
            trailer = entry.trailer;
        }
    }
    Ok((out, ref_bases, trailer))
}

/// The pack bytes as read, also written to the pack file: exactly those
/// the reader consumes, so the file ends where the pack does.
struct Tee<'a, W: Write> {
    inner: &'a mut dyn BufRead,
    file: W,
    /// A write error, reported once reading is over (`consume` cannot fail).
    error: Option<io::Error>,
}

impl<W: Write> Read for Tee<'_, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<W: Write> BufRead for Tee<'_, W> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.error.is_none() {
            match self.inner.fill_buf() {
                Ok(buf) => {
                    if let Err(e) = self.file.write_all(&buf[..amount.min(buf.len())]) {
                        self.error = Some(e);
                    }
                }
                Err(e) => self.error = Some(e),
            }
        }
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        let mut child = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.test")
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.test")
            .env("GIT_COMMITTER_DATE", "1700000000 +0000")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("git runs");
        let mut input = child.stdin.take().expect("piped");
        input
            .write_all(stdin.unwrap_or_default())
            .expect("git reads its input");
        drop(input);
        let out = child.wait_with_output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A repository whose history makes deltas: one file grown over 30 commits.
    fn history(dir: &Path) {
        git(dir, &["init", "-q", "-b", "main"], None);
        let mut text = String::new();
        for i in 0..30 {
            for j in 0..40 {
                text.push_str(&format!(
                    "line {j} of version {i}: some words to make a delta worth it\n"
                ));
            }
            std::fs::write(dir.join("file.txt"), &text).unwrap();
            std::fs::write(dir.join(format!("small{}.txt", i % 3)), format!("{i}\n")).unwrap();
            git(dir, &["add", "."], None);
            git(dir, &["commit", "-q", "-m", &format!("version {i}")], None);
        }
    }

    fn pack_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn index_bytes(pack: &[u8], dir: &Path) -> Result<Option<Files>, gix::Error> {
        index_pack(&mut io::BufReader::new(pack), dir, None::<gix::odb::Handle>)
    }

    /// Our `.idx` is the one C git's index-pack writes, for packs of
    /// `OFS_DELTA`s and of `REF_DELTA`s (in-pack bases, before or after).
    #[test]
    fn writes_the_index_c_git_writes() {
        let scratch = tempfile::tempdir().unwrap();
        let repo = scratch.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        history(&repo);
        for flags in [&["--delta-base-offset"][..], &[][..]] {
            let mut args = vec!["pack-objects", "--stdout", "--revs", "--no-reuse-delta"];
            args.extend_from_slice(flags);
            let pack = git(&repo, &args, Some(b"main\n"));
            let ours = scratch.path().join(format!("ours{}", flags.len()));
            std::fs::create_dir(&ours).unwrap();
            let files = index_bytes(&pack, &ours).unwrap().expect("objects");
            assert_eq!(std::fs::read(&files.pack).unwrap(), pack);
            assert!(files.keep.as_deref().is_some_and(Path::is_file));
            let theirs = scratch.path().join(format!("theirs{}.pack", flags.len()));
            std::fs::write(&theirs, &pack).unwrap();
            git(scratch.path(), &["index-pack", theirs.to_str().unwrap()], None);
            let their_idx = std::fs::read(theirs.with_extension("idx")).unwrap();
            assert_eq!(std::fs::read(&files.idx).unwrap(), their_idx, "flags {flags:?}");
            // No temporary file is left behind.
            assert_eq!(pack_files(&ours).len(), 3);
        }
    }

    #[test]
    fn a_corrupt_or_truncated_pack_leaves_nothing() {
        let scratch = tempfile::tempdir().unwrap();
        let repo = scratch.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        history(&repo);
        let pack = git(
            &repo,
            &["pack-objects", "--stdout", "--revs", "--delta-base-offset"],
            Some(b"main\n"),
        );
        let out = scratch.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let mut corrupt = pack.clone();
        corrupt[pack.len() / 2] ^= 0x55;
        assert!(index_bytes(&corrupt, &out).is_err());
        assert!(index_bytes(&pack[..pack.len() / 2], &out).is_err());
        assert!(index_bytes(&pack[..pack.len() - 1], &out).is_err());
        assert_eq!(pack_files(&out), Vec::<String>::new());
    }

    /// A pack of no objects writes nothing; its trailer is still checked.
    #[test]
    fn an_empty_pack_is_checked_and_writes_nothing() {
        let scratch = tempfile::tempdir().unwrap();
        git(scratch.path(), &["init", "-q", "--bare", "repo.git"], None);
        let pack = git(
            &scratch.path().join("repo.git"),
            &["pack-objects", "--stdout"],
            Some(b""),
        );
        assert_eq!(pack.len(), 32);
        let out = scratch.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let mut input = io::BufReader::new(&pack[..]);
        assert!(
            index_pack(&mut input, &out, None::<gix::odb::Handle>)
                .unwrap()
                .is_none()
        );
        assert!(input.fill_buf().unwrap().is_empty(), "the trailer is consumed");
        let mut bad = pack.clone();
        bad[31] ^= 1;
        let err = index_bytes(&bad, &out).unwrap_err();
        assert!(
            matches!(
                err.downcast_any_ref::<IndexError>(),
                Some(IndexError::EmptyPackChecksum)
            ),
            "{err:?}"
        );
        assert!(index_bytes(&pack[..25], &out).is_err());
        assert_eq!(pack_files(&out), Vec::<String>::new());
    }

    /// A thin pack's deltas refer to objects it does not carry: without
    /// the repository they cannot be resolved, with it they are.
    #[test]
    fn a_thin_pack_needs_its_bases() {
        let scratch = tempfile::tempdir().unwrap();
        let repo = scratch.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        history(&repo);
        let pack = git(
            &repo,
            &[
                "pack-objects",
                "--stdout",
                "--revs",
                "--thin",
                "--delta-base-offset",
            ],
            Some(b"main\n^main~1\n"),
        );
        let out = scratch.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = index_bytes(&pack, &out).unwrap_err();
        assert!(
            matches!(
                err.downcast_any_ref::<IndexError>(),
                Some(IndexError::Resolve(ResolveError::MissingBase { .. }))
            ),
            "{err:?}"
        );
        assert_eq!(pack_files(&out), Vec::<String>::new());

        // Completed from a clone that has main~1.
        let local = scratch.path().join("local.git");
        git(
            scratch.path(),
            &[
                "clone",
                "-q",
                "--bare",
                "--no-local",
                repo.to_str().unwrap(),
                "local.git",
            ],
            None,
        );
        git(&local, &["update-ref", "refs/heads/main", "main~1"], None);
        git(&local, &["reflog", "expire", "--expire=now", "--all"], None);
        git(&local, &["gc", "-q", "--prune=now"], None);
        let local_repo = gix::open(&local).unwrap();
        let pack_dir = local.join("objects/pack");
        let files = index_pack(
            &mut io::BufReader::new(&pack[..]),
            &pack_dir,
            Some(local_repo.objects.clone()),
        )
        .unwrap()
        .expect("objects");
        // The completed pack stands on its own.
        git(
            scratch.path(),
            &["verify-pack", files.idx.to_str().unwrap()],
            None,
        );
        git(
            &local,
            &[
                "update-ref",
                "refs/heads/main",
                String::from_utf8(git(&repo, &["rev-parse", "main"], None))
                    .unwrap()
                    .trim(),
            ],
            None,
        );
        git(&local, &["fsck", "--strict"], None);
    }
}
