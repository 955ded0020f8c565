//! `blogger serve` from a branch that `blogger push` wrote to a real `git
//! daemon`: every file byte-identical with its content type, 304s,
//! directories, the 404 page, and the refresh hook switching commits.

use std::io::{Read, Write};
use std::net::SocketAddr;

use testkit::git_daemon::GitDaemon;

use crate::support::{TestResult, files, sample_copy};

/// A response: status, headers (lowercase names), body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on its own connection.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Reply> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    let mut text =
        format!("{method} {path} HTTP/1.1\r\nHost: blog\r\nConnection: close\r\nContent-Length: 0\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

pub(crate) fn get(addr: SocketAddr, path: &str) -> std::io::Result<Reply> {
    request(addr, "GET", path, &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_the_pushed_branch() -> TestResult {
    let Some(daemon) = tokio::task::spawn_blocking(GitDaemon::start).await?? else {
        return Ok(());
    };
    let out = std::process::Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main", "site.git"])
        .current_dir(daemon.base())
        .output()?;
    assert!(out.status.success());
    let url = daemon.url("site.git");
    let (dir, blog, output) = sample_copy()?;
    blogger::build(&blogger::BuildOptions::new(&blog, &output))?;
    let remote = gitkv::sync::Remote::new("origin", url.parse()?);
    let push = blogger::PushOptions {
        site: output.clone(),
        repository: dir.path().join("push.git"),
        branch: "gh-pages".into(),
        author: gitkv::Signature::new("Ada", "ada@example.org")?,
        message: "Site".into(),
    };
    blogger::push(&remote, &push).await?;

    let serving = blogger::serve(blogger::ServeConfig {
        remote: gitkv::sync::Remote::new("origin", format!("{url}#gh-pages").parse()?),
        branch: "gh-pages".into(),
        repository: dir.path().join("serve.git"),
        listen: "127.0.0.1:0".parse()?,
        refresh_every: None,
        hook: Some("s3cret".into()),
        default_url: None,
    })
    .await?;
    let addr = serving.addr();
    let first = serving.commit();

    let site = files(&output)?;
    let replies = tokio::task::spawn_blocking(move || {
        site.into_iter()
            .map(|(name, bytes)| get(addr, &format!("/{name}")).map(|r| (name, bytes, r)))
            .collect::<std::io::Result<Vec<_>>>()
    })
    .await??;
    for (name, bytes, reply) in &replies {
        assert_eq!(reply.status, 200, "{name}");
        assert!(reply.body == *bytes, "{name} differs");
        let expected = match name.rsplit_once('.').map(|(_, e)| e) {
            Some("html") => "text/html; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("txt") => "text/plain; charset=utf-8",
            _ if name == "atom.xml" => "application/atom+xml; charset=utf-8",
            _ if name == "rss.xml" => "application/rss+xml; charset=utf-8",
            _ => "application/xml; charset=utf-8",
        };
        assert_eq!(reply.header("content-type"), Some(expected), "{name}");
        assert!(
            reply.header("last-modified").is_some_and(|d| d.ends_with(" GMT")),
            "{name}"
        );
    }

    let (index, etag, modified) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let index = get(addr, "/")?;
        let etag = index.header("etag").unwrap_or_default().to_string();
        let modified = index.header("last-modified").unwrap_or_default().to_string();
        Ok((index, etag, modified))
    })
    .await??;
    assert_eq!(index.body, std::fs::read(output.join("index.html"))?);
    assert_eq!(etag.len(), 42, "a quoted blob id: {etag}");
    let plain_index = index.body.clone();
    tokio::task::spawn_blocking(move || -> TestResult {
        use std::io::Read;
        let gzip = request(addr, "GET", "/", &[("Accept-Encoding", "gzip, deflate")])?;
        assert_eq!(gzip.header("content-encoding"), Some("gzip"));
        assert_eq!(gzip.header("vary"), Some("accept-encoding"));
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut decoded)?;
        assert_eq!(decoded, plain_index);
        assert!(gzip.body.len() < plain_index.len());
        let br = request(addr, "GET", "/", &[("Accept-Encoding", "gzip, br")])?;
        assert_eq!(br.header("content-encoding"), Some("br"));
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &br.body[..], &mut decoded)?;
        assert_eq!(decoded, plain_index);
        let br_tag = br.header("etag").unwrap_or_default().to_string();
        assert_ne!(br_tag, etag, "one tag per representation");
        assert_eq!(
            request(
                addr,
                "GET",
                "/",
                &[("Accept-Encoding", "br"), ("If-None-Match", &br_tag)]
            )?
            .status,
            304
        );
        let again = request(addr, "GET", "/", &[("If-None-Match", &etag)])?;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        let again = request(addr, "GET", "/index.html", &[("If-Modified-Since", &modified)])?;
        assert_eq!(again.status, 304);
        let tags = get(addr, "/tags/")?;
        assert_eq!(tags.status, 200);
        assert_eq!(
            get(addr, "/tags")?.body,
            tags.body,
            "a directory without its slash"
        );
        let missing = get(addr, "/no/such/page.html")?;
        assert_eq!(missing.status, 404);
        assert!(String::from_utf8_lossy(&missing.body).contains("Not found"));
        assert_eq!(get(addr, "/../../etc/passwd")?.status, 400);
        assert_eq!(request(addr, "HEAD", "/", &[])?.body.len(), 0);
        Ok(())
    })
    .await??;

    // A new article pushed; the hook switches to it.
    std::fs::write(
        blog.join("articles/new.md"),
        "---\ntitle: Brand new\ndate: 2025-01-01\n---\nFresh.\n",
    )?;
    blogger::build(&blogger::BuildOptions::new(&blog, &output))?;
    blogger::push(&remote, &push).await?;
    let hook = blogger::REFRESH_PATH;
    let (wrong, right, page) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let wrong = request(addr, "POST", hook, &[("X-Blogger-Secret", "nope")])?;
        let stale = get(addr, "/articles/new.html")?;
        assert_eq!(stale.status, 404, "not before the refresh");
        let right = request(addr, "POST", &format!("{hook}?secret=s3cret"), &[])?;
        let page = get(addr, "/articles/new.html")?;
        Ok((wrong, right, page))
    })
    .await??;
    assert_eq!(wrong.status, 403);
    assert_eq!(right.status, 200);
    let commit = String::from_utf8(right.body)?;
    assert_ne!(commit.trim(), first);
    assert_eq!(commit.trim(), serving.commit());
    assert_eq!(page.status, 200);
    assert_eq!(page.body, std::fs::read(output.join("articles/new.html"))?);
    serving.shutdown(std::time::Duration::from_secs(1));
    Ok(())
}
