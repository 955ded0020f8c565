//! `blogger serve` (what unipi did): a site served from a branch of a
//! remote. The branch is fetched through smart into a local gitkv mirror;
//! files are read from its Git objects (never checked out), with the
//! content type from the extension (conan on the bytes when it says
//! nothing), the blob id as `ETag`, the commit time as `Last-Modified`,
//! 304s, gzip or brotli for text (compressed once per blob, kept in a
//! bounded cache), `index.html` for directories and the site's `404.html`. The
//! branch is fetched again periodically and on
//! `POST /.well-known/blogger/refresh` with the hook's secret; the switch to
//! a new commit is atomic (requests under way finish on the old one).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use gitkv::sync::Remote;
use gitkv::{Policy, Snapshot, Store};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use paf::{Handle, Server, service_fn};

/// The path of the refresh hook.
pub const REFRESH_PATH: &str = "/.well-known/blogger/refresh";

/// What to serve and how.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Where the site's branch is (`git://host/site.git#gh-pages`).
    pub remote: Remote,
    /// The branch to serve.
    pub branch: String,
    /// The local bare repository that mirrors the branch.
    pub repository: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// How often the branch is fetched again (`None`: only by the hook).
    pub refresh_every: Option<Duration>,
    /// The secret of the refresh hook (`None`: no hook).
    pub hook: Option<String>,
    /// Where to redirect requests for missing files, instead of a 404.
    pub default_url: Option<String>,
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The mirror cannot be opened or the branch fetched.
    #[error("git")]
    Git(#[from] gitkv::Error),
    /// The remote has no such branch.
    #[error("the remote has no branch {branch}")]
    NoBranch {
        /// The branch.
        branch: String,
    },
    /// The commit's time cannot be read.
    #[error("cannot read commit {commit}")]
    Commit {
        /// The commit.
        commit: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The listener cannot bind.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Blocking work could not run.
    #[error("the blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// One commit of the site.
#[derive(Debug)]
struct Site {
    snapshot: Snapshot,
    commit: String,
    /// `Last-Modified`: the commit's time as an HTTP date.
    modified: String,
}

#[derive(Debug)]
struct State {
    site: ArcSwap<Site>,
    store: Store,
    remote: Remote,
    config: ServeConfig,
    magic: conan::Magic,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
    compressed: Compressed,
}

/// The bytes held, and the bodies by (blob id, encoding).
type CompressedEntries = (usize, std::collections::HashMap<(String, Encoding), Bytes>);

/// Compressed bodies by (blob id, encoding); emptied when it holds more
/// than [`Compressed::MAX_BYTES`].
#[derive(Debug, Default)]
struct Compressed {
    entries: std::sync::Mutex<CompressedEntries>,
}

impl Compressed {
    const MAX_BYTES: usize = 64 << 20;

    fn get_or_make(
        &self,
        id: &str,
        encoding: Encoding,
        make: impl FnOnce() -> Option<Bytes>,
    ) -> Option<Bytes> {
        let key = (id.to_string(), encoding);
        if let Some(hit) = self.lock().1.get(&key) {
            return Some(hit.clone());
        }
        let made = make()?;
        let mut entries = self.lock();
        if entries.0 + made.len() > Self::MAX_BYTES {
            *entries = Default::default();
        }
        entries.0 += made.len();
        entries.1.insert(key, made.clone());
        Some(made)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CompressedEntries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A content coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    /// The best coding `accept` (an Accept-Encoding value) allows: brotli,
    /// then gzip; none with a zero quality.
    fn negotiate(accept: &str) -> Option<Self> {
        let allowed = |name: &str| {
            accept.split(',').any(|item| {
                let mut parts = item.split(';');
                let token = parts.next().unwrap_or("").trim();
                let zero = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                (token.eq_ignore_ascii_case(name) || token == "*") && !zero
            })
        };
        [Self::Brotli, Self::Gzip]
            .into_iter()
            .find(|e| allowed(e.token()))
    }

    fn compress(self, bytes: &[u8]) -> Option<Bytes> {
        use std::io::Write;
        match self {
            Self::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
                encoder.write_all(bytes).ok()?;
                encoder.finish().ok().map(Bytes::from)
            }
            Self::Brotli => {
                let mut out = Vec::new();
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 5,
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
                Some(Bytes::from(out))
            }
        }
    }
}

/// Whether a content type is worth compressing.
fn is_text(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/xml")
        || content_type.starts_with("application/atom+xml")
        || content_type.starts_with("application/rss+xml")
        || content_type.starts_with("image/svg+xml")
}

/// A running server.
#[derive(Debug)]
pub struct Serving {
    addr: SocketAddr,
    handle: Handle,
    state: Arc<State>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Serving {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The commit served now (hex).
    pub fn commit(&self) -> String {
        self.state.site.load().commit.clone()
    }

    /// Fetches the branch now and switches to its commit if it moved;
    /// returns the commit served afterwards.
    pub async fn refresh(&self) -> Result<String, ServeError> {
        refresh(&self.state).await
    }

    /// Stops accepting; requests under way get `grace` to finish.
    pub fn shutdown(&self, grace: Duration) {
        self.handle.shutdown(grace);
    }

    /// Waits for the server to stop.
    pub async fn wait(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Fetches the branch and starts serving it. Must run inside a tokio
/// runtime.
pub async fn serve(config: ServeConfig) -> Result<Serving, ServeError> {
    let store = {
        let repository = config.repository.clone();
        let branch = config.branch.clone();
        tokio::task::spawn_blocking(move || Store::builder(repository).branch(branch).open()).await??
    };
    store.pull(&config.remote, Policy::Theirs).await?;
    let site = load(&store, &config.branch).await?;
    tracing::info!(commit = %site.commit, branch = %config.branch, "serving");
    let magic = match conan::Database::load_default() {
        Ok(db) => conan::Magic::new(db),
        Err(_) => conan::Magic::new(conan::Database::builtin()),
    };
    let state = Arc::new(State {
        site: ArcSwap::from_pointee(site),
        store,
        remote: config.remote.clone(),
        config: config.clone(),
        magic,
        refreshing: tokio::sync::Mutex::new(()),
        compressed: Compressed::default(),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let server = Server::builder().listener(listener);
    let addr = server.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let handle = server.handle();
    let service = {
        let state = state.clone();
        service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(handle_request(&state, req).await) }
        })
    };
    let mut tasks = vec![tokio::spawn(async move {
        if let Err(error) = server.serve(service).await {
            tracing::error!(%error, "the server stopped");
        }
    })];
    if let Some(every) = config.refresh_every {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = refresh(&state).await {
                    tracing::warn!("refresh: {}", crate::error_chain(&error));
                }
            }
        }));
    }
    Ok(Serving {
        addr,
        handle,
        state,
        tasks,
    })
}

/// The branch's commit as a [`Site`].
async fn load(store: &Store, branch: &str) -> Result<Site, ServeError> {
    let store = store.clone();
    let branch = branch.to_string();
    tokio::task::spawn_blocking(move || {
        let snapshot = store.snapshot();
        let head = snapshot.head().ok_or(ServeError::NoBranch { branch })?;
        let commit = head.to_hex().to_string();
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| ServeError::Commit {
            commit: commit.clone(),
            source,
        };
        let repo = gix::open(store.path()).map_err(|e| failed(e.into()))?;
        let seconds = repo
            .find_commit(head)
            .map_err(|e| failed(e.into()))?
            .time()
            .map_err(|e| failed(e.into()))?
            .seconds;
        Ok(Site {
            snapshot,
            modified: http_date(seconds),
            commit,
        })
    })
    .await?
}

async fn refresh(state: &State) -> Result<String, ServeError> {
    let _one = state.refreshing.lock().await;
    state.store.pull(&state.remote, Policy::Theirs).await?;
    let head = state.store.head().map(|h| h.to_hex().to_string());
    if head.as_deref() != Some(state.site.load().commit.as_str()) {
        let site = load(&state.store, &state.config.branch).await?;
        tracing::info!(commit = %site.commit, "switched to a new commit");
        state.site.store(Arc::new(site));
    }
    Ok(state.site.load().commit.clone())
}

type Reply = Response<Full<Bytes>>;

async fn handle_request(state: &State, req: Request<paf::Body>) -> Reply {
    let path = req.uri().path().to_string();
    if path == REFRESH_PATH {
        return hook(state, &req).await;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only\n");
    }
    let site = state.site.load_full();
    let head = req.method() == Method::HEAD;
    let Some(key) = key_of(&path) else {
        return plain(StatusCode::BAD_REQUEST, "bad path\n");
    };
    let found = {
        let site = site.clone();
        tokio::task::spawn_blocking(move || find(&site.snapshot, &key)).await
    };
    match found {
        Ok(Ok(Some((key, id, bytes)))) => {
            let content_type = content_type(&state.magic, &key, &bytes);
            let encoding = is_text(&content_type)
                .then(|| req.headers().get(header::ACCEPT_ENCODING))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .and_then(Encoding::negotiate);
            // One tag per representation: `"<blob id>"`, `"<blob id>.br"`, `"<blob id>.gzip"`.
            let etag = match encoding {
                Some(encoding) => format!("\"{id}.{}\"", encoding.token()),
                None => format!("\"{id}\""),
            };
            let not_modified = match req.headers().get(header::IF_NONE_MATCH) {
                Some(tags) => tags.to_str().is_ok_and(|tags| {
                    tags.split(',').any(|t| {
                        let t = t.trim().trim_start_matches("W/").trim_matches('"');
                        t == "*" || t.split('.').next() == Some(id.as_str())
                    })
                }),
                None => req
                    .headers()
                    .get(header::IF_MODIFIED_SINCE)
                    .is_some_and(|since| since.as_bytes() == site.modified.as_bytes()),
            };
            let mut builder = Response::builder()
                .header(header::ETAG, &etag)
                .header(header::LAST_MODIFIED, &site.modified)
                .header(header::CACHE_CONTROL, "no-cache");
            if is_text(&content_type) {
                builder = builder.header(header::VARY, "accept-encoding");
            }
            if not_modified {
                builder = builder.status(StatusCode::NOT_MODIFIED);
                return builder
                    .body(Full::new(Bytes::new()))
                    .unwrap_or_else(|_| internal());
            }
            let body = match encoding {
                Some(encoding) => {
                    let compressed = {
                        let id = id.clone();
                        let bytes = bytes.clone();
                        let state_bytes = &state.compressed;
                        // Compression is CPU work: off the async threads.
                        tokio::task::block_in_place(|| {
                            state_bytes.get_or_make(&id, encoding, || encoding.compress(&bytes))
                        })
                    };
                    match compressed {
                        Some(body) => {
                            builder = builder.header(header::CONTENT_ENCODING, encoding.token());
                            body
                        }
                        None => Bytes::from(bytes),
                    }
                }
                None => Bytes::from(bytes),
            };
            builder = builder
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_LENGTH, body.len());
            let body = if head { Bytes::new() } else { body };
            builder.body(Full::new(body)).unwrap_or_else(|_| internal())
        }
        Ok(Ok(None)) => not_found(state, &site, &path, head).await,
        Ok(Err(error)) => {
            tracing::error!("{}", crate::error_chain(&error));
            internal()
        }
        Err(_) => internal(),
    }
}

/// The file of `key`, or `key/index.html`: (its key, blob id, bytes).
fn find(snapshot: &Snapshot, key: &str) -> Result<Option<(String, String, Vec<u8>)>, gitkv::Error> {
    let candidates = if key.is_empty() {
        vec!["index.html".to_string()]
    } else if key.ends_with('/') {
        vec![format!("{key}index.html")]
    } else {
        vec![key.to_string(), format!("{key}/index.html")]
    };
    for key in candidates {
        if let Some(id) = snapshot.value_id(&key)?
            && let Some(bytes) = snapshot.get(&key)?
        {
            return Ok(Some((key, id.to_hex().to_string(), bytes)));
        }
    }
    Ok(None)
}

async fn not_found(state: &State, site: &Arc<Site>, path: &str, head: bool) -> Reply {
    if let Some(default) = &state.config.default_url {
        let target = format!("{}{}", default.trim_end_matches('/'), path);
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, target)
            .body(Full::new(Bytes::new()))
            .unwrap_or_else(|_| internal());
    }
    let page = {
        let site = site.clone();
        tokio::task::spawn_blocking(move || site.snapshot.get("404.html")).await
    };
    let (content_type, body) = match page {
        Ok(Ok(Some(bytes))) => ("text/html; charset=utf-8", Bytes::from(bytes)),
        _ => ("text/plain; charset=utf-8", Bytes::from_static(b"not found\n")),
    };
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(if head { Bytes::new() } else { body }))
        .unwrap_or_else(|_| internal())
}

async fn hook(state: &State, req: &Request<paf::Body>) -> Reply {
    let Some(secret) = &state.config.hook else {
        return plain(StatusCode::NOT_FOUND, "no hook\n");
    };
    if req.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
    }
    let given = req
        .headers()
        .get("x-blogger-secret")
        .map(|v| v.as_bytes().to_vec())
        .or_else(|| {
            req.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "secret")
                    .map(|(_, v)| v.as_bytes().to_vec())
            })
        })
        .unwrap_or_default();
    if !same(&given, secret.as_bytes()) {
        return plain(StatusCode::FORBIDDEN, "wrong secret\n");
    }
    match refresh(state).await {
        Ok(commit) => plain(StatusCode::OK, &format!("{commit}\n")),
        Err(error) => {
            let text = crate::error_chain(&error);
            tracing::warn!("refresh: {text}");
            plain(StatusCode::BAD_GATEWAY, &format!("{text}\n"))
        }
    }
}

/// Compares in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The tree key of a URL path (percent-decoded; `..` refused).
pub(crate) fn key_of(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    let key = decoded.trim_start_matches('/');
    if key
        .split('/')
        .any(|part| part == ".." || part == "." || part == ".git")
        || key.contains("//")
    {
        return None;
    }
    Some(key.to_string())
}

/// The content type: by extension, then by content (conan).
pub(crate) fn content_type(magic: &conan::Magic, key: &str, bytes: &[u8]) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let by_name = match name {
        "atom.xml" => Some("application/atom+xml; charset=utf-8"),
        "rss.xml" => Some("application/rss+xml; charset=utf-8"),
        _ => None,
    };
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let by_extension = extension.as_deref().and_then(|e| {
        Some(match e {
            "html" | "htm" => "text/html; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "js" | "mjs" => "text/javascript; charset=utf-8",
            "json" => "application/json",
            "xml" => "application/xml; charset=utf-8",
            "txt" => "text/plain; charset=utf-8",
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "avif" => "image/avif",
            "ico" => "image/vnd.microsoft.icon",
            "woff" => "font/woff",
            "woff2" => "font/woff2",
            "pdf" => "application/pdf",
            "wasm" => "application/wasm",
            "mp4" => "video/mp4",
            "webm" => "video/webm",
            "mp3" => "audio/mpeg",
            _ => return None,
        })
    });
    match by_name.or(by_extension) {
        Some(known) => known.to_string(),
        None => {
            let outcome = magic.identify(bytes);
            if outcome.mime.starts_with("text/")
                && !outcome.encoding.is_empty()
                && outcome.encoding != "binary"
            {
                format!("{}; charset={}", outcome.mime, outcome.encoding)
            } else {
                outcome.mime
            }
        }
    }
}

/// An HTTP date (IMF-fixdate) of a Unix time.
fn http_date(seconds: i64) -> String {
    let Ok(time) = time::OffsetDateTime::from_unix_timestamp(seconds) else {
        return "Thu, 01 Jan 1970 00:00:00 GMT".to_string();
    };
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[time.weekday().number_days_from_monday() as usize],
        time.day(),
        MONTHS[time.month() as usize - 1],
        time.year(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

fn plain(status: StatusCode, text: &str) -> Reply {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text.to_string())))
        .unwrap_or_else(|_| internal())
}

fn internal() -> Reply {
    let mut response = Response::new(Full::new(Bytes::from_static(b"internal error\n")));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_dates() {
        assert_eq!(key_of("/").as_deref(), Some(""));
        assert_eq!(key_of("/img/a%20b.png").as_deref(), Some("img/a b.png"));
        assert_eq!(key_of("/../etc/passwd"), None);
        assert_eq!(key_of("/a/%2e%2e/b"), None);
        assert_eq!(key_of("/.git/config"), None);
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::negotiate("gzip, deflate, br"), Some(Encoding::Brotli));
        assert_eq!(Encoding::negotiate("gzip"), Some(Encoding::Gzip));
        assert_eq!(Encoding::negotiate("br;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(Encoding::negotiate("identity"), None);
        assert_eq!(Encoding::negotiate("*"), Some(Encoding::Brotli));
    }
}
