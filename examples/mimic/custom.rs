//! Registers protocols of our own on a mimic resolver, from outside the crate:
//! an in-process `echo` transport and a `banner` layer that greets the peer
//! first (a tiny handshake, the way a framing or SSH layer would plug in).
//!
//! ```text
//! cargo run -p examples --example mimic-custom
//! ```

use mimic::{Context, Flow, Key, Resolver, layer_fn, transport_fn};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The size of the echo transport's pipe: having it in the context selects it.
const ECHO: Key<usize> = Key::new("example.echo");
/// The greeting the banner layer sends: having it in the context applies it.
const BANNER: Key<String> = Key::new("example.banner");

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // The whole registration: a dozen lines.
    let echo = transport_fn("echo", ECHO, |size: usize| async move {
        let (client, server) = tokio::io::duplex(size);
        let (mut r, mut w) = tokio::io::split(server);
        tokio::spawn(async move { tokio::io::copy(&mut r, &mut w).await });
        Ok(Flow::new(client, "echo"))
    });
    let banner = layer_fn("banner", BANNER, |mut flow: Flow, hello: String| async move {
        flow.write_all(format!("{hello}\n").as_bytes()).await?;
        Ok(flow)
    });
    let resolver = Resolver::builder().transport(0, echo).layer(60, banner).build();

    let ctx = Context::new()
        .with(&ECHO, 4096)
        .with(&BANNER, "HELLO mimic".to_string());
    let mut flow = BufReader::new(resolver.resolve(&ctx).await?);
    flow.write_all(b"ping\n").await?;
    let mut lines = flow.lines();
    let banner = lines.next_line().await?.unwrap_or_default();
    let reply = lines.next_line().await?.unwrap_or_default();
    #[allow(clippy::print_stdout)]
    {
        println!("banner echoed: {banner}");
        println!("reply: {reply}");
    }
    assert_eq!((banner.as_str(), reply.as_str()), ("HELLO mimic", "ping"));
    Ok(())
}
