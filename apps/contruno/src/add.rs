//! What `contruno-add` does: checks a registration, commits it to the
//! routes repository and pushes it (a push that finds the remote moved is
//! retried on the fresh head, never forced), then asks the running proxy
//! to reload.

use std::path::PathBuf;
use std::time::SystemTime;

use bytes::Bytes;
use gitkv::sync::{PushOutcome, Remote};
use gitkv::{Batch, Policy, Signature, Store};
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};

use crate::password::{HashError, PasswordHash};
use crate::routes::{self, PASSWORD_KEY, RouteError, RouteFile};

/// How many times a push that lost a race is retried on the new head.
const PUSH_ATTEMPTS: usize = 5;

/// A registration cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The domain, a backend or the ALPN list is not valid.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The certificate or the key does not load, or does not match.
    #[error("the certificate and key")]
    Certificate(#[source] paf::acme::Error),
    /// The certificate does not name the domain.
    #[error("the certificate is not for {domain} (it names {names:?})")]
    WrongName {
        /// The domain.
        domain: String,
        /// The DNS names the certificate has.
        names: Vec<String>,
    },
    /// The certificate has expired.
    #[error("the certificate of {domain} has expired")]
    Expired {
        /// The domain.
        domain: String,
    },
    /// `--remove` of a domain the repository does not have.
    #[error("{0} is not registered")]
    Unknown(String),
    /// The password does not match the repository's.
    #[error("wrong password (the repository holds another one's hash)")]
    WrongPassword,
    /// The repository's password hash cannot be read.
    #[error("contruno/password")]
    Hash(#[from] HashError),
    /// The repository (local copy, or the remote).
    #[error("the repository")]
    Git(#[from] gitkv::Error),
    /// The remote kept moving.
    #[error("the remote moved {0} times while pushing; try again")]
    Contended(usize),
    /// The work directory.
    #[error("work directory {path}")]
    WorkDir {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The proxy could not be told.
    #[error("notifying {addr}")]
    Notify {
        /// The proxy's admin address.
        addr: String,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The proxy refused the reload.
    #[error("{addr} answered {status}: {body}")]
    Refused {
        /// The proxy's admin address.
        addr: String,
        /// Its status.
        status: StatusCode,
        /// Its answer.
        body: String,
    },
}

/// A domain to register.
#[derive(Clone, Debug, Default)]
pub struct Registration {
    /// The domain (`-h`).
    pub domain: String,
    /// Its backends (`-i`).
    pub backends: Vec<String>,
    /// What they speak (`--alpn`).
    pub alpn: Vec<String>,
    /// Its certificate chain and key (PEM), or `None`: the proxy orders one.
    pub cert: Option<(String, String)>,
}

/// A change to the repository.
#[derive(Clone, Debug)]
pub enum Change {
    /// Add or replace a domain.
    Add(Registration),
    /// Remove a domain (route and certificate).
    Remove(String),
}

impl Change {
    fn domain(&self) -> &str {
        match self {
            Change::Add(r) => &r.domain,
            Change::Remove(d) => d,
        }
    }

    /// Checks everything that can be checked before touching the repository.
    pub fn check(&self, now: SystemTime) -> Result<(), AddError> {
        routes::check_domain(self.domain())?;
        let Change::Add(reg) = self else {
            return Ok(());
        };
        routes::Route::from_file(&reg.domain, &reg.route_file())?;
        if let Some((chain, key)) = &reg.cert {
            let issued =
                paf::acme::Issued::from_pem(chain.clone(), key.clone()).map_err(AddError::Certificate)?;
            if issued.not_after <= now {
                return Err(AddError::Expired {
                    domain: reg.domain.clone(),
                });
            }
            let names = dns_names(chain);
            if !names.iter().any(|n| name_matches(n, &reg.domain)) {
                return Err(AddError::WrongName {
                    domain: reg.domain.clone(),
                    names,
                });
            }
        }
        Ok(())
    }

    fn batch(&self, store: &Store, password: Option<&str>) -> Result<Batch, AddError> {
        let domain = self.domain();
        let mut batch = match self {
            Change::Add(reg) => {
                let json = serde_json::to_vec_pretty(&reg.route_file()).unwrap_or_default();
                let mut batch = Batch::new(format!("contruno-add: {domain} -> {}", reg.backends.join(", ")))
                    .set(routes::route_key(domain), json);
                if let Some((chain, key)) = &reg.cert {
                    batch = batch
                        .set(routes::chain_key(domain), chain.clone())
                        .set(routes::key_key(domain), key.clone());
                }
                batch
            }
            Change::Remove(_) => {
                let keys = store.list(&routes::domain_dir(domain))?;
                if keys.is_empty() {
                    return Err(AddError::Unknown(domain.to_string()));
                }
                keys.into_iter().fold(
                    Batch::new(format!("contruno-add: remove {domain}")),
                    Batch::remove,
                )
            }
        };
        if let Some(password) = password {
            match store.get(PASSWORD_KEY)? {
                Some(text) => {
                    let hash = PasswordHash::parse(&String::from_utf8_lossy(&text))?;
                    if !hash.verify(password) {
                        return Err(AddError::WrongPassword);
                    }
                }
                // The first registration with a password sets it.
                None => batch = batch.set(PASSWORD_KEY, PasswordHash::new(password)?.to_string()),
            }
        }
        Ok(batch)
    }
}

impl Registration {
    fn route_file(&self) -> RouteFile {
        RouteFile {
            backends: self.backends.clone(),
            alpn: self.alpn.clone(),
            timeout_secs: None,
        }
    }
}

/// Whether a certificate's DNS name `pattern` (maybe `*.x`) covers `domain`.
fn name_matches(pattern: &str, domain: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => domain
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == domain,
    }
}

/// The DNS names of the chain's leaf (its subject alternative names).
fn dns_names(chain_pem: &str) -> Vec<String> {
    let Some(Ok(leaf)) = rustls_pki_types::CertificateDer::pem_slice_iter(chain_pem.as_bytes()).next() else {
        return Vec::new();
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

use rustls_pki_types::pem::PemObject;

/// A throwaway local copy of the remote, removed on drop.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn work_dir() -> Result<WorkDir, AddError> {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let path = std::env::temp_dir().join(format!("contruno-add-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|source| AddError::WorkDir {
        path: path.clone(),
        source,
    })?;
    Ok(WorkDir(path))
}

async fn open_copy(remote: &Remote, branch: &str, author: &Signature) -> Result<(WorkDir, Store), AddError> {
    let dir = work_dir()?;
    let path = dir.0.join("routes.git");
    let branch = branch.to_string();
    let author = author.clone();
    let store =
        tokio::task::spawn_blocking(move || Store::builder(path).branch(branch).committer(author).open())
            .await
            .map_err(|e| AddError::WorkDir {
                path: dir.0.clone(),
                source: std::io::Error::other(e),
            })??;
    store.pull(remote, Policy::Theirs).await?;
    Ok((dir, store))
}

/// Commits `change` to the remote's branch and pushes it; a push that
/// finds the remote moved pulls and tries again on its new head. Returns
/// the commit pushed.
pub async fn apply(
    remote: &Remote,
    branch: &str,
    change: &Change,
    password: Option<&str>,
    author: &Signature,
) -> Result<gitkv::ObjectId, AddError> {
    change.check(SystemTime::now())?;
    let (_dir, store) = open_copy(remote, branch, author).await?;
    for _ in 0..PUSH_ATTEMPTS {
        let batch = change.batch(&store, password)?.author(author.clone());
        let committed = {
            let theirs = store.clone();
            tokio::task::spawn_blocking(move || theirs.commit(batch))
                .await
                .map_err(|e| AddError::WorkDir {
                    path: store.path().to_path_buf(),
                    source: std::io::Error::other(e),
                })??
        };
        match store.push(remote).await {
            Ok(PushOutcome::Pushed(_) | PushOutcome::UpToDate) => return Ok(committed.commit),
            Ok(_) => return Ok(committed.commit),
            Err(error) => {
                tracing::info!(target: "contruno::add", error = %crate::error_chain(&error), "push refused; pulling and trying again");
                store.pull(remote, Policy::Theirs).await?;
            }
        }
    }
    Err(AddError::Contended(PUSH_ATTEMPTS))
}

/// One registered domain, as `--list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The domain.
    pub domain: String,
    /// Its backends.
    pub backends: Vec<String>,
    /// When its certificate expires, if it has one.
    pub not_after: Option<SystemTime>,
}

/// Every domain of the remote's branch.
pub async fn list(remote: &Remote, branch: &str, author: &Signature) -> Result<Vec<Listed>, AddError> {
    let (_dir, store) = open_copy(remote, branch, author).await?;
    let mut out = Vec::new();
    for domain in routes::domain_names(&store.snapshot())? {
        let Some(json) = store.get(&routes::route_key(&domain))? else {
            continue;
        };
        let backends = serde_json::from_slice::<RouteFile>(&json)
            .map(|f| f.backends)
            .unwrap_or_default();
        let not_after = match (
            store.get(&routes::chain_key(&domain))?,
            store.get(&routes::key_key(&domain))?,
        ) {
            (Some(chain), Some(key)) => paf::acme::Issued::from_pem(
                String::from_utf8_lossy(&chain).into_owned(),
                String::from_utf8_lossy(&key).into_owned(),
            )
            .ok()
            .map(|i| i.not_after),
            _ => None,
        };
        out.push(Listed {
            domain,
            backends,
            not_after,
        });
    }
    Ok(out)
}

/// Asks the proxy at `addr` (its admin listener, `host:port`) to reload;
/// returns its report (JSON).
pub async fn notify(addr: &str, password: &str) -> Result<String, AddError> {
    let fail = |source: Box<dyn std::error::Error + Send + Sync>| AddError::Notify {
        addr: addr.to_string(),
        source,
    };
    let client = paf::Client::builder().build().map_err(|e| fail(Box::new(e)))?;
    let req = Request::post(format!("http://{addr}{}", crate::RELOAD_PATH))
        .header(header::AUTHORIZATION, format!("Bearer {password}"))
        .body(Empty::<Bytes>::new())
        .map_err(|e| fail(Box::new(e)))?;
    let res = client.request(req).await.map_err(|e| fail(Box::new(e)))?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(Box::new(e)))?
        .to_bytes();
    let body = String::from_utf8_lossy(&body).trim().to_string();
    if status != StatusCode::OK {
        return Err(AddError::Refused {
            addr: addr.to_string(),
            status,
            body,
        });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_names() {
        assert!(name_matches("a.test", "a.test"));
        assert!(name_matches("*.test", "a.test"));
        assert!(!name_matches("*.test", "a.b.test"));
        assert!(!name_matches("*.a.test", "a.test"));
        assert!(!name_matches("b.test", "a.test"));
    }

    #[test]
    fn checks_before_anything_is_written() {
        let now = SystemTime::now();
        let bad_domain = Change::Add(Registration {
            domain: "Bad_Name".into(),
            backends: vec!["127.0.0.1:1".into()],
            ..Registration::default()
        });
        assert!(matches!(bad_domain.check(now), Err(AddError::Route(_))));
        let no_backend = Change::Add(Registration {
            domain: "a.test".into(),
            ..Registration::default()
        });
        assert!(matches!(no_backend.check(now), Err(AddError::Route(_))));
        let garbage_cert = Change::Add(Registration {
            domain: "a.test".into(),
            backends: vec!["127.0.0.1:1".into()],
            cert: Some(("not pem".into(), "not pem".into())),
            ..Registration::default()
        });
        assert!(matches!(garbage_cert.check(now), Err(AddError::Certificate(_))));
    }
}
