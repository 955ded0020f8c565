#![no_main]
// The magic(5) text parser over arbitrary bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = conan::Database::from_text("fuzz", data);
});
