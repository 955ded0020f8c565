//! smart against the real thing: C git's `git daemon` as the server, C
//! git to check what we wrote (`git fsck --strict`, `for-each-ref`), and
//! scripted servers for what a real one never does (malformed pkt-lines,
//! corrupt packs, connections cut mid-pack).

mod daemon;
mod faults;
mod support;
