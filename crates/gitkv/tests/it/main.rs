//! gitkv's integration tests, checked against C git (`git fsck --strict`,
//! `git log`, `git show`, `git ls-tree`) where it is installed.

mod basic;
mod concurrency;
mod crash;
mod merge;
mod ordering;
mod props;
mod support;
mod sync;
