//! mimic's integration tests: real sockets on 127.0.0.1, a real rustls
//! server, paused clocks where time matters.

mod connector;
mod derive;
mod errors;
mod happy_eyeballs;
mod protocols;
mod support;
mod tls;
