#![no_main]
// Remote URLs as users write them: parse, and write back what was parsed.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(url) = smart::RemoteUrl::parse(text)
    {
        let _ = url.to_string();
    }
});
