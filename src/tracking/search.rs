//! Finding a server's prayer request by what a member types, for the
//! `request` options of `/prayer who` and `/praise`: the autocomplete
//! choices, and the one request a submitted value names. Pure: it sees only
//! the candidates the caller passes (one server's requests), no I/O, no
//! Discord, no clock.
//!
//! Matching is on words. The request's region, its text and its week's day
//! and month (`16 nov`) are folded (lower case, accents removed, apostrophes
//! dropped) and cut into words at anything that is not a letter or a digit;
//! `&` and `+` are the word `and`. What the member typed is folded and cut
//! the same way, and a request matches when every typed word begins some
//! word of it. So `guatemala`, `Guatemála`, `GUATE`, `latin` and `latin
//! guat` all find a request of "Latin America" that names Guatemala.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::bulletins::week::PrayerWeek;
use crate::ids::RequestId;
use crate::posting::region::{CHOICE_LIMIT, CHOICE_NAME_LIMIT};
use crate::posting::render::discord_len;

/// Only this many characters of what a member typed are read: no request
/// is named by more, and a pasted essay then costs no more than a word.
pub const TYPED_LIMIT: usize = 200;

/// How many close matches a [`NotFound`] offers.
const CLOSE_LIMIT: usize = 3;

/// Between a choice's week, region and text.
const SEPARATOR: &str = " · ";

/// A request a member may choose: one of the server's current or recent
/// requests, as the caller read it from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestChoice {
    pub id: RequestId,
    pub week: PrayerWeek,
    pub region: String,
    pub text: String,
    /// Whether members can pray for it; only these are offered and matched.
    pub prayable: bool,
}

/// One autocomplete choice as Discord takes it: `name` is shown, `value`
/// comes back as the option's value when the member picks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

/// What a member typed names no single request of the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no request of this server matches that; pick one from the list")]
pub struct NotFound {
    /// Requests that match what was typed (at most three, in the caller's
    /// order), named with their week, for a "did you mean". Empty when
    /// nothing matched.
    pub close: Vec<String>,
}

/// The autocomplete choices for `partial`: the candidates it matches (see
/// the module docs), in the caller's order, at most [`CHOICE_LIMIT`]; the
/// first ones when nothing has been typed. A candidate outside `current`
/// shows its week before its region.
pub fn choices(candidates: &[RequestChoice], partial: &str, current: PrayerWeek) -> Vec<Choice> {
    let typed = typed_words(partial);
    distinct(candidates)
        .filter(|candidate| matches(candidate, &typed))
        .take(CHOICE_LIMIT)
        .map(|candidate| Choice {
            name: choice_name(candidate, candidate.week != current),
            value: candidate.id.to_string(),
        })
        .collect()
}

/// The request `typed` names: the candidate whose id it is (a picked
/// choice sends its id), else the one candidate its words match.
///
/// An id that is no candidate's (another server's request, a deleted one)
/// gets the same [`NotFound`] as text that matches nothing, so the answer
/// says nothing about requests outside `candidates`.
pub fn resolve(candidates: &[RequestChoice], typed: &str) -> Result<RequestId, NotFound> {
    let typed = bounded(typed).trim();
    // A bare number is read only as an id: a stale choice's id (a deleted
    // request's) must not land on another request whose text or week
    // happens to hold that number.
    if !typed.is_empty() && typed.chars().all(|c| c.is_ascii_digit()) {
        return typed
            .parse::<i64>()
            .ok()
            .and_then(|id| distinct(candidates).find(|c| c.id.get() == id))
            .map(|found| found.id)
            .ok_or(NotFound { close: Vec::new() });
    }
    let words = typed_words(typed);
    if words.is_empty() {
        return Err(NotFound { close: Vec::new() });
    }
    let mut matching = distinct(candidates).filter(|candidate| matches(candidate, &words));
    let first = matching.next();
    let second = matching.next();
    match (first, second) {
        (Some(only), None) => Ok(only.id),
        (first, second) => Err(NotFound {
            close: first
                .into_iter()
                .chain(second)
                .chain(matching)
                .take(CLOSE_LIMIT)
                .map(|candidate| choice_name(candidate, true))
                .collect(),
        }),
    }
}

/// The prayable candidates with each id once (the first time it appears),
/// so one request listed twice is neither shown twice nor ambiguous with
/// itself, and an item of pure thanks, which no one can pray for, is never
/// offered.
fn distinct(candidates: &[RequestChoice]) -> impl Iterator<Item = &RequestChoice> {
    let mut seen = HashSet::new();
    candidates
        .iter()
        .filter(move |candidate| candidate.prayable && seen.insert(candidate.id))
}

/// Whether every word in `typed` begins some word of the candidate.
fn matches(candidate: &RequestChoice, typed: &[String]) -> bool {
    if typed.is_empty() {
        return true;
    }
    let mut own = words(&candidate.region);
    own.extend(words(&candidate.text));
    own.extend(week_words(candidate.week));
    typed
        .iter()
        .all(|want| own.iter().any(|word| word.starts_with(want.as_str())))
}

/// The words of what a member typed (its first [`TYPED_LIMIT`] characters).
fn typed_words(typed: &str) -> Vec<String> {
    words(bounded(typed))
}

/// A week's day and month as words (`16`, `nov`), so the week a choice
/// shows can be typed too.
fn week_words(week: PrayerWeek) -> [String; 2] {
    let monday = week.monday();
    [
        monday.format("%-d").to_string(),
        monday.format("%b").to_string().to_lowercase(),
    ]
}

/// `text` cut to its first [`TYPED_LIMIT`] characters.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(TYPED_LIMIT) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`' | '´')
}

/// `text` folded and cut into words (see the module docs).
///
/// The compatibility decomposition (NFKD) rather than NFD, so that
/// full-width `ＧＵＡＴＥ` and ligatures such as `ﬁ` fold too; it removes
/// accents the same way.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.nfkd().filter(|&c| !is_combining_mark(c)) {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase().filter(|&c| !is_combining_mark(c)));
        } else if is_apostrophe(c) {
            // `Guatemala’s` and `guatemalas` are one word.
        } else {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if c == '&' || c == '+' {
                words.push("and".to_owned());
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A candidate as a choice's name: `16 Nov · Latin America · Pray for…`
/// (the week only when `with_week`), on one line, cut at a word with `…`
/// to within [`CHOICE_NAME_LIMIT`] as Discord counts (UTF-16 units, never
/// fewer than characters). Never empty.
fn choice_name(candidate: &RequestChoice, with_week: bool) -> String {
    let week = with_week.then(|| candidate.week.monday().format("%-d %b").to_string());
    let region = one_line(&candidate.region);
    let text = one_line(&candidate.text);
    let body: Vec<&str> = [region.as_str(), text.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    let body = if body.is_empty() {
        format!("Request {}", candidate.id)
    } else {
        body.join(SEPARATOR)
    };
    let name = match week {
        Some(week) => format!("{week}{SEPARATOR}{body}"),
        None => body,
    };
    cut(&name, CHOICE_NAME_LIMIT)
}

/// `text` on one line: each run of white space or control characters
/// becomes one space, and none at either end.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    line
}

/// `text` within `limit` UTF-16 units: as it is if it fits, else cut at a
/// word (or, for a long word, between characters) and ended with `…`.
fn cut(text: &str, limit: usize) -> String {
    if discord_len(text) <= limit {
        return text.to_owned();
    }
    let room = limit.saturating_sub('…'.len_utf16());
    let mut end = 0;
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += c.len_utf16();
        if used > room {
            break;
        }
        end = i + c.len_utf8();
    }
    // Prefer the last space in the second half; a cut inside a word is
    // only for a word as long as half the name.
    let head = &text[..end];
    let at_word = head
        .rfind(' ')
        .filter(|&space| space > end / 2)
        .map_or(head, |space| &head[..space]);
    let at_word = at_word.trim_end_matches([' ', '·']);
    format!("{at_word}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::RequestId;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn week(year: i32, month: u32, day: u32) -> PrayerWeek {
        PrayerWeek::containing(NaiveDate::from_ymd_opt(year, month, day).unwrap())
    }

    fn this_week() -> PrayerWeek {
        week(2026, 11, 23)
    }

    fn request(id: i64, region: &str, text: &str) -> RequestChoice {
        RequestChoice {
            id: RequestId::try_new(id).expect("ids are not 0"),
            week: this_week(),
            region: region.into(),
            text: text.into(),
            prayable: true,
        }
    }

    #[test]
    fn only_prayable_requests_are_offered_or_named() {
        let thanks = RequestChoice {
            prayable: false,
            ..request(7, "Asia", "Praise God for rain in Nepal.")
        };
        let asks = request(8, "Asia", "Praise God for Nepal. Pray for its farmers.");
        let candidates = [thanks, asks];
        let offered: Vec<String> = choices(&candidates, "nepal", this_week())
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(offered, ["8"]);
        assert_eq!(resolve(&candidates, "nepal"), Ok(RequestId::of::<8>()));
        assert!(resolve(&candidates, "7").is_err(), "not even by its id");
    }

    fn sample() -> Vec<RequestChoice> {
        vec![
            request(
                1,
                "Latin America",
                "Pray for Guatemala’s courts to hear every case of violence against children.",
            ),
            request(
                2,
                "Africa",
                "Pray for the team in Kenya as they train police.",
            ),
            request(
                3,
                "South Asia",
                "Give thanks for survivors restored in Chennai.",
            ),
        ]
    }

    fn ids(choices: &[Choice]) -> Vec<&str> {
        choices.iter().map(|c| c.value.as_str()).collect()
    }

    fn assert_name_fits(name: &str) {
        assert!(!name.is_empty(), "empty name");
        assert!(name.chars().count() <= CHOICE_NAME_LIMIT, "{name}");
        assert!(discord_len(name) <= CHOICE_NAME_LIMIT, "{name}");
        assert!(!name.contains(['\n', '\r']), "{name:?}");
    }

    #[test]
    fn a_country_in_the_text_finds_its_request_in_any_case_or_accent() {
        for typed in [
            "guatemala",
            "Guatemála",
            "GUATE",
            "guatemala's",
            "Guatemala’s",
        ] {
            assert_eq!(
                ids(&choices(&sample(), typed, this_week())),
                ["1"],
                "{typed}"
            );
        }
    }

    #[test]
    fn a_word_of_the_region_finds_its_requests() {
        assert_eq!(ids(&choices(&sample(), "latin", this_week())), ["1"]);
        assert_eq!(ids(&choices(&sample(), "ASIA", this_week())), ["3"]);
    }

    #[test]
    fn every_typed_word_must_begin_a_word_of_the_region_or_text() {
        assert_eq!(ids(&choices(&sample(), "latin guat", this_week())), ["1"]);
        assert!(choices(&sample(), "latin kenya", this_week()).is_empty());
        assert!(choices(&sample(), "atemala", this_week()).is_empty());
    }

    #[test]
    fn a_country_the_request_does_not_name_finds_nothing() {
        let latin = [sample()[0].clone()];
        assert!(choices(&latin, "kenya", this_week()).is_empty());
    }

    #[test]
    fn accents_in_the_request_are_ignored_too() {
        let candidates = [request(7, "Latin America", "Oren por São Paulo y Bogotá")];
        assert_eq!(ids(&choices(&candidates, "sao bogota", this_week())), ["7"]);
        assert_eq!(ids(&choices(&candidates, "SÃO", this_week())), ["7"]);
    }

    #[test]
    fn an_ampersand_in_a_region_reads_as_and() {
        let candidates = [request(4, "Africa & Europe", "Pray for Romania.")];
        assert_eq!(
            ids(&choices(&candidates, "africa and europe", this_week())),
            ["4"]
        );
        assert_eq!(
            ids(&choices(&candidates, "africa & eur", this_week())),
            ["4"]
        );
    }

    #[test]
    fn nothing_typed_offers_the_first_twenty_five_in_the_callers_order() {
        let candidates: Vec<_> = (1..=40)
            .map(|id| request(id, "Asia Pacific", "Pray for the Philippines."))
            .collect();
        let offered = choices(&candidates, "", this_week());
        assert_eq!(offered.len(), CHOICE_LIMIT);
        let expected: Vec<String> = (1..=25).map(|id| id.to_string()).collect();
        assert_eq!(ids(&offered), expected);
        assert_eq!(
            choices(&candidates, "phil", this_week()).len(),
            CHOICE_LIMIT
        );
    }

    #[test]
    fn a_choice_reads_region_then_text_and_its_value_is_the_request_id() {
        let offered = choices(&sample(), "guat", this_week());
        assert_eq!(
            offered[0].name,
            "Latin America · Pray for Guatemala’s courts to hear every case of violence against children."
        );
        assert_eq!(offered[0].value, "1");
    }

    #[test]
    fn a_long_text_is_cut_at_a_word_with_an_ellipsis() {
        let text = "Pray for Guatemala’s courts to hear every case of violence against children \
                    quickly and justly, and for the judges who carry that weight every week.";
        let offered = choices(&[request(1, "Latin America", text)], "", this_week());
        let name = &offered[0].name;
        assert_name_fits(name);
        assert!(name.starts_with("Latin America · Pray for Guatemala’s courts to"));
        assert!(name.ends_with('…'));
        let before = name.trim_end_matches('…');
        assert!(text.contains(&before["Latin America · ".len()..]));
        assert!(text[before.len() - "Latin America · ".len()..].starts_with(' '));
    }

    #[test]
    fn a_request_of_another_week_shows_its_week_first() {
        let mut old = request(9, "Latin America", "Pray for Guatemala.");
        old.week = week(2026, 11, 16);
        let offered = choices(&[old], "guat", this_week());
        assert_eq!(
            offered[0].name,
            "16 Nov · Latin America · Pray for Guatemala."
        );
    }

    #[test]
    fn the_week_a_choice_shows_can_be_typed() {
        let mut old = request(9, "Latin America", "Pray for Guatemala.");
        old.week = week(2026, 11, 16);
        let candidates = [request(1, "Latin America", "Pray for Peru."), old];
        assert_eq!(ids(&choices(&candidates, "16 nov", this_week())), ["9"]);
        assert_eq!(
            resolve(&candidates, "16 Nov · Latin America · Pray for Guatemala."),
            Ok(RequestId::of::<9>())
        );
    }

    #[test]
    fn names_of_long_multibyte_text_and_emoji_stay_within_a_hundred_units() {
        for text in [
            "🙏".repeat(120),
            "Молитесь за ".repeat(20),
            "祈祷".repeat(80),
            format!("Pray {}", "👨‍👩‍👧‍👦 ".repeat(30)),
            "é".repeat(300),
            "e\u{301}".repeat(300),
        ] {
            let mut old = request(1, &"Région ".repeat(20), &text);
            old.week = week(2026, 11, 16);
            for candidate in [request(1, "Asia", &text), old] {
                for offered in choices(&[candidate], "", this_week()) {
                    assert_name_fits(&offered.name);
                    assert!(offered.name.ends_with('…'), "{}", offered.name);
                }
            }
        }
    }

    #[test]
    fn white_space_and_newlines_collapse_to_single_spaces() {
        let candidates = [request(
            1,
            " Latin\nAmerica ",
            "Pray\r\n\r\nfor\t\tGuatemala.\n",
        )];
        let offered = choices(&candidates, "", this_week());
        assert_eq!(offered[0].name, "Latin America · Pray for Guatemala.");
    }

    #[test]
    fn a_request_with_no_text_still_has_a_name() {
        let candidates = [request(5, " \n ", "\n")];
        let offered = choices(&candidates, "", this_week());
        assert_eq!(offered[0].name, "Request 5");
    }

    #[test]
    fn a_request_listed_twice_is_offered_once() {
        let candidates = [sample()[0].clone(), sample()[0].clone()];
        assert_eq!(ids(&choices(&candidates, "", this_week())), ["1"]);
        assert_eq!(resolve(&candidates, "guatemala"), Ok(RequestId::of::<1>()));
    }

    #[test]
    fn a_picked_choice_resolves_by_its_id() {
        assert_eq!(resolve(&sample(), "2"), Ok(RequestId::of::<2>()));
        assert_eq!(resolve(&sample(), " 3 \n"), Ok(RequestId::of::<3>()));
    }

    #[test]
    fn typed_words_that_match_one_request_resolve_to_it() {
        assert_eq!(resolve(&sample(), "Guatemála"), Ok(RequestId::of::<1>()));
        assert_eq!(resolve(&sample(), "kenya police"), Ok(RequestId::of::<2>()));
    }

    #[test]
    fn words_matching_several_requests_offer_up_to_three_by_name() {
        let candidates: Vec<_> = (1..=5)
            .map(|id| request(id, "Africa", &format!("Pray for Kenya, team {id}.")))
            .collect();
        let err = resolve(&candidates, "kenya").unwrap_err();
        assert_eq!(
            err.close,
            [
                "23 Nov · Africa · Pray for Kenya, team 1.",
                "23 Nov · Africa · Pray for Kenya, team 2.",
                "23 Nov · Africa · Pray for Kenya, team 3.",
            ]
        );
    }

    #[test]
    fn words_matching_nothing_offer_nothing() {
        assert_eq!(
            resolve(&sample(), "ukraine"),
            Err(NotFound { close: vec![] })
        );
        assert_eq!(resolve(&sample(), "  "), Err(NotFound { close: vec![] }));
        assert_eq!(resolve(&[], "guatemala"), Err(NotFound { close: vec![] }));
    }

    #[test]
    fn an_id_of_no_candidate_is_refused_like_garbage_text() {
        let garbage = resolve(&sample(), "xyzzy");
        for other in [
            "4",
            "999999",
            "-1",
            "9223372036854775807",
            "99999999999999999999",
        ] {
            assert_eq!(resolve(&sample(), other), garbage, "{other}");
        }
    }

    #[test]
    fn a_stale_id_does_not_land_on_a_request_holding_that_number() {
        // Request 16 was deleted; the member's picked choice still sends 16.
        let mut old = request(1, "Africa", "Pray for the 16 survivors in Kenya.");
        old.week = week(2026, 11, 16);
        assert_eq!(resolve(&[old], "16"), Err(NotFound { close: vec![] }));
    }

    #[test]
    fn only_the_start_of_a_long_typed_value_is_read() {
        let long = format!("kenya {}", "x".repeat(10_000));
        assert_eq!(resolve(&sample(), &long), Err(NotFound { close: vec![] }));
        let padded = format!("kenya{}", " ".repeat(10_000));
        assert_eq!(resolve(&sample(), &padded), Ok(RequestId::of::<2>()));
        let words_after = format!("{}kenya", " ".repeat(TYPED_LIMIT));
        assert!(resolve(&sample(), &words_after).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn no_input_panics_and_every_name_fits(
            typed in any::<String>(),
            regions in proptest::collection::vec(any::<String>(), 1..4),
            texts in proptest::collection::vec(any::<String>(), 1..4),
            day in 0u64..400,
        ) {
            let start = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
            let candidates: Vec<_> = regions
                .iter()
                .zip(&texts)
                .enumerate()
                .map(|(i, (region, text))| RequestChoice {
                    id: RequestId::try_new(i as i64 + 1).expect("ids are not 0"),
                    week: PrayerWeek::containing(start + chrono::Days::new(day * (i as u64))),
                    region: region.clone(),
                    text: text.clone(),
                    prayable: true,
                })
                .collect();
            let current = PrayerWeek::containing(start);
            for offered in choices(&candidates, &typed, current) {
                assert_name_fits(&offered.name);
            }
            for offered in choices(&candidates, "", current) {
                assert_name_fits(&offered.name);
            }
            if let Err(err) = resolve(&candidates, &typed) {
                prop_assert!(err.close.len() <= CLOSE_LIMIT);
                for name in &err.close {
                    assert_name_fits(name);
                }
            }
        }

        #[test]
        fn every_request_is_found_by_a_word_of_its_own_text(
            text in "[\\p{L}\\p{N} .,’'\\n-]{1,80}",
        ) {
            let candidates = [request(1, "Region", &text)];
            let apart = |c: char| !c.is_alphanumeric() && !is_apostrophe(c);
            for word in text.split(apart).filter(|w| !w.is_empty()) {
                prop_assert_eq!(choices(&candidates, word, this_week()).len(), 1, "{}", word);
            }
        }
    }
}
