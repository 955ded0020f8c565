//! Integration tests of conan through its public API.

// Tests report agreement rates and skips on stderr.
#![allow(clippy::print_stderr)]

mod hostile;
mod parity;
