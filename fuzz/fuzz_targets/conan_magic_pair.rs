#![no_main]
// A fuzzed database run over fuzzed content: the first line of the input
// (up to a NUL) is the content, the rest the magic text.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (content, text) = data.split_at(split);
    if let Ok(db) = conan::Database::from_text("fuzz", text) {
        let _ = conan::Magic::new(db).identify(content);
    }
});
