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
        Command::Push(args) => push(&args),
        Command::Serve(args) => serve(&args),
        Command::Watch(args) => watch(&args),
    }
}

fn watch(args: &cli::WatchArgs) -> ExitCode {
    let config = blogger::WatchConfig {
        build: args.build.options(),
        listen: std::net::SocketAddr::new(args.listen, args.port),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let watching = match blogger::watch(config).await {
            Ok(watching) => watching,
            Err(error) => {
                tracing::error!("watch: {}", blogger::error_chain(&error));
                return ExitCode::FAILURE;
            }
        };
        tracing::info!("serving on http://{} (rebuilt on every change)", watching.addr());
        if let Err(error) = signal().await {
            tracing::error!(%error, "cannot wait for signals");
        }
        watching.shutdown(std::time::Duration::from_secs(1));
        ExitCode::SUCCESS
    })
}

fn serve(args: &cli::ServeArgs) -> ExitCode {
    let config = match args.config() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("{}", blogger::error_chain(&error));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let serving = match blogger::serve(config).await {
            Ok(serving) => serving,
            Err(error) => {
                tracing::error!("serve: {}", blogger::error_chain(&error));
                return ExitCode::FAILURE;
            }
        };
        tracing::info!("serving on http://{}", serving.addr());
        if let Err(error) = signal().await {
            tracing::error!(%error, "cannot wait for signals");
        }
        tracing::info!("shutting down");
        serving.shutdown(std::time::Duration::from_secs(5));
        ExitCode::SUCCESS
    })
}

async fn signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

fn push(args: &cli::PushArgs) -> ExitCode {
    let (remote, options) = match args.remote().and_then(|remote| {
        let options = args.options(args.build.options().output)?;
        Ok((remote, options))
    }) {
        Ok(both) => both,
        Err(error) => {
            tracing::error!("{}", blogger::error_chain(&error));
            return ExitCode::from(2);
        }
    };
    let built = build(&args.build.options());
    if built != ExitCode::SUCCESS {
        tracing::error!("the build failed: nothing pushed");
        return built;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(blogger::push(&remote, &options)) {
        Ok(blogger::PushOutcome::Pushed {
            commit,
            changed,
            removed,
        }) => {
            tracing::info!(%commit, changed, removed, "pushed to {} {}", args.remote.remote, args.branch);
            ExitCode::SUCCESS
        }
        Ok(_) => {
            tracing::info!(
                "{} {} already has this site: nothing pushed",
                args.remote.remote,
                args.branch
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("push: {}", blogger::error_chain(&error));
            ExitCode::FAILURE
        }
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
