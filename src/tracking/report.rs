//! What prayer tracking says to members, in words: the answers to button
//! presses, `/prayer who`, `/prayer mine`, the `/prayer stats` card and
//! `/praise`. Pure: values in, text out, every text within Discord's
//! limits (long lists are split by the caller with
//! [`crate::posting::render::split_message`], which breaks between words).
//!
//! Names are written as user mentions (`<@id>`): Discord shows them as
//! names, and every message the bot sends disables mentions except where a
//! praise means to notify.

use crate::bulletins::week::PrayerWeek;
use crate::ids::UserId;
use crate::posting::buttons::PrayerAction;
use crate::posting::render::{discord_len, escape_links, escape_markdown};
use crate::storage::{Forgotten, GuildRequest};
use crate::tracking::{Listed, MyRequest, RegionCoverage, WeekStats, Who};

/// A request's text cut to at most `max` characters at a word, with `…`,
/// on one line.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > cut.len() / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// How a request is named in an answer: its region and the start of its
/// text, escaped.
/// A reminder's **Prayed** pressed by someone with no such commitment (or
/// after forget-me erased it).
pub const NOT_YOUR_REMINDER: &str = "This reminder is not about a commitment of yours (it may have been erased). Nothing was recorded.";

pub fn request_name(region: &str, text: &str) -> String {
    escape_markdown(&format!("{region} · {}", excerpt(text, 80)))
}

/// A member as Discord shows a name.
pub fn mention(user: UserId) -> String {
    format!("<@{user}>")
}

/// The most names one list of `/prayer who` shows (about four messages'
/// worth); the rest are counted.
pub const WHO_NAMES: usize = 300;

fn mentions(users: &[UserId]) -> String {
    let mut shown = users
        .iter()
        .take(WHO_NAMES)
        .map(|u| mention(*u))
        .collect::<Vec<_>>()
        .join(", ");
    if users.len() > WHO_NAMES {
        shown.push_str(&format!(" and {} more", users.len() - WHO_NAMES));
    }
    shown
}

fn week_words(week: PrayerWeek) -> String {
    week.monday().format("%-d %B %Y").to_string()
}

/// The private answer to **I'll pray** or **Prayed**. `new` is false when
/// the member had already said so; `kept` when a Prayed press finds their
/// commitment.
pub fn press_answer(action: PrayerAction, name: &str, new: bool, kept: bool) -> String {
    match (action, new) {
        (PrayerAction::Commit, true) => {
            format!("Recorded: you'll pray for *{name}*. Thank you!")
        }
        (PrayerAction::Commit, false) => {
            format!("You had already said you'll pray for *{name}*; it is recorded once.")
        }
        (PrayerAction::Prayed, true) => {
            let kept = if kept {
                " Your commitment is kept."
            } else {
                ""
            };
            format!("Recorded: you prayed for *{name}*.{kept} Thank you!")
        }
        (PrayerAction::Prayed, false) => {
            format!("You had already marked *{name}* as prayed; it is recorded once.")
        }
    }
}

/// The answer to **Undo**; `undone` is false when there was nothing to undo.
pub fn undo_answer(action: PrayerAction, name: &str, undone: bool) -> String {
    match (action, undone) {
        (PrayerAction::Commit, true) => {
            format!("Undone: you are no longer committed to pray for *{name}*.")
        }
        (PrayerAction::Prayed, true) => format!(
            "Undone: *{name}* is no longer marked prayed by the button (a 🙏 reaction of yours still counts until you remove it)."
        ),
        (PrayerAction::Commit, false) => {
            format!("There is no commitment to undo for *{name}*; nothing changed.")
        }
        (PrayerAction::Prayed, false) => {
            format!("*{name}* was not marked prayed by the button; nothing changed.")
        }
    }
}

/// The answer to a press on a request this server no longer has.
pub const GONE: &str = "This request is not in this server's bulletins any more (its bulletin was replaced), so nothing was recorded. `/prayer week` shows this week's requests.";

/// The answer once `/prayer forget-me` is confirmed.
pub fn forgotten_text(forgotten: Forgotten) -> String {
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut erased = vec![plural(
        forgotten.marks,
        "record of a commitment or prayer",
        "records of commitments and prayers",
    )];
    if forgotten.notify {
        erased.push("your notify setting".to_owned());
    }
    if forgotten.requests > 0 {
        erased.push(format!(
            "{} you asked (their posts now say withdrawn)",
            plural(forgotten.requests as u64, "request", "requests")
        ));
    }
    let reactions = " Your 🙏 reactions on the posts are Discord's, not mine: remove them too, or they count again the next time I read the posts back.";
    let kept = match forgotten.praises {
        0 => String::new(),
        n => format!(
            " {} you wrote {} posted, without your name.",
            plural(n, "praise", "praises"),
            if n == 1 { "stays" } else { "stay" }
        ),
    };
    format!(
        "Done. In this server I erased {}.{kept}{reactions}",
        erased.join(" and ")
    )
}

/// `/prayer who`: who committed and who prayed.
pub fn who_text(request: &GuildRequest, who: &Who) -> String {
    let name = request_name(&request.region, &request.text);
    let mut text = format!("**{name}** (week of {})", week_words(request.week));
    if who.committed.is_empty() && who.prayed.is_empty() && !request.is_prayable() {
        text.push_str("\nThis item gives thanks and asks for no prayer, so its post has no buttons and no one is asked to pray for it.");
        return text;
    }
    if who.committed.is_empty() && who.prayed.is_empty() {
        text.push_str("\nNo one has committed to or prayed for this request yet. Press **I'll pray** or **Prayed** on its post, or add 🙏.");
        return text;
    }
    for (label, users) in [("Committed", &who.committed), ("Prayed", &who.prayed)] {
        if !users.is_empty() {
            text.push_str(&format!("\n{label} ({}): {}", users.len(), mentions(users)));
        }
    }
    text
}

/// `/prayer mine`: my commitments and prayers of a week.
pub fn mine_text(week: PrayerWeek, mine: &[MyRequest], requests: &[Listed<'_>]) -> String {
    let mut text = format!("**Your prayers, week of {}**", week_words(week));
    if mine.is_empty() {
        text.push_str("\nYou have not committed to or prayed for any request this week yet. `/prayer week` lists them; press **I'll pray** or **Prayed** on a post, or add 🙏.");
        return text;
    }
    for entry in mine {
        let Some(listed) = requests.get(entry.index) else {
            continue;
        };
        let said = match (entry.committed, entry.prayed) {
            (true, true) => "✅ committed and prayed",
            (true, false) => "🤝 committed, not yet marked prayed",
            (false, _) => "✅ prayed",
        };
        text.push_str(&format!(
            "\n{said}: {}",
            request_name(&listed.request.region, &listed.request.text)
        ));
    }
    text
}

/// Discord's embed limits.
pub const EMBED_TOTAL: usize = 6000;
pub const EMBED_TITLE: usize = 256;
pub const EMBED_DESCRIPTION: usize = 4096;
pub const EMBED_FIELDS: usize = 25;
pub const FIELD_NAME: usize = 256;
pub const FIELD_VALUE: usize = 1024;

/// An embed as plain text, within Discord's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub title: String,
    pub description: String,
    pub fields: Vec<(String, String)>,
}

impl Card {
    /// The length Discord counts against its 6,000-character total.
    pub fn len(&self) -> usize {
        discord_len(&self.title)
            + discord_len(&self.description)
            + self
                .fields
                .iter()
                .map(|(n, v)| discord_len(n) + discord_len(v))
                .sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A bar of ten blocks, filled in proportion.
pub fn bar(part: usize, whole: usize) -> String {
    const WIDTH: usize = 10;
    let filled = (part * WIDTH).checked_div(whole).unwrap_or(0).min(WIDTH);
    format!("{}{}", "▰".repeat(filled), "▱".repeat(WIDTH - filled))
}

/// `text` within `limit` UTF-16 units, cut with `…` if need be.
fn cut(text: &str, limit: usize) -> String {
    if discord_len(text) <= limit {
        return text.to_owned();
    }
    let mut kept = String::new();
    for c in text.chars() {
        if discord_len(&kept) + c.len_utf16() + 1 > limit {
            break;
        }
        kept.push(c);
    }
    kept.push('…');
    kept
}

/// Lines joined within `limit` UTF-16 units: whole lines while they fit,
/// then one saying how many were left out. A first line too long alone is
/// cut.
fn fit_lines(lines: &[String], limit: usize) -> String {
    let mut text = String::new();
    for (shown, line) in lines.iter().enumerate() {
        let separator = if text.is_empty() { "" } else { "\n" };
        let left_after = lines.len() - shown - 1;
        let room_for_tail = if left_after > 0 { 20 } else { 0 };
        if discord_len(&text) + separator.len() + discord_len(line) + room_for_tail > limit {
            if text.is_empty() {
                return cut(line, limit);
            }
            let tail = format!("\n…and {} more", lines.len() - shown);
            if discord_len(&text) + discord_len(&tail) <= limit {
                text.push_str(&tail);
            }
            return text;
        }
        text.push_str(separator);
        text.push_str(line);
    }
    text
}

/// `/prayer stats`: the week on one card, a bar per region.
pub fn stats_card(week: PrayerWeek, stats: &WeekStats, requests: &[Listed<'_>]) -> Card {
    let title = format!("Prayer week of {}", week_words(week));
    let description = stats_description(stats);
    let mut regions: Vec<&RegionCoverage> = stats.regions.iter().collect();
    let hidden = regions.len().saturating_sub(EMBED_FIELDS - 1);
    if hidden > 1 {
        regions.truncate(EMBED_FIELDS - 1);
    }
    let room = EMBED_TOTAL
        .saturating_sub(discord_len(&title) + discord_len(&description) + 200)
        .checked_div(regions.len().max(1))
        .unwrap_or(0);
    let mut fields: Vec<(String, String)> = regions
        .iter()
        .map(|region| region_field(region, requests, room))
        .collect();
    if hidden > 1 {
        fields.push(more_regions_field(&stats.regions[EMBED_FIELDS - 1..]));
    }
    if requests.iter().all(|r| !r.request.is_prayable()) {
        fields.clear();
    }
    Card {
        title: cut(&title, EMBED_TITLE),
        description: cut(&description, EMBED_DESCRIPTION),
        fields,
    }
}

/// `part` as a whole percentage of `whole`; 0 of nothing.
fn percent(part: usize, whole: usize) -> usize {
    (part * 100).checked_div(whole).unwrap_or(0)
}

/// The stats card's description: who took part, what is covered, the
/// commitments kept and the praises.
fn stats_description(stats: &WeekStats) -> String {
    let coverage = if stats.petitions == 0 {
        // Never “0 of 0”: a week of thanks only has nothing to cover.
        "No request this week asks for prayer: every item gives thanks".to_owned()
    } else {
        format!(
            "**{} of {}** requests covered ({}%) · {} not yet",
            stats.covered,
            stats.petitions,
            percent(stats.covered, stats.petitions),
            stats.petitions - stats.covered.min(stats.petitions),
        )
    };
    let commitments = if stats.commitments == 0 {
        "No commitments yet".to_owned()
    } else {
        format!(
            "**{} of {}** commitments kept",
            stats.kept, stats.commitments
        )
    };
    format!(
        "**{}** {} taking part\n{coverage}\n{commitments}\n**{}** {}",
        stats.people,
        if stats.people == 1 {
            "person"
        } else {
            "people"
        },
        stats.praises,
        if stats.praises == 1 {
            "praise"
        } else {
            "praises"
        },
    )
}

/// One region's field on the stats card: its bar, then the requests not
/// yet covered, within `room` UTF-16 units.
fn region_field(region: &RegionCoverage, requests: &[Listed<'_>], room: usize) -> (String, String) {
    let name: String = escape_markdown(&format!(
        "{} · {} of {} covered",
        excerpt(&region.region, 120),
        region.covered,
        region.total
    ));
    let mut lines = vec![format!(
        "`{}` {}%",
        bar(region.covered, region.total),
        percent(region.covered, region.total)
    )];
    lines.extend(region.uncovered.iter().filter_map(|&index| {
        let listed = requests.get(index)?;
        Some(format!(
            "• not yet: {}",
            escape_markdown(&excerpt(&listed.request.text, 70))
        ))
    }));
    let limit = FIELD_VALUE.min(room.saturating_sub(discord_len(&name)).max(40));
    (cut(&name, FIELD_NAME), fit_lines(&lines, limit))
}

/// The one field that sums up the regions the card has no room for.
fn more_regions_field(rest: &[RegionCoverage]) -> (String, String) {
    let covered: usize = rest.iter().map(|r| r.covered).sum();
    let total: usize = rest.iter().map(|r| r.total).sum();
    (
        format!("{} more regions · {covered} of {total} covered", rest.len()),
        format!("`{}`", bar(covered, total)),
    )
}

/// The first message of a praise for an answered request. The note's
/// masked links (`[text](url)`) show as typed, as in bulletin text.
pub fn praise_text(author: UserId, request: &GuildRequest, note: &str) -> String {
    format!(
        "🎉 **Answered prayer** — {} shared: {}\n-# {}",
        mention(author),
        escape_links(note),
        request_name(&request.region, &request.text)
    )
}

/// A praise report not tied to a request.
pub fn praise_report_text(author: UserId, note: &str) -> String {
    format!(
        "🎉 **Praise report** from {}: {}",
        mention(author),
        escape_links(note)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletins::parse::{Kind, PrayerRequest};
    use crate::ids::RequestId;
    use crate::tracking::RegionCoverage;

    fn week() -> PrayerWeek {
        "2026-11-23".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn guild_request(text: &str) -> GuildRequest {
        GuildRequest {
            id: RequestId::of::<1>(),
            week: week(),
            region: "Latin America".into(),
            kind: Kind::Petition,
            text: text.into(),
        }
    }

    #[test]
    fn an_excerpt_is_one_line_cut_at_a_word() {
        assert_eq!(excerpt("Pray  for\nPeru.", 80), "Pray for Peru.");
        assert_eq!(
            excerpt("Pray for the courts of Guatemala and their judges", 30),
            "Pray for the courts of…"
        );
        let long = "é".repeat(500);
        assert_eq!(excerpt(&long, 10).chars().count(), 10);
    }

    #[test]
    fn who_names_members_as_mentions_in_two_lists() {
        let who = Who {
            committed: vec![UserId::of::<1>()],
            prayed: vec![UserId::of::<2>(), UserId::of::<3>()],
        };
        let text = who_text(&guild_request("Pray for *Peru*."), &who);
        assert_eq!(
            text,
            "**Latin America · Pray for \\*Peru\\*.** (week of 23 November 2026)\nCommitted (1): <@1>\nPrayed (2): <@2>, <@3>"
        );
        let many = Who {
            committed: Vec::new(),
            prayed: (1..=1000).filter_map(UserId::try_new).collect(),
        };
        let text = who_text(&guild_request("Pray."), &many);
        assert!(
            text.ends_with(" and 700 more"),
            "{}",
            &text[text.len() - 40..]
        );
        let nobody = who_text(&guild_request("Pray."), &Who::default());
        assert!(nobody.contains("No one has committed"), "{nobody}");
    }

    #[test]
    fn every_press_answer_names_the_request_and_what_happened() {
        let a = press_answer(PrayerAction::Prayed, "X", true, true);
        assert!(
            a.contains("prayed for *X*") && a.contains("commitment is kept"),
            "{a}"
        );
        let again = press_answer(PrayerAction::Commit, "X", false, false);
        assert!(again.contains("already"), "{again}");
        assert!(undo_answer(PrayerAction::Commit, "X", true).starts_with("Undone"));
        assert!(undo_answer(PrayerAction::Prayed, "X", false).contains("nothing changed"));
    }

    #[test]
    fn the_forget_me_answer_says_only_what_was_erased() {
        let none = forgotten_text(Forgotten::default());
        assert!(
            none.starts_with("Done. In this server I erased 0 records of commitments and prayers."),
            "{none}"
        );
        let some = forgotten_text(Forgotten {
            marks: 1,
            praises: 2,
            notify: true,
            requests: 0,
        });
        assert!(
            some.starts_with("Done. In this server I erased 1 record of a commitment or prayer and your notify setting. 2 praises you wrote stay posted, without your name."),
            "{some}"
        );
        assert!(some.contains("remove them too"), "{some}");
        let asked = forgotten_text(Forgotten {
            requests: 2,
            ..Forgotten::default()
        });
        assert!(
            asked.contains("2 requests you asked (their posts now say withdrawn)"),
            "{asked}"
        );
    }

    #[test]
    fn bars_fill_in_proportion_and_survive_an_empty_region() {
        assert_eq!(bar(0, 0), "▱▱▱▱▱▱▱▱▱▱");
        assert_eq!(bar(3, 10), "▰▰▰▱▱▱▱▱▱▱");
        assert_eq!(bar(5, 5), "▰▰▰▰▰▰▰▰▰▰");
        assert_eq!(bar(9, 3), "▰▰▰▰▰▰▰▰▰▰");
    }

    #[test]
    fn a_stats_card_stays_within_discords_embed_limits_however_big_the_week() {
        let text = "Pray for a very long request that goes on and on ".repeat(20);
        let requests: Vec<PrayerRequest> = (0..400)
            .map(|i| PrayerRequest {
                region: format!("Region {} {}", i % 40, "ü".repeat(300)),
                kind: Kind::Petition,
                text: text.clone(),
                countries: vec![],
            })
            .collect();
        let listed: Vec<Listed<'_>> = requests
            .iter()
            .enumerate()
            .map(|(i, request)| Listed {
                id: RequestId::try_new(i64::try_from(i).unwrap_or(0) + 1).expect("ids are not 0"),
                request,
                answered: false,
            })
            .collect();
        let stats = crate::tracking::week_stats(&listed, &[], 0);
        let card = stats_card(week(), &stats, &listed);
        assert!(card.len() <= EMBED_TOTAL, "{}", card.len());
        assert!(card.fields.len() <= EMBED_FIELDS);
        for (name, value) in &card.fields {
            assert!(discord_len(name) <= FIELD_NAME && !name.is_empty());
            assert!(discord_len(value) <= FIELD_VALUE && !value.is_empty());
        }
        assert!(
            card.fields[24].0.starts_with("16 more regions"),
            "{:?}",
            card.fields[24]
        );
    }

    #[test]
    fn a_stats_card_draws_a_bar_per_region_and_lists_what_is_not_yet_covered() {
        let kenya = PrayerRequest {
            region: "Africa".into(),
            kind: Kind::Petition,
            text: "Pray for Kenya.".into(),
            countries: vec![],
        };
        let listed = [Listed {
            id: RequestId::of::<1>(),
            request: &kenya,
            answered: false,
        }];
        let stats = WeekStats {
            people: 1,
            commitments: 2,
            kept: 1,
            covered: 0,
            petitions: 1,
            regions: vec![RegionCoverage {
                region: "Africa".into(),
                covered: 0,
                total: 1,
                uncovered: vec![0],
            }],
            praises: 1,
        };
        let card = stats_card(week(), &stats, &listed);
        assert_eq!(card.title, "Prayer week of 23 November 2026");
        assert_eq!(
            card.description,
            "**1** person taking part\n**0 of 1** requests covered (0%) · 1 not yet\n**1 of 2** commitments kept\n**1** praise"
        );
        assert_eq!(
            card.fields,
            [(
                "Africa · 0 of 1 covered".to_owned(),
                "`▱▱▱▱▱▱▱▱▱▱` 0%\n• not yet: Pray for Kenya.".to_owned()
            )]
        );
    }

    fn listed(requests: &[PrayerRequest]) -> Vec<Listed<'_>> {
        requests
            .iter()
            .enumerate()
            .map(|(i, request)| Listed {
                id: RequestId::try_new(i64::try_from(i).unwrap_or(0) + 1).expect("ids are not 0"),
                request,
                answered: false,
            })
            .collect()
    }

    fn item(kind: Kind, text: &str) -> PrayerRequest {
        PrayerRequest {
            region: "Asia".into(),
            kind,
            text: text.into(),
            countries: vec![],
        }
    }

    #[test]
    fn stats_count_a_praise_that_asks_for_prayer_and_never_show_0_of_0() {
        let asks = [
            item(Kind::Praise, "Praise God for Nepal. Pray for its farmers."),
            item(Kind::Praise, "Praise God for rain in India."),
        ];
        let requests = listed(&asks);
        let stats = crate::tracking::week_stats(&requests, &[], 1);
        assert_eq!((stats.covered, stats.petitions, stats.praises), (0, 1, 3));
        let card = stats_card(week(), &stats, &requests);
        assert!(
            card.description
                .contains("**0 of 1** requests covered (0%) · 1 not yet"),
            "{}",
            card.description
        );
        assert_eq!(card.fields.len(), 1, "the prayable praise has its region");

        let thanks = [item(Kind::Praise, "Praise God for rain in India.")];
        let requests = listed(&thanks);
        let stats = crate::tracking::week_stats(&requests, &[], 0);
        let card = stats_card(week(), &stats, &requests);
        assert_eq!(
            card.description,
            "**0** people taking part\nNo request this week asks for prayer: every item gives thanks\nNo commitments yet\n**1** praise"
        );
        assert!(!card.description.contains("0 of 0"));
        assert!(card.fields.is_empty());
    }

    #[test]
    fn who_on_pure_thanks_does_not_ask_for_presses_on_buttons_it_has_not_got() {
        let thanks = GuildRequest {
            kind: Kind::Praise,
            ..guild_request("Praise God for rain in Peru.")
        };
        let text = who_text(&thanks, &Who::default());
        assert!(
            text.contains("gives thanks and asks for no prayer") && !text.contains("Press"),
            "{text}"
        );
        let asks = GuildRequest {
            kind: Kind::Praise,
            ..guild_request("Praise God for rain in Peru. Pray for the harvest.")
        };
        let text = who_text(&asks, &Who::default());
        assert!(text.contains("Press **I'll pray**"), "{text}");
    }

    #[test]
    fn a_praise_notes_masked_links_show_as_typed() {
        let note = "See [the verdict](https://evil.example/x) — **great** news";
        let report = praise_report_text(UserId::of::<5>(), note);
        assert_eq!(
            report,
            "🎉 **Praise report** from <@5>: See \\[the verdict\\](https://evil.example/x) — **great** news"
        );
        let answered = praise_text(UserId::of::<5>(), &guild_request("Pray for Peru."), note);
        assert!(
            answered.contains("shared: See \\[the verdict\\](https://evil.example/x)"),
            "{answered}"
        );
    }
}
