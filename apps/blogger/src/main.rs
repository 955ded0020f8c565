//! `blogger`: see `cli.rs` for the flags and the crate docs (`lib.rs`).

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

mod cli;

use cli::{Cli, Command};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
    match Cli::parse().command {
        Command::Build(args) => build(&args.options()),
    }
}

fn build(options: &blogger::BuildOptions) -> ExitCode {
    let start = Instant::now();
    match blogger::build(options) {
        Ok(outcome) => {
            for error in &outcome.errors {
                tracing::error!("{}", blogger::error_chain(error));
            }
            tracing::info!(
                articles = outcome.articles,
                rendered = outcome.rendered,
                written = outcome.written.len(),
                removed = outcome.removed.len(),
                unchanged = outcome.unchanged,
                "built {} in {:.0?}",
                options.output.display(),
                start.elapsed()
            );
            if outcome.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            tracing::error!("{}", blogger::error_chain(&error));
            ExitCode::from(2)
        }
    }
}
