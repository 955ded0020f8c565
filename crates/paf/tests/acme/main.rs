//! ACME against real peers on 127.0.0.1: pebble (with pebble-challtestsrv)
//! and bind9, started by each test (see `testkit::pebble`, `testkit::bind`).
//! Without the binaries the tests skip with a message, unless `CI=true`.

mod dns01;
mod errors;
mod http01;
mod manager;
mod support;
mod tls_alpn01;
