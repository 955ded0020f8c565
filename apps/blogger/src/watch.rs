//! `blogger watch`: builds, serves the output directory on a local port
//! with paf, and builds again (incrementally) when a source changes
//! (notify); open pages reload themselves: each HTML page served gets a
//! small script that long-polls `/.well-known/blogger/wait?since=N` and
//! reloads when a build newer than the page's has finished.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use paf::{Handle, Server, service_fn};

use crate::build::{BuildOptions, build};

/// The path of the long poll.
pub const WAIT_PATH: &str = "/.well-known/blogger/wait";
/// How long a long poll is held before it is answered anyway.
const POLL: Duration = Duration::from_secs(25);
/// Events closer than this are one change (an editor's save is several).
const DEBOUNCE: Duration = Duration::from_millis(20);

/// What to watch and where to serve it.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// The build (its `base_url` is replaced by the server's URL).
    pub build: BuildOptions,
    /// Where to listen.
    pub listen: SocketAddr,
}

/// The watcher could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The listener cannot bind.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The sources cannot be watched.
    #[error("cannot watch {}", path.display())]
    Notify {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: notify::Error,
    },
    /// The first build could not run at all.
    #[error("the first build")]
    Build(#[from] crate::build::BuildError),
    /// Blocking work could not run.
    #[error("the blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// A running watcher and server.
#[derive(Debug)]
pub struct Watching {
    addr: SocketAddr,
    handle: Handle,
    builds: tokio::sync::watch::Receiver<u64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _watcher: notify::RecommendedWatcher,
}

impl Watching {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many builds have finished (1 after the first).
    pub fn builds(&self) -> u64 {
        *self.builds.borrow()
    }

    /// Stops serving; requests under way get `grace` to finish.
    pub fn shutdown(&self, grace: Duration) {
        self.handle.shutdown(grace);
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[derive(Debug)]
struct State {
    output: PathBuf,
    builds: tokio::sync::watch::Receiver<u64>,
    magic: conan::Magic,
}

/// Builds, starts watching and serving. Must run inside a tokio runtime.
pub async fn watch(config: WatchConfig) -> Result<Watching, WatchError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| WatchError::Bind {
            addr: config.listen,
            source,
        })?;
    let server = Server::builder().listener(listener);
    let addr = server.local_addr().map_err(|source| WatchError::Bind {
        addr: config.listen,
        source,
    })?;
    let mut options = config.build.clone();
    options.base_url = Some(format!("http://{addr}/"));

    // notify's thread -> the rebuild task.
    let (changed, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    // Made now so that it canonicalizes like the paths notify reports.
    let _ = std::fs::create_dir_all(&options.output);
    let ignored = [options.output.clone(), options.source.join(".blogger")];
    let ignored: Vec<PathBuf> = ignored
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        if event.paths.iter().all(|p| is_ignored(p, &ignored)) {
            return;
        }
        let _ = changed.send(());
    })
    .map_err(|source| WatchError::Notify {
        path: options.source.clone(),
        source,
    })?;
    notify::Watcher::watch(&mut watcher, &options.source, notify::RecursiveMode::Recursive).map_err(
        |source| WatchError::Notify {
            path: options.source.clone(),
            source,
        },
    )?;
    // Watching starts before the first build: an edit made during it is
    // built right after it.
    let first = {
        let options = options.clone();
        tokio::task::spawn_blocking(move || build(&options)).await??
    };
    report(&first);
    let (done, builds) = tokio::sync::watch::channel(1u64);
    let rebuild = tokio::spawn(async move {
        while changes.recv().await.is_some() {
            tokio::time::sleep(DEBOUNCE).await;
            while changes.try_recv().is_ok() {}
            let options = options.clone();
            let start = std::time::Instant::now();
            match tokio::task::spawn_blocking(move || build(&options)).await {
                Ok(Ok(outcome)) => {
                    report(&outcome);
                    tracing::info!(
                        written = outcome.written.len(),
                        "rebuilt in {:.0?}",
                        start.elapsed()
                    );
                }
                Ok(Err(error)) => tracing::error!("{}", crate::error_chain(&error)),
                Err(error) => tracing::error!(%error, "the build task failed"),
            }
            done.send_modify(|n| *n += 1);
        }
    });

    let magic = match conan::Database::load_default() {
        Ok(db) => conan::Magic::new(db),
        Err(_) => conan::Magic::new(conan::Database::builtin()),
    };
    let state = Arc::new(State {
        output: config.build.output.clone(),
        builds: builds.clone(),
        magic,
    });
    let handle = server.handle();
    let service = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(handle_request(&state, req).await) }
    });
    let serve = tokio::spawn(async move {
        if let Err(error) = server.serve(service).await {
            tracing::error!(%error, "the server stopped");
        }
    });
    Ok(Watching {
        addr,
        handle,
        builds,
        tasks: vec![rebuild, serve],
        _watcher: watcher,
    })
}

fn is_ignored(path: &Path, ignored: &[PathBuf]) -> bool {
    ignored.iter().any(|dir| path.starts_with(dir))
}

fn report(outcome: &crate::build::Outcome) {
    for error in &outcome.errors {
        tracing::error!("{}", crate::error_chain(error));
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle_request(state: &State, req: Request<paf::Body>) -> Reply {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Bytes::from_static(b"GET only\n"),
        );
    }
    let path = req.uri().path().to_string();
    if path == WAIT_PATH {
        let since: u64 = req
            .uri()
            .query()
            .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "since"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut builds = state.builds.clone();
        let _ = tokio::time::timeout(POLL, builds.wait_for(|n| *n > since)).await;
        let now = *builds.borrow();
        return reply(StatusCode::OK, "text/plain", Bytes::from(format!("{now}\n")));
    }
    let Some(key) = crate::serve::key_of(&path) else {
        return reply(
            StatusCode::BAD_REQUEST,
            "text/plain",
            Bytes::from_static(b"bad path\n"),
        );
    };
    let generation = *state.builds.borrow();
    let output = state.output.clone();
    let found = tokio::task::spawn_blocking(move || read(&output, &key)).await;
    match found {
        Ok(Some((name, bytes))) => {
            let content_type = crate::serve::content_type(&state.magic, &name, &bytes);
            let body = if content_type.starts_with("text/html") {
                inject(bytes, generation)
            } else {
                Bytes::from(bytes)
            };
            reply(StatusCode::OK, &content_type, body)
        }
        Ok(None) => {
            let page =
                std::fs::read(state.output.join("404.html")).unwrap_or_else(|_| b"not found\n".to_vec());
            reply(
                StatusCode::NOT_FOUND,
                "text/html; charset=utf-8",
                inject(page, generation),
            )
        }
        Err(_) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            Bytes::from_static(b"internal error\n"),
        ),
    }
}

/// The file of `key` in `dir`, or its `index.html`: (its key, bytes).
fn read(dir: &Path, key: &str) -> Option<(String, Vec<u8>)> {
    let candidates = if key.is_empty() || key.ends_with('/') {
        vec![format!("{key}index.html")]
    } else {
        vec![key.to_string(), format!("{key}/index.html")]
    };
    candidates.into_iter().find_map(|key| {
        let path = dir.join(&key);
        if path.is_file() && key != crate::cache::CACHE_FILE {
            std::fs::read(path).ok().map(|bytes| (key, bytes))
        } else {
            None
        }
    })
}

/// The page with the reload script before its `</body>`.
fn inject(page: Vec<u8>, generation: u64) -> Bytes {
    let script = format!(
        "<script>(function(){{var g={generation};function w(){{fetch('{WAIT_PATH}?since='+g)\
         .then(function(r){{return r.text()}}).then(function(t){{if(parseInt(t,10)>g){{location.reload()}}else{{w()}}}})\
         .catch(function(){{setTimeout(w,1000)}})}}w()}})();</script>"
    );
    let at = page
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(page.len());
    let mut out = Vec::with_capacity(page.len() + script.len());
    out.extend_from_slice(&page[..at]);
    out.extend_from_slice(script.as_bytes());
    out.extend_from_slice(&page[at..]);
    Bytes::from(out)
}

fn reply(status: StatusCode, content_type: &str, body: Bytes) -> Reply {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
