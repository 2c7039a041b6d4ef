//! Renders a week into the messages the bot posts: a header, then one
//! message per request under its region. Pure: no Discord types, no I/O.
//!
//! Bulletin text is escaped so Discord shows it as written (a pseudonym's
//! `*` must not turn the rest of a request italic), and a message over
//! Discord's limit is split at a sentence or word, never cut.

use crate::bulletin::{Bulletin, Kind, PrayerRequest};
use crate::week::PrayerWeek;

/// Discord's limit on a message's `content`, in characters.
pub const MESSAGE_LIMIT: usize = 2000;

/// One message of a weekly post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The region the message belongs to; `None` for the week's header.
    pub region: Option<String>,
    /// Index into the bulletin's requests, for a request's message.
    pub request: Option<usize>,
    /// Which piece of a text too long for one message, from 0.
    pub part: u32,
    /// Whether this is the text's last piece.
    pub last_part: bool,
    /// The text, within [`MESSAGE_LIMIT`].
    pub content: String,
}

/// The week's messages in posting order: the header, then the requests
/// grouped by region (regions in the order the bulletin first names them).
/// A text too long for one message gives several, in order.
pub fn render_week(week: PrayerWeek, bulletin: &Bulletin) -> Vec<Post> {
    let mut posts = pieces(None, None, &render_header(week, bulletin));
    for (region, requests) in group_by_region(&bulletin.requests) {
        for index in requests {
            let text = render_request(&bulletin.requests[index]);
            posts.extend(pieces(Some(region), Some(index), &text));
        }
    }
    posts
}

fn pieces(region: Option<&str>, request: Option<usize>, text: &str) -> Vec<Post> {
    let texts = split_message(text, MESSAGE_LIMIT);
    let count = texts.len();
    texts
        .into_iter()
        .enumerate()
        .map(|(part, content)| Post {
            region: region.map(str::to_owned),
            request,
            part: u32::try_from(part).unwrap_or(u32::MAX),
            last_part: part + 1 == count,
            content,
        })
        .collect()
}

/// The header: title, week and verse.
pub fn render_header(week: PrayerWeek, bulletin: &Bulletin) -> String {
    let mut header = format!(
        "**{}** · week of {}",
        escape_markdown(&bulletin.title),
        week.monday().format("%A %-d %B %Y")
    );
    if let Some(verse) = &bulletin.verse {
        header.push_str("\n> *“");
        header.push_str(&escape_markdown(&verse.text));
        header.push_str("”*");
        if let Some(reference) = &verse.reference {
            header.push_str("\n> — ");
            header.push_str(&escape_markdown(reference));
        }
    }
    header
}

/// One request's message: its region and kind, then its text.
pub fn render_request(request: &PrayerRequest) -> String {
    let label = match request.kind {
        Kind::Petition => "🙏",
        Kind::Praise => "🎉 Praise ·",
    };
    format!(
        "{label} **{}**\n{}",
        escape_markdown(&request.region),
        escape_markdown(&request.text)
    )
}

/// The regions of `requests` in the order first named, each with the
/// indices of its requests in bulletin order.
pub fn group_by_region(requests: &[PrayerRequest]) -> Vec<(&str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        match groups.iter_mut().find(|(name, _)| *name == request.region) {
            Some((_, members)) => members.push(index),
            None => groups.push((&request.region, vec![index])),
        }
    }
    groups
}

/// The region of `bulletin` named `wanted`, in any letter case; else an
/// error that lists the regions there are.
pub fn find_region<'a>(bulletin: &'a Bulletin, wanted: &str) -> Result<&'a str, RegionNotFound> {
    let groups = group_by_region(&bulletin.requests);
    groups
        .iter()
        .map(|(name, _)| *name)
        .find(|name| name.eq_ignore_ascii_case(wanted.trim()))
        .ok_or_else(|| RegionNotFound {
            wanted: wanted.to_owned(),
            regions: groups.iter().map(|(name, _)| (*name).to_owned()).collect(),
        })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("has no region “{wanted}”; its regions are: {}", regions.join(", "))]
pub struct RegionNotFound {
    pub wanted: String,
    pub regions: Vec<String>,
}

/// The week at a glance, for `/prayer week`: the header, then each region
/// with its requests, split into messages within Discord's limit.
pub fn render_digest(week: PrayerWeek, bulletin: &Bulletin, region: Option<&str>) -> Vec<String> {
    let mut text = render_header(week, bulletin);
    for (name, members) in group_by_region(&bulletin.requests) {
        if region.is_some_and(|r| r != name) {
            continue;
        }
        text.push_str("\n\n**");
        text.push_str(&escape_markdown(name));
        text.push_str("**");
        for index in members {
            let request = &bulletin.requests[index];
            let mark = match request.kind {
                Kind::Petition => "🙏",
                Kind::Praise => "🎉",
            };
            text.push_str(&format!("\n{mark} {}", escape_markdown(&request.text)));
        }
    }
    split_message(&text, MESSAGE_LIMIT)
}

/// Escapes Discord markdown so the text shows as written.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        let at_line_start = i == 0 || text[..i].ends_with('\n');
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|')
            || (at_line_start && matches!(c, '>' | '#' | '-'))
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Splits `text` into pieces of at most `limit` characters, each ending at
/// a sentence if one ends in the second half of the piece, else at a word,
/// and only inside a word longer than the limit itself. Nothing is dropped
/// but the white space at a split.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > limit {
        // The byte index just past `limit` characters.
        let window_end = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..window_end];
        let half = window.len() / 2;
        let sentence_end = window
            .match_indices(['.', '!', '?', '\n'])
            .map(|(i, m)| i + m.len())
            .rfind(|&end| end > half && rest[end..].starts_with(char::is_whitespace));
        let word_end = window
            .char_indices()
            .rfind(|&(i, c)| c.is_whitespace() && i > 0)
            .map(|(i, _)| i);
        let cut = sentence_end.or(word_end).unwrap_or(window_end);
        pieces.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletin::Verse;

    fn request(region: &str, kind: Kind, text: &str) -> PrayerRequest {
        PrayerRequest {
            region: region.into(),
            kind,
            text: text.into(),
            countries: vec![],
        }
    }

    fn week() -> PrayerWeek {
        "2026-11-23".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn requests_are_grouped_under_their_region_in_order_of_first_mention() {
        let bulletin = Bulletin {
            title: "IJM Prayer Requests".into(),
            date: None,
            verse: None,
            requests: vec![
                request("Africa", Kind::Petition, "A1"),
                request("Asia", Kind::Petition, "B1"),
                request("Africa", Kind::Praise, "A2"),
            ],
            notes: vec![],
        };
        let posts = render_week(week(), &bulletin);
        let order: Vec<_> = posts
            .iter()
            .map(|p| (p.region.as_deref(), p.request))
            .collect();
        assert_eq!(
            order,
            [
                (None, None),
                (Some("Africa"), Some(0)),
                (Some("Africa"), Some(2)),
                (Some("Asia"), Some(1))
            ]
        );
        assert_eq!(posts[2].content, "🎉 Praise · **Africa**\nA2");
    }

    #[test]
    fn the_digest_lists_each_region_once_with_its_requests() {
        let bulletin = Bulletin {
            title: "T".into(),
            date: None,
            verse: None,
            requests: vec![
                request("Africa", Kind::Petition, "A1"),
                request("Asia", Kind::Praise, "B1"),
                request("Africa", Kind::Petition, "A2"),
            ],
            notes: vec![],
        };
        assert_eq!(
            render_digest(week(), &bulletin, None),
            [
                "**T** · week of Monday 23 November 2026\n\n**Africa**\n🙏 A1\n🙏 A2\n\n**Asia**\n🎉 B1"
            ]
        );
        assert_eq!(
            render_digest(week(), &bulletin, Some("Asia")),
            ["**T** · week of Monday 23 November 2026\n\n**Asia**\n🎉 B1"]
        );
        assert_eq!(find_region(&bulletin, " asia "), Ok("Asia"));
        assert_eq!(
            find_region(&bulletin, "Europe").map_err(|e| e.to_string()),
            Err("has no region “Europe”; its regions are: Africa, Asia".to_owned())
        );
    }

    #[test]
    fn the_header_names_the_title_week_and_verse() {
        let bulletin = Bulletin {
            title: "IJM Prayer Requests".into(),
            date: None,
            verse: Some(Verse {
                text: "Seek justice.".into(),
                reference: Some("Isaiah 1:17".into()),
            }),
            requests: vec![],
            notes: vec![],
        };
        assert_eq!(
            render_header(week(), &bulletin),
            "**IJM Prayer Requests** · week of Monday 23 November 2026\n> *“Seek justice.”*\n> — Isaiah 1:17"
        );
    }

    #[test]
    fn markdown_in_bulletin_text_is_shown_as_written() {
        assert_eq!(
            escape_markdown("Jeremias,* a_b ~x~ `c` |d|"),
            r"Jeremias,\* a\_b \~x\~ \`c\` \|d\|"
        );
        assert_eq!(escape_markdown("# big\n> quote"), "\\# big\n\\> quote");
    }

    #[test]
    fn a_long_text_is_split_at_sentences_within_the_limit_and_nothing_is_lost() {
        let sentence = "Please pray for the survivors and their families in Kenya. ";
        let text = sentence.repeat(90);
        let pieces = split_message(&text, MESSAGE_LIMIT);
        assert!(pieces.len() >= 3);
        for piece in &pieces {
            assert!(piece.chars().count() <= MESSAGE_LIMIT);
            assert!(
                piece.ends_with("Kenya."),
                "split mid-sentence: …{}",
                &piece[piece.len() - 20..]
            );
        }
        assert_eq!(pieces.join(" "), text.trim());
    }

    #[test]
    fn a_text_without_sentences_is_split_between_words() {
        let text = "word ".repeat(30);
        let pieces = split_message(&text, 12);
        assert!(
            pieces
                .iter()
                .all(|p| p.chars().count() <= 12 && !p.contains("wor "))
        );
        assert_eq!(pieces.join(" "), text.trim());
    }

    #[test]
    fn a_word_longer_than_the_limit_is_the_only_thing_cut() {
        let text = "é".repeat(25);
        let pieces = split_message(&text, 10);
        assert_eq!(
            pieces.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn text_within_the_limit_is_one_message() {
        assert_eq!(split_message("Pray.", MESSAGE_LIMIT), ["Pray."]);
        assert!(split_message("   ", MESSAGE_LIMIT).is_empty());
    }
}
