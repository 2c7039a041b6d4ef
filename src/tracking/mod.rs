//! Prayer tracking in plain values: what each member said about a request
//! (a mark), and what the group sees from the marks: counts per request,
//! who-lists, a week's coverage, a member's own list. Pure: the rows come
//! from the store, the answers go to the renderer; no Discord, no I/O.
//!
//! The rules (see `DESIGN.md`, "Prayer tracking"):
//! - a member counts once per request however many ways they said it;
//! - **prayed** is the Prayed button or a 🙏 reaction (any skin tone) on any
//!   message of the request; **committed** is I'll pray;
//! - a commitment is **kept** when the same member has also prayed;
//! - a request is **covered** when at least one member committed or prayed.

pub mod answered;
pub mod export;
pub mod mentions;
pub mod praise;
pub mod press;
pub mod recorder;
pub mod report;
pub mod search;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::bulletins::parse::{Kind, PrayerRequest};
use crate::ids::{MessageId, RequestId, UserId};

/// What made a mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// **I'll pray**.
    Commit,
    /// **Prayed**.
    Prayed,
    /// A 🙏 on one of the request's messages.
    Reaction,
}

impl Source {
    /// The store's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Commit => "commit",
            Source::Prayed => "prayed",
            Source::Reaction => "reaction",
        }
    }

    /// The inverse of [`Source::as_str`].
    pub fn parse(text: &str) -> Option<Source> {
        match text {
            "commit" => Some(Source::Commit),
            "prayed" => Some(Source::Prayed),
            "reaction" => Some(Source::Reaction),
            _ => None,
        }
    }

    /// Whether this mark says the member prayed.
    pub fn is_prayed(self) -> bool {
        matches!(self, Source::Prayed | Source::Reaction)
    }
}

/// One thing a member said about a request, as the store holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub request: RequestId,
    pub user: UserId,
    pub source: Source,
}

/// A request's counts, each member counted once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Members who pressed I'll pray.
    pub committed: usize,
    /// Members who prayed (button or reaction).
    pub prayed: usize,
    /// Members who committed and prayed.
    pub kept: usize,
}

impl Tally {
    /// Whether anyone committed or prayed.
    pub fn covered(self) -> bool {
        self.committed > 0 || self.prayed > 0
    }
}

/// Each member's say on one request: (committed, prayed).
fn members(marks: &[Mark]) -> HashMap<(RequestId, UserId), (bool, bool)> {
    let mut said: HashMap<(RequestId, UserId), (bool, bool)> = HashMap::new();
    for mark in marks {
        let entry = said.entry((mark.request, mark.user)).or_default();
        if mark.source.is_prayed() {
            entry.1 = true;
        } else {
            entry.0 = true;
        }
    }
    said
}

/// The counts of every request that has a mark.
pub fn tally(marks: &[Mark]) -> HashMap<RequestId, Tally> {
    let mut tallies: HashMap<RequestId, Tally> = HashMap::new();
    for ((request, _), (committed, prayed)) in members(marks) {
        let tally = tallies.entry(request).or_default();
        tally.committed += usize::from(committed);
        tally.prayed += usize::from(prayed);
        tally.kept += usize::from(committed && prayed);
    }
    tallies
}

/// Who said what about one request, each list in user id order (stable, so
/// the same question gets the same answer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    pub committed: Vec<UserId>,
    pub prayed: Vec<UserId>,
}

impl Who {
    /// Everyone on either list, once each, in user id order: the members a
    /// praise for this request tells.
    pub fn everyone(&self) -> Vec<UserId> {
        let all: BTreeSet<UserId> = self.committed.iter().chain(&self.prayed).copied().collect();
        all.into_iter().collect()
    }
}

/// The who-lists of `request`, from marks that may cover other requests.
pub fn who(marks: &[Mark], request: RequestId) -> Who {
    let mut committed = BTreeSet::new();
    let mut prayed = BTreeSet::new();
    for mark in marks.iter().filter(|m| m.request == request) {
        if mark.source.is_prayed() {
            prayed.insert(mark.user);
        } else {
            committed.insert(mark.user);
        }
    }
    Who {
        committed: committed.into_iter().collect(),
        prayed: prayed.into_iter().collect(),
    }
}

/// A request as the tracking views see it.
#[derive(Debug, Clone, Copy)]
pub struct Listed<'a> {
    pub id: RequestId,
    pub request: &'a PrayerRequest,
    /// Marked answered with `/praise` in this server.
    pub answered: bool,
}

impl Listed<'_> {
    /// Whether it reads as praise: a bulletin's praise item, or answered.
    pub fn is_praise(&self) -> bool {
        self.answered || self.request.kind == Kind::Praise
    }
}

/// One region's line in a week's stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCoverage {
    pub region: String,
    /// Prayable requests someone committed to or prayed for.
    pub covered: usize,
    /// Prayable requests in the region (items of pure thanks are not
    /// counted).
    pub total: usize,
    /// Indexes (into the listed requests) of the prayable requests not yet
    /// covered.
    pub uncovered: Vec<usize>,
}

/// A server's prayer week at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekStats {
    /// Members who committed to or prayed for any request of the week.
    pub people: usize,
    /// Commitments made, and how many of them were kept.
    pub commitments: usize,
    pub kept: usize,
    /// Prayable requests covered, of all the week's prayable requests
    /// (petitions, and praise items that also ask for prayer).
    pub covered: usize,
    pub petitions: usize,
    /// Per region, in the bulletin's order.
    pub regions: Vec<RegionCoverage>,
    /// The bulletin's praise items, requests answered in this server, and
    /// praise reports of the week.
    pub praises: usize,
}

/// The stats of a week from its requests (in bulletin order), the marks on
/// them, and the number of praise reports not tied to a request.
pub fn week_stats(requests: &[Listed<'_>], marks: &[Mark], praise_reports: usize) -> WeekStats {
    let ids: HashSet<RequestId> = requests.iter().map(|r| r.id).collect();
    let marks: Vec<Mark> = marks
        .iter()
        .filter(|m| ids.contains(&m.request))
        .copied()
        .collect();
    let tallies = tally(&marks);
    let people: HashSet<UserId> = marks.iter().map(|m| m.user).collect();
    let mut regions: Vec<RegionCoverage> = Vec::new();
    let mut praises = praise_reports;
    for (index, listed) in requests.iter().enumerate() {
        if listed.is_praise() {
            praises += 1;
        }
        if !listed.request.is_prayable() {
            continue;
        }
        let region = &listed.request.region;
        let at = match regions.iter().position(|r| &r.region == region) {
            Some(at) => at,
            None => {
                regions.push(RegionCoverage {
                    region: region.clone(),
                    covered: 0,
                    total: 0,
                    uncovered: Vec::new(),
                });
                regions.len() - 1
            }
        };
        let line = &mut regions[at];
        line.total += 1;
        if tallies.get(&listed.id).is_some_and(|t| t.covered()) {
            line.covered += 1;
        } else {
            line.uncovered.push(index);
        }
    }
    WeekStats {
        people: people.len(),
        commitments: tallies.values().map(|t| t.committed).sum(),
        kept: tallies.values().map(|t| t.kept).sum(),
        covered: regions.iter().map(|r| r.covered).sum(),
        petitions: regions.iter().map(|r| r.total).sum(),
        regions,
        praises,
    }
}

/// What one member said about one request, for `/prayer mine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MyRequest {
    /// Index into the listed requests.
    pub index: usize,
    pub committed: bool,
    pub prayed: bool,
}

/// A member's commitments and prayers among `requests`, in bulletin order.
pub fn mine(requests: &[Listed<'_>], marks: &[Mark], user: UserId) -> Vec<MyRequest> {
    let said = members(marks);
    requests
        .iter()
        .enumerate()
        .filter_map(|(index, listed)| {
            let (committed, prayed) = said.get(&(listed.id, user)).copied()?;
            Some(MyRequest {
                index,
                committed,
                prayed,
            })
        })
        .collect()
}

/// The praying-hands emoji.
const PRAYING_HANDS: char = '\u{1F64F}';

/// Whether a reaction's emoji (its Unicode text) is 🙏: alone, with a skin
/// tone (🙏🏻 … 🙏🏿), or with the emoji presentation selector.
pub fn is_prayer_emoji(emoji: &str) -> bool {
    let mut chars = emoji.chars();
    if chars.next() != Some(PRAYING_HANDS) {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    match rest.as_slice() {
        [] | ['\u{FE0F}'] => true,
        [tone] | [tone, '\u{FE0F}'] => ('\u{1F3FB}'..='\u{1F3FF}').contains(tone),
        _ => false,
    }
}

/// A change to a member's 🙏 on a posted message, as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionChange {
    /// A member added `emoji` (a 🙏 of some tone) on `message`.
    Added(ReactionKey),
    /// A member removed it.
    Removed(ReactionKey),
    /// A moderator removed every reaction from `message`, or every one of
    /// `emoji` when it is given. It applies only to a message posted in
    /// `channel` (a channel belongs to one server) and, when the event
    /// names its server, in `guild`.
    Cleared {
        guild: Option<crate::ids::GuildId>,
        channel: crate::ids::ChannelId,
        message: MessageId,
        emoji: Option<String>,
    },
}

/// One member's reaction with one emoji on one message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReactionKey {
    pub guild: crate::ids::GuildId,
    /// The message's channel (not stored: the message names the request;
    /// kept to ask Discord about the reaction).
    pub channel: crate::ids::ChannelId,
    pub message: MessageId,
    pub user: UserId,
    pub emoji: String,
}

/// A batch of reaction changes reduced to what the store must do: a
/// reaction's last change in the batch is the one that stands (an add then
/// a remove leaves nothing; a remove then an add leaves the reaction). A
/// clear applies where it stands in the order: an add after it stays.
///
/// Returned as steps to apply in order; consecutive adds and removes are
/// merged so a burst of reactions is written in a few statements.
pub fn coalesce(changes: Vec<ReactionChange>) -> Vec<ReactionStep> {
    // Split at each clear: within a run without clears, last-wins per key.
    let mut steps: Vec<ReactionStep> = Vec::new();
    let mut run: Vec<(ReactionKey, bool)> = Vec::new();
    let flush = |run: &mut Vec<(ReactionKey, bool)>, steps: &mut Vec<ReactionStep>| {
        let mut last: HashMap<&ReactionKey, bool> = HashMap::new();
        for (key, present) in run.iter() {
            last.insert(key, *present);
        }
        let mut add = Vec::new();
        let mut remove = Vec::new();
        let mut seen: HashSet<&ReactionKey> = HashSet::new();
        for (key, _) in run.iter() {
            if !seen.insert(key) {
                continue;
            }
            match last.get(key) {
                Some(true) => add.push(key.clone()),
                Some(false) => remove.push(key.clone()),
                None => {}
            }
        }
        if !remove.is_empty() {
            steps.push(ReactionStep::Remove(remove));
        }
        if !add.is_empty() {
            steps.push(ReactionStep::Add(add));
        }
        run.clear();
    };
    for change in changes {
        match change {
            ReactionChange::Added(key) => run.push((key, true)),
            ReactionChange::Removed(key) => run.push((key, false)),
            ReactionChange::Cleared {
                guild,
                channel,
                message,
                emoji,
            } => {
                flush(&mut run, &mut steps);
                steps.push(ReactionStep::Clear {
                    guild,
                    channel,
                    message,
                    emoji,
                });
            }
        }
    }
    flush(&mut run, &mut steps);
    steps
}

/// What a tombstone of `/prayer forget-me` keeps of a member's 🙏 on a
/// message: a one-way hash (SHA-256) of the database's secret `salt`, the
/// server, the message and the member, under a label of its own so the
/// hash means nothing elsewhere. Whoever reads the database sees no member
/// id; the bot, seeing the same member's reaction on the same message
/// again, computes the same hash.
pub fn forgotten_hash(
    salt: &[u8],
    guild: crate::ids::GuildId,
    message: MessageId,
    user: UserId,
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"prayer-bot forget-me reaction v1\0");
    hasher.update((salt.len() as u64).to_be_bytes());
    hasher.update(salt);
    hasher.update(guild.get().to_be_bytes());
    hasher.update(message.get().to_be_bytes());
    hasher.update(user.get().to_be_bytes());
    hasher.finalize().into()
}

/// One thing the store does for a batch of reaction changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionStep {
    Add(Vec<ReactionKey>),
    Remove(Vec<ReactionKey>),
    Clear {
        guild: Option<crate::ids::GuildId>,
        channel: crate::ids::ChannelId,
        message: MessageId,
        emoji: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletins::parse::PrayerRequest;
    use crate::ids::GuildId;

    fn mark(request: i64, user: u64, source: Source) -> Mark {
        Mark {
            request: RequestId::try_new(request).expect("ids are not 0"),
            user: UserId::try_new(user).expect("ids are not 0"),
            source,
        }
    }

    fn petition(region: &str, text: &str) -> PrayerRequest {
        PrayerRequest {
            region: region.to_owned(),
            kind: Kind::Petition,
            text: text.to_owned(),
            countries: Vec::new(),
        }
    }

    #[test]
    fn a_forgotten_reaction_hashes_the_same_only_for_the_same_salt_server_message_and_member() {
        let (guild, message, user) = (GuildId::of::<1>(), MessageId::of::<2>(), UserId::of::<3>());
        let hash = forgotten_hash(b"salt", guild, message, user);
        assert_eq!(hash, forgotten_hash(b"salt", guild, message, user));
        assert_ne!(hash, forgotten_hash(b"other", guild, message, user));
        assert_ne!(
            hash,
            forgotten_hash(b"salt", GuildId::of::<9>(), message, user)
        );
        assert_ne!(
            hash,
            forgotten_hash(b"salt", guild, MessageId::of::<9>(), user)
        );
        assert_ne!(
            hash,
            forgotten_hash(b"salt", guild, message, UserId::of::<9>())
        );
        // Nothing of the member's id shows in it.
        let id = 3u64.to_be_bytes();
        assert!(!hash.windows(id.len()).any(|w| w == id));
    }

    #[test]
    fn a_member_counts_once_however_many_ways_they_prayed() {
        let marks = [
            mark(1, 10, Source::Reaction),
            mark(1, 10, Source::Reaction), // a second skin tone, or part 2
            mark(1, 10, Source::Prayed),
            mark(1, 10, Source::Commit),
            mark(1, 11, Source::Commit),
            mark(2, 11, Source::Prayed),
        ];
        let tallies = tally(&marks);
        assert_eq!(
            tallies[&RequestId::of::<1>()],
            Tally {
                committed: 2,
                prayed: 1,
                kept: 1
            }
        );
        assert_eq!(
            tallies[&RequestId::of::<2>()],
            Tally {
                committed: 0,
                prayed: 1,
                kept: 0
            }
        );
        assert!(!tallies.contains_key(&RequestId::of::<3>()));
    }

    #[test]
    fn who_lists_each_member_once_per_list_in_a_stable_order() {
        let marks = [
            mark(1, 30, Source::Reaction),
            mark(1, 20, Source::Commit),
            mark(1, 30, Source::Prayed),
            mark(1, 10, Source::Prayed),
            mark(2, 40, Source::Commit),
        ];
        let listed = who(&marks, RequestId::of::<1>());
        assert_eq!(listed.committed, [UserId::of::<20>()]);
        assert_eq!(listed.prayed, [UserId::of::<10>(), UserId::of::<30>()]);
        assert_eq!(
            listed.everyone(),
            [UserId::of::<10>(), UserId::of::<20>(), UserId::of::<30>()]
        );
        assert_eq!(who(&marks, RequestId::of::<9>()), Who::default());
    }

    #[test]
    fn stats_count_coverage_by_region_and_praise_apart_from_petitions() {
        let kenya = petition("Africa", "Pray for Kenya.");
        let ghana = petition("Africa", "Pray for Ghana.");
        let peru = petition("Latin America", "Pray for Peru.");
        let nepal = PrayerRequest {
            kind: Kind::Praise,
            ..petition("Asia", "Praise God for Nepal.")
        };
        let requests = [
            Listed {
                id: RequestId::of::<1>(),
                request: &kenya,
                answered: false,
            },
            Listed {
                id: RequestId::of::<2>(),
                request: &ghana,
                answered: false,
            },
            Listed {
                id: RequestId::of::<3>(),
                request: &peru,
                answered: true,
            },
            Listed {
                id: RequestId::of::<4>(),
                request: &nepal,
                answered: false,
            },
        ];
        let marks = [
            mark(1, 10, Source::Commit),
            mark(1, 10, Source::Reaction),
            mark(3, 11, Source::Commit),
            mark(99, 12, Source::Prayed), // another week's request
        ];
        let stats = week_stats(&requests, &marks, 2);
        assert_eq!(stats.people, 2);
        assert_eq!((stats.commitments, stats.kept), (2, 1));
        assert_eq!((stats.covered, stats.petitions), (2, 3));
        assert_eq!(
            stats.regions,
            [
                RegionCoverage {
                    region: "Africa".into(),
                    covered: 1,
                    total: 2,
                    uncovered: vec![1],
                },
                RegionCoverage {
                    region: "Latin America".into(),
                    covered: 1,
                    total: 1,
                    uncovered: vec![],
                },
            ]
        );
        // Nepal's praise item, Peru answered, and two reports.
        assert_eq!(stats.praises, 4);
    }

    #[test]
    fn a_praise_that_asks_for_prayer_counts_in_coverage_and_as_praise() {
        let chile = PrayerRequest {
            kind: Kind::Praise,
            ..petition(
                "Latin America",
                "Praise God for the verdict in Chile. Pray also for the survivors.",
            )
        };
        let thanks = PrayerRequest {
            kind: Kind::Praise,
            ..petition("Latin America", "Praise God for the new law in Peru.")
        };
        let requests = [
            Listed {
                id: RequestId::of::<1>(),
                request: &chile,
                answered: false,
            },
            Listed {
                id: RequestId::of::<2>(),
                request: &thanks,
                answered: false,
            },
        ];
        let stats = week_stats(&requests, &[mark(1, 10, Source::Reaction)], 0);
        assert_eq!((stats.covered, stats.petitions), (1, 1));
        assert_eq!(stats.praises, 2);
    }

    #[test]
    fn mine_lists_only_my_requests_with_what_i_said() {
        let kenya = petition("Africa", "Pray for Kenya.");
        let peru = petition("Latin America", "Pray for Peru.");
        let requests = [
            Listed {
                id: RequestId::of::<1>(),
                request: &kenya,
                answered: false,
            },
            Listed {
                id: RequestId::of::<2>(),
                request: &peru,
                answered: false,
            },
        ];
        let marks = [
            mark(1, 10, Source::Commit),
            mark(2, 10, Source::Reaction),
            mark(2, 11, Source::Commit),
        ];
        assert_eq!(
            mine(&requests, &marks, UserId::of::<10>()),
            [
                MyRequest {
                    index: 0,
                    committed: true,
                    prayed: false
                },
                MyRequest {
                    index: 1,
                    committed: false,
                    prayed: true
                },
            ]
        );
        assert_eq!(mine(&requests, &marks, UserId::of::<12>()), []);
    }

    #[test]
    fn praying_hands_of_every_skin_tone_count_and_nothing_else_does() {
        for emoji in ["🙏", "🙏🏻", "🙏🏼", "🙏🏽", "🙏🏾", "🙏🏿", "🙏\u{FE0F}"]
        {
            assert!(is_prayer_emoji(emoji), "{emoji}");
        }
        for emoji in ["", "👍", "🙏🙏", "🙏x", "x🙏", "🙌", "pray", "🙏\u{1F3FA}"] {
            assert!(!is_prayer_emoji(emoji), "{emoji}");
        }
    }

    fn key(message: u64, user: u64, emoji: &str) -> ReactionKey {
        ReactionKey {
            guild: GuildId::of::<1>(),
            channel: crate::ids::ChannelId::of::<1>(),
            message: MessageId::try_new(message).expect("ids are not 0"),
            user: UserId::try_new(user).expect("ids are not 0"),
            emoji: emoji.to_owned(),
        }
    }

    #[test]
    fn a_reactions_last_change_in_a_batch_is_the_one_that_stands() {
        let steps = coalesce(vec![
            ReactionChange::Added(key(1, 10, "🙏")),
            ReactionChange::Removed(key(1, 10, "🙏")),
            ReactionChange::Removed(key(2, 10, "🙏")),
            ReactionChange::Added(key(2, 10, "🙏")),
            ReactionChange::Added(key(2, 10, "🙏🏽")),
            ReactionChange::Added(key(2, 10, "🙏")),
        ]);
        assert_eq!(
            steps,
            [
                ReactionStep::Remove(vec![key(1, 10, "🙏")]),
                ReactionStep::Add(vec![key(2, 10, "🙏"), key(2, 10, "🙏🏽")]),
            ]
        );
    }

    #[test]
    fn a_clear_applies_where_it_stands_among_the_changes() {
        let steps = coalesce(vec![
            ReactionChange::Added(key(1, 10, "🙏")),
            ReactionChange::Cleared {
                guild: None,
                channel: crate::ids::ChannelId::of::<5>(),
                message: MessageId::of::<1>(),
                emoji: None,
            },
            ReactionChange::Added(key(1, 11, "🙏")),
        ]);
        assert_eq!(
            steps,
            [
                ReactionStep::Add(vec![key(1, 10, "🙏")]),
                ReactionStep::Clear {
                    guild: None,
                    channel: crate::ids::ChannelId::of::<5>(),
                    message: MessageId::of::<1>(),
                    emoji: None
                },
                ReactionStep::Add(vec![key(1, 11, "🙏")]),
            ]
        );
        assert_eq!(coalesce(Vec::new()), []);
    }
}
