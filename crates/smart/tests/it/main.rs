//! smart against the real thing: C git's `git daemon`, OpenSSH's sshd and
//! `git http-backend` behind nginx as the servers, C
//! git to check what we wrote (`git fsck --strict`, `for-each-ref`), and
//! scripted servers for what a real one never does (malformed pkt-lines,
//! corrupt packs, connections cut mid-pack).

mod daemon;
mod faults;
mod http;
mod ssh;
mod support;
mod transcripts;
