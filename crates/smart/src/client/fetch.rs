//! ls-refs, clone and fetch (protocol v2).

use std::collections::HashSet;
use std::path::PathBuf;

use gix::ObjectId;

use super::{Client, FetchOptions, FetchOutcome, Progress, RefUpdate, blocking, repo_error};
use crate::connection::Connection;
use crate::local::pack_in::{PackSink, Written};
use crate::local::repo;
use crate::proto::fetch_v0::{V0FetchRequest, V0ResponseParser};
use crate::proto::{
    Capabilities, FetchEvent, FetchRequest, FetchResponseParser, Greeting, LsRefsParser, LsRefsRequest,
    Negotiator, ProtocolError, Ref, Service,
};
use crate::{Error, RemoteUrl};

/// How many local commits to offer as `have`s at most.
const MAX_CANDIDATES: usize = 4096;

/// How many `have`s a v0 request sends (all in one go, before `done`).
const MAX_V0_HAVES: usize = 1024;

pub(super) async fn ls_refs(
    conn: &mut Connection,
    caps: &Capabilities,
    agent: &str,
    prefixes: &[String],
) -> Result<Vec<Ref>, Error> {
    if !caps.contains("ls-refs") {
        return Err(Error::Unsupported {
            remote: conn.remote().to_string(),
            feature: "ls-refs",
        });
    }
    let request = LsRefsRequest {
        prefixes: prefixes.to_vec(),
        unborn: true,
    }
    .encode(caps, agent)
    .map_err(|_| Error::RequestTooLong {
        path: prefixes.join(" "),
    })?;
    conn.send(&request, "sending ls-refs").await?;
    let mut parser = LsRefsParser::new();
    let mut n = 0;
    loop {
        n += 1;
        let Some(packet) = conn.next("ls-refs response", n).await? else {
            return Err(conn.protocol_error(parser.truncated()));
        };
        match parser.push(packet) {
            Ok(Some(refs)) => return Ok(refs),
            Ok(None) => {}
            Err(e) => return Err(conn.protocol_error(e)),
        }
    }
}

pub(super) async fn clone(
    client: &Client,
    url: &RemoteUrl,
    dir: PathBuf,
    options: &FetchOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<FetchOutcome, Error> {
    let existed = match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::DestinationExists { path: dir });
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(source) => return Err(Error::LocalIo { path: dir, source }),
    };
    let init_dir = dir.clone();
    blocking(move || {
        gix::init_bare(&init_dir).map_err(repo_error(&init_dir))?;
        Ok(())
    })
    .await?;
    let result = fetch(client, url, dir.clone(), options, true, progress).await;
    if result.is_err() {
        // Leave the destination as it was found.
        let _ = std::fs::remove_dir_all(&dir);
        if existed {
            let _ = std::fs::create_dir(&dir);
        }
    }
    result
}

pub(super) async fn fetch(
    client: &Client,
    url: &RemoteUrl,
    dir: PathBuf,
    options: &FetchOptions,
    is_clone: bool,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<FetchOutcome, Error> {
    // Open the repository first: a wrong path fails before any network use.
    let open_dir = dir.clone();
    let (local_refs, shallow, git_dir) = blocking(move || {
        let repo = repo::open(&open_dir).map_err(repo_error(&open_dir))?;
        let refs = repo::refs(&repo).map_err(repo_error(&open_dir))?;
        let shallow = repo::shallow(&repo).map_err(repo_error(&open_dir))?;
        Ok((refs, shallow, repo.git_dir().to_path_buf()))
    })
    .await?;

    let (mut conn, greeting) = client.connect(url, Service::UploadPack, client.v2).await?;
    let branch = options.branch.as_deref().or(url.branch());
    let (caps, remote_refs, v2) = match greeting {
        Greeting::V2(caps) => {
            let prefixes = match branch {
                Some(branch) => vec!["HEAD".to_string(), format!("refs/heads/{branch}")],
                None => vec![
                    "HEAD".to_string(),
                    "refs/heads/".to_string(),
                    "refs/tags/".to_string(),
                ],
            };
            let refs = ls_refs(&mut conn, &caps, &client.agent, &prefixes).await?;
            (caps, refs, true)
        }
        Greeting::V0(adv) => (adv.capabilities, adv.refs, false),
    };
    // ref-prefix is a hint a server may ignore: filter again.
    let selected: Vec<(String, ObjectId)> = remote_refs
        .iter()
        .filter(|r| match branch {
            Some(branch) => r.name.strip_prefix("refs/heads/") == Some(branch),
            None => r.name.starts_with("refs/heads/") || r.name.starts_with("refs/tags/"),
        })
        .filter_map(|r| Some((r.name.clone(), r.target?)))
        .collect();

    // What we lack.
    let check_dir = git_dir.clone();
    let targets: Vec<ObjectId> = selected.iter().map(|(_, id)| *id).collect();
    // With a depth, tips we have are wanted too: the server may deepen them.
    let deepen = options.depth.is_some();
    let (wants, candidates) = blocking(move || {
        let repo = repo::open(&check_dir).map_err(repo_error(&check_dir))?;
        let mut seen = HashSet::new();
        let wants: Vec<ObjectId> = targets
            .into_iter()
            .filter(|id| seen.insert(*id) && (deepen || !repo.has_object(id)))
            .collect();
        let candidates = if wants.is_empty() {
            Vec::new()
        } else {
            repo::candidates(&repo, MAX_CANDIDATES).map_err(repo_error(&check_dir))?
        };
        Ok((wants, candidates))
    })
    .await?;

    let mut outcome = FetchOutcome {
        remote_refs: remote_refs.clone(),
        ..Default::default()
    };
    let mut shallow_add = Vec::new();
    let mut shallow_remove = Vec::new();
    let mut written: Option<Written> = None;
    if wants.is_empty() && !v2 {
        // Tell upload-pack we want nothing.
        conn.end_session().await?;
    }
    if !wants.is_empty() {
        let mut received = Received::new(&git_dir, !is_clone, progress);
        let result = if v2 {
            let request = FetchRequest {
                wants: wants.clone(),
                haves: Vec::new(),
                done: false,
                shallow,
                depth: options.depth,
                include_tag: false,
                thin_pack: !is_clone,
                no_progress: false,
            };
            if let Some(feature) = request.unsupported(&caps) {
                return Err(Error::Unsupported {
                    remote: conn.remote().to_string(),
                    feature,
                });
            }
            negotiate_and_receive(
                &mut conn,
                &caps,
                &client.agent,
                request,
                Negotiator::new(candidates),
                &mut received,
            )
            .await
        } else {
            let request = V0FetchRequest {
                wants: wants.clone(),
                haves: candidates.into_iter().take(MAX_V0_HAVES).collect(),
                shallow,
                depth: options.depth,
                thin_pack: !is_clone,
            };
            if let Some(feature) = request.unsupported(&caps) {
                return Err(Error::Unsupported {
                    remote: conn.remote().to_string(),
                    feature,
                });
            }
            receive_v0(&mut conn, &caps, &client.agent, request, &mut received).await
        };
        let Received {
            sink,
            shallow_add: added,
            shallow_remove: removed,
            ..
        } = received;
        (shallow_add, shallow_remove) = (added, removed);
        let finished = match sink {
            Some(sink) => {
                outcome.pack_bytes = sink.bytes;
                outcome.objects = sink.announced_objects();
                Some(sink.finish().await)
            }
            None => None,
        };
        result?;
        written = match finished {
            None => None,
            Some(Err(join)) => return Err(join.into()),
            Some(Ok(Err(source))) => {
                return Err(Error::InvalidPack {
                    remote: conn.remote().to_string(),
                    source,
                });
            }
            Some(Ok(Ok(written))) => Some(written),
        };
    }
    conn.shutdown().await;

    // The pack is in place and indexed: check it has what the refs need, then move them.
    let remote = conn.remote().to_string();
    let head_target = remote_refs
        .iter()
        .find(|r| r.name == "HEAD")
        .and_then(|r| r.symref_target.clone())
        .filter(|t| selected.iter().any(|(name, _)| name == t) || branch.is_none())
        .or_else(|| branch.map(|b| format!("refs/heads/{b}")));
    let keep = written.and_then(|w| w.keep_path);
    let updated = blocking(move || {
        let repo = repo::open(&git_dir).map_err(repo_error(&git_dir))?;
        for (name, id) in &selected {
            if !repo.has_object(id) {
                return Err(Error::MissingObject {
                    remote,
                    id: *id,
                    name: name.clone(),
                });
            }
        }
        if !shallow_add.is_empty() || !shallow_remove.is_empty() {
            repo::write_shallow(&repo, &shallow_add, &shallow_remove).map_err(|source| Error::LocalIo {
                path: repo.git_dir().join("shallow"),
                source,
            })?;
        }
        let mut updates = Vec::new();
        let mut edits = Vec::new();
        for (name, id) in selected {
            let old = local_refs.iter().find(|(n, _)| *n == name).map(|(_, id)| *id);
            if old != Some(id) {
                edits.push((name.clone(), Some(id)));
                updates.push(RefUpdate { name, old, new: id });
            }
        }
        let message = if is_clone { "clone" } else { "fetch" };
        repo::update_refs(&repo, &edits, message).map_err(repo_error(&git_dir))?;
        if is_clone && let Some(target) = head_target {
            repo::set_head(&repo, &target).map_err(repo_error(&git_dir))?;
        }
        if let Some(keep) = keep {
            let _ = std::fs::remove_file(keep);
        }
        Ok(updates)
    })
    .await?;
    outcome.updated = updated;
    Ok(outcome)
}

/// What a fetch response leaves behind, whatever the protocol version: the
/// pack being indexed and the changes to the shallow boundary.
struct Received<'a> {
    git_dir: &'a std::path::Path,
    thin_pack: bool,
    sink: Option<PackSink>,
    shallow_add: Vec<ObjectId>,
    shallow_remove: Vec<ObjectId>,
    progress: &'a mut (dyn FnMut(Progress<'_>) + Send),
}

impl<'a> Received<'a> {
    fn new(
        git_dir: &'a std::path::Path,
        thin_pack: bool,
        progress: &'a mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Self {
        Self {
            git_dir,
            thin_pack,
            sink: None,
            shallow_add: Vec::new(),
            shallow_remove: Vec::new(),
            progress,
        }
    }

    /// Takes the events both protocol versions send (shallow lines,
    /// progress, pack data); others are the caller's. `false` when the
    /// indexer stopped: the pack is bad, and its error says why.
    async fn take(&mut self, event: FetchEvent<'_>) -> bool {
        match event {
            FetchEvent::Shallow(id) => self.shallow_add.push(id),
            FetchEvent::Unshallow(id) => self.shallow_remove.push(id),
            FetchEvent::Progress(text) => (self.progress)(Progress::Remote(text)),
            FetchEvent::PackData(data) => {
                let (git_dir, thin_pack) = (self.git_dir, self.thin_pack);
                let sink = self
                    .sink
                    .get_or_insert_with(|| PackSink::start(git_dir.to_path_buf(), thin_pack));
                if !sink.write(data).await {
                    return false;
                }
                (self.progress)(Progress::Received(sink.bytes));
            }
            _ => {}
        }
        true
    }
}

async fn negotiate_and_receive(
    conn: &mut Connection,
    caps: &Capabilities,
    agent: &str,
    mut request: FetchRequest,
    mut negotiator: Negotiator,
    received: &mut Received<'_>,
) -> Result<(), Error> {
    loop {
        let round = negotiator.next_round();
        request.haves = round.haves;
        request.done = round.done;
        let bytes = request.encode(caps, agent).map_err(|_| Error::RequestTooLong {
            path: "fetch request".into(),
        })?;
        conn.send(&bytes, "sending the fetch request").await?;
        let mut parser = FetchResponseParser::new();
        let mut n = 0;
        loop {
            n += 1;
            let Some(packet) = conn.next("fetch response", n).await? else {
                return Err(conn.protocol_error(parser.truncated()));
            };
            let event = match parser.push(packet) {
                Ok(event) => event,
                Err(e) => return Err(conn.protocol_error(e)),
            };
            match event {
                FetchEvent::Ack(id) => negotiator.ack(id),
                FetchEvent::Ready => negotiator.ready(),
                FetchEvent::RoundEnd if request.done => {
                    return Err(conn.protocol_error(ProtocolError::Unexpected {
                        context: "fetch response",
                        packet: n,
                        expected: "a packfile after `done`",
                        got: "flush".into(),
                    }));
                }
                FetchEvent::RoundEnd => break,
                FetchEvent::End => return Ok(()),
                other => {
                    if !received.take(other).await {
                        return Ok(());
                    }
                }
            }
        }
    }
}

async fn receive_v0(
    conn: &mut Connection,
    caps: &Capabilities,
    agent: &str,
    request: V0FetchRequest,
    received: &mut Received<'_>,
) -> Result<(), Error> {
    let bytes = request.encode(caps, agent).map_err(|_| Error::RequestTooLong {
        path: "fetch request".into(),
    })?;
    conn.send(&bytes, "sending the fetch request").await?;
    let mut parser = V0ResponseParser::new(request.expects_shallow_update());
    let mut n = 0;
    loop {
        n += 1;
        let Some(packet) = conn.next("v0 fetch response", n).await? else {
            return Err(conn.protocol_error(parser.truncated()));
        };
        let event = match parser.push(packet) {
            Ok(event) => event,
            Err(e) => return Err(conn.protocol_error(e)),
        };
        match event {
            FetchEvent::End => return Ok(()),
            other => {
                if !received.take(other).await {
                    return Ok(());
                }
            }
        }
    }
}
