//! push over receive-pack (protocol v0: receive-pack has no v2).

use std::path::PathBuf;

use bytes::Bytes;
use gix::ObjectId;
use tokio::sync::mpsc;

use super::{
    Client, Progress, PushOptions, PushOutcome, PushStatus, PushedRef, Refspec, blocking, repo_error,
};
use crate::connection::Connection;
use crate::local::{pack_out, repo};
use crate::proto::push::{
    Command, ReportEvent, ReportStatus, ReportStatusParser, SidebandReport, encode_commands,
};
use crate::proto::{Greeting, Service};
use crate::{Error, RemoteUrl};

/// A refspec resolved against both sides.
struct Planned {
    name: String,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    status: Option<PushStatus>,
}

pub(super) async fn push(
    client: &Client,
    url: &RemoteUrl,
    dir: PathBuf,
    refspecs: &[Refspec],
    options: &PushOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<PushOutcome, Error> {
    // Resolve the sources before connecting: a typo fails without network use.
    let specs = refspecs.to_vec();
    let open_dir = dir.clone();
    let sources = blocking(move || {
        let repo = repo::open(&open_dir).map_err(repo_error(&open_dir))?;
        specs
            .iter()
            .map(|spec| resolve(&repo, spec))
            .collect::<Result<Vec<_>, Error>>()
    })
    .await?;

    let (mut conn, greeting) = client.connect(url, Service::ReceivePack, false).await?;
    let Greeting::V0(adv) = greeting else {
        return Err(Error::Unsupported {
            remote: conn.remote().to_string(),
            feature: "receive-pack over protocol v0 (it answered v2)",
        });
    };
    let caps = &adv.capabilities;
    // The closure must not borrow `conn` (not `Sync`): it lives across
    // awaits, and a borrow would make the push future not `Send`.
    let remote_name = conn.remote().to_string();
    let unsupported = |feature| Error::Unsupported {
        remote: remote_name.clone(),
        feature,
    };
    if !caps.contains("report-status") {
        return Err(unsupported("report-status"));
    }
    if options.atomic && !caps.contains("atomic") {
        return Err(unsupported("atomic"));
    }

    // Plan each ref: up to date, refused (non-fast-forward), or a command.
    let remote_value = |name: &str| adv.refs.iter().find(|r| r.name == name).and_then(|r| r.target);
    let mut planned: Vec<Planned> = sources
        .iter()
        .map(|(dst, new)| Planned {
            name: dst.clone(),
            old: remote_value(dst),
            new: *new,
            status: None,
        })
        .collect();
    let checks: Vec<(usize, ObjectId, ObjectId)> = planned
        .iter()
        .enumerate()
        .filter(|(i, p)| !refspecs[*i].force && p.old.is_some() && p.new.is_some() && p.old != p.new)
        .filter_map(|(i, p)| Some((i, p.old?, p.new?)))
        .collect();
    let check_dir = dir.clone();
    let fast_forward: Vec<(usize, bool)> = blocking(move || {
        let repo = repo::open(&check_dir).map_err(repo_error(&check_dir))?;
        checks
            .into_iter()
            .map(|(i, old, new)| {
                let ff = repo.has_object(old)
                    && repo::is_ancestor(&repo, old, new).map_err(repo_error(&check_dir))?;
                Ok((i, ff))
            })
            .collect()
    })
    .await?;
    for (i, ff) in fast_forward {
        if !ff {
            planned[i].status = Some(PushStatus::RejectedNonFastForward);
        }
    }
    for p in &mut planned {
        if p.status.is_none() && p.old == p.new {
            p.status = Some(PushStatus::UpToDate);
        }
    }
    let null = ObjectId::null(gix::hash::Kind::Sha1);
    let commands: Vec<Command> = planned
        .iter()
        .filter(|p| p.status.is_none())
        .map(|p| Command {
            old: p.old.unwrap_or(null),
            new: p.new.unwrap_or(null),
            name: p.name.clone(),
        })
        .collect();
    let mut outcome = PushOutcome::default();
    if commands.is_empty() {
        conn.end_session().await?;
        conn.shutdown().await;
        outcome.refs = finish(planned, None);
        return Ok(outcome);
    }
    if commands.iter().any(Command::is_delete) && !caps.contains("delete-refs") {
        return Err(unsupported("delete-refs"));
    }

    let sideband = caps.contains("side-band-64k");
    let mut wanted = vec!["report-status"];
    for (cap, on) in [
        ("side-band-64k", sideband),
        ("atomic", options.atomic),
        ("ofs-delta", caps.contains("ofs-delta")),
    ] {
        if on {
            wanted.push(cap);
        }
    }
    let agent = format!("agent={}", client.agent);
    wanted.push(&agent);
    let bytes = encode_commands(&commands, &wanted).map_err(|_| Error::RequestTooLong {
        path: "push commands".into(),
    })?;
    conn.send(&bytes, "sending the update commands").await?;

    if commands.iter().any(|c| !c.is_delete()) {
        let tips: Vec<ObjectId> = commands
            .iter()
            .filter(|c| !c.is_delete())
            .map(|c| c.new)
            .collect();
        let known: Vec<ObjectId> = adv
            .refs
            .iter()
            .filter_map(|r| r.target)
            .chain(adv.haves.iter().copied())
            .collect();
        outcome.objects = send_pack(&mut conn, dir, tips, known, progress).await?;
    }

    let report = read_report(&mut conn, sideband, progress).await?;
    conn.shutdown().await;
    if let Err(reason) = report.unpack {
        return Err(Error::Unpack {
            remote: conn.remote().to_string(),
            reason,
        });
    }
    outcome.refs = finish(planned, Some(&report));
    Ok(outcome)
}

/// The destination's full name and the value to push (`None` deletes).
fn resolve(repo: &gix::Repository, spec: &Refspec) -> Result<(String, Option<ObjectId>), Error> {
    let Some(src) = &spec.src else {
        return Ok((spec.dst.clone(), None));
    };
    let unknown = || Error::UnknownSource { name: src.clone() };
    let (full, id) = match repo.try_find_reference(src.as_str()) {
        Ok(Some(mut r)) => {
            let full = r.name().as_bstr().to_string();
            // Push what the ref points to: an annotated tag stays a tag
            // object. A symbolic ref (`HEAD`) pushes what it resolves to.
            let id = match r.target().try_id() {
                Some(id) => id.to_owned(),
                None => r.peel_to_id().map_err(|_| unknown())?.detach(),
            };
            (Some(full), id)
        }
        _ => match ObjectId::from_hex(src.as_bytes()) {
            Ok(id) if repo.has_object(id) => (None, id),
            _ => return Err(unknown()),
        },
    };
    let dst = if spec.dst.starts_with("refs/") {
        spec.dst.clone()
    } else {
        let namespace = match &full {
            Some(full) if full.starts_with("refs/tags/") => "refs/tags/",
            _ => "refs/heads/",
        };
        // `main` alone means the same name as the source.
        if spec.src.as_deref() == Some(spec.dst.as_str())
            && let Some(full) = &full
        {
            full.clone()
        } else {
            format!("{namespace}{}", spec.dst)
        }
    };
    Ok((dst, Some(id)))
}

async fn send_pack(
    conn: &mut Connection,
    dir: PathBuf,
    tips: Vec<ObjectId>,
    known: Vec<ObjectId>,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<u32, Error> {
    // A few chunks in flight are enough to keep the connection busy.
    let (tx, mut rx) = mpsc::channel::<Bytes>(8);
    let task = tokio::task::spawn_blocking(move || -> Result<u32, Error> {
        let repo = repo::open(&dir).map_err(repo_error(&dir))?;
        let ids =
            pack_out::objects_to_send(&repo, &tips, &known).map_err(|source| Error::BuildPack { source })?;
        pack_out::write_pack(&repo, ids, tx).map_err(|source| Error::BuildPack { source })
    });
    let mut sent = 0u64;
    let mut send_error = None;
    while let Some(chunk) = rx.recv().await {
        if let Err(e) = conn.send(&chunk, "sending the pack").await {
            send_error = Some(e);
            break;
        }
        sent += chunk.len() as u64;
        progress(Progress::Sent(sent));
    }
    drop(rx);
    let objects = task.await??;
    match send_error {
        Some(e) => Err(e),
        None => Ok(objects),
    }
}

async fn read_report(
    conn: &mut Connection,
    sideband: bool,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<ReportStatus, Error> {
    let mut n = 0;
    if sideband {
        let mut collector = SidebandReport::new();
        loop {
            n += 1;
            let Some(packet) = conn.next("side-band report-status", n).await? else {
                return Err(conn.protocol_error(collector.truncated()));
            };
            match collector.push(packet) {
                Ok(ReportEvent::Done(report)) => return Ok(report),
                Ok(ReportEvent::Progress(text)) => progress(Progress::Remote(text)),
                Ok(_) => {}
                Err(e) => return Err(conn.protocol_error(e)),
            }
        }
    }
    let mut parser = ReportStatusParser::new();
    loop {
        n += 1;
        let Some(packet) = conn.next("report-status", n).await? else {
            return Err(conn.protocol_error(parser.truncated()));
        };
        match parser.push(packet) {
            Ok(Some(report)) => return Ok(report),
            Ok(None) => {}
            Err(e) => return Err(conn.protocol_error(e)),
        }
    }
}

fn finish(planned: Vec<Planned>, report: Option<&ReportStatus>) -> Vec<PushedRef> {
    planned
        .into_iter()
        .map(|p| {
            let status = p.status.unwrap_or_else(|| {
                match report.and_then(|r| r.refs.iter().find(|s| s.name == p.name)) {
                    Some(s) => match &s.result {
                        Ok(()) => PushStatus::Ok,
                        Err(reason) => PushStatus::RejectedByRemote(reason.clone()),
                    },
                    None => PushStatus::RejectedByRemote("no status reported".into()),
                }
            });
            PushedRef {
                name: p.name,
                old: p.old,
                new: p.new,
                status,
            }
        })
        .collect()
}
