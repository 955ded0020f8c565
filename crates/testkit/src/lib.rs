//! Test support for the workspace (`publish = false`).
//!
//! What the integration tests of every crate share:
//!
//! - [`tls`]: a throwaway certificate authority and server certificates made
//!   with rcgen, ready for rustls on either side. rustls refuses a
//!   self-signed `CA:TRUE` certificate used directly by a server
//!   (`CaUsedAsEndEntity`), so there is always a CA and a separate leaf.
//!
//! Later issues add launchers for real peers here (git daemon, sshd, pebble,
//! a web server): each on 127.0.0.1 with a free port and a temp dir of its
//! own, killed on drop.
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

pub mod tls;
