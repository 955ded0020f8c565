//! paf's server against real clients on 127.0.0.1: curl (HTTP/1.1, HTTP/2
//! by ALPN, h2c), h2load, and raw sockets sending what a browser would not.

mod access_log;
mod bad_input;
mod certs;
mod client;
mod protocols;
mod shutdown;
mod support;
mod timeouts;
