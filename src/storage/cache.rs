//! What `/prayer week` and the commands like it read on every call, kept in
//! this process's memory: a week's bulletin as a scope sees it, and a
//! server's tracking of a week. Each read of the database costs more than
//! the rest of the command (two statements, and the hand-offs to SQLite's
//! thread or Postgres's socket); most calls ask for a week just read by
//! another member of the same server.
//!
//! An entry is forgotten when its server changes:
//! - by this process, as soon as the store's write returns
//!   (`storage/interface.rs` names what each write changes), so a member
//!   always sees their own prayer;
//! - by another process (the CLI's import, another bot process), when the
//!   change feed reports it (`Store::follow_changes`): within
//!   [`FEED_INTERVAL`](super::FEED_INTERVAL) on SQLite, at its commit on
//!   Postgres. The cache answers only while that feed runs.
//!
//! A read that a change overtook is not kept: each change moves a
//! generation on, and a read is kept only if the generation it began in is
//! still the current one. The cache holds at most [`BUDGET`] bytes,
//! forgetting first the oldest entry not read since it was kept.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Scope, StoredWeek, WeekTracking};
use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;

/// The most the cache holds, counted as its text plus [`OVERHEAD`] per
/// request and [`ENTRY`] per entry (close to what it takes of the
/// process's memory): about 300 weeks of a real bulletin (some 10 KB
/// each). Measured with `BENCH_SERVERS=2500 cargo bench --bench discord`,
/// a process of 2,500 servers took 54.2 MB without a cache; this keeps it
/// under 60 MB.
pub const BUDGET: usize = 3 * 1024 * 1024;

/// What a request or note costs beside its text: its strings and vectors.
const OVERHEAD: usize = 64;

/// What an entry costs beside what it holds: its place in the maps and in
/// the order of forgetting.
const ENTRY: usize = 512;

/// The longest an entry is answered, heard of or not: whatever fails to
/// report a change (a Postgres connection that died without a word, a
/// statement typed by hand), a week is never older than this.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// The two things kept of a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// The bulletin the scope sees (or that it sees none).
    Week,
    /// The server's tracking.
    Tracking,
}

#[derive(Debug, Clone)]
enum Value {
    Week(StoredWeek),
    Tracking(WeekTracking),
}

struct Entry {
    value: Value,
    bytes: usize,
    /// When it was read from the database.
    kept_at: Instant,
    /// Its place in the order of forgetting (see [`Inner::order`]).
    stamp: u64,
    /// Read from memory since it was kept or last passed over.
    read: bool,
}

/// The `guild_id` column's value of a scope: 0 for the shared bulletins.
type Owner = i64;

#[derive(Default)]
struct Inner {
    /// Moves on at every change: a read begun in an older generation may
    /// hold what the change replaced.
    generation: u64,
    entries: HashMap<Owner, HashMap<(Kind, PrayerWeek), Entry>>,
    /// Entries in the order kept, with their stamps: an entry kept again
    /// since has a newer stamp and is not forgotten by its older place.
    /// When full, the first is forgotten, unless it was read since it was
    /// kept: then it goes to the back (a second chance, as a CLOCK cache
    /// gives), so weeks asked for once never push out those asked for
    /// again and again.
    order: VecDeque<(Owner, Kind, PrayerWeek, u64)>,
    /// How many entries `entries` holds, and their bytes.
    live: usize,
    bytes: usize,
    stamp: u64,
}

/// The cache of one store (clones of the store share it).
#[derive(Default)]
pub struct WeekCache {
    inner: Mutex<Inner>,
    /// Whether the change feed runs, so that other processes' changes are
    /// heard: without it nothing is answered from memory.
    following: AtomicBool,
}

/// Where a read began: given back to [`WeekCache::keep_week`] or
/// [`WeekCache::keep_tracking`] with what it read.
#[derive(Debug, Clone, Copy)]
pub struct Began(u64);

impl WeekCache {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps wrong in a
        // way a reader would trust: the generation only moves on.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether entries may be answered: the change feed runs.
    pub fn following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    /// The feed started (true) or stopped (false). Either way everything
    /// kept is forgotten: while no feed ran, changes went unheard.
    pub fn set_following(&self, on: bool) {
        self.forget_everything();
        self.following.store(on, Ordering::Release);
    }

    /// The bulletin `scope` sees for `week`, if kept; and where a read
    /// of the database begins, if not. A week without a bulletin is never
    /// kept: it is read each time (it answers only a mistyped or empty
    /// week), so an import elsewhere shows at once and mistyped weeks take
    /// no room.
    pub fn week(&self, scope: Scope, week: PrayerWeek) -> Result<StoredWeek, Began> {
        match self.get(scope.column(), Kind::Week, week, Instant::now())? {
            Value::Week(stored) => Ok(stored),
            Value::Tracking(_) => Err(Began(u64::MAX)),
        }
    }

    /// `guild`'s tracking of `week`, if kept; and where a read of the
    /// database begins, if not.
    pub fn tracking(&self, guild: GuildId, week: PrayerWeek) -> Result<WeekTracking, Began> {
        match self.get(guild.to_sql(), Kind::Tracking, week, Instant::now())? {
            Value::Tracking(tracking) => Ok(tracking),
            Value::Week(_) => Err(Began(u64::MAX)),
        }
    }

    fn get(
        &self,
        owner: Owner,
        kind: Kind,
        week: PrayerWeek,
        now: Instant,
    ) -> Result<Value, Began> {
        let mut inner = self.inner();
        // Not following: a read begun now is never kept.
        if !self.following() {
            return Err(Began(u64::MAX));
        }
        let Some(entry) = inner
            .entries
            .get_mut(&owner)
            .and_then(|weeks| weeks.get_mut(&(kind, week)))
            .filter(|entry| now.saturating_duration_since(entry.kept_at) < MAX_AGE)
        else {
            // Missing or too old: read again, and kept in its place.
            return Err(Began(inner.generation));
        };
        entry.read = true;
        Ok(entry.value.clone())
    }

    /// Keeps what a read begun at `began` found, unless a change came
    /// since.
    pub fn keep_week(&self, began: Began, scope: Scope, week: PrayerWeek, stored: &StoredWeek) {
        let bytes = week_bytes(stored);
        self.keep(
            began,
            scope.column(),
            Kind::Week,
            week,
            Value::Week(stored.clone()),
            bytes,
        );
    }

    /// Keeps the tracking a read begun at `began` found, unless a change
    /// came since.
    pub fn keep_tracking(
        &self,
        began: Began,
        guild: GuildId,
        week: PrayerWeek,
        tracking: &WeekTracking,
    ) {
        let bytes = tracking.marks.len() * std::mem::size_of::<crate::tracking::Mark>()
            + tracking.answered.len() * 16;
        let value = Value::Tracking(tracking.clone());
        self.keep(began, guild.to_sql(), Kind::Tracking, week, value, bytes);
    }

    fn keep(
        &self,
        began: Began,
        owner: Owner,
        kind: Kind,
        week: PrayerWeek,
        value: Value,
        bytes: usize,
    ) {
        let bytes = bytes + ENTRY;
        let mut inner = self.inner();
        if began.0 != inner.generation || bytes > BUDGET {
            return;
        }
        inner.stamp += 1;
        let stamp = inner.stamp;
        let kept_at = Instant::now();
        let entry = Entry {
            value,
            bytes,
            kept_at,
            stamp,
            read: false,
        };
        match inner
            .entries
            .entry(owner)
            .or_default()
            .insert((kind, week), entry)
        {
            Some(old) => inner.bytes -= old.bytes,
            None => inner.live += 1,
        }
        inner.bytes += bytes;
        inner.order.push_back((owner, kind, week, stamp));
        while inner.bytes > BUDGET {
            let Some((owner, kind, week, stamp)) = inner.order.pop_front() else {
                break;
            };
            inner.forget_or_pass_over(owner, kind, week, stamp);
        }
        inner.compact();
    }

    /// Forgets what `scope` changed: one server's weeks, or everything for
    /// a shared bulletin (every server sees those).
    pub fn forget(&self, scope: Scope) {
        let mut inner = self.inner();
        inner.generation += 1;
        match scope {
            Scope::Shared => inner.clear(),
            Scope::Guild(guild) => {
                if let Some(weeks) = inner.entries.remove(&guild.to_sql()) {
                    inner.bytes -= weeks.values().map(|e| e.bytes).sum::<usize>();
                    inner.live -= weeks.len();
                }
            }
        }
    }

    /// Forgets everything: a change whose server is not known.
    pub fn forget_everything(&self) {
        self.forget(Scope::Shared);
    }

    /// How many entries are kept, and their bytes.
    #[cfg(test)]
    pub fn size(&self) -> (usize, usize) {
        let inner = self.inner();
        let counted: usize = inner.entries.values().map(HashMap::len).sum();
        assert_eq!(counted, inner.live, "the count of entries is kept right");
        (inner.live, inner.bytes)
    }

    /// How many places the order of forgetting holds.
    #[cfg(test)]
    fn places(&self) -> usize {
        self.inner().order.len()
    }
}

impl Inner {
    /// Drops the places of entries forgotten or kept again since, once
    /// they outnumber the live ones: a server read and changed in turn
    /// forever would otherwise grow the queue forever.
    fn compact(&mut self) {
        if self.order.len() <= 2 * self.live + 64 {
            return;
        }
        let entries = &self.entries;
        self.order.retain(|(owner, kind, week, stamp)| {
            entries
                .get(owner)
                .and_then(|weeks| weeks.get(&(*kind, *week)))
                .is_some_and(|entry| entry.stamp == *stamp)
        });
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.live = 0;
        self.bytes = 0;
    }

    /// The entry at the front of the order when full: forgotten, or, if
    /// it was read since kept, sent to the back unread.
    fn forget_or_pass_over(&mut self, owner: Owner, kind: Kind, week: PrayerWeek, stamp: u64) {
        let Some(weeks) = self.entries.get_mut(&owner) else {
            return;
        };
        let next = self.stamp + 1;
        if let Some(entry) = weeks.get_mut(&(kind, week))
            && entry.stamp == stamp
            && entry.read
        {
            entry.read = false;
            entry.stamp = next;
            self.stamp = next;
            self.order.push_back((owner, kind, week, next));
            return;
        }
        if weeks.get(&(kind, week)).is_some_and(|e| e.stamp == stamp) {
            if let Some(removed) = weeks.remove(&(kind, week)) {
                self.bytes -= removed.bytes;
                self.live -= 1;
            }
            if weeks.is_empty() {
                self.entries.remove(&owner);
            }
        }
    }
}

/// About how many bytes a week's text takes.
fn week_bytes(stored: &StoredWeek) -> usize {
    let bulletin = &stored.bulletin;
    let verse = bulletin.verse.as_ref().map_or(0, |v| {
        v.text.len() + v.reference.as_ref().map_or(0, String::len)
    });
    let requests: usize = bulletin
        .requests
        .iter()
        .map(|r| {
            OVERHEAD
                + r.region.len()
                + r.text.len()
                + r.countries.iter().map(|c| c.len() + 24).sum::<usize>()
        })
        .sum();
    let notes: usize = bulletin
        .notes
        .iter()
        .map(|n| OVERHEAD + n.region.len() + n.text.len())
        .sum();
    bulletin.title.len() + verse + requests + notes + stored.request_ids.len() * 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fixtures::{GUILD, bulletin, week};

    const OTHER: GuildId = GuildId::of::<77>();

    fn stored(text: &str) -> StoredWeek {
        StoredWeek {
            week: week("2026-11-23"),
            bulletin_id: 1,
            bulletin: bulletin(text),
            request_ids: Vec::new(),
        }
    }

    fn following() -> WeekCache {
        let cache = WeekCache::default();
        cache.set_following(true);
        cache
    }

    /// Keeps `text` as `guild`'s week of 2026-11-23, read from scratch.
    fn keep(cache: &WeekCache, guild: GuildId, text: &str) {
        let w = week("2026-11-23");
        let began = cache
            .week(Scope::Guild(guild), w)
            .expect_err("not kept yet");
        cache.keep_week(began, Scope::Guild(guild), w, &stored(text));
    }

    #[test]
    fn a_kept_week_is_answered_until_its_server_changes() {
        let cache = following();
        let w = week("2026-11-23");
        keep(&cache, GUILD, crate::storage::fixtures::ONE);
        keep(&cache, OTHER, crate::storage::fixtures::TWO);
        let began = cache.tracking(GUILD, w).expect_err("not kept yet");
        let tracking = WeekTracking {
            praise_reports: 2,
            ..WeekTracking::default()
        };
        cache.keep_tracking(began, GUILD, w, &tracking);

        assert_eq!(
            cache.week(Scope::Guild(GUILD), w).ok(),
            Some(stored(crate::storage::fixtures::ONE))
        );
        assert_eq!(cache.tracking(GUILD, w).ok(), Some(tracking));
        // Another week, or a scope never read, is not answered.
        assert!(cache.week(Scope::Guild(GUILD), w.next()).is_err());
        assert!(cache.week(Scope::Shared, w).is_err());

        cache.forget(Scope::Guild(GUILD));
        assert!(cache.week(Scope::Guild(GUILD), w).is_err());
        assert!(cache.tracking(GUILD, w).is_err());
        assert!(
            cache.week(Scope::Guild(OTHER), w).is_ok(),
            "another server's week stays"
        );

        // A shared bulletin changes what every server sees.
        cache.forget(Scope::Shared);
        assert!(cache.week(Scope::Guild(OTHER), w).is_err());
        assert_eq!(cache.size(), (0, 0));
    }

    #[test]
    fn a_week_kept_longer_than_max_age_is_read_again() {
        let cache = following();
        let w = week("2026-11-23");
        keep(&cache, GUILD, crate::storage::fixtures::ONE);
        let owner = GUILD.to_sql();
        let soon = Instant::now() + MAX_AGE / 2;
        assert!(cache.get(owner, Kind::Week, w, soon).is_ok());
        let late = Instant::now() + MAX_AGE;
        let began = cache
            .get(owner, Kind::Week, w, late)
            .expect_err("too old to answer");
        // Read again and kept in its place, it is answered anew.
        let text = crate::storage::fixtures::TWO;
        cache.keep_week(began, Scope::Guild(GUILD), w, &stored(text));
        assert_eq!(cache.size().0, 1);
        assert_eq!(cache.week(Scope::Guild(GUILD), w).ok(), Some(stored(text)));
    }

    #[test]
    fn a_read_that_a_change_overtook_is_not_kept() {
        let cache = following();
        let w = week("2026-11-23");
        let began = cache
            .week(Scope::Guild(GUILD), w)
            .expect_err("not kept yet");
        // Another server's change, even, moves the generation on: the read
        // may have begun before it.
        cache.forget(Scope::Guild(OTHER));
        cache.keep_week(
            began,
            Scope::Guild(GUILD),
            w,
            &stored(crate::storage::fixtures::ONE),
        );
        assert!(cache.week(Scope::Guild(GUILD), w).is_err());
        assert_eq!(cache.size(), (0, 0));
    }

    #[test]
    fn nothing_is_answered_while_no_feed_runs() {
        let cache = WeekCache::default();
        let w = week("2026-11-23");
        let began = cache
            .week(Scope::Guild(GUILD), w)
            .expect_err("not following");
        cache.keep_week(
            began,
            Scope::Guild(GUILD),
            w,
            &stored(crate::storage::fixtures::ONE),
        );
        assert!(cache.week(Scope::Guild(GUILD), w).is_err());

        // A feed that stops forgets what it kept: changes go unheard.
        cache.set_following(true);
        keep(&cache, GUILD, crate::storage::fixtures::ONE);
        cache.set_following(false);
        assert!(cache.week(Scope::Guild(GUILD), w).is_err());
        cache.set_following(true);
        assert!(cache.week(Scope::Guild(GUILD), w).is_err());
    }

    #[test]
    fn past_the_budget_weeks_not_read_again_go_first() {
        let cache = following();
        let w = week("2026-11-23");
        let text = format!(
            "IJM Prayer Requests\n\nAfrica\n• Pray for {}.\n",
            "Kenya ".repeat(10_000)
        );
        let each = week_bytes(&stored(&text)) + ENTRY;
        let fits = BUDGET / each;
        let servers: Vec<GuildId> = (1..=fits as u64 + 3)
            .map(|n| GuildId::try_new(n).expect("ids are not 0"))
            .collect();
        for &guild in &servers {
            keep(&cache, guild, &text);
        }
        let (entries, bytes) = cache.size();
        assert_eq!(entries, fits);
        assert!(bytes <= BUDGET);
        assert!(
            cache.week(Scope::Guild(servers[2]), w).is_err(),
            "the oldest went"
        );
        assert!(cache.week(Scope::Guild(servers[3]), w).is_ok());
        assert!(
            cache
                .week(Scope::Guild(servers[servers.len() - 1]), w)
                .is_ok()
        );

        // Kept again, a week is the newest: its older place does not
        // forget it. Read again, too.
        keep(&cache, servers[0], &text);
        assert!(cache.week(Scope::Guild(servers[3]), w).is_ok());
        for &guild in &servers[4..8] {
            cache.forget(Scope::Guild(guild));
            keep(&cache, guild, &text);
        }
        assert!(cache.week(Scope::Guild(servers[0]), w).is_ok());
        assert!(
            cache.week(Scope::Guild(servers[3]), w).is_ok(),
            "read, so kept"
        );
        assert!(
            cache.week(Scope::Guild(servers[8]), w).is_err(),
            "never read, so gone"
        );
        assert!(cache.size().1 <= BUDGET);
    }

    #[test]
    fn weeks_asked_for_once_never_push_out_those_asked_for_again() {
        let cache = following();
        let w = week("2026-11-23");
        let text = format!(
            "IJM Prayer Requests\n\nAfrica\n• Pray for {}.\n",
            "Kenya ".repeat(10_000)
        );
        let value = stored(&text);
        let each = week_bytes(&value) + ENTRY;
        let fits = BUDGET / each;
        let guild = |n: usize| GuildId::try_new(n as u64 + 1).expect("ids are not 0");
        let keep = |n: usize| {
            if let Err(began) = cache.week(Scope::Guild(guild(n)), w) {
                cache.keep_week(began, Scope::Guild(guild(n)), w, &value);
            }
        };
        // Half the cache asked for again and again; between their asks,
        // three quarters of a cache's worth of weeks asked for once each
        // (more than a cache forgetting the least recently read would hold
        // beside them).
        let asked_again = fits / 2;
        for n in 0..asked_again {
            keep(n);
        }
        let mut once = 1_000;
        for _ in 0..3 {
            for n in 0..asked_again {
                assert!(
                    cache.week(Scope::Guild(guild(n)), w).is_ok(),
                    "week {n} kept"
                );
            }
            for _ in 0..fits * 3 / 4 {
                keep(once);
                once += 1;
            }
        }
        assert!(cache.size().1 <= BUDGET);
    }

    #[test]
    fn a_server_read_and_changed_in_turn_does_not_grow_the_cache() {
        let cache = following();
        for _ in 0..10_000 {
            keep(&cache, GUILD, crate::storage::fixtures::TWO);
            cache.forget(Scope::Guild(GUILD));
        }
        keep(&cache, GUILD, crate::storage::fixtures::TWO);
        assert_eq!(cache.size().0, 1);
        assert!(cache.places() <= 2 + 64, "{} places", cache.places());
    }
}
