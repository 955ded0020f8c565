//! What pasteur reads from clients and its repository: a POST to `/`
//! (content type, query string and body: form, multipart or raw) and a
//! paste's metadata file. None may panic or hang; a raw body is kept whole.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Content type and query on the first two lines, the body after.
    let mut lines = data.splitn(3, |&b| b == b'\n');
    let content_type = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let query = lines.next().map(String::from_utf8_lossy);
    let body = lines.next().unwrap_or_default();
    let outcome = pasteur::fuzzing::submission(&content_type, query.as_deref(), body);
    assert!(outcome.is_some(), "the parse of a complete body never finished");
    let ct = content_type.to_ascii_lowercase();
    if !ct.contains("multipart/form-data") && !ct.contains("x-www-form-urlencoded") {
        assert!(matches!(outcome, Some(Ok(n)) if n == body.len()) || matches!(outcome, Some(Err(_))));
    }
    let _ = pasteur::fuzzing::meta(data);
});
