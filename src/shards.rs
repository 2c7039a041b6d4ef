//! Which gateway shards this process runs (`run --shards START..END
//! --shard-total N`), and so which servers are its own: Discord puts a
//! server on shard `(guild_id >> 22) % N`. Pure.
//!
//! serenity's `start_shard_range(a..b, n)` starts shards `a` to `b`
//! *inclusive* (it boots `b - a + 1` of them), unlike a Rust range; the
//! range here is half-open, as written, and [`ShardRange::for_serenity`]
//! is the one place that converts.

use std::ops::Range;

use crate::ids::GuildId;

/// The most shards the bot accepts in all (Discord's largest bots run a
/// few thousand).
pub const MAX_SHARDS: u32 = 65_536;

/// The shards `start` to `end - 1` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    pub start: u32,
    pub end: u32,
    pub total: u32,
}

/// Why a shard range was refused; each reads as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error(
        "--shards is START..END (shards START to END-1, such as 0..2); “{0}” is not. Nothing was started."
    )]
    Malformed(String),
    #[error(
        "--shards {start}..{end} holds no shard: END must be greater than START. Nothing was started."
    )]
    Empty { start: u32, end: u32 },
    #[error(
        "--shards {start}..{end} goes past --shard-total {total}: shards are numbered 0 to {last}. Nothing was started.",
        last = total.saturating_sub(1)
    )]
    PastTotal { start: u32, end: u32, total: u32 },
    #[error("--shard-total must be 1 to {MAX_SHARDS}; {0} is not. Nothing was started.")]
    Total(u32),
    #[error(
        "--shards and --shard-total go together: give both, or neither to run every shard Discord recommends. Nothing was started."
    )]
    Half,
}

impl ShardRange {
    /// The range `--shards` and `--shard-total` name, both or neither
    /// (`None`: every shard Discord recommends).
    pub fn from_options(
        shards: Option<&str>,
        total: Option<u32>,
    ) -> Result<Option<ShardRange>, ShardError> {
        match (shards, total) {
            (None, None) => Ok(None),
            (Some(shards), Some(total)) => ShardRange::parse(shards, total).map(Some),
            _ => Err(ShardError::Half),
        }
    }

    /// `START..END` of `total`.
    pub fn parse(range: &str, total: u32) -> Result<ShardRange, ShardError> {
        if total == 0 || total > MAX_SHARDS {
            return Err(ShardError::Total(total));
        }
        // Quoted back on the command line as typed, cut short.
        let malformed = || {
            let mut shown: String = range.chars().take(40).collect();
            if range.chars().nth(40).is_some() {
                shown.push('…');
            }
            ShardError::Malformed(shown)
        };
        let (start, end) = range.trim().split_once("..").ok_or_else(malformed)?;
        let number = |text: &str| text.trim().parse::<u32>().map_err(|_| malformed());
        let (start, end) = (number(start)?, number(end)?);
        if end <= start {
            return Err(ShardError::Empty { start, end });
        }
        if end > total {
            return Err(ShardError::PastTotal { start, end, total });
        }
        Ok(ShardRange { start, end, total })
    }

    /// The shard Discord puts `guild` on, of `total`.
    pub fn shard_of(guild: GuildId, total: u32) -> u32 {
        let shard = (guild.get() >> 22) % u64::from(total.max(1));
        // Below `total`, which is a u32.
        u32::try_from(shard).unwrap_or(0)
    }

    /// Whether `guild` is on one of this range's shards.
    pub fn owns(&self, guild: GuildId) -> bool {
        (self.start..self.end).contains(&ShardRange::shard_of(guild, self.total))
    }

    /// Whether this process runs shard 0 (it registers the commands, once
    /// for all processes).
    pub fn has_first(&self) -> bool {
        self.start == 0
    }

    /// How many shards this process runs.
    pub fn count(&self) -> u32 {
        self.end - self.start
    }

    /// The argument serenity's `start_shard_range` takes for these shards:
    /// it reads its range's end as included, so the end is one less.
    pub fn for_serenity(&self) -> Range<u32> {
        self.start..self.end - 1
    }
}

/// How long Discord wants between two IDENTIFYs of one bucket
/// (`shard % max_concurrency`).
pub const IDENTIFY_SPACING: std::time::Duration = std::time::Duration::from_secs(5);

/// The IDENTIFY buckets the shards `shards` fall in, with how many of them
/// each holds: a process identifies that many times in the bucket, one
/// [`IDENTIFY_SPACING`] apart, so it holds the bucket that many spacings.
pub fn identify_buckets(shards: Range<u32>, max_concurrency: u32) -> Vec<(u32, u32)> {
    let buckets = max_concurrency.max(1);
    let mut held: Vec<(u32, u32)> = Vec::new();
    for shard in shards {
        let bucket = shard % buckets;
        match held.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, count)) => *count += 1,
            None => held.push((bucket, 1)),
        }
    }
    held.sort_unstable();
    held
}

/// Whether `guild` is this process's: always, when it runs every shard.
pub fn is_mine(range: Option<&ShardRange>, guild: GuildId) -> bool {
    range.is_none_or(|range| range.owns(guild))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many shards serenity boots for a range (`end - start + 1`, as
    /// `Client::start_connection` computes it).
    fn serenity_boots(range: Range<u32>) -> u32 {
        range.end - range.start + 1
    }

    #[test]
    fn the_wrapper_starts_exactly_the_shards_named_not_one_more() {
        for (text, total, first, count) in
            [("0..1", 1, 0, 1), ("0..2", 4, 0, 2), ("3..7", 10, 3, 4)]
        {
            let range = ShardRange::parse(text, total).expect(text);
            let given = range.for_serenity();
            assert_eq!(given.start, first, "{text}");
            assert_eq!(serenity_boots(given), count, "{text}");
            assert_eq!(range.count(), count, "{text}");
        }
    }

    #[test]
    fn bad_ranges_are_refused_in_sentences() {
        for (text, total) in [
            ("2..2", 4),
            ("3..1", 4),
            ("0..5", 4),
            ("0-2", 4),
            ("a..b", 4),
            ("..2", 4),
            ("0..1", 0),
            ("-1..2", 4),
        ] {
            let refused = ShardRange::parse(text, total).expect_err(text).to_string();
            assert!(refused.ends_with("Nothing was started."), "{refused}");
        }
        let long = format!("0..{}", "9".repeat(100_000));
        let refused = ShardRange::parse(&long, 4)
            .expect_err("too long")
            .to_string();
        assert!(
            refused.len() < 300 && refused.contains("“0..999") && refused.contains('…'),
            "quoted as typed, cut short: {refused}"
        );
        assert_eq!(ShardRange::from_options(None, None), Ok(None));
        assert_eq!(
            ShardRange::from_options(Some("0..1"), None),
            Err(ShardError::Half)
        );
        assert_eq!(
            ShardRange::from_options(None, Some(2)),
            Err(ShardError::Half)
        );
    }

    #[test]
    fn each_shard_identifies_in_its_bucket_of_max_concurrency() {
        assert_eq!(identify_buckets(0..1, 1), [(0, 1)]);
        assert_eq!(identify_buckets(0..4, 1), [(0, 4)]);
        assert_eq!(identify_buckets(2..7, 4), [(0, 1), (1, 1), (2, 2), (3, 1)]);
        assert_eq!(identify_buckets(0..3, 0), [(0, 3)], "0 reads as 1");
    }

    #[test]
    fn a_server_belongs_to_the_shard_discord_puts_it_on() {
        // (guild_id >> 22) % total, as Discord documents it.
        let guild = |shard_bits: u64| GuildId::try_new((shard_bits << 22) | 12_345).expect("not 0");
        let first = ShardRange::parse("0..1", 2).expect("a range");
        let second = ShardRange::parse("1..2", 2).expect("a range");
        assert!(first.owns(guild(4)) && !second.owns(guild(4)));
        assert!(second.owns(guild(7)) && !first.owns(guild(7)));
        assert!(is_mine(None, guild(7)));
        assert!(first.has_first() && !second.has_first());
        // Every server is owned by exactly one of a split.
        for bits in 0..100 {
            let owners = [first, second]
                .iter()
                .filter(|r| r.owns(guild(bits)))
                .count();
            assert_eq!(owners, 1);
        }
    }
}
