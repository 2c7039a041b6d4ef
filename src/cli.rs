//! The command line: `parse`, `import` and `week`. Reads files and prints;
//! the work itself is in the library's pure core and the store.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::browse::{FindWeekError, find_week};
use crate::bulletin::{Bulletin, Kind, decode_bulletin, parse_bulletin};
use crate::config::{DEFAULT_DATABASE, bot_settings};
use crate::import::{ImportContext, ImportError, import_bulletin};
use crate::render::{find_region, group_by_region, render_week};
use crate::storage::{ImportOutcome, Scope, Store};
use crate::week::{Placement, PrayerWeek, place_bulletin};

/// Keeps a group praying together through a weekly prayer bulletin.
#[derive(Debug, Parser)]
#[command(name = "prayer-bot", version)]
pub struct Cli {
    /// The SQLite database: a path or an sqlx URL (`sqlite:…`). Created and
    /// migrated on first use.
    /// [default: prayer-bot.db]
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "PATH")]
    pub database: Option<String>,

    /// Take this as today's date (for tests and for previewing a future week's import).
    #[arg(long, global = true, hide = true, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Discord bot until SIGINT or SIGTERM.
    ///
    /// Needs DISCORD_TOKEN. DISCORD_API_URL (optional) replaces
    /// https://discord.com for every HTTP call, e.g. a rate-limit proxy;
    /// serenity's own rate limiter is then off. RUST_LOG sets the log level.
    Run {
        /// A TOML file with any of `discord_token`, `database`,
        /// `discord_api_url`; the environment and --database win over it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Show what the parser understands of a bulletin (text, web page or email).
    Parse {
        /// The bulletin file.
        file: PathBuf,
        /// Print JSON: title, date, verse, requests and notes.
        #[arg(long)]
        json: bool,
    },
    /// Store bulletins in the database, each in its own prayer week.
    ///
    /// A dated bulletin goes to the first Monday on or after its date; an
    /// undated one to the coming Monday, or the first week after it that has
    /// no bulletin. A bulletin already imported is not added again; a new
    /// bulletin for a week that has one replaces it. A file that is not a
    /// bulletin is reported and skipped; the others are still imported.
    Import {
        /// Bulletin files, imported in the order given.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Put every file in this prayer week (its Monday, YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: Option<PrayerWeek>,
        /// Replace a week's bulletin even after it has been posted.
        #[arg(long)]
        force: bool,
    },
    /// Print a week's posts as the bot will send them.
    ///
    /// Without --week: the current prayer week or, if it has no bulletin,
    /// the next week that has one.
    Week {
        /// The prayer week (its Monday, YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: Option<PrayerWeek>,
        /// Show only this region's requests (after the header).
        #[arg(long, value_name = "NAME")]
        region: Option<String>,
    },
}

/// Runs one command. `today` and `now` come from the caller's clock.
pub async fn run(cli: Cli, today: NaiveDate, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    let today = cli.today.unwrap_or(today);
    let database = cli
        .database
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    match cli.command {
        Command::Run { config } => run_bot(cli.database, config.as_deref()).await,
        Command::Parse { file, json } => parse(&file, json, today),
        Command::Import { files, week, force } => {
            let store = Store::open(&database).await?;
            let context = ImportContext {
                scope: Scope::Shared,
                week,
                force,
                today,
                now,
            };
            let code = import(&store, &files, &context).await;
            store.close().await;
            Ok(code)
        }
        Command::Week { week, region } => {
            let store = Store::open(&database).await?;
            let result = show_week(&store, week, region.as_deref(), today).await;
            store.close().await;
            result
        }
    }
}

/// Exit status for settings that keep the bot from starting.
const BAD_SETTINGS: u8 = 2;

async fn run_bot(database: Option<String>, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let file = match config {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(error) => {
                eprintln!(
                    "error: cannot read the settings file {}: {error}",
                    path.display()
                );
                return Ok(ExitCode::from(BAD_SETTINGS));
            }
        },
        None => None,
    };
    let settings = match bot_settings(|key| std::env::var(key).ok(), database, file.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(BAD_SETTINGS));
        }
    };
    let store = Store::open(&settings.database).await?;
    crate::discord::run(settings, store, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the bot");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn read_bulletin(file: &Path) -> anyhow::Result<Bulletin> {
    let bytes = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    let text = decode_bulletin(&bytes).with_context(|| file.display().to_string())?;
    parse_bulletin(&text).with_context(|| file.display().to_string())
}

fn parse(file: &Path, json: bool, today: NaiveDate) -> anyhow::Result<ExitCode> {
    let bulletin = read_bulletin(file)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&bulletin)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Title:    {}", bulletin.title);
    match (bulletin.date, place_bulletin(None, bulletin.date, today)) {
        (Some(date), Placement::Exactly(week)) => {
            println!("Date:     {date} (for the prayer week of Monday {week})")
        }
        _ => println!("Date:     none (goes to the coming week that has no bulletin)"),
    }
    match &bulletin.verse {
        Some(verse) => println!(
            "Verse:    “{}” — {}",
            verse.text,
            verse.reference.as_deref().unwrap_or("no reference")
        ),
        None => println!("Verse:    none"),
    }
    let praises = bulletin
        .requests
        .iter()
        .filter(|r| r.kind == Kind::Praise)
        .count();
    let groups = group_by_region(&bulletin.requests);
    println!(
        "Requests: {} in {} ({}, {})",
        bulletin.requests.len(),
        plural(groups.len(), "region"),
        plural(bulletin.requests.len() - praises, "petition"),
        plural(praises, "praise")
    );
    for (region, members) in groups {
        println!("\n{region}");
        for index in members {
            let request = &bulletin.requests[index];
            let countries = if request.countries.is_empty() {
                String::new()
            } else {
                format!(" [{}]", request.countries.join(", "))
            };
            println!("  {} {}{}", request.kind.as_str(), request.text, countries);
        }
    }
    if !bulletin.notes.is_empty() {
        println!("\nNotes (not requests)");
        for note in &bulletin.notes {
            println!("  {}: {}", note.region, note.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports each file in turn; a file that fails is reported on stderr and
/// the rest go on. Exits non-zero if any failed.
async fn import(store: &Store, files: &[PathBuf], context: &ImportContext) -> ExitCode {
    let bar = (files.len() >= 10 && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(files.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        bar
    });
    let say = |line: String, to_stderr: bool| {
        let print = || {
            if to_stderr {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        };
        match &bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    };
    let (mut added, mut unchanged, mut failed) = (0, 0, 0);
    for file in files {
        let name = file.display().to_string();
        if let Some(bar) = &bar {
            bar.set_message(name.clone());
        }
        let result = match std::fs::read(file) {
            Ok(bytes) => import_bulletin(store, &name, &bytes, context)
                .await
                .map_err(|error| match error {
                    ImportError::NotABulletin(reason) => reason.to_string(),
                    ImportError::Storage(error) => format!("not stored: {error}"),
                }),
            Err(error) => Err(format!("cannot read: {error}")),
        };
        match result {
            Ok(imported) => {
                let b = &imported.bulletin;
                let summary = format!(
                    "{} in {}, {}",
                    plural(b.requests.len(), "request"),
                    plural(group_by_region(&b.requests).len(), "region"),
                    plural(b.notes.len(), "note")
                );
                match imported.outcome {
                    ImportOutcome::Added {
                        week,
                        replaced: None,
                    } => {
                        added += 1;
                        say(format!("imported {name}: week of {week}, {summary}"), false);
                    }
                    ImportOutcome::Added {
                        week,
                        replaced: Some(old),
                    } => {
                        added += 1;
                        say(
                            format!(
                                "imported {name}: week of {week}, {summary}; replaced the week's earlier bulletin “{old}”"
                            ),
                            false,
                        );
                    }
                    ImportOutcome::AlreadyPosted { week } => {
                        failed += 1;
                        say(
                            format!(
                                "error: {name}: the week of {week} has already been posted with another bulletin; nothing changed (--force replaces it)"
                            ),
                            true,
                        );
                    }
                    ImportOutcome::AlreadyImported { week } => {
                        unchanged += 1;
                        say(
                            format!(
                                "unchanged {name}: already imported for the week of {week}; nothing added"
                            ),
                            false,
                        );
                    }
                }
            }
            Err(reason) => {
                failed += 1;
                say(format!("error: {name}: {reason}"), true);
            }
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if files.len() > 1 {
        println!("{added} imported, {unchanged} already imported, {failed} failed");
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn show_week(
    store: &Store,
    week: Option<PrayerWeek>,
    region: Option<&str>,
    today: NaiveDate,
) -> anyhow::Result<ExitCode> {
    let (stored, choice) = match find_week(store, Scope::Shared, week, today).await {
        Ok(found) => found,
        Err(FindWeekError::NoBulletinFor(week)) => bail!(
            "no bulletin for the week of {week}; import one with `prayer-bot import FILE --week {week}`"
        ),
        Err(FindWeekError::NoBulletinFrom(week)) => bail!(
            "no bulletin for the week of {week} or any later week; import one with `prayer-bot import FILE`"
        ),
        Err(FindWeekError::Storage(error)) => return Err(error.into()),
    };
    let (week, bulletin) = (stored.week, &stored.bulletin);
    let mut posts = render_week(week, bulletin);
    if let Some(wanted) = region {
        let name =
            find_region(bulletin, wanted).map_err(|e| anyhow::anyhow!("the week of {week} {e}"))?;
        posts.retain(|post| post.region.as_deref().is_none_or(|r| r == name));
    }
    println!(
        "Week of Monday {week} ({}): {}, {}",
        choice.describe(week, PrayerWeek::containing(today)),
        bulletin.title,
        plural(bulletin.requests.len(), "request")
    );
    for post in posts {
        let label = match (&post.region, post.request) {
            (Some(region), Some(index)) => {
                format!(
                    "{region} · request {} of {}",
                    index + 1,
                    bulletin.requests.len()
                )
            }
            _ => "header".to_owned(),
        };
        println!("\n─── {label} ───\n{}", post.content);
    }
    Ok(ExitCode::SUCCESS)
}

/// `1 request`, `2 requests`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
