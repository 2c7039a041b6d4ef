//! Bulletins and weeks: reading a bulletin ([`parse`]), placing it in a
//! prayer week ([`week`]), storing it ([`import`]) and finding the week a
//! person asks for ([`browse`]).

pub mod browse;
pub mod import;
pub mod parse;
pub mod week;
