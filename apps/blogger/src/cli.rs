//! The flags of `blogger` (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A static blog generator.
#[derive(Debug, Parser)]
#[command(name = "blogger", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Builds the blog into a directory (incrementally: only what changed).
    Build(BuildArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// The blog's directory.
    #[arg(long, short = 's', default_value = ".")]
    pub(crate) source: PathBuf,
    /// Where to write the site (default: `_site` in the blog's directory).
    #[arg(long, short = 'o')]
    pub(crate) output: Option<PathBuf>,
    /// Where the site is served: `https://example.org/blog/` or `/blog/`
    /// (replaces `base_url` of blogger.toml).
    #[arg(long)]
    pub(crate) base_url: Option<String>,
    /// Includes the articles marked `draft: true`.
    #[arg(long)]
    pub(crate) drafts: bool,
    /// Fails on links inside the site that point to no page of it.
    #[arg(long)]
    pub(crate) check_links: bool,
}

impl BuildArgs {
    pub(crate) fn options(&self) -> blogger::BuildOptions {
        let output = self.output.clone().unwrap_or_else(|| self.source.join("_site"));
        let mut options = blogger::BuildOptions::new(&self.source, output);
        options.base_url = self.base_url.clone();
        options.drafts = self.drafts;
        options.check_links = self.check_links;
        options
    }
}
