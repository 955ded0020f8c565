//! blogger: a static blog generator.
//!
//! A blog is a directory:
//!
//! ```text
//!  blogger.toml        title, description, author, language, base_url, per_page, feed_entries
//!  articles/*.md       YAML (---) or TOML (+++) front matter: title, date, description, tags, draft, slug
//!  pages/*.md          the same without a date: about.md -> about.html
//!  static/**           copied as they are (static/style.css replaces the theme's)
//!  templates/*.html    minijinja templates replacing the default theme's of the same name
//! ```
//!
//! [`build`] turns it into a site: one page per article (CommonMark with
//! tables, footnotes, strikethrough and task lists; code highlighted by
//! syntect at build time), a paginated index, a page per tag, Atom and RSS
//! feeds and a sitemap. It is incremental: a cache in the output directory
//! says what each source and each output was, so that only what changed is
//! rendered and written. Errors name the file and the line.
//!
//! [`push`] makes the site a commit on a branch of a remote (any transport
//! of smart, through a gitkv mirror), only when some file changed;
//! [`serve`] serves a site from such a branch, straight from its Git
//! objects (what unipi did); [`watch`] builds again on every change and
//! serves the output with pages that reload themselves.
//!
//! ```no_run
//! let outcome = blogger::build(&blogger::BuildOptions::new("my-blog", "my-blog/_site"))?;
//! for error in &outcome.errors {
//!     eprintln!("{}", blogger::error_chain(error));
//! }
//! # Ok::<(), blogger::BuildError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod build;
mod cache;
mod config;
mod feed;
mod frontmatter;
mod highlight;
mod markdown;
mod meta;
mod push;
mod serve;
mod theme;
mod url;
mod watch;

pub use build::{BuildError, BuildOptions, Outcome, SourceError, SourceErrorKind, build};
pub use cache::CACHE_FILE;
pub use config::{CONFIG_FILE, ConfigError, SiteConfig};
pub use frontmatter::{Document, FrontMatter, FrontMatterError, parse as parse_front_matter};
pub use markdown::{Link, Rendered, render as render_markdown};
pub use meta::Meta;
pub use push::{PushError, PushOptions, PushOutcome, push};
pub use serve::{REFRESH_PATH, ServeConfig, ServeError, Serving, serve};
pub use theme::{TemplateError, Theme};
pub use url::{BaseUrl, BaseUrlError, slugify};
pub use watch::{WAIT_PATH, WatchConfig, WatchError, Watching, watch};

/// An error and its sources, `: `-separated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
