//! The HTML pages: minijinja templates embedded in the binary, HTML
//! auto-escaping on, and the footer's sync state.

use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::sync::{SyncState, Syncer};

const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("index.html", include_str!("../../templates/index.html")),
    ("created.html", include_str!("../../templates/created.html")),
    ("paste.html", include_str!("../../templates/paste.html")),
    ("burn.html", include_str!("../../templates/burn.html")),
    ("delete.html", include_str!("../../templates/delete.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("robots.txt", "User-agent: *\nDisallow: /\nAllow: /$\n"),
];

/// The templates.
#[derive(Debug)]
pub(crate) struct Pages {
    env: Environment<'static>,
}

/// What the footer says.
#[derive(Debug, Serialize)]
pub(crate) struct SyncLine {
    class: &'static str,
    text: String,
}

impl Pages {
    pub(crate) fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // Auto-escaping by extension: .html escapes.
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders `name` with `ctx` plus the footer; a template error (a bug,
    /// never user input) is logged and becomes a plain message.
    pub(crate) fn render(&self, name: &str, sync: SyncLine, ctx: Value) -> String {
        let ctx = context! { sync => sync, ..ctx };
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => html,
            Err(error) => {
                tracing::error!(%error, template = name, "template failed");
                "<!doctype html><title>pasteur</title><p>internal error</p>".to_string()
            }
        }
    }

    pub(crate) fn robots(&self) -> &'static str {
        TEMPLATES[7].1
    }
}

/// The footer's line for the sync state.
pub(crate) fn sync_line(syncer: Option<&Syncer>, now: u64) -> SyncLine {
    let Some(syncer) = syncer else {
        return SyncLine {
            class: "local",
            text: "Stored in a local Git repository (no remote).".to_string(),
        };
    };
    let remote = syncer.remote_url();
    let waiting = syncer.unpushed();
    match syncer.state() {
        SyncState::Starting => SyncLine {
            class: "starting",
            text: format!("Stored in Git; first sync with {remote} under way."),
        },
        SyncState::Synced { at } if !waiting => SyncLine {
            class: "synced",
            text: format!("Stored in Git; synced with {remote} {}.", ago(now, at)),
        },
        SyncState::Synced { at } => SyncLine {
            class: "pending",
            text: format!(
                "Stored in Git; new pastes are being pushed to {remote} (last sync {}).",
                ago(now, at)
            ),
        },
        SyncState::Failing { since, retry_in, .. } => SyncLine {
            class: "failing",
            text: format!(
                "Stored in Git locally; {remote} unreachable since {}{}, next try within {retry_in} s.",
                ago(now, since),
                if waiting { ", pastes wait to be pushed" } else { "" }
            ),
        },
    }
}

/// "just now", "5 min ago", ...
pub(crate) fn ago(now: u64, then: u64) -> String {
    let d = now.saturating_sub(then);
    match d {
        0..=9 => "just now".to_string(),
        10..=119 => format!("{d} s ago"),
        120..=7199 => format!("{} min ago", d / 60),
        7200..=172_799 => format!("{} h ago", d / 3600),
        _ => format!("{} days ago", d / 86_400),
    }
}

/// A date as `2026-11-23 16:32 UTC`.
pub(crate) fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(date(1_795_451_520), "2026-11-23 16:32 UTC");
    }

    #[test]
    fn templates_parse_and_escape() {
        let pages = Pages::new().unwrap();
        let html = pages.render(
            "message.html",
            sync_line(None, 0),
            context! { heading => "<h>", text => "<script>x</script>", kind => "error" },
        );
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;") || html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>x"));
    }
}
