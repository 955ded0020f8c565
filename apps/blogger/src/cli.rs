//! The flags of `blogger` (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A static blog generator.
#[derive(Debug, Parser)]
#[command(name = "blogger", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Builds the blog into a directory (incrementally: only what changed).
    Build(BuildArgs),
    /// Builds, then commits the site on a branch of a remote (only when
    /// something changed) and pushes it.
    Push(Box<PushArgs>),
    /// Serves a site from a branch of a remote, straight from its Git
    /// objects; fetches it again periodically or on the refresh hook.
    Serve(Box<ServeArgs>),
    /// Builds, serves the site locally and builds again on every change;
    /// open pages reload themselves.
    Watch(WatchArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    pub(crate) build: BuildArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) listen: std::net::IpAddr,
    /// The port.
    #[arg(long, short = 'p', default_value_t = 8000)]
    pub(crate) port: u16,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) remote: RemoteArgs,
    /// The branch (default: the URL's `#branch`, or gh-pages).
    #[arg(long, short = 'b')]
    pub(crate) branch: Option<String>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) listen: std::net::IpAddr,
    /// The port.
    #[arg(long, short = 'p', default_value_t = 8080)]
    pub(crate) port: u16,
    /// The local bare repository that mirrors the branch.
    #[arg(long, default_value = ".blogger/serve.git")]
    pub(crate) repository: PathBuf,
    /// Seconds between fetches of the branch (0: only by the hook).
    #[arg(long, default_value_t = 300)]
    pub(crate) refresh: u64,
    /// The secret of `POST /.well-known/blogger/refresh` (header
    /// `X-Blogger-Secret` or `?secret=`); no hook without it.
    #[arg(long, env = "BLOGGER_HOOK", hide_env_values = true)]
    pub(crate) hook: Option<String>,
    /// Redirects requests for missing files to this URL (plus the path)
    /// instead of answering 404.
    #[arg(long)]
    pub(crate) default: Option<String>,
}

impl ServeArgs {
    pub(crate) fn config(&self) -> Result<blogger::ServeConfig, CliError> {
        let url = self.remote.url()?;
        let branch = self
            .branch
            .clone()
            .or_else(|| url.branch().map(str::to_string))
            .unwrap_or_else(|| "gh-pages".to_string());
        Ok(blogger::ServeConfig {
            remote: self.remote.remote(&branch)?,
            branch,
            repository: self.repository.clone(),
            listen: std::net::SocketAddr::new(self.listen, self.port),
            refresh_every: (self.refresh > 0).then(|| std::time::Duration::from_secs(self.refresh)),
            hook: self.hook.clone(),
            default_url: self.default.clone(),
        })
    }
}

/// How to reach a remote.
#[derive(Debug, clap::Args)]
pub(crate) struct RemoteArgs {
    /// The remote: git://, ssh://, user@host:path, http(s)://, with an
    /// optional `#branch`.
    #[arg(long, short = 'r')]
    pub(crate) remote: String,
    /// SSH remotes: the private key (OpenSSH format).
    #[arg(long, value_name = "FILE")]
    pub(crate) ssh_key: Option<PathBuf>,
    /// SSH remotes: the server's host key fingerprint (`SHA256:...`, as
    /// `ssh-keygen -lf` prints it).
    #[arg(long, value_name = "FINGERPRINT", conflicts_with = "ssh_known_hosts")]
    pub(crate) ssh_auth: Option<String>,
    /// SSH remotes: a known_hosts file instead of --ssh-auth.
    #[arg(long, value_name = "FILE")]
    pub(crate) ssh_known_hosts: Option<PathBuf>,
    /// HTTP(S) remotes: basic authentication's user.
    #[arg(long, env = "BLOGGER_REMOTE_USER")]
    pub(crate) remote_user: Option<String>,
    /// HTTP(S) remotes: basic authentication's password.
    #[arg(long, env = "BLOGGER_REMOTE_PASSWORD", hide_env_values = true)]
    pub(crate) remote_password: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PushArgs {
    #[command(flatten)]
    pub(crate) build: BuildArgs,
    #[command(flatten)]
    pub(crate) remote: RemoteArgs,
    /// The branch of the remote (the URL's `#branch` must agree).
    #[arg(long, short = 'b', default_value = "gh-pages")]
    pub(crate) branch: String,
    /// The commit's author.
    #[arg(long)]
    pub(crate) author: String,
    /// The author's email.
    #[arg(long)]
    pub(crate) email: String,
    /// The commit's message.
    #[arg(long, short = 'm', default_value = "Site built by blogger")]
    pub(crate) message: String,
    /// The local bare repository that mirrors the branch (default:
    /// `.blogger/push.git` in the blog's directory).
    #[arg(long)]
    pub(crate) repository: Option<PathBuf>,
}

/// Flags that do not make a valid push.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("--remote {url}")]
    Remote {
        url: String,
        #[source]
        source: smart::UrlError,
    },
    #[error("--remote says branch {url_branch:?}, --branch says {branch:?}")]
    Branch { url_branch: String, branch: String },
    #[error("--author and --email")]
    Signature(#[source] gitkv::Error),
    #[error("--ssh-key {}", path.display())]
    SshKey {
        path: PathBuf,
        #[source]
        source: smart::ssh::KeyError,
    },
    #[error("an SSH remote needs --ssh-key FILE")]
    SshKeyMissing,
    #[error("an SSH remote needs the server's key: --ssh-auth SHA256:... or --ssh-known-hosts FILE")]
    SshHostKeyMissing,
}

impl RemoteArgs {
    fn url(&self) -> Result<smart::RemoteUrl, CliError> {
        smart::RemoteUrl::parse(&self.remote).map_err(|source| CliError::Remote {
            url: self.remote.clone(),
            source,
        })
    }

    /// The remote, whose branch must be `branch` when its URL names one.
    pub(crate) fn remote(&self, branch: &str) -> Result<gitkv::sync::Remote, CliError> {
        use smart::{Client, HostKeyPolicy, HttpAuth, HttpOptions, Scheme, SshKey, SshOptions};
        let url = self.url()?;
        if let Some(url_branch) = url.branch()
            && url_branch != branch
        {
            return Err(CliError::Branch {
                url_branch: url_branch.to_string(),
                branch: branch.to_string(),
            });
        }
        let mut client = Client::new(mimic::Resolver::new());
        match url.scheme() {
            Scheme::Ssh => {
                let path = self.ssh_key.as_ref().ok_or(CliError::SshKeyMissing)?;
                let key = SshKey::from_file(path, None).map_err(|source| CliError::SshKey {
                    path: path.clone(),
                    source,
                })?;
                let host_key = match (&self.ssh_auth, &self.ssh_known_hosts) {
                    (Some(fingerprint), _) => HostKeyPolicy::Fingerprint(fingerprint.clone()),
                    (None, Some(path)) => HostKeyPolicy::KnownHosts(path.clone()),
                    (None, None) => return Err(CliError::SshHostKeyMissing),
                };
                client = client.with_ssh(SshOptions::new(key, host_key));
            }
            Scheme::Http | Scheme::Https => {
                let auth = self.remote_user.as_ref().map(|user| HttpAuth::Basic {
                    user: user.clone(),
                    password: self.remote_password.clone().unwrap_or_default(),
                });
                client = client.with_http(HttpOptions {
                    auth,
                    tls_roots: None,
                });
            }
            _ => {}
        }
        Ok(gitkv::sync::Remote::new("origin", url).with_client(client))
    }
}

impl PushArgs {
    pub(crate) fn remote(&self) -> Result<gitkv::sync::Remote, CliError> {
        self.remote.remote(&self.branch)
    }

    pub(crate) fn options(&self, site: PathBuf) -> Result<blogger::PushOptions, CliError> {
        let author = gitkv::Signature::new(&self.author, &self.email).map_err(CliError::Signature)?;
        Ok(blogger::PushOptions {
            site,
            repository: self
                .repository
                .clone()
                .unwrap_or_else(|| self.build.source.join(".blogger/push.git")),
            branch: self.branch.clone(),
            author,
            message: self.message.clone(),
        })
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// The blog's directory.
    #[arg(long, short = 's', default_value = ".")]
    pub(crate) source: PathBuf,
    /// Where to write the site (default: `_site` in the blog's directory).
    #[arg(long, short = 'o')]
    pub(crate) output: Option<PathBuf>,
    /// Where the site is served: `https://example.org/blog/` or `/blog/`
    /// (replaces `base_url` of blogger.toml).
    #[arg(long)]
    pub(crate) base_url: Option<String>,
    /// Includes the articles marked `draft: true`.
    #[arg(long)]
    pub(crate) drafts: bool,
    /// Fails on links inside the site that point to no page of it.
    #[arg(long)]
    pub(crate) check_links: bool,
}

impl BuildArgs {
    pub(crate) fn options(&self) -> blogger::BuildOptions {
        let output = self.output.clone().unwrap_or_else(|| self.source.join("_site"));
        let mut options = blogger::BuildOptions::new(&self.source, output);
        options.base_url = self.base_url.clone();
        options.drafts = self.drafts;
        options.check_links = self.check_links;
        options
    }
}
