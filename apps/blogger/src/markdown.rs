//! Markdown -> HTML with pulldown-cmark (CommonMark plus tables,
//! footnotes, strikethrough and task lists), code blocks highlighted by
//! [`crate::highlight`], and the links and images of the text with their
//! lines, for the link check.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// A link or an image of a Markdown text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Its destination, as written.
    pub dest: String,
    /// The line of the file it is on (1-based).
    pub line: usize,
    /// An image (`![..](..)`) rather than a link.
    pub image: bool,
}

/// A rendered Markdown text.
#[derive(Debug)]
pub struct Rendered {
    /// The HTML.
    pub html: String,
    /// Its links and images, in order.
    pub links: Vec<Link>,
}

/// Renders `body`, which starts on line `first_line` of its file.
pub fn render(body: &str, first_line: usize) -> Rendered {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    let newlines: Vec<usize> = memchr_newlines(body);
    let line_at = |offset: usize| first_line + newlines.partition_point(|&n| n < offset);
    let mut links = Vec::new();
    let mut code: Option<(Option<String>, String)> = None;
    let mut events = Vec::new();
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().map(str::to_string),
                    CodeBlockKind::Indented => None,
                };
                code = Some((lang, String::new()));
            }
            Event::Text(text) if code.is_some() => {
                if let Some((_, buffer)) = code.as_mut() {
                    buffer.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((lang, text)) = code.take() {
                    let mut html = String::with_capacity(text.len() * 3);
                    crate::highlight::code_block(&text, lang.as_deref(), &mut html);
                    events.push(Event::Html(html.into()));
                }
            }
            Event::Start(Tag::Link { ref dest_url, .. }) => {
                links.push(Link {
                    dest: dest_url.to_string(),
                    line: line_at(range.start),
                    image: false,
                });
                events.push(event);
            }
            Event::Start(Tag::Image { ref dest_url, .. }) => {
                links.push(Link {
                    dest: dest_url.to_string(),
                    line: line_at(range.start),
                    image: true,
                });
                events.push(event);
            }
            event => events.push(event),
        }
    }
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered { html, links }
}

fn memchr_newlines(text: &str) -> Vec<usize> {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_links() {
        let text = "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~x~~ [l](other.html)\n\n- [x] done\n\n\
                    ![i](img/p.png)[^1]\n\n[^1]: note\n\n```rust\nlet x = 1;\n```\n";
        let out = render(text, 5);
        assert!(out.html.contains("<table>"), "{}", out.html);
        assert!(out.html.contains("<del>x</del>"), "{}", out.html);
        assert!(out.html.contains("checkbox"), "{}", out.html);
        assert!(out.html.contains("footnote-definition"), "{}", out.html);
        assert!(out.html.contains("language-rust"), "{}", out.html);
        assert_eq!(
            out.links,
            [
                Link {
                    dest: "other.html".into(),
                    line: 11,
                    image: false
                },
                Link {
                    dest: "img/p.png".into(),
                    line: 15,
                    image: true
                },
            ]
        );
    }
}
