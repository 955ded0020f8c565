#![no_main]
// The matcher (built-in database plus the checks in code) over arbitrary content.
static MAGIC: std::sync::LazyLock<conan::Magic> =
    std::sync::LazyLock::new(|| conan::Magic::new(conan::Database::builtin()));
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = MAGIC.identify(data);
});
