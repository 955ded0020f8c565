//! smart: the Git smart protocol, client side: `ls-remote`, `clone`,
//! `fetch` and `push`, with no `git` executable.
//!
//! ```text
//!  RemoteUrl ──▶ Client ──▶ git://: mimic TCP flow + daemon request
//!                  │       ssh://: mimic TCP flow + russh exec channel, as a Flow
//!                  │       http(s)://: paf client, GET info/refs + one POST per request
//!                  │
//!                  ├─ proto (sans-io): pkt-lines, capabilities, v0/v1 advertisement,
//!                  │   v2 ls-refs + fetch, negotiation, side-band, push + report-status
//!                  │
//!                  └─ local (blocking threads, gitoxide): pack in -> streamed to disk by
//!                      gix-pack's entry iterator, deltas resolved with pread on both cores,
//!                      .idx written (thin packs completed) before any ref moves;
//!                      pack out <- pack locations -> gix-pack entries -> bytes; refs, shallow
//! ```
//!
//! - [`RemoteUrl`]: remote URLs as Git users write them (`git://`,
//!   `ssh://`, scp-like, `http(s)://`, `file://` and plain paths, with an
//!   optional `#branch`).
//! - [`proto`]: the sans-io core. Every parser takes one pkt-line at a
//!   time and returns events or a [`proto::ProtocolError`] that names the
//!   message, the packet number and what was expected; none panics on
//!   peer bytes (each has a fuzz target).
//! - [`ssh`]: client keys (OpenSSH files, or derived from `ed25519:SEED` /
//!   `rsa:SEED`), host key pinning (`SHA256:` fingerprint or known_hosts,
//!   checked before anything is sent), the exec channel as a flow.
//! - [`http`]: smart HTTP over paf's client (basic auth, bearer tokens,
//!   TLS roots); v2 requests and v0 stateless-rpc.
//! - [`Client`]: the operations, a thin tokio driver over a mimic
//!   [`Flow`](mimic::Flow) or HTTP requests: [`Client::ls_remote`], [`Client::clone`] (a new
//!   bare repository), [`Client::fetch`] (`have` negotiation, `--depth`),
//!   [`Client::push`] (create, fast-forward, forced, delete, atomic,
//!   report-status per ref). Progress (the server's side-band messages,
//!   bytes moved) goes to a callback as [`Progress`] events.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), smart::Error> {
//! use smart::{Client, FetchOptions, Progress, RemoteUrl};
//!
//! let client = Client::new(mimic::Resolver::new());
//! let url: RemoteUrl = "git://127.0.0.1/pastes.git#main".parse()?;
//! for r in client.ls_remote(&url).await? {
//!     println!("{:?} {}", r.target, r.name);
//! }
//! let mut progress = |p: Progress<'_>| {
//!     if let Progress::Remote(text) = p {
//!         eprint!("remote: {}", String::from_utf8_lossy(text));
//!     }
//! };
//! let outcome = client.clone(&url, "pastes.git", &FetchOptions::default(), &mut progress).await?;
//! println!("{} objects, {} refs", outcome.objects, outcome.updated.len());
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - A received pack is streamed to disk as it arrives, then its deltas are
//!   resolved reading it back with `pread`, as C git's index-pack does
//!   (memory stays small: a few numbers per object and the delta chain being
//!   worked on, never the whole pack); it is kept only if it is complete and valid and holds
//!   every object the new refs need. Only then do refs (and `shallow`)
//!   move. A corrupt or truncated pack, a connection lost mid-pack, an
//!   `ERR` from the server: the repository is exactly as it was, and a
//!   failed clone leaves no directory behind.
//! - Push refuses non-fast-forward updates locally unless the refspec is
//!   forced (`+`), sends only the objects the remote lacks (never a thin
//!   pack), and returns the server's verdict per ref.
//!
//! # Why our own core and not gix-protocol
//!
//! gix-protocol's async client was evaluated (feature `async-client`).
//! It has no push at all, its `Transport` trait is `?Send` (futures a
//! tokio app cannot spawn), and its fetch hands the pack to a blocking
//! `BufRead` inside its own negotiation loop, so the pack stream, the
//! negotiation state and the progress events are not ours to drive. The
//! issue asks for one sans-io core shared by every transport and, later,
//! by the server side (upload-pack, receive-pack): pkt-lines,
//! capabilities, ref advertisements and report-status are exactly what a
//! server needs too. So the protocol is written here, small and fuzzed,
//! and gitoxide does what it is best at: packs (gix-pack) and the
//! repository (gix: refs, objects, history walks).
//!
//! # Not yet
//!
//! SHA-256 repositories, `file://` remotes. See the crate README.
//!
//! Protocol v2 is asked for and used when the server answers with it;
//! v0/v1 otherwise (and for push: receive-pack has no v2).
//!
//! # Cancel safety
//!
//! Dropping an operation's future closes the connection; a pack being
//! indexed on a blocking thread sees its input end and removes its
//! temporary files. Refs move in one last step on a blocking thread: once
//! it has started it finishes even if the future is dropped. A clone
//! dropped midway may leave an initialised, empty bare repository (a clone
//! that fails with an error removes it).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod client;
mod connection;
pub mod delta;
mod error;
pub mod http;
mod local;
pub mod proto;
pub mod ssh;
pub mod url;

pub use client::{
    AGENT, Client, FetchOptions, FetchOutcome, Progress, PushOptions, PushOutcome, PushStatus, PushedRef,
    RefUpdate, Refspec,
};
pub use error::Error;
pub use http::{HttpAuth, HttpOptions};
pub use proto::Ref;
pub use ssh::{HostKeyPolicy, SshKey, SshOptions};
pub use url::{RemoteUrl, Scheme, UrlError};
