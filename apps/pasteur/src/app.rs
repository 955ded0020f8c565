//! Wiring: the data directory, the repository, the server(s) and the
//! background tasks (sync, expiry, certificates).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gitkv::sync::Remote;
use gitkv::{Grouping, Signature, Store};
use paf::acme::Http01Tokens;
use paf::certs::Certificates;
use paf::redirect::ToHttps;
use paf::{Handle, Limits, Server, service_fn};
use tokio::task::JoinHandle;

use crate::certstore::GitCertStore;
use crate::clock::Clock;
use crate::highlight::Highlighter;
use crate::https::{self, HttpsConfig};
use crate::ratelimit::RateLimiter;
use crate::secret::{Secret, SecretError};
use crate::store::{Pastes, StoreError};
use crate::sync::{SyncTiming, Syncer};
use crate::web::{self, Pages, State};

/// The repository's directory name inside the data directory.
pub const REPOSITORY: &str = "pastes.git";
/// The secret's file name inside the data directory.
pub const SECRET: &str = "secret";

/// Everything the server needs, validated (see `main.rs` for the flags).
#[derive(Debug)]
pub struct Config {
    /// Where the repository and the secret live.
    pub data_dir: PathBuf,
    /// Where the site listens.
    pub listen: SocketAddr,
    /// The site's URL as links show it (`http://host:4343`); from each
    /// request's `Host` when `None`.
    pub public_url: Option<String>,
    /// Characters in a paste id.
    pub id_length: usize,
    /// The largest paste, in bytes.
    pub max_size: u64,
    /// Pastes per client address and minute (0: no limit).
    pub rate_per_minute: u32,
    /// Proxies (contruno, say) whose `X-Forwarded-For` names the client:
    /// the rate limit then counts that address, not the proxy's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where pastes are pushed.
    pub remote: Option<Remote>,
    /// When the sync loop runs.
    pub sync: SyncTiming,
    /// How often expired pastes are removed.
    pub sweep_every: Duration,
    /// `--https`.
    pub https: Option<HttpsConfig>,
    /// paf's timeouts and limits (the body limit is set from `max_size`).
    pub limits: Limits,
}

impl Config {
    /// The defaults of `pasteur` with no flags, with data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 4343)),
            public_url: None,
            id_length: 8,
            max_size: 64 * 1024,
            rate_per_minute: 60,
            trusted_proxies: Vec::new(),
            remote: None,
            sync: SyncTiming::default(),
            sweep_every: Duration::from_secs(60),
            https: None,
            limits: Limits::default(),
        }
    }
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The secret cannot be read or made.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The repository cannot be opened.
    #[error("cannot open the repository")]
    Store(#[from] gitkv::Error),
    /// A template does not parse (a bug).
    #[error("templates")]
    Templates(#[from] minijinja::Error),
    /// A listener cannot bind.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// TLS cannot be set up.
    #[error("TLS setup")]
    Tls(#[from] rustls::Error),
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    handles: Vec<Handle>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    tasks: Vec<JoinHandle<()>>,
    state: Arc<State>,
    repository: PathBuf,
}

impl Running {
    /// Where the site listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the plain-HTTP listener of `--https` listens.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The bare repository of the pastes.
    pub fn repository(&self) -> &Path {
        &self.repository
    }

    /// Runs an expiry sweep now (the sweeper does it periodically).
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        crate::sweeper::sweep_once(&self.state.pastes, self.state.clock.as_ref()).await
    }

    /// Waits until a server stops (an error, or after [`Running::shutdown`]).
    pub async fn wait(mut self) -> std::io::Result<()> {
        let servers = std::mem::take(&mut self.servers);
        let (first, _, _) = futures_util::future::select_all(servers).await;
        // Pastes are durable already; a pack merge under way is let finish.
        self.state.pastes.settle().await;
        first.map_err(std::io::Error::other)?
    }

    /// Stops accepting and lets requests under way finish (up to `grace`).
    pub fn shutdown(&self, grace: Duration) {
        for handle in &self.handles {
            handle.shutdown(grace);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for server in &self.servers {
            server.abort();
        }
    }
}

/// Opens (creating on first start) the data directory and the repository,
/// starts the background tasks and the server(s).
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<Running, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let secret = Secret::load_or_create(&config.data_dir.join(SECRET))?;
    let repository = config.data_dir.join(REPOSITORY);
    let committer = Signature::new("pasteur", "pasteur@localhost")?;
    let store = {
        let repository = repository.clone();
        let committer = committer.clone();
        tokio::task::spawn_blocking(move || {
            Store::builder(repository)
                .committer(committer)
                .grouping(Grouping::CommitPerBatch)
                .open()
        })
        .await
        .map_err(|e| StartError::DataDir {
            path: config.data_dir.clone(),
            source: std::io::Error::other(e),
        })??
    };
    let fresh = store.head().is_none();
    tracing::info!(repository = %repository.display(), new = fresh, "pastes are stored in this bare Git repository (git clone works on it)");
    let author = Signature::new("anonymous", "anonymous@pasteur")?;
    let pastes = Pastes::new(store.clone(), author);
    let magic = match conan::Database::load_default() {
        Ok(db) => conan::Magic::new(db),
        Err(error) => {
            tracing::info!(%error, "no system magic database; conan's built-in web types are used");
            conan::Magic::new(conan::Database::builtin())
        }
    };
    let mut tasks = Vec::new();
    let syncer = config.remote.clone().map(|remote| {
        tracing::info!(remote = %remote.url(), "pastes are pushed to this remote");
        let syncer = Arc::new(Syncer::new(store.clone(), remote, config.sync));
        tasks.push(tokio::spawn(syncer.clone().run()));
        syncer
    });
    tasks.push(tokio::spawn(crate::sweeper::run(
        pastes.clone(),
        clock.clone(),
        config.sweep_every,
    )));
    let state = Arc::new(State {
        pastes,
        secret,
        highlighter: Highlighter::new(),
        highlights: crate::highlight::HighlightCache::new(1024),
        magic,
        pages: Pages::new()?,
        limiter: RateLimiter::new(config.rate_per_minute),
        trusted_proxies: config.trusted_proxies.clone(),
        clock,
        syncer,
        public_url: config.public_url.clone(),
        id_length: config.id_length,
        max_size: config.max_size,
        burning: Default::default(),
    });

    // Form encoding can triple a paste's size: paf cuts bodies only well
    // past the maximum, the handler says "too large" with the sizes.
    let mut limits = config.limits.clone();
    limits.max_body_size = config.max_size.saturating_mul(3).saturating_add(64 * 1024);
    let service = {
        let state = state.clone();
        service_fn(move |req| web::handle(state.clone(), req))
    };
    let mut handles = Vec::new();
    let mut servers = Vec::new();
    let mut http_addr = None;
    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })
    };
    let addr;
    match &config.https {
        None => {
            let server = Server::builder()
                .limits(limits)
                .listener(bind(config.listen).await?);
            addr = server.local_addr().map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
            handles.push(server.handle());
            servers.push(tokio::spawn(server.serve(service)));
        }
        Some(https_config) => {
            let certs = Arc::new(Certificates::new());
            let server = Server::builder()
                .tls(certs.clone())?
                .limits(limits)
                .listener(bind(config.listen).await?);
            addr = server.local_addr().map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
            let tokens = Http01Tokens::new();
            let http = Server::builder().listener(bind(https_config.http_listen).await?);
            http_addr = http.local_addr().ok();
            handles.push(server.handle());
            handles.push(http.handle());
            servers.push(tokio::spawn(server.serve(service)));
            servers.push(tokio::spawn(http.serve(tokens.layer(ToHttps::new(addr.port())))));
            let cert_store = {
                let repository = repository.clone();
                tokio::task::spawn_blocking(move || {
                    Store::builder(repository)
                        .branch("certs")
                        .committer(committer)
                        .open()
                })
                .await
                .map_err(|e| StartError::DataDir {
                    path: config.data_dir.clone(),
                    source: std::io::Error::other(e),
                })??
            };
            tasks.push(tokio::spawn(https::run(
                https_config.clone(),
                certs,
                tokens,
                GitCertStore::new(cert_store),
            )));
        }
    }
    Ok(Running {
        addr,
        http_addr,
        handles,
        servers,
        tasks,
        state,
        repository,
    })
}
