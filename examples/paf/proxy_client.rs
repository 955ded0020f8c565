//! Fetches a URL with paf's client (HTTP/1.1 or HTTP/2 by ALPN, over mimic)
//! and writes the body to stdout; the status line and headers go to stderr.
//!
//! ```text
//! cargo run -p examples --example paf-proxy-client -- https://example.com/
//! cargo run -p examples --example paf-proxy-client -- https://localhost:8443/ --ca /tmp/paf-hello-ca-1234.pem
//! cargo run -p examples --example paf-proxy-client -- http://127.0.0.1:8080/echo --data 'hello'
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use tokio::io::AsyncWriteExt;

/// Fetch URL through paf's client.
#[derive(Parser)]
struct Args {
    /// The URL (http:// or https://).
    url: http::Uri,
    /// Trust the certificates of this PEM file instead of the webpki roots.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// ALPN protocols to offer, comma separated.
    #[arg(long, default_value = "h2,http/1.1")]
    alpn: String,
    /// POST this body instead of a GET.
    #[arg(long)]
    data: Option<String>,
    /// Seconds to wait for a connection, then for the response head.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprint!("paf-proxy-client: {e}");
                let mut cause = e.source();
                while let Some(c) = cause {
                    eprint!(": {c}");
                    cause = c.source();
                }
                eprintln!();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let timeout = Duration::from_secs(args.timeout);
    let mut builder = paf::Client::builder()
        .alpn(examples::alpn_list(&args.alpn))
        .connect_timeout(timeout)
        .request_timeout(Some(timeout));
    if let Some(ca) = &args.ca {
        builder = builder.tls_roots(examples::roots_from_pem(ca)?);
    }
    let client = builder.build()?;
    let (method, body) = match args.data {
        Some(data) => (Method::POST, Bytes::from(data)),
        None => (Method::GET, Bytes::new()),
    };
    let req = Request::builder()
        .method(method)
        .uri(args.url)
        .body(Full::new(body))?;
    let response = client.request(req).await?;
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{:?} {}", response.version(), response.status());
        for (name, value) in response.headers() {
            eprintln!("{name}: {}", value.to_str().unwrap_or("<binary>"));
        }
    }
    let mut body = response.into_body();
    let mut stdout = tokio::io::stdout();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            stdout.write_all(&data).await?;
        }
    }
    stdout.flush().await?;
    Ok(())
}
