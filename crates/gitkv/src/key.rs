//! Keys: `/`-separated paths whose components become tree entry names.

use gix::bstr::ByteSlice;
use gix::validate::path::component;

use crate::{Error, Result};

/// Splits `key` into its components, refusing what Git could not store or
/// would refuse to check out: an empty key or component (`a//b`, `/a`,
/// `a/`), `.` and `..`, NUL bytes, and `.git` in any of its disguises
/// (`.GIT`, `git~1`, `.git.` and the HFS/NTFS tricks `git fsck` knows).
pub(crate) fn split(key: &str) -> Result<Vec<&str>> {
    let invalid = |reason| Error::InvalidKey {
        key: key.to_string(),
        reason,
    };
    if key.is_empty() {
        return Err(invalid("empty"));
    }
    key.split('/')
        .map(|part| check_component(part).map_err(invalid))
        .collect()
}

/// Splits a prefix for `list`: `""` is the root; a trailing `/` is allowed.
pub(crate) fn split_prefix(prefix: &str) -> Result<Vec<&str>> {
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    if trimmed.is_empty() {
        return if prefix.is_empty() {
            Ok(Vec::new())
        } else {
            Err(Error::InvalidKey {
                key: prefix.to_string(),
                reason: "a prefix cannot start with '/'",
            })
        };
    }
    split(trimmed)
}

fn check_component(part: &str) -> std::result::Result<&str, &'static str> {
    if part.is_empty() {
        return Err("empty component (leading, trailing or double '/')");
    }
    if part.contains('\0') {
        return Err("NUL byte");
    }
    let options = component::Options {
        protect_windows: false,
        protect_hfs: true,
        protect_ntfs: true,
    };
    component(part.as_bytes().as_bstr(), None, options)
        .map(|_| part)
        .map_err(|e| match e {
            component::Error::DotGitDir | component::Error::SymlinkedGitModules => "'.git' is reserved",
            component::Error::Relative => "'.' and '..' are not allowed",
            _ => "not a valid file name for Git",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_keys() {
        assert_eq!(split("pastes/ab/cdef").unwrap(), ["pastes", "ab", "cdef"]);
        assert_eq!(split("a").unwrap(), ["a"]);
        assert_eq!(split(".gitignore").unwrap(), [".gitignore"]);
        for bad in [
            "", "/a", "a/", "a//b", ".", "a/..", ".git", "a/.GIT/b", "git~1", "a\0b", ".git.",
        ] {
            assert!(split(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(split_prefix("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_prefix("pastes/").unwrap(), ["pastes"]);
        assert!(split_prefix("/").is_err());
    }
}
