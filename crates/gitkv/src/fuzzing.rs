//! Entry points of the fuzz targets (`fuzz/`), not part of the API: what
//! gitkv reads from files and users itself (objects, trees and refs other
//! than our own branch file are read by gix).

/// Parses a pack and its version-2 index as a pack merge reads them:
/// the number of entries, or `None` when they do not hold together.
pub fn pack_entries(idx: &[u8], pack: &[u8]) -> Option<usize> {
    crate::pack::parse(idx, pack).map(|entries| entries.len())
}

/// Checks a key as [`Store::set`](crate::Store::set) does and a prefix as
/// [`Store::list`](crate::Store::list) does: the number of components.
pub fn key_components(key: &str) -> (crate::Result<usize>, crate::Result<usize>) {
    (
        crate::key::split(key).map(|parts| parts.len()),
        crate::key::split_prefix(key).map(|parts| parts.len()),
    )
}
