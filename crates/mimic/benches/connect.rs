//! What mimic adds to a connection: resolve + connect to a loopback listener
//! through a `Resolver`, against `TcpStream::connect` directly, in the same
//! run, interleaved, median of rounds. Run by `scripts/bench-mimic`, which
//! pins it to one core; prints both figures, the ratio and a `RESULT` line.
//!
//! Arguments: `[rounds] [connections per round]` (defaults 21 and 2000).
//! Both arms set `TCP_NODELAY` (mimic's tcp transport does) and close with
//! `SO_LINGER` 0, so no `TIME_WAIT` socket piles up across rounds.

#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::Instant;

use mimic::keys::{HOST, PORT};
use mimic::{Context, Resolver};
use tokio::net::{TcpListener, TcpStream};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(21);
    let per_round: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(rounds, per_round));
}

async fn run(rounds: usize, per_round: u32) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback listener");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let resolver = Resolver::new();
    let ctx = Context::new()
        .with(&HOST, addr.ip().to_string())
        .with(&PORT, addr.port());
    let url = format!("tcp://{addr}");

    // Warm up both paths.
    direct(addr, 200).await;
    through_mimic(&resolver, &ctx, 200).await;

    let (mut ours, mut anchor, mut with_url) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which arm goes first, so neither always runs warmer.
        if round % 2 == 0 {
            anchor.push(direct(addr, per_round).await);
            ours.push(through_mimic(&resolver, &ctx, per_round).await);
        } else {
            ours.push(through_mimic(&resolver, &ctx, per_round).await);
            anchor.push(direct(addr, per_round).await);
        }
        with_url.push(from_url(&resolver, &url, per_round).await);
    }
    let (ours, anchor, with_url) = (median(ours), median(anchor), median(with_url));
    let ratio = ours / anchor;
    let added = ours - anchor;
    println!("mimic: resolve + connect to {addr}, median of {rounds} rounds x {per_round} connections");
    println!("  TcpStream::connect                  {anchor:8.2} us/connection");
    println!(
        "  Resolver::resolve (context reused)  {ours:8.2} us/connection  ratio {ratio:.3}  added {added:+.2} us"
    );
    println!(
        "  Context::from_url + resolve         {with_url:8.2} us/connection  ratio {:.3}",
        with_url / anchor
    );
    let met = ratio <= 1.05 || added < 5.0;
    println!(
        "RESULT mimic-connect ours={ours:.2}us anchor={anchor:.2}us ratio={ratio:.3} goal=<=1.05x-or-<5us-added met={}",
        if met { "yes" } else { "no" }
    );
}

fn per_connection(start: Instant, n: u32) -> f64 {
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

async fn direct(addr: SocketAddr, n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_zero_linger().expect("linger");
    }
    per_connection(start, n)
}

async fn through_mimic(resolver: &Resolver, ctx: &Context, n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let flow = resolver.resolve(ctx).await.expect("resolve");
        close(flow);
    }
    per_connection(start, n)
}

async fn from_url(resolver: &Resolver, url: &str, n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let ctx = Context::from_url(url).expect("a URL");
        let flow = resolver.resolve(&ctx).await.expect("resolve");
        close(flow);
    }
    per_connection(start, n)
}

fn close(flow: mimic::Flow) {
    let stream = flow.downcast_ref::<TcpStream>().expect("a tcp flow");
    stream.set_zero_linger().expect("linger");
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
