//! The local repository: everything here is blocking (gitoxide) and runs
//! on tokio's blocking threads, never on the async workers.

mod idx;
mod index;
pub(crate) mod pack_in;
pub(crate) mod pack_out;
pub(crate) mod repo;
mod resolve;
