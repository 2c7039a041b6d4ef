//! prayer-bot keeps a group praying together through a weekly prayer
//! bulletin. The tree is grouped by capability (see ARCHITECTURE.md for the
//! rules each folder keeps):
//!
//! - [`bulletins`]: bulletins and weeks: the parser, the prayer week a
//!   bulletin belongs to, importing one, finding the week a person asks for.
//! - [`posting`]: a week as messages ([`posting::render`]), the buttons'
//!   ids, regions routed to channels, and posting a week exactly once
//!   through the [`posting::Messenger`] trait.
//! - [`tracking`]: what members said about requests and what the group
//!   sees (counts, who, stats, mine, praise), the 🙏 recorder, finding a
//!   request by what a member types, a praise's mentions.
//! - [`members`]: members' own requests: the rules they meet, and adding,
//!   posting and withdrawing one.
//! - [`schedule`]: each server's weekly post time, what is due, the one
//!   clock, and the scheduler loop that posts by itself.
//! - [`recap`]: the weekly recap (counts only) and its chart of twelve
//!   weeks' coverage per region.
//! - [`storage`]: the SQLite store; all SQL lives here; backups.
//! - [`discord`]: the only module that knows serenity and poise: the
//!   client, slash commands, the one REST client and its rate limits.
//! - [`cli`]: the command line (`parse`, `import`, `week`, `backup`, `run`).
//! - [`shards`]: which gateway shards (and so which servers) a process runs.
//! - [`ids`], [`backoff`], [`tasks`], [`config`], [`read`], [`cause`]: typed
//!   ids, the one retry policy, the tracked background tasks, settings,
//!   capped file reads, errors in one line.

pub mod backoff;
pub mod bulletins;
pub mod cause;
pub mod cli;
pub mod config;
pub mod discord;
pub mod ids;
pub mod members;
pub mod posting;
pub mod read;
pub mod recap;
pub mod schedule;
pub mod shards;
pub mod storage;
pub mod tasks;
pub mod tracking;
