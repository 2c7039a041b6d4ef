//! prayer-bot keeps a group praying together through a weekly prayer
//! bulletin. The module map (see ARCHITECTURE.md for the invariants):
//!
//! - [`bulletin`]: parses a bulletin's text, web page or email body into a
//!   [`bulletin::Bulletin`]. Pure.
//! - [`week`]: prayer weeks and the rule that places a bulletin in one. Pure.
//! - [`schedule`]: each server's weekly post time in its own time zone,
//!   which posts are due now, and the zones and times admins type. Pure.
//! - [`render`]: a week as the messages the bot posts. Pure.
//! - [`region`]: region names as admins type them: one key for every
//!   spelling, setup's choices and close matches. Pure.
//! - [`ids`]: typed Discord and request ids, and their one conversion to
//!   SQLite integers. Pure.
//! - [`buttons`]: the buttons' custom ids, built and read in one place. Pure.
//! - [`tracking`]: what members said about requests, and the counts,
//!   who-lists and coverage the group sees. Pure.
//! - [`search`]: finding a server's request by what a member types: the
//!   autocomplete choices and the request a typed value names. Pure.
//! - [`mentions`]: a praise's messages that mention the members who prayed,
//!   within Discord's limits on mentions and length. Pure.
//! - [`report`]: what tracking says to members: answers to presses, who,
//!   mine, the stats card, praise. Pure.
//! - [`ratelimit`]: Discord's rate limits on the bot's side: per-route
//!   buckets learned from answers, the global limit and 429s, as the waits
//!   before each request. Pure.
//! - [`cause`]: an error in one line with its root cause (connection
//!   refused, DNS, TLS), for logs. Pure.
//! - [`storage`]: the SQLite store; all SQL lives here; backups.
//! - [`recorder`]: writes 🙏 reactions to the store in batches, in the
//!   background, so a burst of reactions is never lost or waited on.
//! - [`browse`]: finding the week a person asks for.
//! - [`import`]: decode, parse, place and store one bulletin.
//! - [`posting`]: routing regions to channels and posting a week exactly
//!   once, through the [`posting::Messenger`] trait.
//! - [`read`]: reading a whole file up to a size limit, refusing what is
//!   not a regular file (a FIFO, a device, a directory).
//! - [`config`]: the bot's settings from the environment and a TOML file.
//! - [`discord`]: the only module that knows serenity and poise: the
//!   client, slash commands, and the real `Messenger`.
//! - [`clock`]: the one place the bot reads the time.
//! - [`scheduler`]: posts what is due (`tick`) and loops, sleeping until
//!   the next post or until a schedule or bulletin changes.
//! - [`cli`]: the command line (`parse`, `import`, `week`, `backup`, `run`).

pub mod browse;
pub mod bulletin;
pub mod buttons;
pub mod cause;
pub mod cli;
pub mod clock;
pub mod config;
pub mod discord;
pub mod ids;
pub mod import;
pub mod mentions;
pub mod posting;
pub mod ratelimit;
pub mod read;
pub mod recorder;
pub mod region;
pub mod render;
pub mod report;
pub mod schedule;
pub mod scheduler;
pub mod search;
pub mod storage;
pub mod tracking;
pub mod week;
