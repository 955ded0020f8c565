//! What gitkv reads itself: packs and their indexes (when merging packs,
//! which may come from anywhere: a fetch, `git gc`, another process) and
//! keys from users. None may panic; a pack that parses holds as many
//! entries as its index claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes split the rest into index and pack.
    if let [a, b, rest @ ..] = data {
        let at = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
        let (idx, pack) = rest.split_at(at);
        if let Some(n) = gitkv::fuzzing::pack_entries(idx, pack) {
            assert!(n <= idx.len() / 28);
        }
    }
    if let Ok(key) = std::str::from_utf8(data) {
        let (set, list) = gitkv::fuzzing::key_components(key);
        if let Ok(n) = set {
            assert_eq!(n, key.split('/').count());
        }
        let _ = list;
    }
});
