//! Capabilities: `name` or `name=value`, space-separated after a NUL in a
//! v0/v1 advertisement, one per packet in protocol v2 (where a command's
//! value lists its features: `fetch=shallow filter`).

/// The capabilities a server advertised.
///
/// ```
/// use smart::proto::Capabilities;
///
/// let v0 = Capabilities::from_v0(b"report-status delete-refs side-band-64k agent=git/2.47");
/// assert!(v0.contains("delete-refs"));
/// assert_eq!(v0.value("agent"), Some("git/2.47"));
///
/// let mut v2 = Capabilities::default();
/// v2.push_v2_line(b"fetch=shallow wait-for-done filter");
/// assert!(v2.has_feature("fetch", "shallow"));
/// assert!(!v2.has_feature("fetch", "sideband-all"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    entries: Vec<(String, Option<String>)>,
}

impl Capabilities {
    /// Reads the space-separated list after the NUL of a v0/v1 advertisement.
    pub fn from_v0(list: &[u8]) -> Self {
        let entries = list
            .split(|&b| b == b' ')
            .filter(|word| !word.is_empty())
            .map(split_entry)
            .collect();
        Self { entries }
    }

    /// Adds one line of a v2 capability advertisement.
    pub fn push_v2_line(&mut self, line: &[u8]) {
        if !line.is_empty() {
            self.entries.push(split_entry(line));
        }
    }

    /// Whether `name` is advertised (with or without a value).
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    /// The value of `name=value`, the first when advertised more than once.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every value of `name` (v0 repeats `symref=HEAD:refs/heads/main`).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
    }

    /// Whether the v2 command `name` lists `feature` in its value
    /// (`fetch=shallow filter` has `shallow`).
    pub fn has_feature(&self, name: &str, feature: &str) -> bool {
        self.value(name)
            .is_some_and(|v| v.split(' ').any(|f| f == feature))
    }

    /// Every capability as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_deref()))
    }
}

fn split_entry(word: &[u8]) -> (String, Option<String>) {
    match word.iter().position(|&b| b == b'=') {
        Some(eq) => (lossy(&word[..eq]), Some(lossy(&word[eq + 1..]))),
        None => (lossy(word), None),
    }
}

/// Peer bytes as text: lossy, so a bad byte shows as U+FFFD instead of failing.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
