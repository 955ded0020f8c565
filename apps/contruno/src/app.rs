//! The running proxy: the TLS listener (certificates by SNI), port 80
//! (redirect to HTTPS), the admin listener (reload), and the reloads
//! themselves (from the repository, after a pull from the remote).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gitkv::sync::Remote;
use gitkv::{Policy, Store};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use paf::acme::{CertManager, Http01Tokens, Solver};
use paf::certs::Certificates;
use paf::redirect::ToHttps;
use paf::{Body, Handle, Server, service_fn};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::acme::{AcmeConfig, Challenge, RepoCertStore};
use crate::password::{HashError, PasswordHash};
use crate::proxy::{Proxy, ProxyBody, Site, Table, plain};
use crate::routes::{self, PASSWORD_KEY};

/// The repository directory under the data directory.
pub const REPOSITORY: &str = "routes.git";

/// The admin path `contruno-add -t` posts to.
pub const RELOAD_PATH: &str = "/.well-known/contruno/reload";

/// How contruno runs.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    /// Where the local repository lives (`<data>/routes.git`).
    pub data: PathBuf,
    /// The branch holding the routes.
    pub branch: String,
    /// The TLS listener.
    pub listen: SocketAddr,
    /// Port 80's listener (redirect to https), if any.
    pub http_listen: Option<SocketAddr>,
    /// The admin listener (reload), if any.
    pub admin: Option<SocketAddr>,
    /// The repository everything comes from, if not only the local one.
    pub remote: Option<Remote>,
    /// How often the remote is fetched.
    pub fetch_every: Duration,
    /// The reload password, when not (only) its hash in the repository.
    pub password: Option<PasswordHash>,
    /// Certificates by ACME for domains without one (HTTP-01 on port 80).
    pub acme: Option<AcmeConfig>,
}

impl Config {
    /// Defaults: `./contruno-data`, branch `main`, `0.0.0.0:443`,
    /// `0.0.0.0:80`, admin on `127.0.0.1:9080`, fetch every minute.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        Config {
            data: data.into(),
            branch: "main".into(),
            listen: SocketAddr::from(([0, 0, 0, 0], 443)),
            http_listen: Some(SocketAddr::from(([0, 0, 0, 0], 80))),
            admin: Some(SocketAddr::from(([127, 0, 0, 1], 9080))),
            remote: None,
            fetch_every: Duration::from_secs(60),
            password: None,
            acme: None,
        }
    }
}

/// contruno cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The repository cannot be opened or created.
    #[error("cannot open the repository")]
    Store(#[from] gitkv::Error),
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
    /// The backends' HTTP client cannot be made.
    #[error("HTTP client")]
    Client(#[from] paf::ClientError),
    /// The first load failed.
    #[error(transparent)]
    Reload(#[from] ReloadError),
}

/// A reload failed; what was served goes on being served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The remote could not be fetched.
    #[error("cannot pull from the remote")]
    Pull(#[source] gitkv::Error),
    /// The repository could not be read.
    #[error("cannot read the repository")]
    Read(#[source] gitkv::Error),
    /// A blocking task failed.
    #[error("reload task: {0}")]
    Task(String),
}

/// What a reload found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reloaded {
    /// Domains served (with a certificate).
    pub served: Vec<String>,
    /// Domains routed but without a certificate yet (served nothing).
    pub without_certificate: Vec<String>,
    /// Domains left out, with why.
    pub errors: Vec<String>,
}

struct Inner {
    store: Store,
    remote: Option<Remote>,
    proxy: Arc<Proxy>,
    certs: Arc<Certificates>,
    password: Option<PasswordHash>,
    /// One reload at a time.
    reloading: Mutex<()>,
    /// Told after each reload (the ACME supervisor looks at the domains).
    reloaded: Arc<tokio::sync::Notify>,
    /// The commit last loaded and what it gave: a reload that finds the
    /// same commit changes nothing (round robin and backend health go on).
    last: std::sync::Mutex<Option<(gitkv::ObjectId, Reloaded)>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Inner {
    async fn reload(&self) -> Result<Reloaded, ReloadError> {
        self.reload_pulling(true).await
    }

    /// Reloads, pulling the remote first when `pull` (and there is one);
    /// without, the local copy is served as it is.
    async fn reload_pulling(&self, pull: bool) -> Result<Reloaded, ReloadError> {
        let outcome = self.reload_now(pull).await;
        let counter = match &outcome {
            Ok(_) => &self.proxy.metrics.reloads,
            Err(_) => &self.proxy.metrics.reload_failures,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        outcome
    }

    async fn reload_now(&self, pull: bool) -> Result<Reloaded, ReloadError> {
        let _one = self.reloading.lock().await;
        if pull && let Some(remote) = &self.remote {
            // The remote is the truth: contruno-add writes there.
            self.store
                .pull(remote, Policy::Theirs)
                .await
                .map_err(ReloadError::Pull)?;
        }
        let snapshot = self.store.snapshot();
        let head = snapshot.head();
        if let (Some(head), Some((last, report))) =
            (head, self.last.lock().unwrap_or_else(|p| p.into_inner()).as_ref())
            && head == *last
        {
            return Ok(report.clone());
        }
        let loaded = tokio::task::spawn_blocking(move || routes::load(&snapshot))
            .await
            .map_err(|e| ReloadError::Task(e.to_string()))?
            .map_err(ReloadError::Read)?;
        let mut report = Reloaded::default();
        let mut table = Table::default();
        let mut certs = Vec::new();
        for (name, domain) in &loaded.domains {
            table
                .sites
                .insert(name.clone(), Arc::new(Site::new(&domain.route)));
            // A certificate ACME just installed may not be in this
            // snapshot yet: keep it rather than serve nothing.
            match domain.cert.clone().or_else(|| self.certs.get(name)) {
                Some(cert) => {
                    certs.push((name.clone(), cert));
                    report.served.push(name.clone());
                }
                None => report.without_certificate.push(name.clone()),
            }
        }
        for error in &loaded.errors {
            tracing::warn!(target: "contruno", error = %crate::error_chain(error), "domain left out");
            report.errors.push(crate::error_chain(error));
        }
        // Certificates first: a request can only reach a site whose
        // certificate was picked. Open connections are not touched.
        self.certs.replace_all(certs, None);
        self.proxy.table.store(Arc::new(table));
        self.reloaded.notify_one();
        if let Some(head) = head {
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((head, report.clone()));
        }
        tracing::info!(
            target: "contruno",
            served = report.served.len(),
            without_certificate = report.without_certificate.len(),
            errors = report.errors.len(),
            "routes loaded"
        );
        Ok(report)
    }

    /// Whether `password` may reload: the `--pass` hash, else the
    /// repository's.
    fn allowed(&self, password: &str) -> bool {
        if let Some(hash) = &self.password {
            return hash.verify(password);
        }
        match self.store.get(PASSWORD_KEY) {
            Ok(Some(text)) => std::str::from_utf8(&text)
                .map_err(|_| HashError::Format { reason: "not UTF-8" })
                .and_then(PasswordHash::parse)
                .is_ok_and(|hash| hash.verify(password)),
            _ => false,
        }
    }
}

/// A running contruno.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    admin_addr: Option<SocketAddr>,
    inner: Arc<Inner>,
    handles: Vec<Handle>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// The TLS listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Port 80's listener's address.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The admin listener's address.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Pulls the remote (if any) and serves what the repository holds now,
    /// without closing any connection.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        self.inner.reload().await
    }

    /// A handle that reloads and shuts down, for signal handlers.
    pub fn controller(&self) -> Controller {
        Controller {
            inner: self.inner.clone(),
            handles: self.handles.clone(),
        }
    }

    /// Waits until a server stops.
    pub async fn wait(mut self) -> std::io::Result<()> {
        let mut set = tokio::task::JoinSet::new();
        for server in std::mem::take(&mut self.servers) {
            set.spawn(server);
        }
        match set.join_next().await {
            Some(Ok(Ok(outcome))) => outcome,
            Some(Ok(Err(e))) | Some(Err(e)) => Err(std::io::Error::other(e)),
            None => Ok(()),
        }
    }

    /// Stops accepting; requests under way have `grace` to finish.
    pub fn shutdown(&self, grace: Duration) {
        for handle in &self.handles {
            handle.shutdown(grace);
        }
    }
}

/// Reloads and shuts down a [`Running`] from elsewhere (a signal handler).
#[derive(Clone, Debug)]
pub struct Controller {
    inner: Arc<Inner>,
    handles: Vec<Handle>,
}

impl Controller {
    /// See [`Running::reload`].
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        self.inner.reload().await
    }

    /// See [`Running::shutdown`].
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

/// Opens (or creates) the local repository, loads it (after a pull), and
/// starts the listeners and the periodic fetch.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let repository = config.data.join(REPOSITORY);
    let branch = config.branch.clone();
    let store = tokio::task::spawn_blocking(move || Store::builder(repository).branch(branch).open())
        .await
        .map_err(|e| StartError::Reload(ReloadError::Task(e.to_string())))??;
    let certs = Arc::new(Certificates::new());
    let proxy = Arc::new(Proxy::new(true)?);
    let inner = Arc::new(Inner {
        store,
        remote: config.remote,
        proxy: proxy.clone(),
        certs: certs.clone(),
        password: config.password,
        reloading: Mutex::new(()),
        reloaded: Arc::new(tokio::sync::Notify::new()),
        last: std::sync::Mutex::new(None),
    });
    match inner.reload().await {
        Ok(_) => {}
        // A remote that is down at start: serve what the local copy has.
        Err(error @ ReloadError::Pull(_)) => {
            tracing::warn!(target: "contruno", error = %crate::error_chain(&error), "remote unreachable; serving the local copy");
            inner.reload_pulling(false).await?;
        }
        Err(error) => return Err(error.into()),
    }

    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })
    };
    let mut handles = Vec::new();
    let mut servers = Vec::new();
    let mut tasks = Vec::new();

    let tls = Server::builder().tls(certs)?.listener(bind(config.listen).await?);
    let addr = tls.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    handles.push(tls.handle());
    let service = {
        let proxy = proxy.clone();
        service_fn(move |req: Request<Body>| {
            let proxy = proxy.clone();
            async move { Ok::<_, std::convert::Infallible>(proxy.handle(req).await) }
        })
    };
    servers.push(tokio::spawn(tls.serve(service)));

    let tokens = Http01Tokens::new();
    let mut http_addr = None;
    if let Some(listen) = config.http_listen {
        let http = Server::builder().listener(bind(listen).await?);
        http_addr = http.local_addr().ok();
        handles.push(http.handle());
        let redirect = ToHttps::new(addr.port());
        match &config.acme {
            Some(_) => servers.push(tokio::spawn(http.serve(tokens.layer(redirect)))),
            None => servers.push(tokio::spawn(http.serve(redirect))),
        }
    }
    if let Some(acme) = config.acme {
        tasks.push(tokio::spawn(supervise_acme(inner.clone(), acme, tokens)));
    }

    let mut admin_addr = None;
    if let Some(listen) = config.admin {
        let admin = Server::builder().listener(bind(listen).await?);
        admin_addr = admin.local_addr().ok();
        handles.push(admin.handle());
        let inner = inner.clone();
        let service = service_fn(move |req: Request<Body>| {
            let inner = inner.clone();
            async move { Ok::<_, std::convert::Infallible>(admin_handle(inner, req).await) }
        });
        servers.push(tokio::spawn(admin.serve(service)));
    }

    if inner.remote.is_some() {
        let inner = inner.clone();
        let every = config.fetch_every;
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(error) = inner.reload().await {
                    tracing::warn!(target: "contruno", error = %crate::error_chain(&error), "periodic reload failed; still serving the last routes");
                }
            }
        }));
    }
    tracing::info!(target: "contruno", %addr, ?http_addr, ?admin_addr, "contruno listening");
    Ok(Running {
        addr,
        http_addr,
        admin_addr,
        inner,
        handles,
        servers,
        tasks,
    })
}

/// The admin listener: `POST /.well-known/contruno/reload` with
/// `Authorization: Bearer <password>`.
async fn admin_handle(inner: Arc<Inner>, req: Request<Body>) -> Response<ProxyBody> {
    if req.uri().path() == "/metrics" && req.method() == Method::GET {
        let mut expiries: Vec<(String, u64)> = inner
            .proxy
            .table
            .load()
            .sites
            .keys()
            .filter_map(|name| {
                let cert = inner.certs.get(name)?;
                let leaf = cert.cert.first()?;
                Some((name.clone(), crate::metrics::not_after(leaf.as_ref())?))
            })
            .collect();
        expiries.sort();
        let text = inner.proxy.metrics.render(&expiries);
        let mut res = Response::new(
            Full::new(Bytes::from(text))
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return res;
    }
    if req.uri().path() != RELOAD_PATH {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if req.method() != Method::POST {
        let mut res = plain(StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
        res.headers_mut()
            .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
        return res;
    }
    let password = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    // PBKDF2 costs tens of milliseconds: off the runtime's threads.
    let allowed = {
        let inner = inner.clone();
        tokio::task::spawn_blocking(move || inner.allowed(&password))
            .await
            .unwrap_or(false)
    };
    if !allowed {
        tracing::warn!(target: "contruno", "reload refused: wrong password");
        return plain(StatusCode::FORBIDDEN, "wrong password\n");
    }
    match inner.reload().await {
        Ok(report) => {
            let body = serde_json::json!({
                "served": report.served,
                "without_certificate": report.without_certificate,
                "errors": report.errors,
            })
            .to_string();
            let mut res = Response::new(
                Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            res
        }
        Err(error) => {
            tracing::warn!(target: "contruno", error = %crate::error_chain(&error), "reload failed");
            plain(
                StatusCode::BAD_GATEWAY,
                "reload failed; the last routes are still served\n",
            )
        }
    }
}

/// Keeps one certificate manager per routed domain (started for new
/// domains after each reload, stopped for removed ones): it installs the
/// repository's certificate, orders one when there is none or it is due
/// for renewal, and commits and pushes the result.
async fn supervise_acme(inner: Arc<Inner>, acme: AcmeConfig, tokens: Http01Tokens) {
    let client = match acme.client().await {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(target: "contruno::acme", error = %crate::error_chain(&error), "no ACME account; no certificates will be ordered");
            return;
        }
    };
    tracing::info!(target: "contruno::acme", account = client.account_id(), directory = %acme.directory, "ACME account ready");
    let mut managers: hashbrown::HashMap<String, JoinHandle<()>> = hashbrown::HashMap::new();
    loop {
        let domains: Vec<String> = inner.proxy.table.load().sites.keys().cloned().collect();
        managers.retain(|domain, task| {
            let keep = domains.contains(domain);
            if !keep {
                task.abort();
            }
            keep
        });
        for domain in domains {
            if managers.contains_key(&domain) {
                continue;
            }
            let manager = CertManager::new(
                RepoCertStore::new(inner.store.clone(), inner.remote.clone()),
                client.clone(),
                inner.certs.clone(),
                match acme.challenge {
                    Challenge::Http01 => Solver::Http01(tokens.clone()),
                    Challenge::TlsAlpn01 => Solver::TlsAlpn01(inner.certs.clone()),
                },
                acme.holder.clone(),
            );
            let every = acme.check_every;
            let names = vec![domain.clone()];
            managers.insert(
                domain,
                tokio::spawn(async move { manager.run(&names, every).await }),
            );
        }
        inner.reloaded.notified().await;
    }
}
