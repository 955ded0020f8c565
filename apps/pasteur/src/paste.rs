//! A paste as stored: its id, its metadata, its expiry, and where both
//! live in the repository.
//!
//! ```text
//! pastes/<a>/<b>/<id>        the content, bytes as sent (ciphertext for encrypted pastes)
//! pastes/<a>/<b>/<id>.json   Meta: created, expires, burn, title, language, MIME type, ...
//! expires/<hour>/<id>     index of pastes that expire, by hour since the epoch
//! ```
//!
//! `<a>` and `<b>` are the id's first two characters: every tree on a
//! paste's path stays small (62 entries, then 62, then the pastes sharing
//! both characters: about 52 files at 100,000 pastes), so a commit
//! rewrites a few kilobytes of trees whatever the number of pastes. (One
//! level `pastes/ab/` would make the `pastes` tree 3,844 entries, about
//! 115 KB rewritten on every commit.)

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Characters of an id: case-sensitive letters and digits (62, so each
/// character carries 5.95 bits; the default length 8 gives 47 bits).
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The shortest id length accepted by `--length`.
pub const MIN_ID_LEN: usize = 4;
/// The longest id length accepted by `--length` and in URLs.
pub const MAX_ID_LEN: usize = 64;

/// A new random id of `len` characters, from the system's CSPRNG.
pub(crate) fn new_id(len: usize) -> String {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    let mut id = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while id.len() < len {
        // The OS RNG does not fail on Linux after boot; retrying is the
        // only sensible answer if it ever does.
        if rng.fill(&mut buf).is_err() {
            std::thread::yield_now();
            continue;
        }
        // Rejection sampling: 248 = 4 * 62, so no character is favoured.
        for &b in buf.iter().filter(|&&b| b < 248) {
            if id.len() == len {
                break;
            }
            id.push(ALPHABET[(b % 62) as usize] as char);
        }
    }
    id
}

/// Whether `id` could be a paste id (checked before it reaches a key).
pub(crate) fn is_valid_id(id: &str) -> bool {
    (MIN_ID_LEN..=MAX_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The key of a paste's content.
pub(crate) fn content_key(id: &str) -> String {
    format!("pastes/{}/{}/{id}", &id[..1], &id[1..2])
}

/// The key of a paste's metadata.
pub(crate) fn meta_key(id: &str) -> String {
    format!("pastes/{}/{}/{id}.json", &id[..1], &id[1..2])
}

/// The key of a paste's entry in the expiry index.
pub(crate) fn expiry_key(id: &str, expires: u64) -> String {
    format!("expires/{}/{id}", expires / 3600)
}

/// Seconds since the Unix epoch (0 before it).
pub(crate) fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// How long a paste lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expiry {
    /// Until deleted.
    #[default]
    Never,
    /// One hour.
    Hour,
    /// One day.
    Day,
    /// One week.
    Week,
    /// 30 days.
    Month,
}

impl Expiry {
    /// Every choice, in the order the form shows them.
    pub const ALL: [Expiry; 5] = [
        Expiry::Never,
        Expiry::Hour,
        Expiry::Day,
        Expiry::Week,
        Expiry::Month,
    ];

    /// The lifetime, `None` for ever.
    pub fn duration(self) -> Option<Duration> {
        const HOUR: u64 = 3600;
        match self {
            Expiry::Never => None,
            Expiry::Hour => Some(Duration::from_secs(HOUR)),
            Expiry::Day => Some(Duration::from_secs(24 * HOUR)),
            Expiry::Week => Some(Duration::from_secs(7 * 24 * HOUR)),
            Expiry::Month => Some(Duration::from_secs(30 * 24 * HOUR)),
        }
    }

    /// The form value (`never`, `1h`, `1d`, `1w`, `1m`).
    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::Never => "never",
            Expiry::Hour => "1h",
            Expiry::Day => "1d",
            Expiry::Week => "1w",
            Expiry::Month => "1m",
        }
    }

    /// What the form shows.
    pub fn label(self) -> &'static str {
        match self {
            Expiry::Never => "never",
            Expiry::Hour => "1 hour",
            Expiry::Day => "1 day",
            Expiry::Week => "1 week",
            Expiry::Month => "1 month",
        }
    }
}

/// An expiry that is none of the accepted values.
#[derive(Debug, thiserror::Error)]
#[error("unknown expiry {0:?} (never, 1h, 1d, 1w or 1m)")]
pub struct BadExpiry(pub String);

impl FromStr for Expiry {
    type Err = BadExpiry;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" | "never" | "0" => Expiry::Never,
            "1h" | "hour" | "1hour" => Expiry::Hour,
            "1d" | "day" | "1day" => Expiry::Day,
            "1w" | "week" | "1week" => Expiry::Week,
            "1m" | "month" | "1month" => Expiry::Month,
            _ => return Err(BadExpiry(s.to_string())),
        })
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A paste's metadata, stored as JSON beside its content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// When it was made, seconds since the epoch.
    pub created: u64,
    /// When it expires, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    /// Deleted when first read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub burn: bool,
    /// The content is ciphertext made in the browser (base64 of IV and
    /// AES-GCM output); the key never reached the server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    /// The title the author gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The language chosen or detected (a syntax token such as `rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The MIME type conan found in the content.
    pub mime: String,
    /// The content is not text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
    /// The uploaded file's name (multipart uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The content's size in bytes.
    pub size: u64,
}

impl Meta {
    /// Whether the paste has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|at| unix(now) >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_length_and_alphabet_asked_for() {
        for len in [MIN_ID_LEN, 8, 20, MAX_ID_LEN] {
            let id = new_id(len);
            assert_eq!(id.len(), len);
            assert!(is_valid_id(&id), "{id}");
        }
        assert_ne!(new_id(12), new_id(12));
    }

    #[test]
    fn ids_from_urls_are_checked() {
        for bad in [
            "",
            "abc",
            "../../etc",
            "abcd/efg",
            "abcd.json",
            "ab%2e",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
        assert!(is_valid_id("aB3d"));
    }

    #[test]
    fn keys_fan_out_by_the_first_two_characters() {
        assert_eq!(content_key("abcdef"), "pastes/a/b/abcdef");
        assert_eq!(meta_key("abcdef"), "pastes/a/b/abcdef.json");
        assert_eq!(expiry_key("abcdef", 7200), "expires/2/abcdef");
    }

    #[test]
    fn expiry_parses_form_values_and_words() {
        for e in Expiry::ALL {
            assert_eq!(e.as_str().parse::<Expiry>().ok(), Some(e));
        }
        assert_eq!("Week".parse::<Expiry>().ok(), Some(Expiry::Week));
        assert!("2 days".parse::<Expiry>().is_err());
        assert_eq!(Expiry::Day.duration(), Some(Duration::from_secs(86_400)));
        assert_eq!(Expiry::Never.duration(), None);
    }

    #[test]
    fn meta_round_trips_and_expires() {
        let meta = Meta {
            created: 10,
            expires: Some(20),
            title: Some("t".into()),
            mime: "text/plain".into(),
            size: 3,
            ..Meta::default()
        };
        let json = serde_json::to_string(&meta).unwrap();
        assert_eq!(serde_json::from_str::<Meta>(&json).unwrap(), meta);
        assert!(!meta.is_expired(UNIX_EPOCH + Duration::from_secs(19)));
        assert!(meta.is_expired(UNIX_EPOCH + Duration::from_secs(20)));
    }
}
