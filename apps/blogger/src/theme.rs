//! The templates: the default theme, embedded in the binary, and the
//! blog's own `templates/*.html`, which replace the default ones of the
//! same name.

use std::path::{Path, PathBuf};

use minijinja::Environment;
use sha1::Digest;

/// The default theme: (name, template).
const DEFAULT: &[(&str, &str)] = &[
    ("base.html", include_str!("../theme/base.html")),
    ("article.html", include_str!("../theme/article.html")),
    ("list.html", include_str!("../theme/list.html")),
    ("index.html", include_str!("../theme/index.html")),
    ("tag.html", include_str!("../theme/tag.html")),
    ("tags.html", include_str!("../theme/tags.html")),
    ("page.html", include_str!("../theme/page.html")),
    ("404.html", include_str!("../theme/404.html")),
];

/// The default stylesheet (`style.css`; a `static/style.css` replaces it).
pub(crate) const STYLE_CSS: &str = include_str!("../theme/style.css");

/// A template is wrong or cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A template of the blog cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A template does not compile or fails to render.
    #[error("{}:{line}", path.display())]
    Invalid {
        /// `templates/NAME` for the blog's, `(default theme)/NAME` otherwise.
        path: PathBuf,
        /// The line of the template (1-based).
        line: usize,
        /// minijinja's error.
        #[source]
        source: minijinja::Error,
    },
}

/// The compiled templates.
#[derive(Debug)]
pub struct Theme {
    env: Environment<'static>,
    /// The names of the blog's own templates.
    own: Vec<String>,
    /// A digest of every template's source.
    key: String,
}

impl Theme {
    /// The default theme with the blog's `dir/templates/*.html` over it.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let mut sources: Vec<(String, String)> = DEFAULT
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let mut own = Vec::new();
        let templates = dir.join("templates");
        match std::fs::read_dir(&templates) {
            Ok(entries) => {
                let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                paths.sort();
                for path in paths {
                    let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                        continue;
                    };
                    if !name.ends_with(".html") && !name.ends_with(".xml") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                        path: path.clone(),
                        source,
                    })?;
                    sources.retain(|(n, _)| *n != name);
                    sources.push((name.clone(), text));
                    own.push(name);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(TemplateError::Read {
                    path: templates,
                    source,
                });
            }
        }
        let mut digest = sha1::Sha1::new();
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.set_formatter(format_value);
        for (name, text) in sources {
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(text.as_bytes());
            digest.update([0]);
            let path = template_path(&own, &name);
            env.add_template_owned(name, text)
                .map_err(|source| TemplateError::Invalid {
                    line: source.line().unwrap_or(1),
                    path,
                    source,
                })?;
        }
        Ok(Self {
            env,
            own,
            key: hex(&digest.finalize()),
        })
    }

    /// A digest of the templates: it changes when any of them does.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Renders template `name` with `context`.
    pub fn render(&self, name: &str, context: &minijinja::Value) -> Result<String, TemplateError> {
        let invalid = |source: minijinja::Error| TemplateError::Invalid {
            path: template_path(&self.own, source.name().unwrap_or(name)),
            line: source.line().unwrap_or(1),
            source,
        };
        self.env
            .get_template(name)
            .map_err(invalid)?
            .render(context)
            .map_err(invalid)
    }
}

/// minijinja's formatter, with HTML escaping that leaves `/` alone (URLs
/// stay readable: `https://x/` rather than `https:&#x2f;&#x2f;x&#x2f;`).
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        && !value.is_safe()
        && let Some(text) = value.as_str()
    {
        let mut escaped = String::with_capacity(text.len());
        crate::highlight::escape_into(text, &mut escaped);
        return out.write_str(&escaped).map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

fn template_path(own: &[String], name: &str) -> PathBuf {
    if own.iter().any(|n| n == name) {
        Path::new("templates").join(name)
    } else {
        Path::new("(default theme)").join(name)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
