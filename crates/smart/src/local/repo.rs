//! Reading and moving refs, walking history, the `shallow` file.

use std::collections::HashSet;
use std::path::Path;

use gix::ObjectId;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

/// Opens the repository at `path` (bare or not).
pub(crate) fn open(path: &Path) -> Result<gix::Repository, gix::Error> {
    gix::open(path)
}

/// Every local ref that points (directly) at an object: `(name, id)`.
pub(crate) fn refs(repo: &gix::Repository) -> Result<Vec<(String, ObjectId)>, gix::Error> {
    let mut out = Vec::new();
    let platform = repo.references()?;
    for r in platform.all()? {
        let r = r?;
        if let Some(id) = r.target().try_id() {
            out.push((r.name().as_bstr().to_string(), id.to_owned()));
        }
    }
    Ok(out)
}

/// Commits to offer as `have`s: the tips of every local ref, then their
/// ancestors, newest first, at most `limit`.
pub(crate) fn candidates(repo: &gix::Repository, limit: usize) -> Result<Vec<ObjectId>, gix::Error> {
    let tips: Vec<ObjectId> = refs(repo)?
        .into_iter()
        .filter_map(|(_, id)| peel_to_commit(repo, id).ok().flatten())
        .collect();
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = tips.clone();
    let walk = repo
        .rev_walk(tips)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
        .all()?;
    for info in walk.take(limit) {
        match info {
            Ok(info) => out.push(info.id),
            // A shallow or partial history ends the walk early: offer what we have.
            Err(_) => break,
        }
    }
    Ok(out)
}

/// The commit an object peels to (through tags); `None` for trees and blobs.
pub(crate) fn peel_to_commit(
    repo: &gix::Repository,
    mut id: ObjectId,
) -> Result<Option<ObjectId>, gix::Error> {
    loop {
        let object = repo.find_object(id)?;
        match object.kind {
            gix::object::Kind::Commit => return Ok(Some(id)),
            gix::object::Kind::Tag => id = object.into_tag().target_id()?.detach(),
            _ => return Ok(None),
        }
    }
}

/// Whether `ancestor` is `descendant` or one of its ancestors.
pub(crate) fn is_ancestor(
    repo: &gix::Repository,
    ancestor: ObjectId,
    descendant: ObjectId,
) -> Result<bool, gix::Error> {
    if ancestor == descendant {
        return Ok(true);
    }
    let (Some(ancestor), Some(descendant)) =
        (peel_to_commit(repo, ancestor)?, peel_to_commit(repo, descendant)?)
    else {
        return Ok(false);
    };
    for info in repo.rev_walk([descendant]).all()? {
        if info?.id == ancestor {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One ref to set (`Some(id)`) or delete (`None`), forced.
pub(crate) fn update_refs(
    repo: &gix::Repository,
    updates: &[(String, Option<ObjectId>)],
    message: &str,
) -> Result<(), gix::Error> {
    let mut edits = Vec::new();
    for (name, id) in updates {
        let name: FullName = name.as_str().try_into().map_err(gix::Error::from_error)?;
        let change = match id {
            Some(id) => Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: message.into(),
                },
                expected: PreviousValue::Any,
                new: Target::Object(*id),
            },
            None => Change::Delete {
                expected: PreviousValue::Any,
                log: RefLog::AndReference,
            },
        };
        edits.push(RefEdit {
            change,
            name,
            deref: false,
        });
    }
    repo.edit_references_as(edits, None)?;
    Ok(())
}

/// Points `HEAD` at `target` (a full ref name).
pub(crate) fn set_head(repo: &gix::Repository, target: &str) -> Result<(), gix::Error> {
    let target: FullName = target.try_into().map_err(gix::Error::from_error)?;
    let head: FullName = "HEAD".try_into().map_err(gix::Error::from_error)?;
    repo.edit_references_as(
        [RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: "clone".into(),
                },
                expected: PreviousValue::Any,
                new: Target::Symbolic(target),
            },
            name: head,
            deref: false,
        }],
        None,
    )?;
    Ok(())
}

/// The commits of the `shallow` file.
pub(crate) fn shallow(repo: &gix::Repository) -> Result<Vec<ObjectId>, gix::Error> {
    Ok(repo
        .shallow_commits()?
        .map(|commits| commits.iter().copied().collect())
        .unwrap_or_default())
}

/// Rewrites the `shallow` file: the old boundary plus `add`, minus
/// `remove` (removed when empty). Written to a temporary file, then renamed.
pub(crate) fn write_shallow(
    repo: &gix::Repository,
    add: &[ObjectId],
    remove: &[ObjectId],
) -> Result<(), std::io::Error> {
    let path = repo.git_dir().join("shallow");
    let mut set: Vec<ObjectId> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
        .collect();
    let remove: HashSet<_> = remove.iter().collect();
    set.retain(|id| !remove.contains(id));
    for id in add {
        if !set.contains(id) {
            set.push(*id);
        }
    }
    set.sort();
    if set.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let text: String = set.iter().map(|id| format!("{id}\n")).collect();
    let tmp = repo.git_dir().join("shallow.smart-tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)
}
