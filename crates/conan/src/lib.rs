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
//! encodings and line terminators, tar, JSON, CSV).
//!
//! It reads the compiled `magic.mgc` of file 5.44 (format 18) as well as
//! the text files, and adds ELF details as `file` does ("dynamically
//! linked, interpreter ..., BuildID[sha1]=..., stripped").
//!
//! What it does not do (yet): CDF/OLE2 compound-document details (old MS
//! Office files get the database's description only), decompression
//! (`file -z`), `file -k`'s list of every match, SIMH tape images.
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
mod strength;
mod tar;
mod text;

pub use database::{Database, LoadError};
pub use magic::{Context, Magic, Outcome};
pub use mgc::MgcError;
pub use parse::{ParseError, ParseErrorKind};
