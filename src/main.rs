//! The `prayer-bot` binary: parses arguments, sets up logging, hands off.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use prayer_bot::cli::{Cli, error_message, run};
use tracing_subscriber::EnvFilter;

/// Without `RUST_LOG`: the bot's own events at INFO (a start, each post,
/// a stop), every dependency's warnings and errors only.
const DEFAULT_LOG_FILTER: &str = "warn,prayer_bot=info";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        // Colour codes are for a person at a terminal; in a log file or a
        // journal they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let today = chrono::Local::now().date_naive();
    match run(cli, today, chrono::Utc::now()).await {
        Ok(code) => code,
        Err(error) => {
            // One line: the error and its causes, outermost first, each
            // said once. If stderr cannot be written, the exit status is
            // all that is left to say it.
            let _ = writeln!(std::io::stderr(), "error: {}", error_message(&error));
            ExitCode::FAILURE
        }
    }
}
