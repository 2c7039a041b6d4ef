//! The `prayer-bot` binary: parses arguments, sets up logging, hands off.

use std::process::ExitCode;

use clap::Parser;
use prayer_bot::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let today = chrono::Local::now().date_naive();
    match run(cli, today, chrono::Utc::now()).await {
        Ok(code) => code,
        Err(error) => {
            // One line: the error and its causes, outermost first.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
