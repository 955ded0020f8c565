//! Slugs, the base URL, and the resolution of links inside the site.

/// `Hello, World!` -> `hello-world`: lowercase letters and digits, `-`
/// between words.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    slug
}

/// Where the site lives: `https://example.org/blog/` or `/blog/`, always
/// ending with `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    url: String,
    /// The path part (`/blog/`).
    path_start: usize,
}

/// A base URL that is neither absolute (`scheme://host/...`) nor a path.
#[derive(Debug, thiserror::Error)]
#[error("base URL {url:?} is neither `scheme://host[/path]` nor `/path`")]
pub struct BaseUrlError {
    /// What was given.
    pub url: String,
}

impl BaseUrl {
    /// Checks and normalises `url` (a trailing `/` is added).
    pub fn new(url: &str) -> Result<Self, BaseUrlError> {
        let bad = || BaseUrlError { url: url.to_string() };
        if url
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '?' | '#'))
        {
            return Err(bad());
        }
        let mut owned = url.to_string();
        if !owned.ends_with('/') {
            owned.push('/');
        }
        let path_start = if owned.starts_with('/') {
            0
        } else {
            let (scheme, rest) = owned.split_once("://").ok_or_else(bad)?;
            if scheme.is_empty()
                || !scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                return Err(bad());
            }
            let host_len = rest.find('/').ok_or_else(bad)?;
            if host_len == 0 {
                return Err(bad());
            }
            scheme.len() + 3 + host_len
        };
        Ok(Self {
            url: owned,
            path_start,
        })
    }

    /// The URL, ending with `/`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Whether it names a scheme and host.
    pub fn is_absolute(&self) -> bool {
        self.path_start > 0
    }

    /// The path part, ending with `/`.
    pub fn path(&self) -> &str {
        &self.url[self.path_start..]
    }

    /// The URL of an output file: `index.html` files are named by their
    /// directory (`tags/rust/index.html` -> `.../tags/rust/`).
    pub fn url_of(&self, output: &str) -> String {
        let output = if output == "index.html" {
            ""
        } else {
            output.strip_suffix("index.html").unwrap_or(output)
        };
        format!("{}{}", self.url, output)
    }

    /// The output file a link from the page at `from` (an output path)
    /// points to, when it points inside the site: `None` for other sites,
    /// `mailto:`, fragments alone, and paths outside the base.
    pub fn resolve(&self, from: &str, link: &str) -> Option<String> {
        let link = link.split(['#', '?']).next().unwrap_or("");
        if link.is_empty() {
            return None;
        }
        let inside = if let Some(rest) = link.strip_prefix(self.url.as_str()) {
            rest.to_string()
        } else if link.starts_with("//") || has_scheme(link) {
            return None;
        } else if let Some(absolute) = link.strip_prefix('/') {
            let base = self.path().trim_start_matches('/');
            absolute.strip_prefix(base)?.to_string()
        } else {
            let dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
            if dir.is_empty() {
                link.to_string()
            } else {
                format!("{dir}/{link}")
            }
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in inside.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                part => parts.push(part),
            }
        }
        let mut path = parts.join("/");
        if inside.ends_with('/') || path.is_empty() {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str("index.html");
        }
        Some(percent_decode(&path))
    }
}

fn has_scheme(link: &str) -> bool {
    match link.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Rust 2024 "), "rust-2024");
        assert_eq!(slugify("Ça va"), "ça-va");
        assert_eq!(slugify("!!"), "");
    }

    #[test]
    fn base_urls() {
        let abs = BaseUrl::new("https://example.org/blog").expect("valid");
        assert_eq!(abs.as_str(), "https://example.org/blog/");
        assert_eq!(abs.path(), "/blog/");
        assert!(abs.is_absolute());
        assert_eq!(
            abs.url_of("tags/rust/index.html"),
            "https://example.org/blog/tags/rust/"
        );
        assert_eq!(abs.url_of("index.html"), "https://example.org/blog/");
        let rel = BaseUrl::new("/").expect("valid");
        assert!(!rel.is_absolute());
        assert!(BaseUrl::new("example.org").is_err());
        assert!(BaseUrl::new("https:///x").is_err());
    }

    #[test]
    fn links() {
        let base = BaseUrl::new("https://example.org/blog/").expect("valid");
        let from = "articles/a.html";
        assert_eq!(base.resolve(from, "b.html").as_deref(), Some("articles/b.html"));
        assert_eq!(
            base.resolve(from, "../tags/x/").as_deref(),
            Some("tags/x/index.html")
        );
        assert_eq!(
            base.resolve(from, "/blog/img/a%20b.png").as_deref(),
            Some("img/a b.png")
        );
        assert_eq!(
            base.resolve(from, "https://example.org/blog/").as_deref(),
            Some("index.html")
        );
        assert_eq!(base.resolve(from, "/other/x.html"), None);
        assert_eq!(base.resolve(from, "https://rust-lang.org/"), None);
        assert_eq!(base.resolve(from, "mailto:me@example.org"), None);
        assert_eq!(base.resolve(from, "#top"), None);
        assert_eq!(base.resolve(from, "../../x"), None);
    }
}
