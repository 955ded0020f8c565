//! smart: the Git smart protocol, client side.
//!
//! So far:
//! - [`RemoteUrl`]: remote URLs as Git users write them (`git://`,
//!   `ssh://`, scp-like, `http(s)://`, `file://` and plain paths, with an
//!   optional `#branch`).
//! - [`proto`]: the sans-io protocol core (pkt-lines, capabilities, v0/v1
//!   ref advertisements, v2 `ls-refs` and `fetch`, negotiation, side-band,
//!   push commands and report-status).
//!
//! ```
//! let url: smart::RemoteUrl = "git://127.0.0.1:9418/pastes.git#main".parse()?;
//! assert_eq!(url.port_or_default(), Some(9418));
//! assert_eq!(url.branch(), Some("main"));
//! # Ok::<(), smart::UrlError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod proto;
pub mod url;

pub use url::{RemoteUrl, Scheme, UrlError};
