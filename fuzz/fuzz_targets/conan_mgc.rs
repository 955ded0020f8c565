#![no_main]
// The compiled magic.mgc reader over arbitrary bytes; a database that loads
// is run over the same bytes, which decodes the groups it reaches (records
// are packed at load and decoded on first use).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(db) = conan::Database::from_compiled(data) {
        let _ = conan::Magic::new(db).identify(data);
    }
});
