//! `blogger build`: sources -> output directory, incrementally.
//!
//! ```text
//!  blogger.toml, templates/ ─┐ key: when it changes, everything is rendered
//!  articles/*.md, pages/*.md ┼─▶ digest == cached? ── yes ─▶ cached Meta
//!                            │        └─ no ─▶ front matter + Markdown + template (rayon)
//!  static/**                 ┘
//!        ▼
//!  index pages, tag pages, feeds, sitemap, 404 (from the Metas, every time: cheap)
//!        ▼
//!  link check ─▶ write the files whose blob id changed ─▶ remove stale ones ─▶ cache
//! ```
//!
//! A source that fails (front matter, unreadable) is reported with its
//! file and line and left out; its previous output, if any, is kept, so
//! one bad article never breaks the others or the site.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use minijinja::{Value, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::cache::{CACHE_FILE, Cache, CachedSource, blob_id, digest};
use crate::config::{ConfigError, SiteConfig};
use crate::feed::{self, FeedContext};
use crate::frontmatter::{self, FrontMatterError};
use crate::markdown;
use crate::meta::Meta;
use crate::theme::{STYLE_CSS, TemplateError, Theme};
use crate::url::{BaseUrl, BaseUrlError, slugify};

/// What to build and how.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The blog's directory (`blogger.toml`, `articles/`, `pages/`,
    /// `static/`, `templates/`).
    pub source: PathBuf,
    /// Where the site is written (`_site`).
    pub output: PathBuf,
    /// Overrides `base_url` of `blogger.toml`.
    pub base_url: Option<String>,
    /// Includes the drafts.
    pub drafts: bool,
    /// Checks that every link inside the site points to a file of it.
    pub check_links: bool,
}

impl BuildOptions {
    /// Builds `source` into `output`, no drafts, no link check.
    pub fn new(source: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        Self {
            source: source.into(),
            output: output.into(),
            base_url: None,
            drafts: false,
            check_links: false,
        }
    }
}

/// What a build did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Output files written (new or changed), sorted.
    pub written: Vec<String>,
    /// Output files removed (their source is gone), sorted.
    pub removed: Vec<String>,
    /// Output files left as they were.
    pub unchanged: usize,
    /// Articles and pages rendered (the others came from the cache).
    pub rendered: usize,
    /// Articles published (drafts left out count not).
    pub articles: usize,
    /// The sources that failed or have a broken link; the rest was built.
    pub errors: Vec<SourceError>,
}

/// A problem of one source file, at a line.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}", path.display())]
pub struct SourceError {
    /// The file, relative to the blog.
    pub path: PathBuf,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    #[source]
    pub kind: SourceErrorKind,
}

/// What is wrong with a source file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// It cannot be read.
    #[error("cannot read it")]
    Read(#[source] std::io::Error),
    /// It is not UTF-8.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// Its front matter is wrong.
    #[error("front matter")]
    FrontMatter(#[source] FrontMatterError),
    /// An article has no `date`.
    #[error("field `date` is missing (an article needs one)")]
    NoDate,
    /// A link inside the site points to no file of it (`--check-links`).
    #[error("broken link {dest:?}")]
    BrokenLink {
        /// The link as written.
        dest: String,
    },
    /// An image inside the site is not in it.
    #[error("missing image {dest:?}")]
    MissingImage {
        /// The image as written.
        dest: String,
    },
    /// Its output file is another file's.
    #[error("its output {output} is already made from {other}")]
    Collision {
        /// The output file.
        output: String,
        /// Whose it is.
        other: String,
    },
}

/// A build that could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `blogger.toml` is wrong.
    #[error("configuration")]
    Config(#[from] ConfigError),
    /// The base URL is wrong.
    #[error("configuration")]
    BaseUrl(#[from] BaseUrlError),
    /// A template is wrong.
    #[error("template")]
    Template(#[from] TemplateError),
    /// A directory cannot be listed or a file written.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// `list`, `write`, `remove`.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The pages of the site (`site` in every template).
#[derive(Debug, Serialize)]
struct SiteView<'a> {
    title: &'a str,
    description: &'a str,
    author: &'a str,
    language: &'a str,
    base_url: &'a str,
}

#[derive(Debug, Serialize)]
struct TagView {
    name: String,
    url: String,
}

#[derive(Debug, Serialize)]
struct ListItem<'a> {
    title: &'a str,
    url: String,
    date: &'a str,
    day: &'a str,
    description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Pagination {
    page: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
}

/// The kinds of Markdown sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Article,
    Page,
}

/// A source after this build's look at it.
#[derive(Debug)]
enum Seen {
    /// Unchanged since the cache: its Meta, its output as it is.
    Clean(Meta, Stamp),
    /// Rendered now (no output for a draft left out).
    Rendered {
        stamp: Stamp,
        meta: Meta,
        html: Option<String>,
    },
    /// Failed; the cached Meta (if any) and output stay.
    Failed(SourceError, Option<Meta>),
}

/// What a source was when it was read.
#[derive(Debug, Default)]
struct Stamp {
    hash: String,
    size: u64,
    mtime: i128,
}

/// Everything the build shares between threads.
#[derive(Debug)]
struct Context<'a> {
    options: &'a BuildOptions,
    config: &'a SiteConfig,
    base: &'a BaseUrl,
    theme: &'a Theme,
    site: Value,
}

/// Builds the blog of `options.source` into `options.output`.
pub fn build(options: &BuildOptions) -> Result<Outcome, BuildError> {
    let start = std::time::Instant::now();
    let (config, config_text) = SiteConfig::load(&options.source)?;
    let base = BaseUrl::new(options.base_url.as_deref().unwrap_or(&config.base_url))?;
    let theme = Theme::load(&options.source)?;
    let key = digest(
        format!(
            "{}\0{config_text}\0{}\0{}\0{}",
            env!("CARGO_PKG_VERSION"),
            theme.key(),
            base.as_str(),
            options.drafts
        )
        .as_bytes(),
    );
    std::fs::create_dir_all(&options.output).map_err(|source| BuildError::Io {
        action: "create",
        path: options.output.clone(),
        source,
    })?;
    let old = Cache::load(&options.output);
    let fresh = old.key == key;
    let site = Value::from_serialize(SiteView {
        title: &config.title,
        description: &config.description,
        author: &config.author,
        language: &config.language,
        base_url: base.as_str(),
    });
    let cx = Context {
        options,
        config: &config,
        base: &base,
        theme: &theme,
        site,
    };

    let mut sources = list_markdown(&options.source, "articles", Kind::Article)?;
    sources.extend(list_markdown(&options.source, "pages", Kind::Page)?);
    let seen: Vec<(String, Kind, Seen)> = sources
        .into_par_iter()
        .map(|(rel, kind)| {
            let cached = old.sources.get(&rel);
            let seen = look_at(&cx, &rel, kind, cached, fresh, &old);
            seen.map(|seen| (rel, kind, seen))
        })
        .collect::<Result<_, TemplateError>>()?;

    tracing::debug!(elapsed = ?start.elapsed(), "sources seen");
    let mut outcome = Outcome::default();
    let mut cache = Cache {
        key,
        ..Cache::default()
    };
    // Output path -> what makes it, for collisions.
    let mut owners: HashMap<String, String> = HashMap::new();
    // Output path -> new bytes; kept: output path -> its cached blob id.
    let mut produced: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut kept: BTreeMap<String, String> = BTreeMap::new();
    let mut articles: Vec<Meta> = Vec::new();
    let mut pages: Vec<Meta> = Vec::new();
    for (rel, kind, seen) in seen {
        let (meta, stamp, html) = match seen {
            Seen::Clean(meta, stamp) => (meta, stamp, None),
            Seen::Rendered { stamp, meta, html } => {
                outcome.rendered += 1;
                (meta, stamp, html)
            }
            Seen::Failed(error, cached) => {
                outcome.errors.push(error);
                match cached {
                    Some(meta) => (meta, Stamp::default(), None),
                    None => continue,
                }
            }
        };
        let publish = !meta.draft || options.drafts;
        if publish {
            if let Some(other) = owners.get(&meta.output) {
                outcome.errors.push(SourceError {
                    path: PathBuf::from(&rel),
                    line: 1,
                    kind: SourceErrorKind::Collision {
                        output: meta.output.clone(),
                        other: other.clone(),
                    },
                });
                continue;
            }
            owners.insert(meta.output.clone(), rel.clone());
            match html {
                Some(html) => {
                    produced.insert(meta.output.clone(), html.into_bytes());
                }
                None => {
                    if let Some(id) = old.outputs.get(&meta.output) {
                        kept.insert(meta.output.clone(), id.clone());
                    }
                }
            }
        }
        cache.sources.insert(
            rel,
            CachedSource {
                hash: stamp.hash,
                size: stamp.size,
                mtime: stamp.mtime,
                meta: meta.clone(),
            },
        );
        if publish {
            match kind {
                Kind::Article => articles.push(meta),
                Kind::Page => pages.push(meta),
            }
        }
    }
    articles.sort_by(|a, b| {
        b.timestamp
            .cmp(&a.timestamp)
            .then_with(|| a.source.cmp(&b.source))
    });
    outcome.articles = articles.len();

    tracing::debug!(elapsed = ?start.elapsed(), "sources sorted");
    // Static files: copied as they are; they replace the theme's stylesheets.
    let statics = list_files(&options.source.join("static"))?;
    let static_bytes: Vec<(String, Result<Vec<u8>, std::io::Error>)> = statics
        .into_par_iter()
        .map(|rel| {
            let bytes = std::fs::read(options.source.join("static").join(&rel));
            (rel, bytes)
        })
        .collect();
    for (rel, bytes) in static_bytes {
        let source = format!("static/{rel}");
        match bytes {
            Err(e) => outcome.errors.push(SourceError {
                path: PathBuf::from(source),
                line: 1,
                kind: SourceErrorKind::Read(e),
            }),
            Ok(bytes) => {
                if let Some(other) = owners.get(&rel) {
                    outcome.errors.push(SourceError {
                        path: PathBuf::from(source),
                        line: 1,
                        kind: SourceErrorKind::Collision {
                            output: rel,
                            other: other.clone(),
                        },
                    });
                    continue;
                }
                owners.insert(rel.clone(), source);
                produced.insert(rel, bytes);
            }
        }
    }

    tracing::debug!(elapsed = ?start.elapsed(), "static files read");
    // What is made of every article: index and tag pages, feeds, sitemap;
    // made again only when what they show changed.
    let lists = lists_digest(&articles, &pages, &owners);
    let same_lists = fresh
        && old.lists == lists
        && old.generated.iter().all(|path| {
            old.outputs.contains_key(path)
                && !owners.contains_key(path)
                && options.output.join(path).is_file()
        });
    let generated = if same_lists {
        for path in &old.generated {
            if let Some(id) = old.outputs.get(path) {
                kept.insert(path.clone(), id.clone());
            }
        }
        Vec::new()
    } else {
        generate(&cx, &articles, &pages)?
    };
    cache.lists = lists;
    cache.generated = if same_lists {
        old.generated.clone()
    } else {
        Vec::new()
    };
    for (output, bytes) in generated {
        if owners.contains_key(&output) && (output == "style.css" || output == "highlight.css") {
            continue;
        }
        if let Some(other) = owners.get(&output) {
            outcome.errors.push(SourceError {
                path: PathBuf::from(other),
                line: 1,
                kind: SourceErrorKind::Collision {
                    output: output.clone(),
                    other: "blogger itself".into(),
                },
            });
            produced.remove(&output);
            kept.remove(&output);
        }
        cache.generated.push(output.clone());
        produced.insert(output, bytes);
    }

    tracing::debug!(elapsed = ?start.elapsed(), "lists generated");
    // Links and images, of every article and page (cached ones too: a
    // link breaks when its target goes).
    let known = |path: &str| produced.contains_key(path) || kept.contains_key(path);
    for meta in articles.iter().chain(&pages) {
        for link in &meta.links {
            if !link.image && !options.check_links {
                continue;
            }
            if let Some(target) = base.resolve(&meta.output, &link.dest)
                && !known(&target)
                && !known(&format!("{target}/index.html"))
            {
                let dest = link.dest.clone();
                outcome.errors.push(SourceError {
                    path: PathBuf::from(&meta.source),
                    line: link.line,
                    kind: if link.image {
                        SourceErrorKind::MissingImage { dest }
                    } else {
                        SourceErrorKind::BrokenLink { dest }
                    },
                });
            }
        }
    }

    tracing::debug!(elapsed = ?start.elapsed(), "links checked");
    // Write what changed, in parallel.
    let written: Vec<Result<Option<String>, BuildError>> = produced
        .par_iter()
        .map(|(path, bytes)| {
            let id = blob_id(bytes);
            let target = options.output.join(path);
            if old.outputs.get(path) == Some(&id) && target.is_file() {
                return Ok(None);
            }
            write(&target, bytes)?;
            Ok(Some(path.clone()))
        })
        .collect();
    for result in written {
        if let Some(path) = result? {
            outcome.written.push(path);
        }
    }
    outcome.unchanged = produced.len() + kept.len() - outcome.written.len();
    for (path, bytes) in &produced {
        cache.outputs.insert(path.clone(), blob_id(bytes));
    }
    cache.outputs.extend(kept);

    tracing::debug!(elapsed = ?start.elapsed(), "written");
    // Remove what no source makes any more.
    for path in old.outputs.keys() {
        if !cache.outputs.contains_key(path) {
            let target = options.output.join(path);
            match std::fs::remove_file(&target) {
                Ok(()) => remove_empty_parents(&options.output, &target),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(BuildError::Io {
                        action: "remove",
                        path: target,
                        source,
                    });
                }
            }
            outcome.removed.push(path.clone());
        }
    }
    cache.save(&options.output).map_err(|source| BuildError::Io {
        action: "write",
        path: options.output.join(CACHE_FILE),
        source,
    })?;
    outcome
        .errors
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    Ok(outcome)
}

/// How close to the cache's writing a source's time must not be to be
/// trusted (file systems with coarse times).
const RACY_NANOS: i128 = 2_000_000_000;

/// What the lists show: the published articles' and pages' fields, and
/// the outputs that are not the build's own.
fn lists_digest(articles: &[Meta], pages: &[Meta], owners: &HashMap<String, String>) -> String {
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    let mut field = |text: &str| {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    };
    for meta in articles.iter().chain(pages) {
        field(&meta.output);
        field(&meta.title);
        field(meta.date.as_deref().unwrap_or(""));
        field(meta.description.as_deref().unwrap_or("\u{1}"));
        for tag in &meta.tags {
            field(tag);
        }
        field("\u{2}");
    }
    let mut owned: Vec<&String> = owners.keys().collect();
    owned.sort();
    for path in owned {
        field(path);
    }
    crate::theme::hex(&hasher.finalize())
}

/// Reads a source and renders it unless the cache has it.
fn look_at(
    cx: &Context<'_>,
    rel: &str,
    kind: Kind,
    cached: Option<&CachedSource>,
    fresh: bool,
    old: &Cache,
) -> Result<Seen, TemplateError> {
    let fail = |line: usize, kind: SourceErrorKind| {
        Ok(Seen::Failed(
            SourceError {
                path: PathBuf::from(rel),
                line,
                kind,
            },
            cached.map(|c| c.meta.clone()),
        ))
    };
    let path = cx.options.source.join(rel);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(e) => return fail(1, SourceErrorKind::Read(e)),
    };
    let (size, mtime) = (metadata.len(), crate::cache::mtime(&metadata));
    // A cached source whose output is there, unchanged by time and size
    // (and not modified in the moments the cache was written: racy), or
    // by content.
    let usable = cached.filter(|cached| {
        let meta = &cached.meta;
        fresh
            && !cached.hash.is_empty()
            && ((meta.draft && !cx.options.drafts)
                || (old.outputs.contains_key(&meta.output) && cx.options.output.join(&meta.output).is_file()))
    });
    if let Some(cached) = usable
        && cached.size == size
        && cached.mtime == mtime
        && mtime != 0
        && mtime < old.written_at - RACY_NANOS
    {
        let stamp = Stamp {
            hash: cached.hash.clone(),
            size,
            mtime,
        };
        return Ok(Seen::Clean(cached.meta.clone(), stamp));
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return fail(1, SourceErrorKind::Read(e)),
    };
    let stamp = Stamp {
        hash: digest(&bytes),
        size,
        mtime,
    };
    if let Some(cached) = usable
        && cached.hash == stamp.hash
    {
        return Ok(Seen::Clean(cached.meta.clone(), stamp));
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return fail(1, SourceErrorKind::NotUtf8);
    };
    let document = match frontmatter::parse(text) {
        Ok(document) => document,
        Err(e) => return fail(e.line(), SourceErrorKind::FrontMatter(e)),
    };
    let matter = document.matter;
    if kind == Kind::Article && matter.date.is_none() {
        return fail(1, SourceErrorKind::NoDate);
    }
    let stem = Path::new(rel)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("index");
    let slug = matter.slug.clone().unwrap_or_else(|| stem.to_string());
    let output = match kind {
        Kind::Article => format!("articles/{slug}.html"),
        Kind::Page => format!("{slug}.html"),
    };
    let date = matter
        .date
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok());
    let rendered = if matter.draft && !cx.options.drafts {
        None
    } else {
        Some(markdown::render(document.body, document.body_line))
    };
    let meta = Meta {
        source: rel.to_string(),
        output,
        title: matter.title,
        date,
        timestamp: matter.date.map_or(0, |d| d.unix_timestamp()),
        description: matter.description,
        tags: matter.tags,
        draft: matter.draft,
        links: rendered.as_ref().map(|r| r.links.clone()).unwrap_or_default(),
    };
    let html = match rendered {
        None => None,
        Some(rendered) => Some(render_source(cx, kind, &meta, rendered.html)?),
    };
    Ok(Seen::Rendered { stamp, meta, html })
}

fn render_source(
    cx: &Context<'_>,
    kind: Kind,
    meta: &Meta,
    content: String,
) -> Result<String, TemplateError> {
    let url = cx.base.url_of(&meta.output);
    let content = Value::from_safe_string(content);
    match kind {
        Kind::Article => {
            let tags: Vec<TagView> = meta
                .tags
                .iter()
                .map(|name| TagView {
                    name: name.clone(),
                    url: cx.base.url_of(&format!("tags/{}/", slugify(name))),
                })
                .collect();
            cx.theme.render(
                "article.html",
                &context! {
                    site => cx.site,
                    description => meta.description,
                    article => context! {
                        title => meta.title,
                        date => meta.date,
                        day => meta.day(),
                        description => meta.description,
                        tags => tags,
                        url => url,
                        content => content,
                    },
                },
            )
        }
        Kind::Page => cx.theme.render(
            "page.html",
            &context! {
                site => cx.site,
                description => meta.description,
                page => context! {
                    title => meta.title,
                    description => meta.description,
                    url => url,
                    content => content,
                },
            },
        ),
    }
}

/// The pages made of all the articles, the feeds, the sitemap and the
/// theme's assets.
fn generate(
    cx: &Context<'_>,
    articles: &[Meta],
    pages: &[Meta],
) -> Result<Vec<(String, Vec<u8>)>, TemplateError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let items: Vec<ListItem<'_>> = articles
        .iter()
        .map(|a| ListItem {
            title: &a.title,
            url: cx.base.url_of(&a.output),
            date: a.date.as_deref().unwrap_or(""),
            day: a.day(),
            description: a.description.as_deref(),
        })
        .collect();
    let all: Vec<usize> = (0..items.len()).collect();
    paginate(cx, "", &items, &all, &mut out, |pagination, list| {
        cx.theme.render(
            "index.html",
            &context! { site => cx.site, description => cx.config.description, articles => list, pagination => pagination },
        )
    })?;

    // Tags by slug; the first spelling (newest article) names the tag.
    let mut tags: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    for (i, article) in articles.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for name in &article.tags {
            let slug = slugify(name);
            if seen.insert(slug.clone()) {
                tags.entry(slug)
                    .or_insert_with(|| (name.clone(), Vec::new()))
                    .1
                    .push(i);
            }
        }
    }
    let tag_pages: Vec<Result<Vec<(String, String)>, TemplateError>> = tags
        .par_iter()
        .map(|(slug, (name, members))| {
            let mut out = Vec::new();
            let tag = TagView {
                name: name.clone(),
                url: cx.base.url_of(&format!("tags/{slug}/")),
            };
            paginate(
                cx,
                &format!("tags/{slug}/"),
                &items,
                members,
                &mut out,
                |pagination, list| {
                    cx.theme.render(
                        "tag.html",
                        &context! { site => cx.site, tag => tag, articles => list, pagination => pagination },
                    )
                },
            )?;
            Ok(out)
        })
        .collect();
    for pages in tag_pages {
        out.extend(pages?);
    }
    #[derive(Serialize)]
    struct TagCount {
        name: String,
        url: String,
        count: usize,
    }
    let counts: Vec<TagCount> = tags
        .iter()
        .map(|(slug, (name, members))| TagCount {
            name: name.clone(),
            url: cx.base.url_of(&format!("tags/{slug}/")),
            count: members.len(),
        })
        .collect();
    out.push((
        "tags/index.html".into(),
        cx.theme
            .render("tags.html", &context! { site => cx.site, tags => counts })?,
    ));
    out.push((
        "404.html".into(),
        cx.theme.render("404.html", &context! { site => cx.site })?,
    ));

    let refs: Vec<&Meta> = articles.iter().collect();
    let feeds = FeedContext {
        config: cx.config,
        base: cx.base,
        articles: &refs,
    };
    out.push(("atom.xml".into(), feed::atom(&feeds)));
    out.push(("rss.xml".into(), feed::rss(&feeds)));
    let mut map: Vec<(&str, &str)> = out
        .iter()
        .filter(|(path, _)| path.ends_with(".html") && path != "404.html")
        .map(|(path, _)| (path.as_str(), ""))
        .collect();
    map.extend(articles.iter().chain(pages).map(|m| (m.output.as_str(), m.day())));
    map.sort();
    out.push(("sitemap.xml".into(), feed::sitemap(cx.base, &map)));
    out.push(("style.css".into(), STYLE_CSS.to_string()));
    out.push(("highlight.css".into(), crate::highlight::stylesheet()));
    Ok(out.into_iter().map(|(p, s)| (p, s.into_bytes())).collect())
}

/// Pages of `per_page` of `members` (indices into `items`) under `dir`:
/// `dir/index.html`, `dir/page/2/index.html`, ...
fn paginate<'a>(
    cx: &Context<'_>,
    dir: &str,
    items: &'a [ListItem<'a>],
    members: &[usize],
    out: &mut Vec<(String, String)>,
    render: impl Fn(Pagination, Vec<&'a ListItem<'a>>) -> Result<String, TemplateError>,
) -> Result<(), TemplateError> {
    let per_page = cx.config.per_page.max(1);
    let pages = members.len().div_ceil(per_page).max(1);
    let path_of = |page: usize| {
        if page == 1 {
            format!("{dir}index.html")
        } else {
            format!("{dir}page/{page}/index.html")
        }
    };
    for page in 1..=pages {
        let list: Vec<&ListItem<'_>> = members
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|&i| &items[i])
            .collect();
        let pagination = Pagination {
            page,
            pages,
            previous: (page > 1).then(|| cx.base.url_of(&path_of(page - 1))),
            next: (page < pages).then(|| cx.base.url_of(&path_of(page + 1))),
        };
        out.push((path_of(page), render(pagination, list)?));
    }
    Ok(())
}

/// The `*.md` files of `dir/sub`, sorted, as `sub/name.md`.
fn list_markdown(dir: &Path, sub: &str, kind: Kind) -> Result<Vec<(String, Kind)>, BuildError> {
    let path = dir.join(sub);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(BuildError::Io {
                action: "list",
                path,
                source,
            });
        }
    };
    let mut out: Vec<(String, Kind)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".md") && !name.starts_with('.'))
        .map(|name| (format!("{sub}/{name}"), kind))
        .collect();
    out.sort();
    Ok(out)
}

/// Every file under `dir`, relative and `/`-separated, sorted.
fn list_files(dir: &Path) -> Result<Vec<String>, BuildError> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && prefix.is_empty() => continue,
            Err(source) => {
                return Err(BuildError::Io {
                    action: "list",
                    path,
                    source,
                });
            }
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let rel = format!("{prefix}{name}");
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push((entry.path(), format!("{rel}/"))),
                Ok(_) => out.push(rel),
                Err(_) => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

fn write(target: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let io = |source| BuildError::Io {
        action: "write",
        path: target.to_path_buf(),
        source,
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(target, bytes).map_err(io)
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
