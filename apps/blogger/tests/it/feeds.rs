//! The feeds and the sitemap are well-formed XML with what Atom, RSS 2.0
//! and sitemaps require.

use quick_xml::events::Event;

use crate::support::{TestResult, golden, well_formed};

/// The element paths (`feed/entry/title`) of a document, in order, with
/// their text.
fn paths(text: &str) -> Result<Vec<(String, String)>, Box<dyn std::error::Error + Send + Sync>> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event()? {
            Event::Eof => break,
            Event::Start(e) => {
                stack.push(String::from_utf8(e.name().as_ref().to_vec())?);
                out.push((stack.join("/"), String::new()));
            }
            Event::Empty(e) => {
                stack.push(String::from_utf8(e.name().as_ref().to_vec())?);
                out.push((stack.join("/"), String::new()));
                stack.pop();
            }
            Event::Text(t) => {
                if let Some(last) = out.last_mut() {
                    last.1.push_str(&t.decode()?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(last) = out.last_mut() {
                    let name = r.decode()?;
                    last.1.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        _ => "?",
                    });
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            _ => {}
        }
    }
    // Text after a child's end lands on it: only the element's own text counts.
    Ok(out.into_iter().map(|(p, t)| (p, t.trim().to_string())).collect())
}

fn count(paths: &[(String, String)], path: &str) -> usize {
    paths.iter().filter(|(p, _)| p == path).count()
}

#[test]
fn atom_has_what_rfc_4287_requires() -> TestResult {
    let text = std::fs::read_to_string(golden().join("atom.xml"))?;
    assert_eq!(well_formed(&text)?, "feed");
    let paths = paths(&text)?;
    for required in ["feed/id", "feed/title", "feed/updated", "feed/author/name"] {
        assert_eq!(count(&paths, required), 1, "{required}");
    }
    let entries = count(&paths, "feed/entry");
    assert_eq!(entries, 3, "feed_entries = 3 in the sample's blogger.toml");
    for required in [
        "feed/entry/id",
        "feed/entry/title",
        "feed/entry/updated",
        "feed/entry/link",
    ] {
        assert_eq!(count(&paths, required), entries, "{required}");
    }
    // Dates are RFC 3339, newest first.
    let updated: Vec<&str> = paths
        .iter()
        .filter(|(p, _)| p == "feed/entry/updated")
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        updated,
        [
            "2024-04-01T08:00:00+02:00",
            "2024-03-10T14:00:00Z",
            "2024-02-01T09:30:00Z"
        ]
    );
    Ok(())
}

#[test]
fn rss_has_what_rss_2_requires() -> TestResult {
    let text = std::fs::read_to_string(golden().join("rss.xml"))?;
    assert_eq!(well_formed(&text)?, "rss");
    let paths = paths(&text)?;
    for required in ["rss/channel/title", "rss/channel/link", "rss/channel/description"] {
        assert_eq!(count(&paths, required), 1, "{required}");
    }
    assert_eq!(count(&paths, "rss/channel/item"), 3);
    assert_eq!(count(&paths, "rss/channel/item/pubDate"), 3);
    Ok(())
}

#[test]
fn the_sitemap_lists_every_page_with_absolute_urls() -> TestResult {
    let text = std::fs::read_to_string(golden().join("sitemap.xml"))?;
    assert_eq!(well_formed(&text)?, "urlset");
    let paths = paths(&text)?;
    let locs: Vec<&str> = paths
        .iter()
        .filter(|(p, _)| p == "urlset/url/loc")
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(
        locs.iter().all(|l| l.starts_with("https://blog.example.org/")),
        "{locs:?}"
    );
    for page in [
        "https://blog.example.org/",
        "https://blog.example.org/about.html",
        "https://blog.example.org/articles/code.html",
    ] {
        assert!(locs.contains(&page), "{page} in {locs:?}");
    }
    assert!(!locs.iter().any(|l| l.contains("draft")), "{locs:?}");
    Ok(())
}
