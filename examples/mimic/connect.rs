//! Connects to a URL through mimic, like a tiny netcat: prints what mimic
//! knows of the connection on stderr, then copies stdin to the connection
//! and the connection to stdout.
//!
//! ```text
//! cargo run -p examples --example mimic-connect -- tcp://127.0.0.1:8080
//! cargo run -p examples --example mimic-connect -- tls://example.com:443 --alpn h2,http/1.1 < /dev/null
//! cargo run -p examples --example mimic-connect -- https://localhost:8443 --ca ca.pem
//! cargo run -p examples --example mimic-connect -- unix:/run/some.sock
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mimic::keys::{ALPN, CONNECT_TIMEOUT, TLS_ROOTS};
use mimic::{Context, Resolver};

/// Connect to URL (tcp://, tls://, https://, unix:PATH...) and copy stdin/stdout.
#[derive(Parser)]
struct Args {
    /// Where to connect: tcp://host:port, tls://host:port, https://host, unix:/path.
    url: String,
    /// Trust the certificates of this PEM file instead of the webpki roots.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// ALPN protocols to offer, comma separated (h2,http/1.1).
    #[arg(long)]
    alpn: Option<String>,
    /// Give up connecting after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("mimic-connect: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut ctx = Context::from_url(&args.url)?;
    ctx.insert(&CONNECT_TIMEOUT, Duration::from_secs(args.timeout));
    if let Some(ca) = &args.ca {
        ctx.insert(&TLS_ROOTS, examples::roots_from_pem(ca)?);
    }
    if let Some(alpn) = &args.alpn {
        ctx.insert(&ALPN, examples::alpn_list(alpn));
    }
    let flow = Resolver::new().resolve(&ctx).await?;
    let facts = flow.facts();
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "connected: protocol={} peer={} server-name={} alpn={}",
            facts.protocol().unwrap_or("?"),
            facts.peer_addr().map_or("-".into(), |a| a.to_string()),
            facts.server_name().unwrap_or("-"),
            facts
                .alpn()
                .map_or("-".into(), |a| String::from_utf8_lossy(a).into_owned()),
        );
    }
    let (mut read, mut write) = tokio::io::split(flow);
    let upload = async {
        tokio::io::copy(&mut tokio::io::stdin(), &mut write).await?;
        tokio::io::AsyncWriteExt::shutdown(&mut write).await
    };
    let mut stdout = tokio::io::stdout();
    let download = tokio::io::copy(&mut read, &mut stdout);
    let (up, down) = tokio::join!(upload, download);
    up?;
    down?;
    Ok(())
}
