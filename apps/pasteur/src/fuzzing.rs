//! Entry points of the fuzz targets (`fuzz/`), not part of the API: what
//! pasteur reads itself from clients and from its repository.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// Reads a POST to `/` as the server does (query options, then a form,
/// multipart or raw body): the pasted content's length, or `Err` when the
/// submission is refused. `None` if the parse did not finish: the body is
/// all there, so it never has to wait (a hang would be a bug).
pub fn submission(content_type: &str, query: Option<&str>, body: &[u8]) -> Option<Result<usize, String>> {
    let mut headers = HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    let mut parse = pin!(crate::web::Submission::parse(
        &headers,
        query,
        Bytes::copy_from_slice(body)
    ));
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(result) = parse.as_mut().poll(&mut cx) {
            return Some(result.map(|s| s.content.len()).map_err(|e| e.to_string()));
        }
    }
    None
}

/// Reads a paste's metadata file as the store does: whether it parses.
pub fn meta(json: &[u8]) -> bool {
    serde_json::from_slice::<crate::Meta>(json).is_ok()
}
