//! A paf server: HTTP/1.1 and HTTP/2 over TLS (by ALPN) on one port, with a
//! throwaway CA (or your certificate), and `/echo` echoing request bodies.
//!
//! ```text
//! cargo run -p examples --example paf-hello -- --port 8443
//! # prints the URL and a curl command (the CA is written to a temp file)
//! cargo run -p examples --example paf-hello -- --cert fullchain.pem --key key.pem --port 8443
//! cargo run -p examples --example paf-hello -- --clear --port 8080   # HTTP/1.1 + h2c
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use clap::Parser;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use paf::certs::{Certificates, certified_key_from_files, certified_key_from_pem};
use paf::{Body, BodyError, Server, service_fn};

/// Serve hello on HTTPS (HTTP/1.1 and HTTP/2 by ALPN), or in clear text.
#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8443)]
    port: u16,
    /// Certificate chain (PEM); a throwaway CA and certificate otherwise.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Clear text: HTTP/1.1 and h2c (prior knowledge).
    #[arg(long)]
    clear: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_body: u64,
}

async fn hello(req: Request<Body>) -> Result<Response<Full<Bytes>>, BodyError> {
    if req.uri().path() == "/echo" {
        let body = req.into_body().collect().await?.to_bytes();
        return Ok(Response::new(Full::new(body)));
    }
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello over {:?}\n",
        req.version()
    )))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut builder = Server::builder().max_body_size(args.max_body);
    let mut note = String::new();
    if !args.clear {
        let certs = Arc::new(Certificates::new());
        let key = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => certified_key_from_files(cert, key)?,
            _ => {
                let ca = testkit::tls::TestCa::new("paf-hello throwaway CA")?;
                let leaf = ca.issue(&["localhost", "127.0.0.1"])?;
                let ca_file = std::env::temp_dir().join(format!("paf-hello-ca-{}.pem", std::process::id()));
                std::fs::write(&ca_file, ca.cert_pem())?;
                note = format!(" --cacert {}", ca_file.display());
                certified_key_from_pem(leaf.chain_pem().as_bytes(), leaf.key_pem().as_bytes())?
            }
        };
        certs.set_default(Some(key));
        builder = builder.tls(certs)?;
    }
    let server = builder.bind(("127.0.0.1", args.port)).await?;
    let addr = server.local_addr()?;
    let scheme = if args.clear { "http" } else { "https" };
    #[allow(clippy::print_stdout)]
    {
        println!("listening on {scheme}://localhost:{}/", addr.port());
        println!("try: curl{note} {scheme}://localhost:{}/", addr.port());
    }
    let handle = server.handle();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            handle.shutdown(std::time::Duration::from_secs(10));
        }
    });
    server.serve(service_fn(hello)).await?;
    Ok(())
}
