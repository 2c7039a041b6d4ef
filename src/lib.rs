//! prayer-bot keeps a group praying together through a weekly prayer
//! bulletin. The module map (see ARCHITECTURE.md for the invariants):
//!
//! - [`bulletin`]: parses a bulletin's text, web page or email body into a
//!   [`bulletin::Bulletin`]. Pure.
//! - [`week`]: prayer weeks and the rule that places a bulletin in one. Pure.
//! - [`render`]: a week as the messages the bot posts. Pure.
//! - [`storage`]: the SQLite store; all SQL lives here.
//! - [`import`]: decode, parse, place and store one bulletin.
//! - [`cli`]: the command line (`parse`, `import`, `week`).

pub mod bulletin;
pub mod cli;
pub mod import;
pub mod render;
pub mod storage;
pub mod week;
