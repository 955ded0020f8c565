//! The blog's description, `blogger.toml` at the root of the sources
//! (every field optional).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The name of the file.
pub const CONFIG_FILE: &str = "blogger.toml";

/// What `blogger.toml` may say.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// The blog's title.
    pub title: String,
    /// A sentence about it (index, feeds).
    pub description: String,
    /// Its author (feeds, footer).
    pub author: String,
    /// The `lang` of the pages.
    pub language: String,
    /// Where the site is served (`--base-url` wins).
    pub base_url: String,
    /// Articles per index or tag page.
    pub per_page: usize,
    /// Articles in the feeds.
    pub feed_entries: usize,
}

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            title: "My blog".into(),
            description: String::new(),
            author: String::new(),
            language: "en".into(),
            base_url: "/".into(),
            per_page: 10,
            feed_entries: 20,
        }
    }
}

/// `blogger.toml` cannot be read or is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// It exists but cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It does not parse or has a wrong field.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// TOML's message.
        message: String,
    },
}

impl SiteConfig {
    /// Reads `dir/blogger.toml`, or the defaults when there is none.
    pub fn load(dir: &Path) -> Result<(Self, String), ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Self::default(), String::new()));
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            line: e.span().map_or(1, |span| {
                text[..span.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().to_string(),
            path: PathBuf::from(CONFIG_FILE),
        })?;
        if config.per_page == 0 {
            return Err(ConfigError::Invalid {
                line: text
                    .lines()
                    .position(|l| l.trim_start().starts_with("per_page"))
                    .map_or(1, |i| i + 1),
                message: "per_page must be at least 1".into(),
                path: PathBuf::from(CONFIG_FILE),
            });
        }
        Ok((config, text))
    }
}
