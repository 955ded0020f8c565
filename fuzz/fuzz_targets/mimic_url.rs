//! `Context::from_url` on any text: never panics, and what it accepts has a
//! scheme and either a host or a Unix path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic::keys::{HOST, SCHEME, UNIX_PATH};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ctx) = mimic::Context::from_url(text) {
        assert!(ctx.contains(&SCHEME));
        assert!(ctx.contains(&HOST) ^ ctx.contains(&UNIX_PATH));
    }
});
