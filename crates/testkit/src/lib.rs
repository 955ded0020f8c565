//! Test support for the workspace (`publish = false`).
//!
//! What the integration tests of every crate share:
//!
//! - [`tls`]: a throwaway certificate authority and server certificates made
//!   with rcgen, ready for rustls on either side. rustls refuses a
//!   self-signed `CA:TRUE` certificate used directly by a server
//!   (`CaUsedAsEndEntity`), so there is always a CA and a separate leaf.
//!
//! - [`pebble`]: the ACME test server (with `pebble-challtestsrv`), and
//!   [`bind`]: bind9's `named` as a primary accepting TSIG-signed updates.
//!   Each runs on 127.0.0.1 with free ports and a temp dir of its own, and
//!   is killed on drop. [`peer`] has what they share, among it the rule
//!   for a missing binary: skip with a message, or fail when `CI=true`.
//!
//! - [`git_daemon`]: `git daemon` over a temp dir of repositories, with
//!   receive-pack enabled; [`sshd`]: OpenSSH's sshd limited to Git
//!   commands on a temp dir; [`git_http`]: `git http-backend` behind nginx
//!   and fcgiwrap, over http and https, with basic and bearer auth.
//!
//! ```
//! let ca = testkit::tls::TestCa::new("testkit example CA").unwrap();
//! let leaf = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
//! let server = leaf.server_config(&[b"h2", b"http/1.1"]).unwrap();
//! let client = ca.client_config(&[b"h2"]).unwrap();
//! assert_eq!(server.alpn_protocols.len(), 2);
//! assert_eq!(client.alpn_protocols, vec![b"h2".to_vec()]);
//! ```

#![warn(missing_docs)]

pub mod bind;
pub mod git_daemon;
pub mod git_http;
pub mod pebble;
pub mod peer;
pub mod sshd;
pub mod tls;
