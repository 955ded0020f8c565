//! pasteur end to end: the site in-process (or its binary), driven with
//! real `curl`, checked with real `git`, synced to real `git daemon`,
//! `sshd` and nginx + `git http-backend`, certificates from `pebble`, and
//! a real browser (headless Chromium through chromedriver).

mod api;
mod browser;
mod burn;
mod cli;
mod crash;
mod expiry;
mod https;
mod limits;
mod support;
mod sync;
