//! The built-in transports against real listeners; priorities; protocols and
//! layers registered from outside.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mimic::facts::Layers;
use mimic::keys::{ADDRS, MEMORY, UNIX_PATH};
use mimic::{Context, Flow, Key, Resolver, Stage, layer_fn, memory, transport_fn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{greeter, refusing_port};

async fn read_all(flow: &mut Flow) -> String {
    let mut s = String::new();
    flow.read_to_string(&mut s).await.unwrap();
    s
}

#[tokio::test]
async fn tcp_connects_and_records_its_facts() {
    let addr = greeter(b"tcp!").await;
    let mut flow = Resolver::new()
        .resolve(&Context::from_url(&format!("tcp://{addr}")).unwrap())
        .await
        .unwrap();
    assert_eq!(flow.facts().protocol(), Some("tcp"));
    assert_eq!(flow.facts().peer_addr(), Some(addr));
    let stream = flow.downcast_ref::<tokio::net::TcpStream>().unwrap();
    assert!(stream.nodelay().unwrap());
    assert_eq!(read_all(&mut flow).await, "tcp!");
    // The stream can be taken back out.
    let (stream, facts) = flow.downcast::<tokio::net::TcpStream>().unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert_eq!(facts.peer_addr(), Some(addr));
}

#[tokio::test]
async fn a_host_name_is_looked_up() {
    let addr = greeter(b"by name").await;
    let url = format!("tcp://localhost:{}", addr.port());
    // localhost may also resolve to ::1, where nothing listens: Happy
    // Eyeballs goes on to 127.0.0.1.
    let mut flow = Resolver::new()
        .resolve(&Context::from_url(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(flow.facts().peer_addr(), Some(addr));
    assert_eq!(read_all(&mut flow).await, "by name");
}

#[tokio::test]
async fn unix_connects_to_a_socket_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"unix!").await.unwrap();
    });
    let url = format!("unix://{}", path.display());
    let mut flow = Resolver::new()
        .resolve(&Context::from_url(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(flow.facts().protocol(), Some("unix"));
    assert_eq!(flow.facts().get::<mimic::facts::UnixPath>().unwrap().0, path);
    assert_eq!(read_all(&mut flow).await, "unix!");
    server.await.unwrap();
}

#[tokio::test]
async fn memory_pipes_reach_the_listener_and_a_closed_one_refuses() {
    let (connector, mut listener) = memory::listener(4);
    let ctx = Context::new().with(&MEMORY, connector);
    let resolver = Resolver::new();
    let mut flow = resolver.resolve(&ctx).await.unwrap();
    let mut server = listener.accept().await.unwrap();
    flow.write_all(b"ping").await.unwrap();
    let mut buf = [0; 4];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    drop(listener);
    let err = resolver.resolve(&ctx).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("memory in-memory listener: the in-memory listener is closed"),
        "{err}"
    );
}

#[tokio::test]
async fn priorities_order_the_transports() {
    // Both memory (10) and tcp (30) have their endpoint: memory wins.
    let addr = greeter(b"tcp").await;
    let (connector, _listener) = memory::listener(8);
    let ctx = Context::new().with(&MEMORY, connector).with(&ADDRS, vec![addr]);
    let flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().protocol(), Some("memory"));

    // A transport of ours at priority 0 comes before every built-in; at 100, after.
    const ALWAYS: Key<()> = Key::new("test.always");
    let ours = || {
        transport_fn("ours", ALWAYS, |()| async {
            Ok(crate::support::pipe_flow("ours"))
        })
    };
    let first = Resolver::builder().transport(0, ours()).build();
    let last = Resolver::builder().transport(100, ours()).build();
    let ctx = ctx.with(&ALWAYS, ());
    assert_eq!(
        first.resolve(&ctx).await.unwrap().facts().protocol(),
        Some("ours")
    );
    assert_eq!(
        last.resolve(&ctx).await.unwrap().facts().protocol(),
        Some("memory")
    );

    // When the preferred transport fails, the next one is tried.
    let (_refusing, port) = refusing_port();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new()
        .with(&UNIX_PATH, dir.path().join("missing.sock"))
        .with(&ADDRS, vec![([127, 0, 0, 1], port).into(), addr]);
    let mut flow = Resolver::new().resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().peer_addr(), Some(addr));
    assert_eq!(read_all(&mut flow).await, "tcp");
}

const LABEL: Key<String> = Key::new("test.label");

#[tokio::test]
async fn a_layer_from_outside_wraps_the_flow_and_keeps_its_facts() {
    let addr = greeter(b"abc").await;
    let upper = layer_fn("upper", LABEL, |flow: Flow, label: String| async move {
        // A layer that reads everything and serves it back in upper case.
        let mut flow = flow;
        let mut data = Vec::new();
        flow.read_to_end(&mut data).await?;
        data.make_ascii_uppercase();
        data.extend(label.as_bytes());
        Ok(Flow::new(std::io::Cursor::new(data), "upper"))
    });
    let resolver = Resolver::builder().layer(60, upper).build();
    let ctx = Context::new().with(&ADDRS, vec![addr]).with(&LABEL, "!".into());
    let mut flow = resolver.resolve(&ctx).await.unwrap();
    assert_eq!(read_all(&mut flow).await, "ABC!");
    // The facts of the tcp flow below are kept; the layer is named.
    assert_eq!(flow.facts().peer_addr(), Some(addr));
    assert_eq!(flow.facts().get::<Layers>().unwrap().0, ["upper"]);
    // Without its key, the layer is not applied.
    let mut flow = resolver
        .resolve(&Context::new().with(&ADDRS, vec![addr]))
        .await
        .unwrap();
    assert_eq!(read_all(&mut flow).await, "abc");
    assert!(flow.facts().get::<Layers>().is_none());
}

#[tokio::test]
async fn a_failing_layer_fails_the_attempt_instead_of_being_skipped() {
    let addr = greeter(b"plain").await;
    let wrapped = Arc::new(AtomicBool::new(false));
    let w = wrapped.clone();
    let refuse = layer_fn("refuse", LABEL, move |_flow: Flow, _label: String| {
        w.store(true, Ordering::SeqCst);
        async { Err("handshake refused".into()) }
    });
    let resolver = Resolver::builder().layer(60, refuse).build();
    let ctx = Context::new().with(&ADDRS, vec![addr]).with(&LABEL, "x".into());
    let err = resolver.resolve(&ctx).await.unwrap_err();
    assert!(wrapped.load(Ordering::SeqCst));
    let attempts = err.attempts();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].stage,
        Stage::Layer {
            layer: "refuse".into()
        }
    );
    assert_eq!(attempts[0].target.as_deref(), Some(addr.to_string().as_str()));
    assert_eq!(
        err.to_string(),
        format!("could not connect: 1 attempt failed: refuse {addr} (layer refuse): handshake refused")
    );
}
