#![no_main]
// The compiled magic.mgc reader over arbitrary bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = conan::Database::from_compiled(data);
});
