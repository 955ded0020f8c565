//! conan's own small database for the common web types (HTML, CSS, JS,
//! JSON, SVG, PNG, JPEG, GIF, WebP, AVIF, ICO, PDF, ZIP, gzip, WOFF/WOFF2,
//! MP3/MP4/WebM/Ogg, WASM, plain text), for servers on machines without
//! file's database. JSON and plain text come from the checks in code.

use crate::database::Database;

/// The text of the built-in database (magic(5) syntax).
const WEB: &[u8] = include_bytes!("builtin/web.magic");

impl Database {
    /// The built-in web database.
    pub fn builtin() -> Database {
        Database::from_text("builtin/web.magic", WEB)
            .expect("the built-in database parses (checked by its tests)")
    }
}

#[cfg(test)]
mod tests {
    use crate::{Database, Magic};

    fn id(buf: &[u8]) -> (String, String) {
        let o = Magic::new(Database::builtin()).identify(buf);
        (o.mime, o.description)
    }

    #[test]
    fn web_types() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 3]);
        assert_eq!(id(&png), ("image/png".into(), "PNG image data, 2 x 3".into()));
        let cases: &[(&[u8], &str)] = &[
            (b"\xff\xd8\xff\xe0\0\x10JFIF\0", "image/jpeg"),
            (b"GIF89a\x01\0\x01\0\0\0\0", "image/gif"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
            (b"\0\0\0\x1cftypavif\0\0\0\0", "image/avif"),
            (b"\0\0\0\x1cftypisom\0\0\0\0", "video/mp4"),
            (b"\0\0\x01\0\x01\0\x10\x10", "image/vnd.microsoft.icon"),
            (b"%PDF-1.7\n", "application/pdf"),
            (b"PK\x03\x04\x14\0\0\0\0\0", "application/zip"),
            (b"\x1f\x8b\x08\0\0\0\0\0", "application/gzip"),
            (b"wOFF\0\x01\0\0", "font/woff"),
            (b"wOF2\0\x01\0\0", "font/woff2"),
            (b"ID3\x04\0\0\0\0\0\0", "audio/mpeg"),
            (
                b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01vorbis",
                "audio/ogg",
            ),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "video/webm"),
            (b"\0asm\x01\0\0\0", "application/wasm"),
            (b"<!DOCTYPE html>\n<html><body></body></html>\n", "text/html"),
            (
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n",
                "image/svg+xml",
            ),
            (b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>\n", "image/svg+xml"),
            (b"import x from 'y';\nconsole.log(x);\n", "application/javascript"),
            (b"body {\n  color: red;\n}\n", "text/css"),
            (b"{\"a\": [1, 2]}\n", "application/json"),
            (b"just some words\n", "text/plain"),
        ];
        for (buf, mime) in cases {
            assert_eq!(id(buf).0, *mime, "{:?}", String::from_utf8_lossy(buf));
        }
    }
}
