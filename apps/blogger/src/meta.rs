//! What the index, the tag pages, the feeds and the link check need to
//! know of an article or a page, kept in the build cache so that an
//! unchanged article is never parsed again.

use serde::{Deserialize, Serialize};

use crate::markdown::Link;

/// An article or a page, rendered or cached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Its source file, relative to the blog (`articles/hello.md`).
    pub source: String,
    /// Its output file (`articles/hello.html`).
    pub output: String,
    /// Its title.
    pub title: String,
    /// Its date, RFC 3339 (articles only).
    pub date: Option<String>,
    /// Its date as a Unix timestamp, for sorting.
    pub timestamp: i64,
    /// Its description.
    pub description: Option<String>,
    /// Its tags, as written.
    pub tags: Vec<String>,
    /// A draft.
    pub draft: bool,
    /// Its links and images, for the link check.
    pub links: Vec<Link>,
}

impl Meta {
    /// The day of its date (`2024-05-01`).
    pub fn day(&self) -> &str {
        self.date.as_deref().map_or("", |d| d.get(..10).unwrap_or(d))
    }
}
