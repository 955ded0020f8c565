//! What a POST to `/` carries, in the three shapes accepted:
//!
//! - the page's form (`application/x-www-form-urlencoded` with a `content`
//!   field, and `title`, `lang`, `expire`, `burn`, `encrypted`);
//! - multipart (`curl -F file=@x`, or `-F content=<x`), the same fields
//!   beside the file;
//! - anything else is the paste itself (`curl --data-binary @file`, which
//!   sends `application/x-www-form-urlencoded` too: a body is only read as
//!   a form when it parses as one with a `content` field).
//!
//! The query string may give the same options (`?lang=rs&expire=1d&burn=1`).

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;

use crate::paste::Expiry;

/// A paste as submitted.
#[derive(Debug, Default)]
pub(crate) struct Submission {
    pub(crate) content: Vec<u8>,
    pub(crate) title: Option<String>,
    pub(crate) lang: Option<String>,
    pub(crate) expiry: Expiry,
    pub(crate) burn: bool,
    pub(crate) encrypted: bool,
    pub(crate) filename: Option<String>,
    /// It came from the HTML form (answer with a page).
    pub(crate) from_form: bool,
}

/// A submission that cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SubmitError {
    #[error("bad multipart body")]
    Multipart(#[from] multer::Error),
    #[error(transparent)]
    Expiry(#[from] crate::paste::BadExpiry),
}

impl Submission {
    pub(crate) async fn parse(
        headers: &HeaderMap,
        query: Option<&str>,
        body: Bytes,
    ) -> Result<Self, SubmitError> {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut sub = Submission::default();
        if let Some(query) = query {
            for (name, value) in form_urlencoded::parse(query.as_bytes()) {
                sub.option(&name, &value)?;
            }
        }
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime == "multipart/form-data"
            && let Ok(boundary) = multer::parse_boundary(&content_type)
        {
            sub.multipart(body, boundary).await?;
        } else if mime == "application/x-www-form-urlencoded"
            && form_urlencoded::parse(&body).any(|(name, _)| name == "content")
        {
            sub.from_form = true;
            for (name, value) in form_urlencoded::parse(&body) {
                if name == "content" {
                    sub.content = value.into_owned().into_bytes();
                } else {
                    sub.option(&name, &value)?;
                }
            }
        } else {
            sub.content = body.to_vec();
        }
        Ok(sub)
    }

    async fn multipart(&mut self, body: Bytes, boundary: String) -> Result<(), SubmitError> {
        let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let data = field.bytes().await?;
            match name.as_str() {
                "file" | "content" => {
                    self.content = data.to_vec();
                    if let Some(f) = filename {
                        self.filename = Some(clean_filename(&f));
                    }
                }
                _ => self.option(&name, &String::from_utf8_lossy(&data))?,
            }
        }
        Ok(())
    }

    fn option(&mut self, name: &str, value: &str) -> Result<(), SubmitError> {
        let value = value.trim();
        match name {
            "title" => self.title = (!value.is_empty()).then(|| value.chars().take(200).collect()),
            "lang" | "hl" => self.lang = (!value.is_empty() && value != "auto").then(|| value.to_string()),
            "expire" | "expiry" => self.expiry = value.parse()?,
            "burn" => self.burn = is_true(value),
            "encrypted" => self.encrypted = is_true(value),
            _ => {}
        }
        Ok(())
    }
}

fn is_true(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes")
}

/// A file name kept for downloads: its last path component, printable
/// ASCII without quotes, at most 100 characters.
pub(crate) fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != ';')
        .take(100)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[tokio::test]
    async fn the_form_and_its_options() {
        let body = Bytes::from_static(b"title=T&content=a%3Cb+c&lang=rs&expire=1d&burn=on");
        let sub = Submission::parse(&headers("application/x-www-form-urlencoded"), None, body)
            .await
            .unwrap();
        assert!(sub.from_form);
        assert_eq!(sub.content, b"a<b c");
        assert_eq!(sub.title.as_deref(), Some("T"));
        assert_eq!(sub.lang.as_deref(), Some("rs"));
        assert_eq!(sub.expiry, Expiry::Day);
        assert!(sub.burn && !sub.encrypted);
    }

    #[tokio::test]
    async fn curl_data_binary_is_the_paste_itself() {
        // curl --data-binary sends the form content type.
        let body = Bytes::from_static(b"a=1&b=2\nx + y");
        let sub = Submission::parse(
            &headers("application/x-www-form-urlencoded"),
            Some("expire=1h"),
            body,
        )
        .await
        .unwrap();
        assert!(!sub.from_form);
        assert_eq!(sub.content, b"a=1&b=2\nx + y");
        assert_eq!(sub.expiry, Expiry::Hour);
    }

    #[tokio::test]
    async fn multipart_file_and_fields() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../dir/main.rs\"\r\n\r\nfn main() {}\n\r\n--XX\r\nContent-Disposition: form-data; name=\"burn\"\r\n\r\n1\r\n--XX--\r\n";
        let sub = Submission::parse(
            &headers("multipart/form-data; boundary=XX"),
            None,
            Bytes::from(body),
        )
        .await
        .unwrap();
        assert_eq!(sub.content, b"fn main() {}\n");
        assert!(sub.burn);
        assert_eq!(sub.filename.as_deref(), Some("main.rs"));
    }

    #[tokio::test]
    async fn bad_options_are_errors() {
        let r = Submission::parse(&headers("text/plain"), Some("expire=forever"), Bytes::new()).await;
        assert!(matches!(r, Err(SubmitError::Expiry(_))));
        let r = Submission::parse(
            &headers("multipart/form-data; boundary=XX"),
            None,
            Bytes::from_static(b"junk"),
        )
        .await;
        assert!(r.is_err());
    }
}
