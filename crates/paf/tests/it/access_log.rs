//! The access log: one `paf::access` event per request, with method, path,
//! status, bytes, duration and protocol, once the response has been sent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::support::{read_response, start};

type Line = BTreeMap<String, String>;

/// A subscriber that keeps the fields of every `paf::access` event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Line>>>);

/// One event's fields, as text.
struct Fields(Line);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "paf::access"
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Fields(Line::new());
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Capture {
    async fn wait_for(&self, n: usize) -> Vec<Line> {
        for _ in 0..500 {
            let lines = self.0.lock().unwrap().clone();
            if lines.len() >= n {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("fewer than {n} access log lines: {:?}", self.0.lock().unwrap());
    }
}

/// Sends `request` and checks the response's body ends with `body_end`.
async fn exchange(stream: &mut TcpStream, request: &[u8], body_end: &str) {
    stream.write_all(request).await.unwrap();
    let answer = read_response(stream).await;
    assert!(answer.ends_with(body_end), "{answer}");
}

// One thread: the subscriber is this thread's default, and the server's
// tasks run here too.
#[tokio::test(flavor = "current_thread")]
async fn every_request_gets_one_line_with_its_facts() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = start(false, |b| b.max_body_size(10)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    exchange(
        &mut stream,
        b"GET /first?q=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "HTTP/1.1 /first",
    )
    .await;
    exchange(
        &mut stream,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
        "request body too large\n",
    )
    .await;
    let lines = capture.wait_for(2).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first = &lines[0];
    assert_eq!(first["method"], "GET");
    assert_eq!(first["path"], "/first");
    assert_eq!(first["status"], "200");
    assert_eq!(first["bytes"], "HTTP/1.1 /first".len().to_string());
    assert_eq!(first["protocol"], "HTTP/1.1");
    assert_eq!(first["peer"], stream.local_addr().unwrap().to_string());
    assert!(first["duration_us"].parse::<u64>().is_ok(), "{first:?}");
    let refused = &lines[1];
    assert_eq!(refused["method"], "POST");
    assert_eq!(refused["status"], "413");
    assert_eq!(refused["bytes"], "request body too large\n".len().to_string());
}
