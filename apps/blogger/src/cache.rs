//! The build cache, kept in the output directory: what each source was
//! (its digest and its [`Meta`]) and what each output file is (its Git blob
//! id), so that the next build renders only the sources that changed and
//! writes only the files whose bytes changed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha1::Digest;

use crate::meta::Meta;

/// The cache's file name in the output directory (never pushed or served).
pub const CACHE_FILE: &str = ".blogger-cache.json";
const VERSION: u32 = 1;

/// A source as the last build saw it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CachedSource {
    /// The digest of its bytes; empty when it failed (it is tried again).
    pub(crate) hash: String,
    /// Its size and modification time (ns since the epoch) when it was
    /// read: when both are the same, it is not read again (as Git's index).
    pub(crate) size: u64,
    pub(crate) mtime: i128,
    pub(crate) meta: Meta,
}

/// The cache.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Cache {
    pub(crate) version: u32,
    /// The digest of everything every page depends on (configuration,
    /// templates, options, blogger's version): when it changes, every
    /// source is rendered again.
    pub(crate) key: String,
    /// By source path.
    pub(crate) sources: BTreeMap<String, CachedSource>,
    /// Output path -> Git blob id (hex).
    pub(crate) outputs: BTreeMap<String, String>,
    /// The digest of what the lists (index and tag pages, feeds, sitemap)
    /// are made of: when it is the same, they are not made again.
    pub(crate) lists: String,
    /// The outputs made of the lists and of the theme alone.
    pub(crate) generated: Vec<String>,
    /// When the cache was written (ns since the epoch): a source modified
    /// in the same moments is read again whatever its time says.
    pub(crate) written_at: i128,
}

/// The modification time of `metadata`, ns since the epoch (0 when unknown).
pub(crate) fn mtime(metadata: &std::fs::Metadata) -> i128 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128)
}

impl Cache {
    /// The cache of `dir`, or an empty one when it is missing, unreadable or
    /// of another version (the build is then complete, never wrong).
    pub(crate) fn load(dir: &Path) -> Self {
        let Ok(bytes) = std::fs::read(dir.join(CACHE_FILE)) else {
            return Self::default();
        };
        match serde_json::from_slice::<Self>(&bytes) {
            Ok(cache) if cache.version == VERSION => cache,
            Ok(_) => Self::default(),
            Err(error) => {
                tracing::warn!(%error, "the build cache is unreadable: building everything");
                Self::default()
            }
        }
    }

    /// Writes the cache into `dir` (a temporary file, then a rename).
    pub(crate) fn save(&mut self, dir: &Path) -> std::io::Result<()> {
        self.version = VERSION;
        self.written_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!("{CACHE_FILE}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, dir.join(CACHE_FILE))
    }
}

/// The SHA-1 of `bytes`, hex.
pub(crate) fn digest(bytes: &[u8]) -> String {
    crate::theme::hex(&sha1::Sha1::digest(bytes))
}

/// The Git blob id of `bytes`, hex: what `git hash-object` prints.
pub(crate) fn blob_id(bytes: &[u8]) -> String {
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    crate::theme::hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            super::blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}
