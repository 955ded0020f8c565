//! A loaded magic database: the entries of one or more magic files, split
//! into the main set and the named (`name`/`use`) set, flagged as text or
//! binary tests and sorted by strength (`apprentice_load`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::compiled;
use crate::encoding::looks_utf8;
use crate::entry::{Entry, Head, Type, flag, sflag};
use crate::mgc::{self, MgcError};
use crate::parse::{Group, ParseError, parse_file};
use crate::set::Set;
use crate::strength::strength;

/// Why a database could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A magic file or directory could not be read.
    #[error("cannot read magic file {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A magic file has a line that does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A compiled database (`.mgc`) is corrupt or of another version.
    #[error("invalid compiled magic file {path}")]
    Compiled {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: MgcError,
    },
    /// No database was found where libmagic looks.
    #[error("no magic database found (tried {tried:?})")]
    NotFound {
        /// The paths tried.
        tried: Vec<PathBuf>,
    },
}

/// A compiled set of magic entries, ready for matching. `Send + Sync`.
///
/// A database read from a compiled `magic.mgc` keeps its records packed
/// and decodes each group of entries when the matcher first reaches it
/// (see `set.rs`): loading reads the main set once and indexes its
/// top-level entries, nothing more. Read from a file, it also leaves in
/// the file what it does not need yet (see `compiled.rs` and
/// [`Database::load`]).
#[derive(Debug)]
pub struct Database {
    /// The main set, in match order (top-level entries strongest first).
    pub(crate) main: Set,
    /// Named entries (`name`) and their continuations: see
    /// [`Database::named`].
    named: OnceLock<Set>,
    /// Where the named set still is (a compiled database read from a
    /// file, until a test uses a name).
    deferred: Option<compiled::Deferred>,
    /// Name -> group of `named`, built on the first `use`.
    names: OnceLock<HashMap<Vec<u8>, usize>>,
    /// A dense index of the groups of `main`, scanned before the entries
    /// themselves so that most are rejected without touching (or decoding)
    /// them.
    pub(crate) tops: Vec<Top>,
}

/// What the matcher needs to know of a top-level entry to skip it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Top {
    /// `flag::BINTEST`/`TEXTTEST` of the entry.
    pub(crate) tests: u8,
    /// The entry only runs on binary (`Some(false)`) or text (`Some(true)`)
    /// buffers, from its `/b` or `/t` string flag alone.
    pub(crate) only_text: Option<bool>,
    /// The entry's shortcut.
    pub(crate) quick: crate::entry::Quick,
    /// Type and signedness, for the numeric shortcut.
    pub(crate) typ: Type,
    pub(crate) unsigned: bool,
    /// The entry cannot match a shorter buffer: its value would lie past
    /// the end (where `mget` fails and `match` moves on).
    pub(crate) min_len: u32,
}

impl Top {
    /// The index record of a top-level entry.
    pub(crate) fn of(e: &Head<'_>) -> Top {
        let flt = e.str_flags & (sflag::BINTEST | sflag::TEXTTEST);
        let only_text = if e.typ == Type::Name || !e.typ.is_string() {
            None
        } else if flt == sflag::BINTEST {
            Some(false)
        } else if flt == sflag::TEXTTEST {
            Some(true)
        } else {
            None
        };
        Top {
            tests: e.flag & (flag::BINTEST | flag::TEXTTEST),
            only_text,
            quick: e.quick(),
            typ: e.typ,
            unsigned: e.flag & flag::UNSIGNED != 0,
            min_len: e.min_len(),
        }
    }
}

impl Database {
    /// Parses magic(5) text. `origin` names the source in errors.
    pub fn from_text(origin: &str, text: &[u8]) -> Result<Database, LoadError> {
        let mut groups = Vec::new();
        parse_file(origin, text, &mut groups)?;
        Ok(Database::from_groups(groups))
    }

    /// Reads a compiled database (`magic.mgc` of file 5.44, version 18).
    pub fn from_compiled(data: &[u8]) -> Result<Database, MgcError> {
        compiled::read(data).map(Database::from_loaded)
    }

    /// Loads the database the way libmagic finds it: the paths of the
    /// `MAGIC` environment variable (colon-separated), else
    /// `/usr/share/misc/magic`; for each, `PATH.mgc` if it exists, else
    /// `PATH` itself (compiled, a text file or a directory).
    pub fn load_default() -> Result<Database, LoadError> {
        let list = std::env::var_os("MAGIC")
            .map(|v| std::env::split_paths(&v).collect::<Vec<_>>())
            .unwrap_or_else(|| vec![PathBuf::from("/usr/share/misc/magic")]);
        let mut tried = Vec::new();
        for p in list {
            let mut mgc = p.clone().into_os_string();
            mgc.push(".mgc");
            let mgc = PathBuf::from(mgc);
            for candidate in [mgc, p] {
                if candidate.exists() {
                    return Database::load(&candidate);
                }
                tried.push(candidate);
            }
        }
        Err(LoadError::NotFound { tried })
    }

    /// Loads a compiled database, a magic file, or every regular file of a
    /// directory in name order (like `file -m Magdir`).
    ///
    /// A compiled database keeps its file open and reads from it what it
    /// needs when it first needs it (as libmagic, which maps the file, only
    /// reads the pages it touches): loading checks the main set and keeps
    /// its top-level entries; the continuations of an entry are read when
    /// it first matches, the named set (`name` entries) when a test first
    /// uses a name. If a part cannot be read then, or no longer holds valid
    /// records (the file changed), it counts as empty: the entry has no
    /// continuations, or the names are missing (a `use` stops its test)
    /// and the description is what matched before.
    /// [`Database::from_compiled`] checks everything up front.
    pub fn load(path: &Path) -> Result<Database, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let mut files = Vec::new();
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).map_err(io)? {
                let entry = entry.map_err(io)?;
                let name = entry.file_name();
                if name.as_encoded_bytes().first() == Some(&b'.') {
                    continue;
                }
                let p = entry.path();
                if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                    files.push(p);
                }
            }
            // strcmp order of the full paths, as libmagic sorts them.
            files.sort_by(|a, b| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
        } else {
            let mut f = std::fs::File::open(path).map_err(io)?;
            let mut head = [0u8; 4];
            let n = std::io::Read::read(&mut f, &mut head).map_err(io)?;
            if mgc::is_compiled(&head[..n]) {
                use std::io::Seek;
                f.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
                let total = usize::try_from(meta.len()).unwrap_or(usize::MAX);
                let loaded =
                    compiled::read_file(f, total)
                        .map_err(io)?
                        .map_err(|source| LoadError::Compiled {
                            path: path.to_owned(),
                            source,
                        })?;
                return Ok(Database::from_loaded(loaded));
            }
            files.push(path.to_owned());
        }
        let mut groups = Vec::new();
        for f in files {
            let text = std::fs::read(&f).map_err(|source| LoadError::Io {
                path: f.clone(),
                source,
            })?;
            parse_file(&f.display().to_string(), &text, &mut groups)?;
        }
        Ok(Database::from_groups(groups))
    }

    /// Number of top-level entries in the main set.
    pub fn len(&self) -> usize {
        self.main.len()
    }

    /// Whether the main set is empty.
    pub fn is_empty(&self) -> bool {
        self.main.len() == 0
    }

    /// The named set. That of a compiled database read from a file is
    /// read here, the first time; if the file cannot be read or holds
    /// invalid records there, the set is empty (each `use` then stops the
    /// test as a missing name does).
    pub(crate) fn named(&self) -> &Set {
        self.named
            .get_or_init(|| match self.deferred.as_ref().map(compiled::Deferred::read) {
                Some(Ok(Ok(set))) => set,
                _ => Set::default(),
            })
    }

    /// The group of the named set that `name` declares (the first one).
    pub(crate) fn named_group(&self, name: &[u8]) -> Option<usize> {
        let names = self.names.get_or_init(|| {
            let named = self.named();
            let mut names = HashMap::new();
            for g in 0..named.len() {
                names.entry(named.top_value(g)).or_insert(g);
            }
            names
        });
        names.get(name).copied()
    }

    pub(crate) fn from_groups(groups: Vec<Group>) -> Database {
        let mut main_groups = Vec::new();
        let mut named_groups = Vec::new();
        for mut g in groups {
            if g.is_empty() {
                continue;
            }
            set_test_type(&mut g[0]);
            if g[0].typ == Type::Name {
                named_groups.push(g);
            } else {
                main_groups.push(g);
            }
        }
        let sort = |v: &mut Vec<Group>| {
            let mut keyed: Vec<(i64, Group)> = v.drain(..).map(|g| (strength(&g[0]), g)).collect();
            // glibc's qsort is a stable merge sort for arrays this size.
            keyed.sort_by_key(|k| std::cmp::Reverse(k.0));
            v.extend(keyed.into_iter().map(|(_, g)| g));
        };
        sort(&mut main_groups);
        sort(&mut named_groups);
        Database::assemble(main_groups, named_groups)
    }

    /// Indexes sorted groups.
    fn assemble(main_groups: Vec<Group>, named_groups: Vec<Group>) -> Database {
        let tops = main_groups.iter().map(|g| Top::of(&g[0].head())).collect();
        Database {
            main: Set::from_groups(main_groups),
            named: OnceLock::from(Set::from_groups(named_groups)),
            deferred: None,
            names: OnceLock::new(),
            tops,
        }
    }

    fn from_loaded(loaded: compiled::Loaded) -> Database {
        let (named, deferred) = match loaded.named {
            compiled::Named::Ready(set) => (OnceLock::from(set), None),
            compiled::Named::Deferred(d) => (OnceLock::new(), Some(d)),
        };
        Database {
            main: loaded.main,
            named,
            deferred,
            names: OnceLock::new(),
            tops: loaded.tops,
        }
    }
}

/// `set_test_type`: whether a top-level entry runs on binary or text data.
fn set_test_type(m: &mut Entry) {
    match m.typ {
        Type::String | Type::PString | Type::String16(_) => {
            if m.str_flags & sflag::TEXTTEST != 0 {
                m.flag |= flag::TEXTTEST;
            } else {
                m.flag |= flag::BINTEST;
            }
        }
        Type::Regex | Type::Search => {
            if m.str_flags & sflag::BINTEST != 0 {
                m.flag |= flag::BINTEST;
            }
            if m.str_flags & sflag::TEXTTEST != 0 {
                m.flag |= flag::TEXTTEST;
            }
            if m.flag & (flag::TEXTTEST | flag::BINTEST) != 0 {
                return;
            }
            if looks_utf8(m.bytes()) <= 0 {
                m.flag |= flag::BINTEST;
            } else {
                m.flag |= flag::TEXTTEST;
            }
        }
        Type::Default | Type::Name | Type::Use | Type::Indirect | Type::Clear | Type::Id3(_) => {}
        _ => m.flag |= flag::BINTEST,
    }
}
