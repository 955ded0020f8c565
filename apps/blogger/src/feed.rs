//! The Atom feed, the RSS feed and the sitemap, written directly (every
//! text escaped) so that they are well-formed whatever the articles say.

use std::fmt::Write;

use crate::config::SiteConfig;
use crate::meta::Meta;
use crate::url::BaseUrl;

/// What the feeds are made of.
#[derive(Debug)]
pub(crate) struct FeedContext<'a> {
    pub(crate) config: &'a SiteConfig,
    pub(crate) base: &'a BaseUrl,
    /// The articles, newest first.
    pub(crate) articles: &'a [&'a Meta],
}

impl FeedContext<'_> {
    fn id_of(&self, url: &str) -> String {
        if self.base.is_absolute() {
            url.to_string()
        } else {
            format!("urn:blogger:{url}")
        }
    }

    fn entries(&self) -> &[&Meta] {
        &self.articles[..self.articles.len().min(self.config.feed_entries)]
    }
}

/// `atom.xml` (RFC 4287).
pub(crate) fn atom(cx: &FeedContext<'_>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    let home = cx.base.as_str();
    element(&mut out, 1, "title", &cx.config.title);
    if !cx.config.description.is_empty() {
        element(&mut out, 1, "subtitle", &cx.config.description);
    }
    element(&mut out, 1, "id", &cx.id_of(home));
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        esc(home)
    );
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        esc(&cx.base.url_of("atom.xml"))
    );
    // The newest article's date (they come newest first).
    let updated = cx
        .articles
        .first()
        .and_then(|a| a.date.as_deref())
        .unwrap_or("1970-01-01T00:00:00Z");
    element(&mut out, 1, "updated", updated);
    let author = if cx.config.author.is_empty() {
        &cx.config.title
    } else {
        &cx.config.author
    };
    let _ = writeln!(out, "  <author><name>{}</name></author>", esc(author));
    element(&mut out, 1, "generator", "blogger");
    for article in cx.entries() {
        let url = cx.base.url_of(&article.output);
        let date = article.date.as_deref().unwrap_or("1970-01-01T00:00:00Z");
        out.push_str("  <entry>\n");
        element(&mut out, 2, "title", &article.title);
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            esc(&url)
        );
        element(&mut out, 2, "id", &cx.id_of(&url));
        element(&mut out, 2, "published", date);
        element(&mut out, 2, "updated", date);
        for tag in &article.tags {
            let _ = writeln!(out, "    <category term=\"{}\"/>", esc(tag));
        }
        if let Some(summary) = &article.description {
            element(&mut out, 2, "summary", summary);
        }
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// `rss.xml` (RSS 2.0).
pub(crate) fn rss(cx: &FeedContext<'_>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    element(&mut out, 1, "title", &cx.config.title);
    element(&mut out, 1, "link", cx.base.as_str());
    let description = if cx.config.description.is_empty() {
        &cx.config.title
    } else {
        &cx.config.description
    };
    element(&mut out, 1, "description", description);
    element(&mut out, 1, "language", &cx.config.language);
    element(&mut out, 1, "generator", "blogger");
    let _ = writeln!(
        out,
        "  <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        esc(&cx.base.url_of("rss.xml"))
    );
    for article in cx.entries() {
        let url = cx.base.url_of(&article.output);
        out.push_str("  <item>\n");
        element(&mut out, 2, "title", &article.title);
        element(&mut out, 2, "link", &url);
        let _ = writeln!(
            out,
            "    <guid isPermaLink=\"{}\">{}</guid>",
            cx.base.is_absolute(),
            esc(&cx.id_of(&url))
        );
        if let Some(date) = article.date.as_deref().and_then(crate::frontmatter::parse_date)
            && let Ok(text) = date.format(&time::format_description::well_known::Rfc2822)
        {
            element(&mut out, 2, "pubDate", &text);
        }
        for tag in &article.tags {
            element(&mut out, 2, "category", tag);
        }
        if let Some(summary) = &article.description {
            element(&mut out, 2, "description", summary);
        }
        out.push_str("  </item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// `sitemap.xml`: every page of the site (`pages`: output paths and their
/// day when known).
pub(crate) fn sitemap(base: &BaseUrl, pages: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (output, day) in pages {
        out.push_str("  <url><loc>");
        out.push_str(&esc(&base.url_of(output)));
        out.push_str("</loc>");
        if !day.is_empty() {
            let _ = write!(out, "<lastmod>{}</lastmod>", esc(day));
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    let _ = writeln!(
        out,
        "{:indent$}<{name}>{}</{name}>",
        "",
        esc(text),
        indent = depth * 2
    );
}

/// XML-escaped text, without the characters XML 1.0 forbids.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}
