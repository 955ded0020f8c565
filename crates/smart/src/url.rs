//! Remote URLs as Git users write them.
//!
//! | form | example |
//! |---|---|
//! | `git://host[:port]/path` | `git://example.com/repo.git` |
//! | `ssh://[user@]host[:port]/path` (also `git+ssh://`, `ssh+git://`) | `ssh://git@example.com:2222/repo.git` |
//! | scp-like `[user@]host:path` | `git@example.com:me/repo.git` |
//! | `http(s)://[user[:password]@]host[:port]/path` | `https://me:token@example.com/repo.git` |
//! | `file://path` and plain paths | `file:///srv/repo.git`, `../repo.git` |
//!
//! Any of them may end with `#branch` to select a branch (as the apps do:
//! `git://example.com/pastes.git#main`). The rules follow Git's own
//! (`connect.c`, `url.c`): a `:` before any `/` makes a scp-like URL, so
//! `./a:b` and `/a:b` stay local paths.
//!
//! Hosts, users and paths that start with `-` are refused (they would be
//! read as options by an SSH program: CVE-2017-1000117), and so is any
//! control character (a NUL would end the host in a git-daemon request).

use std::fmt;
use std::str::FromStr;

/// How a remote is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `git://`, the Git daemon protocol over TCP (port 9418).
    Git,
    /// `ssh://` or scp-like (port 22).
    Ssh,
    /// `http://` (port 80).
    Http,
    /// `https://` (port 443).
    Https,
    /// `file://` or a plain path: a repository on this machine.
    File,
}

impl Scheme {
    /// The port used when the URL gives none (`None` for [`Scheme::File`]).
    pub fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Git => Some(9418),
            Scheme::Ssh => Some(22),
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            Scheme::File => None,
        }
    }

    /// The scheme's name as written in a URL (`git`, `ssh`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Git => "git",
            Scheme::Ssh => "ssh",
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::File => "file",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A remote URL that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL is empty (or only a `#branch`).
    #[error("empty URL")]
    Empty,
    /// A `scheme://` this crate does not speak.
    #[error("unsupported scheme {scheme:?} (expected git, ssh, http, https or file)")]
    UnsupportedScheme {
        /// The scheme as given.
        scheme: String,
    },
    /// A control character (NUL, newline, ...) anywhere in the URL.
    #[error("control character {byte:#04x} at byte {position}")]
    ControlCharacter {
        /// The character's value.
        byte: u8,
        /// Where it is, in bytes from the start of the URL.
        position: usize,
    },
    /// The host is empty.
    #[error("empty host")]
    EmptyHost,
    /// A host that is not a name, an IPv4 address or a bracketed IPv6 address.
    #[error("invalid host {host:?}")]
    InvalidHost {
        /// The host as given.
        host: String,
    },
    /// A port that is not a number from 1 to 65535.
    #[error("invalid port {port:?}")]
    InvalidPort {
        /// The port as given.
        port: String,
    },
    /// A user name that starts with `-` or is empty before an `@`.
    #[error("invalid user {user:?}")]
    InvalidUser {
        /// The user as given.
        user: String,
    },
    /// A `%` not followed by two hexadecimal digits, or escapes that are not UTF-8.
    #[error("invalid percent-encoding in {part:?}")]
    InvalidPercentEncoding {
        /// The part of the URL (user or password) that has it.
        part: String,
    },
    /// No repository path.
    #[error("no repository path")]
    MissingPath,
    /// A path that starts with `-` (an SSH program would read it as an option).
    #[error("invalid path {path:?}")]
    InvalidPath {
        /// The path as given.
        path: String,
    },
    /// A `#` with no branch after it, or a branch name Git refuses.
    #[error("invalid branch {branch:?} after '#'")]
    InvalidBranch {
        /// The branch as given.
        branch: String,
    },
}

/// A parsed remote URL. `Display` writes it back in URL form, without the
/// password.
///
/// ```
/// use smart::{RemoteUrl, Scheme};
///
/// let url: RemoteUrl = "git@example.com:me/repo.git#main".parse()?;
/// assert_eq!(url.scheme(), Scheme::Ssh);
/// assert_eq!(url.user(), Some("git"));
/// assert_eq!(url.host(), Some("example.com"));
/// assert_eq!(url.path(), "me/repo.git");
/// assert_eq!(url.branch(), Some("main"));
/// assert_eq!(url.port_or_default(), Some(22));
///
/// let url = RemoteUrl::parse("https://me:s3cret@[::1]:8443/r.git")?;
/// assert_eq!((url.host(), url.port(), url.password()), (Some("::1"), Some(8443), Some("s3cret")));
/// assert_eq!(url.to_string(), "https://me@[::1]:8443/r.git");
/// assert!(RemoteUrl::parse("git://example.com:99999/r").is_err());
/// # Ok::<(), smart::UrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RemoteUrl {
    scheme: Scheme,
    user: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    path: String,
    branch: Option<String>,
    scp_like: bool,
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteUrl")
            .field("scheme", &self.scheme)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("branch", &self.branch)
            .field("scp_like", &self.scp_like)
            .finish()
    }
}

impl RemoteUrl {
    /// Reads a URL in any of the forms of the [module docs](self).
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if let Some(position) = input.bytes().position(|b| b.is_ascii_control()) {
            return Err(UrlError::ControlCharacter {
                byte: input.as_bytes()[position],
                position,
            });
        }
        let (rest, branch) = match input.rsplit_once('#') {
            Some((rest, branch)) => (rest, Some(check_branch(branch)?)),
            None => (input, None),
        };
        if rest.is_empty() {
            return Err(UrlError::Empty);
        }
        let mut url = if let Some((scheme, after)) = rest.split_once("://").filter(|(s, _)| is_scheme(s)) {
            let scheme = match scheme.to_ascii_lowercase().as_str() {
                "git" => Scheme::Git,
                "ssh" | "git+ssh" | "ssh+git" => Scheme::Ssh,
                "http" => Scheme::Http,
                "https" => Scheme::Https,
                "file" => Scheme::File,
                _ => {
                    return Err(UrlError::UnsupportedScheme {
                        scheme: scheme.to_string(),
                    });
                }
            };
            if scheme == Scheme::File {
                parse_file(after)?
            } else {
                parse_authority_url(scheme, after)?
            }
        } else if let Some((host, path)) = scp_like(rest) {
            parse_scp(host, path)?
        } else {
            Self::local(rest.to_string())
        };
        url.branch = branch;
        Ok(url)
    }

    fn local(path: String) -> Self {
        Self {
            scheme: Scheme::File,
            user: None,
            password: None,
            host: None,
            port: None,
            path,
            branch: None,
            scp_like: false,
        }
    }

    /// How the remote is reached.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The user (percent-decoded), when given.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password (percent-decoded), when given (HTTP only).
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The host: a name, or an IP address (IPv6 without brackets). `None`
    /// for local repositories.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port, when the URL gives one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port to connect to: the URL's, or the scheme's default.
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or(self.scheme.default_port())
    }

    /// The repository path as the server should see it: with its leading
    /// `/` for URLs with `://`, as written for scp-like URLs (relative to
    /// the user's home) and local paths.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The branch after `#`, when given.
    pub fn branch(&self) -> Option<&str> {
        self.branch.as_deref()
    }

    /// Whether this was written scp-like (`user@host:path`).
    pub fn is_scp_like(&self) -> bool {
        self.scp_like
    }

    /// The `host[:port]` to send as a git-daemon `host=` parameter or an
    /// HTTP `Host`: IPv6 in brackets, the port only when the URL gives one.
    pub fn authority(&self) -> Option<String> {
        let host = self.host.as_deref()?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Some(match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }
}

impl FromStr for RemoteUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.user.as_deref().map(percent_encode_user);
        match (self.scheme, self.scp_like) {
            (Scheme::File, _) if self.host.is_none() && !self.path.starts_with('/') => {
                f.write_str(&self.path)?
            }
            (Scheme::File, _) => write!(f, "file://{}", self.path)?,
            (_, true) => {
                if let Some(user) = &user {
                    write!(f, "{user}@")?;
                }
                let host = self.host.as_deref().unwrap_or_default();
                if host.contains(':') {
                    write!(f, "[{host}]:{}", self.path)?;
                } else {
                    write!(f, "{host}:{}", self.path)?;
                }
            }
            (scheme, false) => {
                write!(f, "{scheme}://")?;
                if let Some(user) = &user {
                    write!(f, "{user}@")?;
                }
                write!(f, "{}{}", self.authority().unwrap_or_default(), self.path)?;
            }
        }
        if let Some(branch) = &self.branch {
            write!(f, "#{branch}")?;
        }
        Ok(())
    }
}

fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Git's rule (`url_is_local_not_ssh`): a `:` before the first `/` makes a
/// scp-like URL; a bracketed host may contain `:`.
fn scp_like(s: &str) -> Option<(&str, &str)> {
    if let Some(inner) = s.strip_prefix('[').or_else(|| s.split_once("@[").map(|(_, r)| r)) {
        let close = inner.find(']')?;
        let after = &inner[close + 1..];
        let path = after.strip_prefix(':')?;
        let host_len = s.len() - after.len();
        return Some((&s[..host_len], path));
    }
    let colon = s.find(':')?;
    match s.find('/') {
        Some(slash) if slash < colon => None,
        _ => Some((&s[..colon], &s[colon + 1..])),
    }
}

fn parse_file(after: &str) -> Result<RemoteUrl, UrlError> {
    // `file:///path` or `file://localhost/path`; anything else is a host we cannot reach.
    let path = if after.starts_with('/') {
        after
    } else if let Some(rest) = after.strip_prefix("localhost") {
        rest
    } else {
        let host = after.split('/').next().unwrap_or_default();
        return Err(UrlError::InvalidHost {
            host: host.to_string(),
        });
    };
    if path.is_empty() {
        return Err(UrlError::MissingPath);
    }
    Ok(RemoteUrl::local(path.to_string()))
}

fn parse_authority_url(scheme: Scheme, after: &str) -> Result<RemoteUrl, UrlError> {
    let (authority, path) = match after.find('/') {
        Some(slash) => after.split_at(slash),
        None => (after, ""),
    };
    if path.is_empty() || path == "/" {
        return Err(UrlError::MissingPath);
    }
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) if matches!(scheme, Scheme::Http | Scheme::Https) => {
                    (user, Some(password))
                }
                _ => (userinfo, None),
            };
            let user = check_user(percent_decode(user)?)?;
            (Some(user), password.map(percent_decode).transpose()?)
        }
    };
    let (host, port) = split_host_port(host_port)?;
    if scheme == Scheme::Ssh {
        check_path(path)?;
    }
    Ok(RemoteUrl {
        scheme,
        user,
        password,
        host: Some(host),
        port,
        path: path.to_string(),
        branch: None,
        scp_like: false,
    })
}

fn parse_scp(user_host: &str, path: &str) -> Result<RemoteUrl, UrlError> {
    let (user, host) = match user_host.rsplit_once('@') {
        Some((user, host)) => (Some(check_user(user.to_string())?), host),
        None => (None, user_host),
    };
    let host = match host.strip_prefix('[') {
        Some(inner) => {
            let v6 = inner.strip_suffix(']').ok_or_else(|| UrlError::InvalidHost {
                host: host.to_string(),
            })?;
            check_host(v6, true)?
        }
        None => check_host(host, false)?,
    };
    if path.is_empty() {
        return Err(UrlError::MissingPath);
    }
    check_path(path)?;
    Ok(RemoteUrl {
        scheme: Scheme::Ssh,
        user,
        password: None,
        host: Some(host),
        port: None,
        path: path.to_string(),
        branch: None,
        scp_like: true,
    })
}

fn split_host_port(host_port: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port, bracketed) = if let Some(inner) = host_port.strip_prefix('[') {
        let (v6, after) = inner.split_once(']').ok_or_else(|| UrlError::InvalidHost {
            host: host_port.to_string(),
        })?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| UrlError::InvalidHost {
                host: host_port.to_string(),
            })?),
        };
        (v6, port, true)
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port), false),
            None => (host_port, None, false),
        }
    };
    let host = check_host(host, bracketed)?;
    let port = match port {
        // `host:` with nothing after it means the default port, as in RFC 3986.
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port != 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(port),
            _ => return Err(UrlError::InvalidPort { port: p.to_string() }),
        },
    };
    Ok((host, port))
}

fn check_host(host: &str, bracketed: bool) -> Result<String, UrlError> {
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    let invalid = || UrlError::InvalidHost {
        host: host.to_string(),
    };
    if bracketed {
        return host
            .parse::<std::net::Ipv6Addr>()
            .map(|_| host.to_ascii_lowercase())
            .map_err(|_| invalid());
    }
    let ok = !host.starts_with('-')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if ok {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(invalid())
    }
}

fn check_user(user: String) -> Result<String, UrlError> {
    if user.is_empty() || user.starts_with('-') {
        return Err(UrlError::InvalidUser { user });
    }
    Ok(user)
}

fn check_path(path: &str) -> Result<(), UrlError> {
    if path.starts_with('-') {
        return Err(UrlError::InvalidPath {
            path: path.to_string(),
        });
    }
    Ok(())
}

/// Git's `check_refname_format`, the parts that matter for a branch name.
fn check_branch(branch: &str) -> Result<String, UrlError> {
    let invalid = || UrlError::InvalidBranch {
        branch: branch.to_string(),
    };
    let bad_char = |c: char| c.is_ascii_control() || " ~^:?*[\\".contains(c);
    if branch.is_empty()
        || branch.starts_with(['-', '/', '.'])
        || branch.ends_with(['/', '.'])
        || branch.ends_with(".lock")
        || branch.contains("..")
        || branch.contains("//")
        || branch.contains("@{")
        || branch.contains("/.")
        || branch == "@"
        || branch.chars().any(bad_char)
    {
        return Err(invalid());
    }
    Ok(branch.to_string())
}

fn percent_decode(s: &str) -> Result<String, UrlError> {
    let invalid = || UrlError::InvalidPercentEncoding { part: s.to_string() };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(invalid)?;
            let hex = std::str::from_utf8(hex).map_err(|_| invalid())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| invalid())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid())
}

fn percent_encode_user(user: &str) -> String {
    let mut out = String::with_capacity(user.len());
    for b in user.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        url: &str,
    ) -> (
        Scheme,
        Option<String>,
        Option<String>,
        Option<u16>,
        String,
        Option<String>,
    ) {
        let u = RemoteUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (
            u.scheme,
            u.user.clone(),
            u.host.clone(),
            u.port,
            u.path.clone(),
            u.branch.clone(),
        )
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn every_form_git_users_write() {
        use Scheme::*;
        let cases = [
            (
                "git://example.com/repo.git",
                (Git, None, s("example.com"), None, "/repo.git", None),
            ),
            (
                "git://127.0.0.1:9419/a/b#dev",
                (Git, None, s("127.0.0.1"), Some(9419), "/a/b", s("dev")),
            ),
            (
                "ssh://git@Example.COM:2222/r.git",
                (Ssh, s("git"), s("example.com"), Some(2222), "/r.git", None),
            ),
            ("git+ssh://h/~u/r", (Ssh, None, s("h"), None, "/~u/r", None)),
            ("ssh://[::1]/r", (Ssh, None, s("::1"), None, "/r", None)),
            (
                "git@github.com:me/r.git",
                (Ssh, s("git"), s("github.com"), None, "me/r.git", None),
            ),
            (
                "host:r.git#feature/x",
                (Ssh, None, s("host"), None, "r.git", s("feature/x")),
            ),
            ("u@[::1]:r", (Ssh, s("u"), s("::1"), None, "r", None)),
            ("http://h/r", (Http, None, s("h"), None, "/r", None)),
            (
                "https://u:p%40ss@h:8443/r.git",
                (Https, s("u"), s("h"), Some(8443), "/r.git", None),
            ),
            ("file:///srv/r.git", (File, None, None, None, "/srv/r.git", None)),
            (
                "file://localhost/srv/r.git#main",
                (File, None, None, None, "/srv/r.git", s("main")),
            ),
            ("/srv/r.git", (File, None, None, None, "/srv/r.git", None)),
            ("../r.git", (File, None, None, None, "../r.git", None)),
            ("./a:b", (File, None, None, None, "./a:b", None)),
            ("dir/a:b", (File, None, None, None, "dir/a:b", None)),
        ];
        for (url, want) in cases {
            let (a, b, c, d, e, f) = want;
            assert_eq!(parts(url), (a, b, c, d, e.to_string(), f), "{url}");
        }
        let u = RemoteUrl::parse("https://u:p%40ss@h/r").unwrap();
        assert_eq!(u.password(), Some("p@ss"));
    }

    #[test]
    fn typed_errors() {
        let cases: &[(&str, UrlError)] = &[
            ("", UrlError::Empty),
            ("#main", UrlError::Empty),
            ("ftp://h/r", UrlError::UnsupportedScheme { scheme: "ftp".into() }),
            ("git:///r", UrlError::EmptyHost),
            ("git://h", UrlError::MissingPath),
            ("git://h/", UrlError::MissingPath),
            ("git://h:0/r", UrlError::InvalidPort { port: "0".into() }),
            ("git://h:99999/r", UrlError::InvalidPort { port: "99999".into() }),
            ("git://h:+1/r", UrlError::InvalidPort { port: "+1".into() }),
            ("git://[::1/r", UrlError::InvalidHost { host: "[::1".into() }),
            (
                "ssh://-oProxyCommand=x/r",
                UrlError::InvalidHost {
                    host: "-oProxyCommand=x".into(),
                },
            ),
            (
                "-oProxyCommand=x:r",
                UrlError::InvalidHost {
                    host: "-oProxyCommand=x".into(),
                },
            ),
            ("h:-r", UrlError::InvalidPath { path: "-r".into() }),
            ("-u@h:r", UrlError::InvalidUser { user: "-u".into() }),
            (
                "https://u:%zz@h/r",
                UrlError::InvalidPercentEncoding { part: "%zz".into() },
            ),
            ("git://h/r#", UrlError::InvalidBranch { branch: "".into() }),
            (
                "git://h/r#a..b",
                UrlError::InvalidBranch {
                    branch: "a..b".into(),
                },
            ),
            (
                "git://h/r#x.lock",
                UrlError::InvalidBranch {
                    branch: "x.lock".into(),
                },
            ),
            (
                "git://h\0x/r",
                UrlError::ControlCharacter { byte: 0, position: 7 },
            ),
            ("h:", UrlError::MissingPath),
            (
                "file://remote/r",
                UrlError::InvalidHost {
                    host: "remote".into(),
                },
            ),
        ];
        for (url, want) in cases {
            assert_eq!(RemoteUrl::parse(url).as_ref(), Err(want), "{url:?}");
        }
        // `ssh://h/-r` has a path starting with `/`, which is fine; only a leading `-` is refused.
        assert!(RemoteUrl::parse("ssh://h/-r").is_ok());
    }

    #[test]
    fn display_round_trips_without_the_password() {
        for url in [
            "git://example.com:9419/repo.git#main",
            "ssh://git@h/r",
            "git@h:me/r.git",
            "u@[::1]:r",
            "https://u@h:8443/r.git",
            "file:///srv/r.git",
            "../r.git#dev",
        ] {
            let parsed = RemoteUrl::parse(url).unwrap();
            assert_eq!(parsed.to_string(), url);
            assert_eq!(RemoteUrl::parse(&parsed.to_string()).unwrap(), parsed);
        }
        let secret = RemoteUrl::parse("https://u:hunter2@h/r").unwrap();
        assert!(!secret.to_string().contains("hunter2"));
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(
            RemoteUrl::parse("git://[::1]:1/r")
                .unwrap()
                .authority()
                .as_deref(),
            Some("[::1]:1")
        );
    }
}
