//! blogger's integration tests: one binary, a module per concern.

mod cli;
mod errors;
mod feeds;
mod golden;
mod incremental;
mod push;
mod serve;
mod support;
mod watch;
