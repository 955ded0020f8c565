//! conan: `file`/libmagic in Rust. It reads magic(5) databases (the text
//! format of file's `Magdir`) and says what a buffer is: its MIME type,
//! character encoding, description and usual extensions, with the same
//! answers as `file` 5.44 gives from the same database.
//!
//! ```text
//!  Magdir/*  --parse-->  Database (sorted by strength) --Magic::identify-->  Outcome
//!                                                    ^ tar, JSON, CSV, text encodings (in code)
//! ```
//!
//! What it does: the magic(5) syntax of file 5.44 (continuation levels,
//! relative and indirect offsets with arithmetic, every numeric, date,
//! string, search and regex type, `name`/`use`, `indirect`, `default`,
//! `clear`, masks and operators, `!:mime`, `!:ext`, `!:apple`,
//! `!:strength`), libmagic's strength ordering, the printf-style
//! descriptions, and the checks libmagic does in C (empty files, text
//! encodings and line terminators, tar, JSON, CSV, ELF details such as
//! `dynamically linked, interpreter ..., BuildID[sha1]=..., stripped`,
//! ASN.1 `der`, file modes), `file -k` (every match). It reads the
//! compiled `magic.mgc` of file 5.44 (format 18) as well as text magic
//! files, and has a small built-in database of web types
//! ([`Database::builtin`]) for machines without one.
//!
//! CDF/OLE2 compound documents (old MS Office, MSI) are read as
//! libmagic reads them: summary information, creating application, MIME
//! type.
//!
//! What it does not do (yet): decompression (`file -z`), SIMH tape
//! images, Thumbs.db catalogs, local time zones for `ldate` and CDF dates
//! (printed in UTC, as `file` prints them under `TZ=UTC`).
//!
//! ```text
//! module      role
//! parse       magic(5) text -> entries      mgc       magic.mgc records, packed
//! compiled    loading magic.mgc             set       groups, decoded on first use
//! database    sets, strength order, index   strength  libmagic's strength
//! matcher     soft-magic interpreter        format    printf subset, dates, escapes
//! posix       POSIX ERE -> regex, needs     der       ASN.1 DER walking
//! encoding    text encodings                text      text descriptions
//! json/csv/tar/elf/cdf  checks in code      magic     the pipeline, Outcome
//! builtin     built-in web database
//! ```
//!
//! Feature flags: `cli` (default) builds the `conan` binary with clap; a
//! library user can set `default-features = false` to drop clap.
//!
//! Dependencies: `regex` for magic `regex` tests (linear time on hostile
//! input; POSIX syntax is translated, see `posix.rs`), `memchr` for the
//! `search` tests and the text scans, `thiserror` for the error types.
//!
//! Speed: top-level entries are scanned through a dense index with
//! first-byte, integer and length shortcuts, `search` tests jump with
//! `memchr`, `regex` tests are skipped when strings every match needs are
//! absent (and compiled on first use), and the common text encodings are
//! decided without copying the buffer: about 7-8 times libmagic's
//! `magic_buffer` on the parity corpus (`scripts/bench-conan`).
//!
//! Start-up: without `unsafe` there is no `mmap`, so `magic.mgc` is read,
//! through a small buffer. Fresh memory is what a start-up pays for most,
//! so loading keeps only the index and the packed top-level records of
//! the main set; an entry is decoded when the matcher first reaches it,
//! and its continuations and the named set are read from the still open
//! file when first needed ([`Database::load`]). `conan` on one small file
//! starts about 1.3-1.7 times as fast as `file` (`scripts/bench-conan`).
//!
//! No async runtime and no C: matching is plain code over a byte slice,
//! bounded in recursion (`use` and `indirect` depth 50 as in libmagic) and
//! in total work, so hostile databases or buffers cannot hang it.
//!
//! ```
//! let db = conan::Database::from_text(
//!     "web",
//!     b"0\tstring\t\\x89PNG\\r\\n\\x1a\\n\tPNG image data\n\
//!       !:mime\timage/png\n\
//!       >16\tbelong\tx\t\\b, %d x\n\
//!       >20\tbelong\tx\t%d\n",
//! )?;
//! let magic = conan::Magic::new(db);
//! let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
//! png.extend_from_slice(&640u32.to_be_bytes());
//! png.extend_from_slice(&480u32.to_be_bytes());
//! let out = magic.identify(&png);
//! assert_eq!(out.mime, "image/png");
//! assert_eq!(out.description, "PNG image data, 640 x 480");
//! assert_eq!(magic.identify(b"hello\r\n").description, "ASCII text, with CRLF line terminators");
//! # Ok::<(), conan::LoadError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
// The matcher mirrors libmagic's C control flow branch for branch so that
// it can be checked against it; merged conditions would hide that mapping.
#![allow(clippy::collapsible_if, clippy::collapsible_match)]

mod builtin;
mod cdf;
mod compiled;
mod csv;
mod database;
mod der;
mod elf;
mod encoding;
mod entry;
mod format;
mod json;
mod magic;
mod matcher;
mod mgc;
mod parse;
mod posix;
mod set;
mod strength;
mod tar;
mod text;

pub use database::{Database, LoadError};
pub use magic::{Context, Magic, Outcome};
pub use mgc::MgcError;
pub use parse::{ParseError, ParseErrorKind};
