//! The identification pipeline of libmagic's `file_buffer`: empty and tiny
//! buffers, the encoding, tar, JSON and CSV checks, the binary tests of the
//! database, then the text tests and the text description.

use std::io::Read;
use std::path::Path;

use crate::database::Database;
use crate::encoding;
use crate::format::push_octal;
use crate::matcher::{Buf, Mode, SEPARATOR, softmagic};
use crate::text::{self, BYTES_MAX};
use crate::{cdf, csv, elf, json, tar};

/// What a buffer is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The MIME type (`file --mime-type`), e.g. `image/png`.
    pub mime: String,
    /// The character encoding (`file --mime-encoding`), e.g. `us-ascii`
    /// or `binary`.
    pub encoding: String,
    /// The description (`file -b`), non-printable bytes escaped as `\ooo`.
    pub description: String,
    /// Usual file name extensions (`file --extension`), empty if unknown.
    pub extensions: Vec<String>,
}

/// Facts about the data that are not in its bytes.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Context {
    /// The file is executable (some entries say "pie executable" rather
    /// than "shared object" from this, as `file` does from the mode).
    pub executable: bool,
    /// Report every match, not only the first (`file -k`): matches are
    /// separated by a newline and `- `.
    pub keep_going: bool,
}

impl Context {
    /// A context with the executable bit set as given.
    pub fn executable(executable: bool) -> Context {
        Context {
            executable,
            keep_going: false,
        }
    }

    /// The same context, reporting every match (`file -k`) or not.
    pub fn with_keep_going(self, keep_going: bool) -> Context {
        Context { keep_going, ..self }
    }
}

/// A compiled magic database ready to identify buffers. Load once, share
/// between threads (`Send + Sync`).
#[derive(Debug)]
pub struct Magic {
    db: Database,
    keep_going: bool,
}

fn escape(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    for &c in bytes {
        if (0x20..0x7f).contains(&c) {
            out.push(c);
        } else {
            push_octal(&mut out, c);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The `!:ext` list split on `/`, as written (an empty item stands for a
/// trailing slash).
fn extensions(ext: Option<&[u8]>) -> Vec<String> {
    match ext {
        Some(e) => e.split(|&c| c == b'/').map(escape).collect(),
        None => Vec::new(),
    }
}

impl Magic {
    /// Wraps a loaded database.
    pub fn new(db: Database) -> Magic {
        Magic {
            db,
            keep_going: false,
        }
    }

    /// Report every match in the descriptions of files (`file -k`).
    pub fn with_keep_going(self, keep_going: bool) -> Magic {
        Magic { keep_going, ..self }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Identifies `buf`, taken as the whole content of a file.
    pub fn identify(&self, buf: &[u8]) -> Outcome {
        self.identify_with(buf, Context::default())
    }

    /// Identifies `buf` with facts from outside the bytes.
    pub fn identify_with(&self, buf: &[u8], cx: Context) -> Outcome {
        let src: &[u8] = buf;
        self.identify_source(buf, cx, &src)
    }

    /// Identifies the first bytes of a file, `src` giving access to all of
    /// it (for ELF headers past what is in memory).
    fn identify_source<S: elf::Source>(&self, buf: &[u8], cx: Context, src: &S) -> Outcome {
        self.identify_inner(buf, cx, src, true)
    }

    /// The pipeline; `with_cdf: false` skips the CDF check (to find the
    /// MIME type of a CDF document whose MIME check did not decide).
    fn identify_inner<S: elf::Source>(&self, buf: &[u8], cx: Context, src: &S, with_cdf: bool) -> Outcome {
        let buf = &buf[..buf.len().min(BYTES_MAX)];
        let simple = |desc: &str, mime: &str| Outcome {
            mime: mime.to_owned(),
            encoding: "binary".to_owned(),
            description: desc.to_owned(),
            extensions: Vec::new(),
        };
        match buf.len() {
            0 => return simple("empty", "application/x-empty"),
            1 => return simple("very short file (no magic)", "application/octet-stream"),
            _ => {}
        }
        let code = encoding::detect(buf);
        let encoding = code.mime().to_owned();
        let looks_text = code.is_text();
        let done = |desc: &[u8], mime: &[u8], ext: Option<&[u8]>| Outcome {
            mime: escape(mime),
            encoding: encoding.clone(),
            description: escape(desc),
            extensions: extensions(ext),
        };
        // With `keep_going` (file -k) every check that matches adds to the
        // description, separated as libmagic separates them; the MIME type
        // is the first one found.
        let kg = cx.keep_going;
        let mut out: Vec<u8> = Vec::new();
        let mut first_mime: Option<Vec<u8>> = None;
        let mut first_ext: Option<Vec<u8>> = None;
        let mut checkdone = |out: &mut Vec<u8>, desc: &[u8], mime: Option<&[u8]>| -> bool {
            out.extend_from_slice(desc);
            if first_mime.is_none() {
                first_mime = mime.map(<[u8]>::to_vec);
            }
            if kg {
                out.extend_from_slice(SEPARATOR);
            }
            !kg
        };
        if let Some(t) = tar::detect(buf) {
            if checkdone(&mut out, t.description().as_bytes(), Some(b"application/x-tar")) {
                return done(
                    &out,
                    b"application/x-tar",
                    self.ext_only(buf, looks_text, cx.executable).as_deref(),
                );
            }
        }
        if let Some(j) = json::detect(buf) {
            if checkdone(&mut out, j.description().as_bytes(), Some(j.mime().as_bytes())) {
                return done(
                    &out,
                    j.mime().as_bytes(),
                    self.ext_only(buf, looks_text, cx.executable).as_deref(),
                );
            }
        }
        if looks_text && csv::detect(buf).is_some() && checkdone(&mut out, b"CSV text", Some(b"text/csv")) {
            return done(
                &out,
                b"text/csv",
                self.ext_only(buf, looks_text, cx.executable).as_deref(),
            );
        }
        // CDF/OLE2: libmagic runs this check per output mode, and it may
        // decide the description and not the MIME type, or the reverse.
        let mut cdf_mime = None;
        if let Some(c) = with_cdf.then(|| cdf::detect(buf, src)).flatten() {
            cdf_mime = c.mime.clone();
            if let Some(d) = &c.desc {
                if checkdone(&mut out, d, c.mime.as_deref()) {
                    let mime = match &c.mime {
                        Some(m) => m.clone(),
                        None => self.identify_inner(buf, cx, src, false).mime.into_bytes(),
                    };
                    return done(
                        &out,
                        &mime,
                        self.ext_only(buf, looks_text, cx.executable).as_deref(),
                    );
                }
            }
        }
        // libmagic reads ELF headers before the database: the dynamic
        // section decides the exec bit that `${x?...}` descriptions test.
        let elf = elf::details(buf, src);
        let exec = elf.as_ref().and_then(|e| e.exec).unwrap_or(cx.executable);
        let whole = Buf { f: buf, e: Some(buf) };
        let found = softmagic(&self.db, whole, Mode::Binary, looks_text, exec, kg);
        if found.matched {
            let mut desc = found.desc;
            if let Some(e) = &elf {
                desc.extend_from_slice(e.suffix.as_bytes());
            }
            first_ext = first_ext.or(found.ext);
            if !kg {
                // In MIME and extension modes libmagic goes on to the text
                // tests when the binary match gave no MIME type or extension.
                let fallback = if found.mime.is_none() || first_ext.is_none() {
                    let mut scratch = Vec::new();
                    text::describe(&self.db, buf, exec, false, &mut scratch)
                } else {
                    None
                };
                let (text_mime, text_ext) = match fallback {
                    Some(t) => (Some(t.mime), t.ext),
                    None => (None, None),
                };
                let mime = cdf_mime
                    .or(found.mime)
                    .or(text_mime)
                    .unwrap_or_else(|| b"application/octet-stream".to_vec());
                return done(&desc, &mime, first_ext.or(text_ext).as_deref());
            }
            checkdone(&mut out, &desc, found.mime.as_deref());
        }
        match text::describe(&self.db, buf, exec, kg, &mut out) {
            Some(t) => {
                first_mime = first_mime.or(Some(t.mime));
                first_ext = first_ext.or(t.ext);
            }
            None => {
                out.extend_from_slice(b"data");
            }
        }
        // trim_separator
        if out.ends_with(SEPARATOR) {
            out.truncate(out.len() - SEPARATOR.len());
        }
        let mime = cdf_mime
            .or(first_mime)
            .unwrap_or_else(|| b"application/octet-stream".to_vec());
        done(&out, &mime, first_ext.as_deref())
    }

    /// The extension `file --extension` gives: the checks in code (tar,
    /// JSON, CSV, CDF, ELF) are skipped in that mode, so it comes from the
    /// binary tests, else the text tests.
    fn ext_only(&self, buf: &[u8], looks_text: bool, exec: bool) -> Option<Vec<u8>> {
        let whole = Buf { f: buf, e: Some(buf) };
        let found = softmagic(&self.db, whole, Mode::Binary, looks_text, exec, false);
        if found.ext.is_some() {
            return found.ext;
        }
        let mut scratch = Vec::new();
        text::describe(&self.db, buf, exec, false, &mut scratch).and_then(|t| t.ext)
    }

    /// Identifies a file, following symbolic links (`file -L`): reads what
    /// `file` reads and uses its metadata (an empty regular file is
    /// `inode/x-empty`; the exec bit counts; setuid, setgid and sticky
    /// prefix the description; directories, devices, FIFOs and sockets are
    /// described from their mode).
    pub fn identify_path(&self, path: &Path) -> std::io::Result<Outcome> {
        let meta = std::fs::metadata(path)?;
        self.identify_meta(path, &meta)
    }

    /// Identifies a file without following a final symbolic link (`file
    /// -h`, file's default): a link is "symbolic link to TARGET".
    pub fn identify_path_nofollow(&self, path: &Path) -> std::io::Result<Outcome> {
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(path)?;
            let broken = std::fs::metadata(path).is_err();
            let desc = format!(
                "{}symbolic link to {}",
                if broken { "broken " } else { "" },
                target.display()
            );
            return Ok(inode(&desc, "inode/symlink"));
        }
        self.identify_meta(path, &meta)
    }

    fn identify_meta(&self, path: &Path, meta: &std::fs::Metadata) -> std::io::Result<Outcome> {
        let prefix = mode_prefix(meta);
        if let Some(o) = special(meta) {
            return Ok(with_prefix(o, &prefix, ", "));
        }
        let executable = executable(meta);
        if meta.is_file() && meta.len() == 0 {
            return Ok(with_prefix(inode("empty", "inode/x-empty"), &prefix, ", "));
        }
        let mut buf = Vec::new();
        let file = std::fs::File::open(path)?;
        (&file).take(BYTES_MAX as u64).read_to_end(&mut buf)?;
        let cx = Context {
            executable,
            keep_going: self.keep_going,
        };
        let out = match file_source(file, meta.len(), &buf) {
            Some(src) => self.identify_source(&buf, cx, &src),
            None => self.identify_with(&buf, cx),
        };
        Ok(with_prefix(out, &prefix, " "))
    }
}

fn inode(desc: &str, mime: &str) -> Outcome {
    Outcome {
        mime: mime.to_owned(),
        encoding: "binary".to_owned(),
        description: desc.to_owned(),
        extensions: Vec::new(),
    }
}

/// `setuid, setgid, sticky` as `file_fsmagic` prints them.
#[cfg(unix)]
fn mode_prefix(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    let parts: Vec<&str> = [(0o4000, "setuid"), (0o2000, "setgid"), (0o1000, "sticky")]
        .iter()
        .filter(|(bit, _)| mode & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    parts.join(", ")
}

#[cfg(not(unix))]
fn mode_prefix(_meta: &std::fs::Metadata) -> String {
    String::new()
}

fn with_prefix(mut o: Outcome, prefix: &str, sep: &str) -> Outcome {
    if !prefix.is_empty() {
        o.description = format!("{prefix}{sep}{}", o.description);
    }
    o
}

/// Directories, devices, FIFOs and sockets, described from their mode.
#[cfg(unix)]
fn special(meta: &std::fs::Metadata) -> Option<Outcome> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let ft = meta.file_type();
    let dev = meta.rdev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    if ft.is_dir() {
        Some(inode("directory", "inode/directory"))
    } else if ft.is_char_device() {
        Some(inode(
            &format!("character special ({major}/{minor})"),
            "inode/chardevice",
        ))
    } else if ft.is_block_device() {
        Some(inode(
            &format!("block special ({major}/{minor})"),
            "inode/blockdevice",
        ))
    } else if ft.is_fifo() {
        Some(inode("fifo (named pipe)", "inode/fifo"))
    } else if ft.is_socket() {
        Some(inode("socket", "inode/socket"))
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special(meta: &std::fs::Metadata) -> Option<Outcome> {
    meta.is_dir().then(|| inode("directory", "inode/directory"))
}

/// A whole file for the ELF reader.
#[cfg(unix)]
struct FileSource {
    file: std::fs::File,
    size: u64,
}

#[cfg(unix)]
impl elf::Source for FileSource {
    fn read_at(&self, off: u64, len: usize) -> Vec<u8> {
        use std::os::unix::fs::FileExt;
        let mut v = vec![0u8; len.min(64 * 1024 * 1024)];
        let mut n = 0;
        while n < v.len() {
            match self.file.read_at(&mut v[n..], off + n as u64) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        v.truncate(n);
        v
    }
    fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(unix)]
fn file_source(file: std::fs::File, size: u64, buf: &[u8]) -> Option<FileSource> {
    // Only ELF and CDF files read past the buffer, and only when bigger
    // than what was read.
    let wants = buf.starts_with(b"\x7fELF") || buf.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1");
    (wants && size > buf.len() as u64).then_some(FileSource { file, size })
}

#[cfg(not(unix))]
fn file_source(_file: std::fs::File, _size: u64, _buf: &[u8]) -> Option<&'static [u8]> {
    None
}

#[cfg(unix)]
fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_meta: &std::fs::Metadata) -> bool {
    false
}
