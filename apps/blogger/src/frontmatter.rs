//! Front matter: a YAML (`---`) or TOML (`+++`) block at the top of a
//! Markdown file, checked against a typed schema. Errors carry the line of
//! the file they are about (1-based), so that the caller can name
//! `path:line`.

use time::OffsetDateTime;

/// The fields an article or a page may have.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontMatter {
    /// `title`: required.
    pub title: String,
    /// `date`: required for articles; `2024-05-01`, `2024-05-01 10:30`,
    /// or RFC 3339 (`2024-05-01T10:30:00+02:00`); UTC when no offset.
    pub date: Option<OffsetDateTime>,
    /// `description`: a summary for the index and the feeds.
    pub description: Option<String>,
    /// `tags`: a list of names (or one name).
    pub tags: Vec<String>,
    /// `draft`: left out unless the build asks for drafts.
    pub draft: bool,
    /// `slug`: the file name of the page, instead of the Markdown file's.
    pub slug: Option<String>,
}

/// A Markdown file split into its front matter and its body.
#[derive(Debug)]
pub struct Document<'a> {
    /// The checked front matter.
    pub matter: FrontMatter,
    /// The Markdown after the closing delimiter.
    pub body: &'a str,
    /// The line of the file where `body` starts (1-based).
    pub body_line: usize,
}

/// What is wrong with a front matter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrontMatterError {
    /// The file does not start with `---` or `+++`.
    #[error("no front matter: the file must start with a `---` (YAML) or `+++` (TOML) line")]
    Missing,
    /// The opening delimiter has no closing one.
    #[error("the front matter opened here is never closed by a `{delimiter}` line")]
    Unclosed {
        /// The delimiter that opened it.
        delimiter: &'static str,
    },
    /// The YAML or TOML does not parse.
    #[error("{format} syntax: {message}")]
    Syntax {
        /// `YAML` or `TOML`.
        format: &'static str,
        /// The parser's message.
        message: String,
        /// The line of the file.
        line: usize,
    },
    /// The front matter is not a mapping of fields.
    #[error("the front matter must be a mapping of fields")]
    NotAMapping,
    /// A field has the wrong type or value.
    #[error("field `{field}`: {problem}")]
    Field {
        /// The field's name.
        field: String,
        /// What is wrong with it.
        problem: String,
        /// The line of the file.
        line: usize,
    },
    /// A required field is absent.
    #[error("field `{field}` is missing")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
}

impl FrontMatterError {
    /// The line of the file the error is about (1-based).
    pub fn line(&self) -> usize {
        match self {
            Self::Syntax { line, .. } | Self::Field { line, .. } => *line,
            _ => 1,
        }
    }
}

/// The known fields (anything else is an error: a typo must not pass).
const FIELDS: &[&str] = &["title", "date", "description", "tags", "draft", "slug"];

/// A front matter value, whichever the format.
#[derive(Debug)]
enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A TOML date-time, as TOML writes it.
    Date(String),
    List(Vec<Value>),
    Map,
    Null,
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Int(_) => "an integer",
            Self::Float(_) => "a number",
            Self::Bool(_) => "a boolean",
            Self::Date(_) => "a date",
            Self::List(_) => "a list",
            Self::Map => "a mapping",
            Self::Null => "empty",
        }
    }
}

/// Splits `text` and checks its front matter.
pub fn parse(text: &str) -> Result<Document<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (delimiter, yaml) = match first_line(text) {
        "---" => ("---", true),
        "+++" => ("+++", false),
        _ => return Err(FrontMatterError::Missing),
    };
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    // Find the closing delimiter line.
    let mut offset = start;
    let mut line = 2;
    let (matter, body, body_line) = loop {
        if offset >= text.len() {
            return Err(FrontMatterError::Unclosed { delimiter });
        }
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i + 1);
        if text[offset..end].trim_end() == delimiter {
            break (&text[start..offset], &text[end..], line + 1);
        }
        offset = end;
        line += 1;
    };
    let fields = if yaml {
        yaml_fields(matter)?
    } else {
        toml_fields(matter)?
    };
    let matter = check(matter, fields)?;
    Ok(Document {
        matter,
        body,
        body_line,
    })
}

fn first_line(text: &str) -> &str {
    text.split('\n').next().unwrap_or("").trim_end()
}

/// The line of the file where `field` is set (the front matter starts on
/// line 2), or the opening line when it cannot be found.
fn line_of(matter: &str, field: &str) -> usize {
    for (i, line) in matter.lines().enumerate() {
        if let Some(rest) = line.strip_prefix(field) {
            let rest = rest.trim_start();
            if rest.starts_with(':') || rest.starts_with('=') {
                return i + 2;
            }
        }
    }
    1
}

fn yaml_fields(matter: &str) -> Result<Vec<(String, Value)>, FrontMatterError> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(matter).map_err(|e| FrontMatterError::Syntax {
        format: "YAML",
        message: e.info().to_string(),
        // The marker's line is 1-based within the front matter, which starts on line 2.
        line: e.marker().line() + 1,
    })?;
    fn value(yaml: Yaml) -> Value {
        match yaml {
            Yaml::String(s) => Value::Str(s),
            Yaml::Integer(i) => Value::Int(i),
            Yaml::Real(r) => r.parse().map_or(Value::Str(r), Value::Float),
            Yaml::Boolean(b) => Value::Bool(b),
            Yaml::Array(items) => Value::List(items.into_iter().map(value).collect()),
            Yaml::Hash(_) => Value::Map,
            Yaml::Null | Yaml::BadValue => Value::Null,
            Yaml::Alias(_) => Value::Null,
        }
    }
    match docs.into_iter().next() {
        // An empty front matter.
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Hash(hash)) => hash
            .into_iter()
            .map(|(key, v)| match key {
                Yaml::String(key) => Ok((key, value(v))),
                Yaml::Integer(i) => Ok((i.to_string(), value(v))),
                Yaml::Boolean(b) => Ok((b.to_string(), value(v))),
                _ => Err(FrontMatterError::NotAMapping),
            })
            .collect(),
        Some(_) => Err(FrontMatterError::NotAMapping),
    }
}

fn toml_fields(matter: &str) -> Result<Vec<(String, Value)>, FrontMatterError> {
    let table: toml::Table = toml::from_str(matter).map_err(|e| FrontMatterError::Syntax {
        format: "TOML",
        message: e.message().to_string(),
        line: e.span().map_or(1, |span| {
            matter[..span.start.min(matter.len())].matches('\n').count() + 2
        }),
    })?;
    fn value(toml: toml::Value) -> Value {
        match toml {
            toml::Value::String(s) => Value::Str(s),
            toml::Value::Integer(i) => Value::Int(i),
            toml::Value::Float(f) => Value::Float(f),
            toml::Value::Boolean(b) => Value::Bool(b),
            toml::Value::Datetime(d) => Value::Date(d.to_string()),
            toml::Value::Array(items) => Value::List(items.into_iter().map(value).collect()),
            toml::Value::Table(_) => Value::Map,
        }
    }
    Ok(table.into_iter().map(|(k, v)| (k, value(v))).collect())
}

fn check(matter: &str, fields: Vec<(String, Value)>) -> Result<FrontMatter, FrontMatterError> {
    let mut title = None;
    let mut out = FrontMatter {
        title: String::new(),
        date: None,
        description: None,
        tags: Vec::new(),
        draft: false,
        slug: None,
    };
    for (field, value) in fields {
        let line = line_of(matter, &field);
        let wrong = |problem: String| FrontMatterError::Field {
            field: field.clone(),
            problem,
            line,
        };
        match field.as_str() {
            "title" => title = Some(string(value).map_err(wrong)?),
            "description" => out.description = Some(string(value).map_err(wrong)?),
            "slug" => {
                let slug = string(value).map_err(&wrong)?;
                if slug.is_empty()
                    || slug.starts_with('.')
                    || !slug
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                {
                    return Err(wrong(format!(
                        "{slug:?} is not a file name (letters, digits, `-`, `_`, `.`)"
                    )));
                }
                out.slug = Some(slug);
            }
            "draft" => match value {
                Value::Bool(b) => out.draft = b,
                other => return Err(wrong(format!("expected true or false, found {}", other.kind()))),
            },
            "tags" => {
                out.tags = match value {
                    Value::Str(s) => vec![s],
                    Value::List(items) => items
                        .into_iter()
                        .map(|item| match item {
                            Value::Str(s) => Ok(s),
                            Value::Int(i) => Ok(i.to_string()),
                            other => Err(wrong(format!("a tag must be a string, found {}", other.kind()))),
                        })
                        .collect::<Result<_, _>>()?,
                    Value::Null => Vec::new(),
                    other => {
                        return Err(wrong(format!(
                            "expected a list of strings, found {}",
                            other.kind()
                        )));
                    }
                };
                for tag in &out.tags {
                    if crate::url::slugify(tag).is_empty() {
                        return Err(wrong(format!("the tag {tag:?} has no letter or digit")));
                    }
                }
            }
            "date" => {
                let text = match value {
                    Value::Str(s) | Value::Date(s) => s,
                    other => return Err(wrong(format!("expected a date, found {}", other.kind()))),
                };
                out.date = Some(parse_date(&text).ok_or_else(|| {
                    wrong(format!(
                        "{text:?} is not a date (2024-05-01, 2024-05-01 10:30 or RFC 3339)"
                    ))
                })?);
            }
            _ => {
                return Err(wrong(format!("unknown field (known: {})", FIELDS.join(", "))));
            }
        }
    }
    out.title = title.ok_or(FrontMatterError::MissingField { field: "title" })?;
    if out.title.trim().is_empty() {
        return Err(FrontMatterError::Field {
            field: "title".into(),
            problem: "empty".into(),
            line: line_of(matter, "title"),
        });
    }
    Ok(out)
}

fn string(value: Value) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(s),
        Value::Int(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        other => Err(format!("expected a string, found {}", other.kind())),
    }
}

/// `2024-05-01`, `2024-05-01 10:30[:15]`, `2024-05-01T10:30[:15]`, each
/// UTC, or RFC 3339 with its offset.
pub(crate) fn parse_date(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(date) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(date);
    }
    let (day, clock) = match text.split_once([' ', 'T']) {
        Some((day, clock)) => (day, Some(clock)),
        None => (text, None),
    };
    let mut parts = day.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let clock = match clock {
        None => time::Time::MIDNIGHT,
        Some(clock) => {
            let clock = clock.trim_end_matches('Z');
            let mut parts = clock.splitn(3, ':');
            let hour: u8 = parts.next()?.parse().ok()?;
            let minute: u8 = parts.next()?.parse().ok()?;
            let second: u8 = match parts.next() {
                Some(s) => s.parse().ok()?,
                None => 0,
            };
            time::Time::from_hms(hour, minute, second).ok()?
        }
    };
    Some(date.with_time(clock).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_toml_give_the_same_fields() {
        let yaml = "---\ntitle: Hello\ndate: 2024-05-01\ntags: [a, b]\n---\nBody\n";
        let toml = "+++\ntitle = \"Hello\"\ndate = 2024-05-01\ntags = [\"a\", \"b\"]\n+++\nBody\n";
        let (y, t) = (parse(yaml).expect("yaml"), parse(toml).expect("toml"));
        assert_eq!(y.matter, t.matter);
        assert_eq!(y.body, "Body\n");
        assert_eq!(y.body_line, 6);
        assert_eq!(y.matter.tags, ["a", "b"]);
        assert_eq!(y.matter.date.map(|d| d.unix_timestamp()), Some(1_714_521_600));
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let text = "---\ntitle: Hello\ndate: yesterday\n---\n";
        match parse(text) {
            Err(e @ FrontMatterError::Field { .. }) => {
                assert_eq!(e.line(), 3);
                assert!(e.to_string().contains("`date`"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        let text = "---\ntitle: Hello\ntilte: typo\n---\n";
        assert!(
            matches!(parse(text), Err(FrontMatterError::Field { line: 3, ref field, .. }) if field == "tilte")
        );
        let text = "+++\ntitle = \"a\"\ndate = [\n+++\n";
        assert!(matches!(
            parse(text),
            Err(FrontMatterError::Syntax { format: "TOML", .. })
        ));
        let text = "---\ntitle: [a\n---\n";
        assert!(matches!(
            parse(text),
            Err(FrontMatterError::Syntax { format: "YAML", .. })
        ));
        assert!(matches!(parse("no matter"), Err(FrontMatterError::Missing)));
        assert!(matches!(
            parse("---\ntitle: a\n"),
            Err(FrontMatterError::Unclosed { .. })
        ));
        assert!(matches!(
            parse("---\ndate: 2024-01-01\n---\n"),
            Err(FrontMatterError::MissingField { field: "title" })
        ));
    }

    #[test]
    fn dates() {
        assert!(parse_date("2024-02-30").is_none());
        assert_eq!(
            parse_date("2024-05-01 10:30").map(|d| d.unix_timestamp()),
            Some(1_714_521_600 + 10 * 3600 + 30 * 60)
        );
        assert_eq!(
            parse_date("2024-05-01T12:00:00+02:00").map(|d| d.unix_timestamp()),
            Some(1_714_521_600 + 10 * 3600)
        );
    }
}
