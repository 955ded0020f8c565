//! `conan`: a `file` work-alike over the conan library.
// A command-line tool reports its errors on stderr.
#![allow(clippy::print_stderr)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Determine file type from content, with magic(5) databases.
#[derive(Parser, Debug)]
#[command(name = "conan", version, disable_help_flag = true)]
struct Args {
    /// Do not prepend file names to output lines (brief mode).
    #[arg(short = 'b', long = "brief")]
    brief: bool,
    /// Output MIME type and encoding, like `text/plain; charset=us-ascii`.
    #[arg(short = 'i', long = "mime")]
    mime: bool,
    /// Output the MIME type only.
    #[arg(long = "mime-type")]
    mime_type: bool,
    /// Output the MIME encoding only.
    #[arg(long = "mime-encoding")]
    mime_encoding: bool,
    /// Output the usual extensions of the type (`???` if unknown).
    #[arg(long = "extension")]
    extension: bool,
    /// Keep going: report every match, not only the first.
    #[arg(short = 'k', long = "keep-going")]
    keep_going: bool,
    /// Read the names of the files to examine from FILE (`-` for stdin).
    #[arg(short = 'f', long = "files-from", value_name = "FILE")]
    files_from: Option<PathBuf>,
    /// Use this magic file or directory (also the MAGIC environment variable).
    #[arg(short = 'm', long = "magic-file", value_name = "PATH")]
    magic_file: Option<PathBuf>,
    /// Follow symbolic links (the default).
    #[arg(short = 'L', long = "dereference")]
    dereference: bool,
    /// Do not follow symbolic links.
    #[arg(short = 'h', long = "no-dereference")]
    no_dereference: bool,
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Files to examine (`-` for standard input).
    files: Vec<PathBuf>,
}

enum Show {
    Description,
    Mime,
    MimeType,
    MimeEncoding,
    Extension,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let show = if args.mime {
        Show::Mime
    } else if args.mime_type {
        Show::MimeType
    } else if args.mime_encoding {
        Show::MimeEncoding
    } else if args.extension {
        Show::Extension
    } else {
        Show::Description
    };
    let loaded = match &args.magic_file {
        Some(path) => conan::Database::load(path),
        None => match conan::Database::load_default() {
            // No system database: use conan's built-in web types.
            Err(conan::LoadError::NotFound { .. }) => Ok(conan::Database::builtin()),
            other => other,
        },
    };
    let db = match loaded {
        Ok(db) => db,
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            eprintln!("conan: {msg}");
            return ExitCode::from(1);
        }
    };
    let magic = conan::Magic::new(db).with_keep_going(args.keep_going);
    let mut names: Vec<PathBuf> = args.files.clone();
    if let Some(list) = &args.files_from {
        let text = if list.as_os_str() == "-" {
            let mut s = String::new();
            if std::io::stdin().read_to_string(&mut s).is_err() {
                eprintln!("conan: cannot read file names from stdin");
                return ExitCode::from(1);
            }
            s
        } else {
            match std::fs::read_to_string(list) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("conan: cannot read {}: {e}", list.display());
                    return ExitCode::from(1);
                }
            }
        };
        names.extend(text.lines().filter(|l| !l.is_empty()).map(PathBuf::from));
    }
    if names.is_empty() {
        eprintln!(
            "Usage: conan [-bikLh] [--mime-type] [--mime-encoding] [--extension] [-f namefile] [-m magicfile] file..."
        );
        return ExitCode::from(1);
    }
    // file follows symbolic links only with -L or under POSIXLY_CORRECT.
    let follow = !args.no_dereference && (args.dereference || std::env::var_os("POSIXLY_CORRECT").is_some());
    let width = names.iter().map(|n| n.as_os_str().len()).max().unwrap_or(0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for name in &names {
        let result = if name.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(7 * 1024 * 1024)
                .read_to_end(&mut buf)
                .map(|_| magic.identify(&buf))
        } else if follow {
            magic.identify_path(name)
        } else {
            magic.identify_path_nofollow(name)
        };
        let text = match result {
            Ok(o) => match show {
                Show::Description => o.description,
                Show::Mime => format!("{}; charset={}", o.mime, o.encoding),
                Show::MimeType => o.mime,
                Show::MimeEncoding => o.encoding,
                Show::Extension => {
                    if o.extensions.is_empty() {
                        "???".to_owned()
                    } else {
                        o.extensions.join("/")
                    }
                }
            },
            Err(e) => format!("cannot open `{}' ({})", name.display(), strerror(&e)),
        };
        let line = if args.brief {
            format!("{text}\n")
        } else {
            let shown = if name.as_os_str() == "-" {
                "/dev/stdin".to_owned()
            } else {
                name.display().to_string()
            };
            format!(
                "{shown}:{:pad$} {text}\n",
                "",
                pad = width.saturating_sub(shown.len())
            )
        };
        if out.write_all(line.as_bytes()).is_err() {
            return ExitCode::from(1);
        }
    }
    // The database is tens of thousands of small allocations: let the
    // process exit free them at once instead of dropping them one by one.
    std::mem::forget(magic);
    ExitCode::SUCCESS
}

/// The C library's wording of an I/O error, as `file` prints it.
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(k) => text[..k].to_owned(),
        None => text,
    }
}
