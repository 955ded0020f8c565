//! `pasteur`: the paste site. See `cli.rs` for the flags and the crate
//! docs (`lib.rs`) for the architecture.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

mod cli;

use cli::{Action, Cli};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let action = match Cli::parse().action() {
        Ok(action) => action,
        Err(error) => {
            tracing::error!("{}", pasteur::error_chain(&error));
            return ExitCode::from(2);
        }
    };
    match action {
        Action::Keygen => keygen(),
        Action::Serve(config) => serve(*config),
    }
}

fn keygen() -> ExitCode {
    let seed = match cli::new_seed() {
        Ok(seed) => seed,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match cli::ssh_key_from_seed(&seed) {
        Ok(key) => {
            #[allow(clippy::print_stdout)]
            {
                println!("seed: {seed}");
                println!("{}", key.public_key_line("pasteur"));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{}", pasteur::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

fn serve(config: pasteur::Config) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let running = match pasteur::start(config, Arc::new(pasteur::SystemClock)).await {
            Ok(running) => running,
            Err(error) => {
                tracing::error!("{}", pasteur::error_chain(&error));
                return ExitCode::FAILURE;
            }
        };
        let scheme = if running.http_addr().is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("serving on {scheme}://{}", running.addr());
        tokio::select! {
            result = signal() => {
                if let Err(error) = result {
                    tracing::error!(%error, "cannot wait for signals");
                }
                tracing::info!("shutting down");
                running.shutdown(Duration::from_secs(5));
                // Requests under way finish; their commits are durable when acknowledged.
                tokio::time::sleep(Duration::from_millis(200)).await;
                ExitCode::SUCCESS
            }
        }
    })
}

async fn signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}
