//! The client operations: a thin async layer that moves bytes between a
//! mimic flow and the sans-io core, and hands pack data to the local
//! repository code.

mod fetch;
mod push;
mod refspec;

use std::path::PathBuf;

use gix::ObjectId;
use mimic::keys::{HOST, PORT, SCHEME};
use mimic::{Context, Resolver};

use crate::connection::{Connection, daemon_request};
use crate::http::{HttpOptions, HttpRpc};
use crate::proto::{Greeting, GreetingParser, Packet, Ref, Service};
use crate::ssh::SshOptions;
use crate::{Error, RemoteUrl, Scheme};

pub use refspec::Refspec;

/// The default `agent=` we send.
pub const AGENT: &str = concat!("smart/", env!("CARGO_PKG_VERSION"));

/// Runs Git operations against remotes, connecting through a mimic
/// [`Resolver`] (so a test or an app decides how connections are made).
///
/// The transport follows the URL: `git://` (TCP), `ssh://` and scp-like
/// (russh; needs [`Client::with_ssh`]), `http://` and `https://` (smart
/// HTTP over paf's client; [`Client::with_http`] for credentials and
/// roots). The protocol code is the same over each.
#[derive(Clone, Debug)]
pub struct Client {
    resolver: Resolver,
    agent: String,
    v2: bool,
    ssh: Option<SshOptions>,
    http: HttpOptions,
}

/// What happens while an operation runs, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Text from the remote (side-band 2): counting, compressing, hook output.
    Remote(&'a [u8]),
    /// Pack bytes received so far.
    Received(u64),
    /// Pack bytes sent so far.
    Sent(u64),
}

/// Options of [`Client::clone`] and [`Client::fetch`].
#[derive(Clone, Debug, Default)]
pub struct FetchOptions {
    /// Only this branch (a short name, `main`); the URL's `#branch`
    /// otherwise; all branches and tags when neither is given.
    pub branch: Option<String>,
    /// A shallow fetch: this many commits of history from each tip.
    pub depth: Option<u32>,
}

/// A ref the operation changed in the local repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    /// Its full name.
    pub name: String,
    /// Its value before (`None`: it did not exist).
    pub old: Option<ObjectId>,
    /// Its value now.
    pub new: ObjectId,
}

/// What [`Client::clone`] or [`Client::fetch`] did.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct FetchOutcome {
    /// The remote's refs (as `ls-remote` shows them).
    pub remote_refs: Vec<Ref>,
    /// The local refs that moved.
    pub updated: Vec<RefUpdate>,
    /// Objects the server sent in its pack (0 when none was needed). A
    /// thin pack's missing bases, added from the local repository when it
    /// is indexed, are not counted.
    pub objects: u32,
    /// Bytes of the received pack.
    pub pack_bytes: u64,
}

/// Options of [`Client::push`].
#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    /// All updates or none (fails with [`Error::Unsupported`] when the
    /// server does not offer `atomic`).
    pub atomic: bool,
}

/// What became of one ref of a push.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushStatus {
    /// The remote updated it.
    Ok,
    /// It already had that value: nothing sent.
    UpToDate,
    /// Not sent: the remote's value is not an ancestor of ours (or we do
    /// not have it) and the refspec is not forced (`+`).
    RejectedNonFastForward,
    /// The remote refused it, with its reason (`pre-receive hook declined`...).
    RejectedByRemote(String),
}

/// One ref of a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedRef {
    /// The remote ref's full name.
    pub name: String,
    /// Its value on the remote before (`None`: it did not exist).
    pub old: Option<ObjectId>,
    /// The value we asked for (`None`: delete).
    pub new: Option<ObjectId>,
    /// What happened.
    pub status: PushStatus,
}

/// What [`Client::push`] did, per ref.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PushOutcome {
    /// One entry per refspec, in order.
    pub refs: Vec<PushedRef>,
    /// Objects in the pack sent.
    pub objects: u32,
}

impl PushOutcome {
    /// Whether every ref was updated or already up to date.
    pub fn is_ok(&self) -> bool {
        self.refs
            .iter()
            .all(|r| matches!(r.status, PushStatus::Ok | PushStatus::UpToDate))
    }
}

impl Client {
    /// A client that connects through `resolver`.
    pub fn new(resolver: Resolver) -> Self {
        Self {
            resolver,
            agent: AGENT.to_string(),
            v2: true,
            ssh: None,
            http: HttpOptions::default(),
        }
    }

    /// The client key and host key policy for SSH remotes (without them,
    /// an SSH remote fails with [`Error::SshNotConfigured`]).
    pub fn with_ssh(mut self, options: SshOptions) -> Self {
        self.ssh = Some(options);
        self
    }

    /// Credentials and TLS roots for HTTP(S) remotes.
    pub fn with_http(mut self, options: HttpOptions) -> Self {
        self.http = options;
        self
    }

    /// Whether to ask upload-pack for protocol v2 (the default). With
    /// `false`, ls-remote, clone and fetch speak v0/v1, as with a server
    /// that does not offer v2. (Push always uses v0: receive-pack has no v2.)
    pub fn with_protocol_v2(mut self, v2: bool) -> Self {
        self.v2 = v2;
        self
    }

    /// Sends `agent` as our `agent=` capability.
    pub fn with_agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = agent.into();
        self
    }

    /// The remote's refs and symbolic refs (`HEAD` first when it has one).
    pub async fn ls_remote(&self, url: &RemoteUrl) -> Result<Vec<Ref>, Error> {
        let (mut conn, greeting) = self.connect(url, Service::UploadPack, self.v2).await?;
        let refs = match greeting {
            Greeting::V2(caps) => fetch::ls_refs(&mut conn, &caps, &self.agent, &[]).await?,
            Greeting::V0(adv) => {
                // Tell upload-pack we want nothing.
                conn.end_session().await?;
                adv.refs
            }
        };
        conn.shutdown().await;
        Ok(refs)
    }

    /// Clones `url` into `dir`, which becomes a bare repository (`dir`
    /// must not exist or be empty). Branches and tags keep their names,
    /// `HEAD` points where the remote's does. On error `dir` is left as
    /// it was found.
    pub async fn clone(
        &self,
        url: &RemoteUrl,
        dir: impl Into<PathBuf>,
        options: &FetchOptions,
        progress: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<FetchOutcome, Error> {
        fetch::clone(self, url, dir.into(), options, progress).await
    }

    /// Fetches `url` into the existing repository `dir`: the remote's
    /// branches and tags are copied to the same names (forced, as a
    /// mirror), with `have` negotiation so only missing objects travel.
    pub async fn fetch(
        &self,
        url: &RemoteUrl,
        dir: impl Into<PathBuf>,
        options: &FetchOptions,
        progress: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<FetchOutcome, Error> {
        fetch::fetch(self, url, dir.into(), options, false, progress).await
    }

    /// Pushes `refspecs` from the repository `dir` to `url`.
    /// Non-fast-forward updates are refused unless the refspec is forced;
    /// what the remote says about each ref is in the outcome.
    pub async fn push(
        &self,
        url: &RemoteUrl,
        dir: impl Into<PathBuf>,
        refspecs: &[Refspec],
        options: &PushOptions,
        progress: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<PushOutcome, Error> {
        push::push(self, url, dir.into(), refspecs, options, progress).await
    }

    /// Connects to `service` at `url` over the URL's transport and reads
    /// the greeting. Only this differs between transports.
    async fn connect(
        &self,
        url: &RemoteUrl,
        service: Service,
        v2: bool,
    ) -> Result<(Connection, Greeting), Error> {
        let remote = url.to_string();
        let mut conn = match url.scheme() {
            Scheme::Git => {
                let (Some(host), Some(authority)) = (url.host(), url.authority()) else {
                    return Err(Error::UnsupportedTransport { scheme: url.scheme() });
                };
                let ctx = Context::new()
                    .with(&SCHEME, "git".to_string())
                    .with(&HOST, host.to_string())
                    .with(&PORT, url.port_or_default().unwrap_or(9418));
                let flow = self
                    .resolver
                    .resolve(&ctx)
                    .await
                    .map_err(|source| Error::Connect {
                        remote: remote.clone(),
                        source,
                    })?;
                let mut conn = Connection::new(flow, remote);
                let request = daemon_request(service, url.path(), &authority, v2)?;
                conn.send(&request, "sending the request").await?;
                conn
            }
            Scheme::Ssh => {
                let flow = crate::ssh::open(&self.resolver, self.ssh.as_ref(), url, service, v2).await?;
                Connection::new(flow, remote)
            }
            Scheme::Http | Scheme::Https => {
                let rpc = HttpRpc::open(&self.resolver, &self.http, url, service, v2).await?;
                Connection::http(rpc, remote)
            }
            _ => return Err(Error::UnsupportedTransport { scheme: url.scheme() }),
        };
        let mut parser = GreetingParser::new();
        let mut n = 0;
        let mut http_header = conn.is_stateless();
        loop {
            n += 1;
            let Some(packet) = conn.next("ref advertisement", n).await? else {
                return Err(conn.protocol_error(parser.truncated()));
            };
            // Smart HTTP's v0 answer starts with `# service=...` and a flush.
            if http_header {
                match packet {
                    Packet::Data(line) if line.starts_with(b"# service=") => continue,
                    Packet::Flush if n == 2 => {
                        http_header = false;
                        continue;
                    }
                    _ => http_header = false,
                }
            }
            match parser.push(packet) {
                Ok(Some(greeting)) => return Ok((conn, greeting)),
                Ok(None) => {}
                Err(e) => return Err(conn.protocol_error(e)),
            }
        }
    }
}

/// Runs blocking repository work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await?
}

fn repo_error(path: &std::path::Path) -> impl Fn(gix::Error) -> Error + '_ {
    move |source| Error::Repository {
        path: path.to_path_buf(),
        source,
    }
}
