//! A test server and the real clients the tests run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use paf::certs::{Certificates, certified_key_from_pem};
use paf::{Body, Handle, Server, service_fn};
use testkit::tls::TestCa;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// A running test server.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) handle: Handle,
    pub(crate) certs: Arc<Certificates>,
    pub(crate) ca: TestCa,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// The CA certificate, as a PEM file for curl.
    pub(crate) fn ca_file(&self) -> PathBuf {
        let path = self.dir.path().join("ca.pem");
        std::fs::write(&path, self.ca.cert_pem()).unwrap();
        path
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// What the test service answers: `/echo` echoes the body (read whole,
/// so the size limit applies), `/peer` says the client's address, `/conn` the
/// connection facts from the body and whether the extension holds them, `/slow`
/// waits 300 ms, anything else says which protocol and path it saw.
pub(crate) async fn answer(req: Request<Body>) -> Result<Response<Full<Bytes>>, paf::BodyError> {
    let version = req.version();
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/echo" => {
            let body = req.into_body().collect().await?.to_bytes();
            Ok(Response::new(Full::new(body)))
        }
        "/conn" => {
            let info = req.body().conn_info().clone();
            let extension = req.extensions().get::<Arc<paf::ConnInfo>>();
            let same = extension.map(|e| Arc::ptr_eq(e, &info));
            Ok(Response::new(Full::new(Bytes::from(format!(
                "peer={} tls={} extension={same:?}",
                info.peer, info.tls
            )))))
        }
        "/peer" => {
            let info = req.body().conn_info().clone();
            let extension = req.extensions().get::<Arc<paf::ConnInfo>>();
            assert!(extension.is_none_or(|e| Arc::ptr_eq(e, &info)));
            Ok(Response::new(Full::new(Bytes::from(info.peer.to_string()))))
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Response::new(Full::new(Bytes::from("slow done"))))
        }
        _ => Ok(Response::new(Full::new(Bytes::from(format!(
            "{version:?} {path}"
        ))))),
    }
}

/// A server on 127.0.0.1 with a certificate for `localhost` and
/// `127.0.0.1` (TLS when `tls`), limits from `configure`.
pub(crate) async fn start(tls: bool, configure: impl FnOnce(paf::Builder) -> paf::Builder) -> TestServer {
    let ca = TestCa::new("paf test CA").unwrap();
    let leaf = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
    let certs = Arc::new(Certificates::new());
    let key = certified_key_from_pem(leaf.chain_pem().as_bytes(), leaf.key_pem().as_bytes()).unwrap();
    certs.insert("localhost", key.clone());
    certs.set_default(Some(key));
    let mut builder = Server::builder();
    if tls {
        builder = builder.tls(certs.clone()).unwrap();
    }
    let server = configure(builder).bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.handle();
    let serving = tokio::spawn(server.serve(service_fn(answer)));
    TestServer {
        addr,
        handle,
        certs,
        ca,
        dir: tempfile::tempdir().unwrap(),
        serving,
    }
}

/// Runs a peer program (curl, h2load) to completion, bounded in time.
/// A missing program fails the test: these peers are installed by
/// scripts/test, never skipped.
pub(crate) async fn run(program: &str, args: &[&str]) -> Output {
    let child = tokio::process::Command::new(program)
        .args(args)
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(60), child).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("cannot run {program} (scripts/test installs it): {e}"),
        Err(_) => panic!("{program} {args:?} did not finish in 60 s"),
    }
}

/// curl's body and `%{http_version}`, asserting it succeeded.
pub(crate) async fn curl(args: &[&str]) -> (String, String) {
    let mut all = vec!["-sS", "--max-time", "20", "-w", "\n%{http_version}"];
    all.extend_from_slice(args);
    let out = run("curl", &all).await;
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, version) = text.rsplit_once('\n').unwrap();
    (body.to_string(), version.to_string())
}

/// The numbers of h2load's "requests:" line: (succeeded, failed, errored).
pub(crate) fn h2load_counts(output: &Output) -> (u64, u64, u64) {
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("requests:"))
        .unwrap_or_else(|| panic!("no requests line in h2load output:\n{text}"));
    let number = |word: &str| -> u64 {
        let before = line.split(&format!(" {word}")).next().unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    (number("succeeded"), number("failed"), number("errored"))
}

/// Posts `data` (curl's `@file` form) to `url` over HTTP/1.1 and over
/// HTTP/2, and checks that the echoed body has `len` bytes each time.
pub(crate) async fn assert_echoes(ca: &std::path::Path, url: &str, data: &str, len: usize) {
    for http in ["--http1.1", "--http2"] {
        let (body, _) = curl(&[http, "--cacert", ca.to_str().unwrap(), "--data-binary", data, url]).await;
        assert_eq!(body.len(), len, "{http}");
    }
}

/// Reads one HTTP/1.1 response with a `Content-Length` body.
pub(crate) async fn read_response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before a whole response: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .expect("a content-length")
                .trim()
                .parse()
                .unwrap();
            if body.len() >= len {
                return text;
            }
        }
    }
}
