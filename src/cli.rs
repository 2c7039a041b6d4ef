//! The command line: `parse`, `import` and `week`. Reads files and prints;
//! the work itself is in the library's pure core and the store.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::bulletins::browse::{FindWeekError, find_week};
use crate::bulletins::import::{
    self, ImportContext, ImportError, Verdict, import_bulletin, outcome_words,
};
use crate::bulletins::parse::{
    Bulletin, Kind, MAX_BULLETIN_BYTES, decode_bulletin, parse_bulletin,
};
use crate::bulletins::week::{Placement, PrayerWeek, place_bulletin};
use crate::config::{ConfigError, DEFAULT_DATABASE, SettingsFile, bot_settings};
use crate::posting::render::{find_region, group_by_region, render_week};
use crate::read::{ReadError, io_message, read_capped};
use crate::storage::{Scope, StorageError, Store};

/// Keeps a group praying together through a weekly prayer bulletin.
#[derive(Debug, Parser)]
#[command(name = "prayer-bot", version)]
pub struct Cli {
    /// Take this as today's date (for tests and for previewing a future week's import).
    #[arg(long, global = true, hide = true, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,

    #[command(subcommand)]
    pub command: Command,
}

/// `--database` for the commands that write: the store is created and
/// migrated on first use.
#[derive(Debug, Clone, clap::Args)]
pub struct WriteDatabase {
    /// The database: a SQLite file's path or URL (`sqlite:…`), or a
    /// Postgres URL (`postgres://…`). Created (SQLite) and migrated on
    /// first use; an absolute path is safest for a service.
    /// [default: prayer-bot.db]
    #[arg(long, env = "DATABASE_URL", value_name = "PATH")]
    pub database: Option<String>,
}

/// `--database` for the commands that only read: never created or migrated.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadDatabase {
    /// The database to read: a SQLite path or URL, or a Postgres URL.
    /// Opened read-only; it is never created, migrated or changed.
    /// [default: prayer-bot.db]
    #[arg(long, env = "DATABASE_URL", value_name = "PATH")]
    pub database: Option<String>,
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
        #[command(flatten)]
        database: WriteDatabase,
        /// Run only shards START to END-1 (with --shard-total); every shard
        /// Discord recommends when left out.
        #[arg(long, env = "PRAYER_BOT_SHARDS", value_name = "START..END")]
        shards: Option<String>,
        /// How many shards all the bot's processes run together.
        #[arg(long, env = "PRAYER_BOT_SHARD_TOTAL", value_name = "N")]
        shard_total: Option<u32>,
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
        /// Put the file in this prayer week (its Monday, YYYY-MM-DD). Takes
        /// exactly one file, since a week holds one bulletin.
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: Option<PrayerWeek>,
        /// Replace a week's bulletin even after it has been posted.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        database: WriteDatabase,
    },
    /// Print a week's posts as the bot will send them.
    ///
    /// Without --week: the current prayer week or, if it has no bulletin,
    /// the next week that has one. Reads the database only: it never
    /// creates, migrates or changes it.
    Week {
        /// The prayer week (its Monday, YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: Option<PrayerWeek>,
        /// Show only this region's requests (after the header).
        #[arg(long, value_name = "NAME")]
        region: Option<String>,
        #[command(flatten)]
        database: ReadDatabase,
    },
    /// Copy the database to FILE, consistently, while the bot may be running.
    ///
    /// The copy is one SQLite snapshot (`VACUUM INTO`): every bulletin,
    /// schedule and prayer as of one instant, compacted. FILE must not
    /// exist yet. Restore by stopping the bot and putting the copy in place
    /// of the database.
    Backup {
        /// Where to write the copy (a new file).
        file: PathBuf,
        #[command(flatten)]
        database: WriteDatabase,
    },
    /// Copy a SQLite database into a new, empty Postgres database.
    ///
    /// Every row of every table goes over in one Postgres transaction, and
    /// each table is counted on both sides before it commits: all or
    /// nothing. Stop the bot first; then run it with
    /// DATABASE_URL=postgres://… .
    Migrate {
        /// The Postgres database to fill (postgres://user:password@host/name).
        #[arg(long, value_name = "URL")]
        to: String,
        #[command(flatten)]
        database: ReadDatabase,
    },
    /// Write one server's record for its own files: every request it saw,
    /// week by week, with how many committed and prayed and whether it was
    /// answered, and its praises.
    ///
    /// FILE ends in .json or .csv, which says the format, and must not
    /// exist yet. Member ids are left out unless --with-members; praise
    /// authors always are.
    Export {
        /// The server's id (Discord: right-click the server, Copy Server ID).
        #[arg(long, value_name = "ID")]
        guild: u64,
        /// Where to write it (a new .json or .csv file).
        file: PathBuf,
        /// Also list who committed and who prayed, as Discord user ids.
        #[arg(long)]
        with_members: bool,
        #[command(flatten)]
        database: ReadDatabase,
    },
}

/// Runs one command. `today` and `now` come from the caller's clock.
pub async fn run(cli: Cli, today: NaiveDate, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    let today = cli.today.unwrap_or(today);
    let or_default =
        |database: Option<String>| database.unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    let mut out = Output::new(io::stdout());
    let code = match cli.command {
        Command::Run {
            config,
            database,
            shards,
            shard_total,
        } => {
            let shards = (shards.as_deref(), shard_total);
            return run_bot(database.database, config.as_deref(), shards).await;
        }
        Command::Parse { file, json } => parse(&mut out, &file, json, today)?,
        Command::Import {
            files,
            week,
            force,
            database,
        } => {
            let context = ImportContext {
                scope: Scope::Shared,
                week,
                force,
                today,
                now,
            };
            import_files(&mut out, &or_default(database.database), &files, &context).await?
        }
        Command::Week {
            week,
            region,
            database,
        } => {
            let database = or_default(database.database);
            week_in(&mut out, &database, week, region.as_deref(), today).await?
        }
        Command::Migrate { to, database } => {
            migrate(&mut out, &or_default(database.database), &to).await?
        }
        Command::Backup { file, database } => {
            backup(&mut out, &or_default(database.database), &file).await?
        }
        Command::Export {
            guild,
            file,
            with_members,
            database,
        } => {
            let store = open_to_read(&or_default(database.database)).await?;
            let result = export(&mut out, &store, guild, &file, with_members).await;
            store.close().await;
            result?
        }
    };
    out.finish()?;
    Ok(code)
}

/// `week`: the week asked for, from the database at `database`.
async fn week_in(
    out: &mut Output<impl Write>,
    database: &str,
    week: Option<PrayerWeek>,
    region: Option<&str>,
    today: NaiveDate,
) -> anyhow::Result<ExitCode> {
    let store = open_to_read(database).await?;
    let result = show_week(out, &store, week, region, today).await;
    store.close().await;
    result
}

/// `export`: one server's record to a new file, its format by its name.
async fn export(
    out: &mut Output<impl Write>,
    store: &Store,
    guild: u64,
    file: &Path,
    with_members: bool,
) -> anyhow::Result<ExitCode> {
    let Some(guild) = crate::ids::GuildId::try_new(guild) else {
        bail!(
            "0 is not a server's id; copy it from Discord (right-click the server, Copy Server ID)"
        );
    };
    let csv = match file.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => true,
        Some(e) if e.eq_ignore_ascii_case("json") => false,
        _ => bail!(
            "{} must end in .json or .csv, which says the format (nothing was written)",
            file.display()
        ),
    };
    if file.exists() || file.is_symlink() {
        bail!(
            "{} already exists; name a new file for the export (nothing was written)",
            file.display()
        );
    }
    let record = crate::tracking::export::export(store, guild, with_members).await?;
    let text = if csv {
        crate::tracking::export::to_csv(&record)
    } else {
        serde_json::to_string_pretty(&record)?
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| anyhow!("could not write {}: {}", file.display(), io_message(&e)))?;
    out.line(format_args!(
        "Exported server {guild} to {}: {} and {}.",
        file.display(),
        plural(record.requests.len(), "request"),
        plural(record.praises.len(), "praise")
    ));
    Ok(ExitCode::SUCCESS)
}

/// `backup`: one consistent copy of the database, written while others may
/// write to it. Refuses to overwrite anything.
async fn backup(
    out: &mut Output<impl Write>,
    database: &str,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    if file.exists() || file.is_symlink() {
        bail!(
            "{} already exists; name a new file for the backup (nothing was written)",
            file.display()
        );
    }
    let store = match Store::open_read_only(database).await {
        Ok(store) => store,
        Err(StorageError::Missing { location }) => {
            bail!("no database at {location}, so there is nothing to back up")
        }
        Err(error) => return Err(error.into()),
    };
    let result = store.backup_to(file).await;
    store.close().await;
    let summary = result?;
    out.line(format_args!(
        "Backed up {database} to {}: {} in {}.",
        file.display(),
        plural(summary.bulletins, "bulletin"),
        plural(summary.servers, "server"),
    ));
    Ok(ExitCode::SUCCESS)
}

/// `migrate --to`: the SQLite database `database` copied into the empty
/// Postgres database `to`, verified by counts.
async fn migrate(
    out: &mut Output<impl Write>,
    database: &str,
    to: &str,
) -> anyhow::Result<ExitCode> {
    if !crate::storage::is_postgres(to) {
        bail!(
            "--to takes a Postgres address (postgres://user:password@host/database); nothing was copied"
        );
    }
    let source = open_to_read(database).await?;
    let target = match Store::open(to).await {
        Ok(target) => target,
        Err(error) => {
            source.close().await;
            return Err(error.into());
        }
    };
    let copied = source.copy_to(&target).await;
    source.close().await;
    target.close().await;
    let counts = copied?;
    let rows: i64 = counts.iter().map(|(_, count)| count).sum();
    out.line(format_args!(
        "Copied {} to {}: {rows} rows in {} tables, each counted the same on both sides.",
        crate::storage::describe_location(database),
        crate::storage::describe_location(to),
        counts.len()
    ));
    for (table, count) in counts {
        out.line(format_args!("  {table}: {count}"));
    }
    Ok(ExitCode::SUCCESS)
}

/// The error and its causes as one line, each cause said once: an error
/// whose message already includes its cause (this crate's rule, and sqlx's
/// habit) is not followed by that cause again.
pub fn error_message(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// Exit status for a command line that asks for something impossible, as
/// clap uses for its own usage errors.
const USAGE: u8 = 2;

/// Exit status for settings that keep the bot from starting.
const BAD_SETTINGS: u8 = 2;

/// The most a settings file may hold; a real one is a few lines.
const MAX_SETTINGS_BYTES: u64 = 64 * 1024;

async fn run_bot(
    database: Option<String>,
    config: Option<&Path>,
    (shards, total): (Option<&str>, Option<u32>),
) -> anyhow::Result<ExitCode> {
    let shards = match crate::shards::ShardRange::from_options(shards, total) {
        Ok(shards) => shards,
        Err(error) => {
            warn(format_args!("error: {error}"));
            return Ok(ExitCode::from(BAD_SETTINGS));
        }
    };
    let settings = match read_settings_file(config)
        .and_then(|file| bot_settings(|key| std::env::var(key).ok(), database, file.as_ref()))
    {
        Ok(settings) => crate::config::BotSettings { shards, ..settings },
        Err(error) => {
            warn(format_args!("error: {error}"));
            return Ok(ExitCode::from(BAD_SETTINGS));
        }
    };
    let store = Store::open(&settings.database).await?;
    let contents = store.contents().await?;
    // A service started in another directory must not run on a new, empty
    // database unnoticed: say which file this is and what it holds.
    tracing::info!(
        "database {}: {} and {}",
        crate::storage::describe_location(&settings.database),
        plural(contents.bulletins, "bulletin"),
        format!("{} set up", plural(contents.servers, "server")),
    );
    crate::discord::run(settings, store, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// The settings file named by `--config`, if any, read whole up to
/// [`MAX_SETTINGS_BYTES`].
fn read_settings_file(config: Option<&Path>) -> Result<Option<SettingsFile>, ConfigError> {
    let Some(path) = config else {
        return Ok(None);
    };
    let name = path.display().to_string();
    let bad = |reason: String| ConfigError::BadFile {
        file: name.clone(),
        reason,
    };
    let bytes = read_capped(path, MAX_SETTINGS_BYTES).map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".to_owned()))?;
    Ok(Some(SettingsFile { name, text }))
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

/// The bytes of a bulletin file, at most [`MAX_BULLETIN_BYTES`] of them.
fn read_bulletin_file(file: &Path) -> Result<Vec<u8>, ReadError> {
    read_capped(file, MAX_BULLETIN_BYTES as u64)
}

fn read_bulletin(file: &Path) -> anyhow::Result<Bulletin> {
    let name = file.display();
    let bytes = read_bulletin_file(file).map_err(|e| anyhow!("{name}: {e}"))?;
    let text = decode_bulletin(&bytes).map_err(|e| anyhow!("{name}: {e}"))?;
    parse_bulletin(&text).map_err(|e| anyhow!("{name}: {e}"))
}

/// `import`: refuses one `--week` for several files, then imports each.
async fn import_files(
    out: &mut Output<impl Write>,
    database: &str,
    files: &[PathBuf],
    context: &ImportContext,
) -> anyhow::Result<ExitCode> {
    if context.week.is_some() && files.len() > 1 {
        // Each file would replace the one before it in that week, and only
        // the last would stay.
        warn(format_args!(
            "error: --week names one week and a week holds one bulletin, but {} files were given; import them one at a time, each with its own --week",
            files.len()
        ));
        return Ok(ExitCode::from(USAGE));
    }
    let store = Store::open(database).await?;
    let code = import(out, &store, files, context).await;
    store.close().await;
    Ok(code)
}

/// The database `week` reads, opened read-only; a missing one is the
/// user's to fix.
async fn open_to_read(database: &str) -> anyhow::Result<Store> {
    match Store::open_read_only(database).await {
        Ok(store) => Ok(store),
        Err(StorageError::Missing { location }) => bail!(
            "no database at {location}: import a bulletin first with `prayer-bot import FILE`"
        ),
        Err(error) => Err(error.into()),
    }
}

fn parse(
    out: &mut Output<impl Write>,
    file: &Path,
    json: bool,
    today: NaiveDate,
) -> anyhow::Result<ExitCode> {
    let bulletin = read_bulletin(file)?;
    if json {
        // Each request also says whether members can pray for it, as the
        // bot posts it; computed, not stored, so it is never out of date.
        let mut value = serde_json::to_value(&bulletin)?;
        if let Some(requests) = value["requests"].as_array_mut() {
            for (json, request) in requests.iter_mut().zip(&bulletin.requests) {
                json["prayable"] = request.is_prayable().into();
            }
        }
        out.line(serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_heading(out, &bulletin, today);
    print_requests(out, &bulletin);
    if !bulletin.notes.is_empty() {
        out.line("\nNotes (not requests)");
        for note in &bulletin.notes {
            out.line(format_args!("  {}: {}", note.region, note.text));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `parse`'s title, date (and the week it goes to) and verse.
fn print_heading(out: &mut Output<impl Write>, bulletin: &Bulletin, today: NaiveDate) {
    out.line(format_args!("Title:    {}", bulletin.title));
    match (bulletin.date, place_bulletin(None, bulletin.date, today)) {
        (Some(date), Placement::Exactly(week)) => out.line(format_args!(
            "Date:     {date} (for the prayer week of Monday {week})"
        )),
        _ => out.line("Date:     none (goes to the coming week that has no bulletin)"),
    }
    match &bulletin.verse {
        Some(verse) => out.line(format_args!(
            "Verse:    “{}” — {}",
            verse.text,
            verse.reference.as_deref().unwrap_or("no reference")
        )),
        None => out.line("Verse:    none"),
    }
}

/// `parse`'s requests: counted, then listed by region, each labelled.
fn print_requests(out: &mut Output<impl Write>, bulletin: &Bulletin) {
    let praises = bulletin
        .requests
        .iter()
        .filter(|r| r.kind == Kind::Praise)
        .count();
    let prayable = bulletin.requests.iter().filter(|r| r.is_prayable()).count();
    let groups = group_by_region(&bulletin.requests);
    out.line(format_args!(
        "Requests: {} in {} ({}, {}; {} prayable)",
        bulletin.requests.len(),
        plural(groups.len(), "region"),
        plural(bulletin.requests.len() - praises, "petition"),
        plural(praises, "praise"),
        prayable
    ));
    for (region, members) in groups {
        out.line(format_args!("\n{region}"));
        for index in members {
            let request = &bulletin.requests[index];
            let countries = if request.countries.is_empty() {
                String::new()
            } else {
                format!(" [{}]", request.countries.join(", "))
            };
            let label = match (request.kind, request.is_prayable()) {
                (Kind::Praise, true) => "praise (prayable)",
                (Kind::Praise, false) => "praise (thanks only)",
                (Kind::Petition, _) => "petition",
            };
            out.line(format_args!("  {label} {}{}", request.text, countries));
        }
    }
}

/// Imports each file in turn; a file that fails is reported on stderr and
/// the rest go on. Exits non-zero if any failed. Output that cannot be
/// written does not stop the import: every file is still stored.
async fn import(
    out: &mut Output<impl Write>,
    store: &Store,
    files: &[PathBuf],
    context: &ImportContext,
) -> ExitCode {
    let progress = Progress::for_files(files.len());
    let mut tally = Tally::default();
    for file in files {
        let name = file.display().to_string();
        progress.start(&name);
        let (verdict, line) = import_one(store, file, &name, context).await;
        tally.count(verdict);
        progress.say(|| match verdict {
            Verdict::Refused => warn(&line),
            _ => out.line(&line),
        });
        progress.done();
    }
    progress.finish();
    if files.len() > 1 {
        out.line(format_args!(
            "{} imported, {} already imported, {} failed",
            tally.added, tally.unchanged, tally.failed
        ));
    }
    if tally.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One file imported, as its line of output (a refusal goes to stderr).
async fn import_one(
    store: &Store,
    file: &Path,
    name: &str,
    context: &ImportContext,
) -> (Verdict, String) {
    let imported = match read_bulletin_file(file) {
        Ok(bytes) => import_bulletin(store, name, &bytes, context).await,
        Err(error) => return (Verdict::Refused, format!("error: {name}: {error}")),
    };
    let imported = match imported {
        Ok(imported) => imported,
        Err(ImportError::NotABulletin(reason)) => {
            return (Verdict::Refused, format!("error: {name}: {reason}"));
        }
        Err(ImportError::Storage(error)) => {
            return (
                Verdict::Refused,
                format!("error: {name}: not stored: {error}"),
            );
        }
    };
    let b = &imported.bulletin;
    let summary = format!(
        "{} in {}, {}",
        plural(b.requests.len(), "request"),
        plural(group_by_region(&b.requests).len(), "region"),
        plural(b.notes.len(), "note")
    );
    let (verdict, words) = outcome_words(&imported.outcome, &summary, import::CLI);
    let said = match verdict {
        Verdict::Added => "imported",
        Verdict::Moved => "moved",
        Verdict::Unchanged => "unchanged",
        Verdict::Refused => "error",
    };
    (verdict, format!("{said} {name}: {words}"))
}

/// How many files each way went.
#[derive(Default)]
struct Tally {
    added: usize,
    unchanged: usize,
    failed: usize,
}

impl Tally {
    fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Added | Verdict::Moved => self.added += 1,
            Verdict::Unchanged => self.unchanged += 1,
            Verdict::Refused => self.failed += 1,
        }
    }
}

/// A progress bar for ten files or more on a terminal; lines printed
/// meanwhile go above it.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn for_files(count: usize) -> Self {
        Progress((count >= 10 && io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(count as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
                bar.set_style(style);
            }
            bar
        }))
    }

    fn start(&self, name: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(name.to_owned());
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn say(&self, print: impl FnOnce()) {
        match &self.0 {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

async fn show_week(
    out: &mut Output<impl Write>,
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
    out.line(format_args!(
        "Week of Monday {week} ({}): {}, {}",
        choice.describe(week, PrayerWeek::containing(today)),
        bulletin.title,
        plural(bulletin.requests.len(), "request")
    ));
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
        out.line(format_args!("\n─── {label} ───\n{}", post.content));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a command's results go (stdout), written so that a failed write
/// never panics as `println!` does and never stops the work: a reader that
/// went away (a closed pipe, as `| head -1` does) ends the printing quietly,
/// and any other failure (a full disk) is kept and reported once, by
/// [`Output::finish`], after the work is done.
pub struct Output<W: Write> {
    out: W,
    state: OutputState,
}

enum OutputState {
    Open,
    /// The reader went away; nothing more is written, and that is no error.
    Closed,
    /// A write failed; nothing more is written, and the command fails.
    Failed(io::Error),
}

impl<W: Write> Output<W> {
    pub fn new(out: W) -> Self {
        Output {
            out,
            state: OutputState::Open,
        }
    }

    /// Writes `text` and a line end, now: flushing each line makes a
    /// failure show at the line that failed.
    pub fn line(&mut self, text: impl Display) {
        if !matches!(self.state, OutputState::Open) {
            return;
        }
        let written = writeln!(self.out, "{text}").and_then(|()| self.out.flush());
        if let Err(error) = written {
            self.state = if error.kind() == io::ErrorKind::BrokenPipe {
                OutputState::Closed
            } else {
                OutputState::Failed(error)
            };
        }
    }

    /// Fails if a line could not be written for any reason but a closed
    /// pipe.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.state {
            OutputState::Failed(error) => {
                bail!("cannot write the output: {}", io_message(&error))
            }
            OutputState::Open | OutputState::Closed => Ok(()),
        }
    }
}

/// Writes a line to stderr. A failure to write there is ignored: stderr is
/// where failures are reported, so there is nowhere left to report it.
fn warn(text: impl Display) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// `1 request`, `2 requests`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_said_again() {
        let cause = std::io::Error::from_raw_os_error(2);
        let said = anyhow::Error::new(cause).context(format!(
            "cannot open x.db: {}",
            std::io::Error::from_raw_os_error(2)
        ));
        assert_eq!(
            error_message(&said),
            "cannot open x.db: No such file or directory (os error 2)"
        );
        let unsaid = anyhow!("inner cause").context("outer");
        assert_eq!(error_message(&unsaid), "outer: inner cause");
    }

    /// A writer that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_quietly_and_other_failures_are_reported() {
        let mut out = Output::new(Failing(io::ErrorKind::BrokenPipe));
        out.line("one");
        out.line("two");
        assert!(out.finish().is_ok());
        let mut out = Output::new(Failing(io::ErrorKind::StorageFull));
        out.line("one");
        let error = out.finish().expect_err("a failure");
        assert!(error.to_string().starts_with("cannot write the output: "));
    }
}
