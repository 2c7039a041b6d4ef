//! Renders a week into the messages the bot posts: a header, then one
//! message per request under its region. Pure: no Discord types, no I/O.
//!
//! Bulletin text is escaped so Discord shows it as written (a pseudonym's
//! `*` must not turn the rest of a request italic), and a message over
//! Discord's limit is split at a sentence or word, never cut.

use crate::bulletins::parse::{Bulletin, Kind, PrayerRequest};
use crate::bulletins::week::PrayerWeek;
use crate::posting::region::region_key;
use crate::tracking::Tally;

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

/// The region of `bulletin` named `wanted`, in any letter case or spelling
/// of `&`/`+`/`and` (the same [`region_key`]); else an error that lists the
/// regions there are.
pub fn find_region<'a>(bulletin: &'a Bulletin, wanted: &str) -> Result<&'a str, RegionNotFound> {
    let groups = group_by_region(&bulletin.requests);
    groups
        .iter()
        .map(|(name, _)| *name)
        .find(|name| region_key(name) == region_key(wanted))
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

/// The week at a glance, for `/prayer week`: an optional notice line
/// (which week this is, when it is not the current one), the header, then
/// each region with its requests, packed into messages within Discord's
/// limit. A message ends only between requests, and a message that goes on
/// with a region opens with its heading again; only a request too long for
/// a message of its own is split, at a sentence or word.
///
/// `status` holds, for each request in order, how many committed and
/// prayed in the asking server and whether it was answered there; empty
/// (the command line) shows the requests alone.
pub fn render_digest(
    week: PrayerWeek,
    bulletin: &Bulletin,
    region: Option<&str>,
    notice: Option<&str>,
    status: &[RequestStatus],
) -> Vec<String> {
    let mut packer = Packer::new(MESSAGE_LIMIT);
    let mut header = String::new();
    if let Some(notice) = notice {
        header.push_str("-# ");
        header.push_str(notice);
        header.push('\n');
    }
    header.push_str(&render_header(week, bulletin));
    packer.push_block(&header, None, "");
    for (name, members) in group_by_region(&bulletin.requests) {
        if region.is_some_and(|r| r != name) {
            continue;
        }
        let heading = format!("**{}**", escape_markdown(name));
        // The heading travels with the region's first request, so it never
        // ends a message on its own.
        let opening = format!("\n\n{heading}\n");
        for (i, index) in members.into_iter().enumerate() {
            let request = &bulletin.requests[index];
            let status = status.get(index);
            let praise = request.kind == Kind::Praise || status.is_some_and(|s| s.answered);
            let mark = if praise { "🎉" } else { "🙏" };
            let mut line = format!("{mark} {}", escape_markdown(&request.text));
            if let Some(status) = status {
                line.push_str(&status.describe());
            }
            let separator = if i == 0 { opening.as_str() } else { "\n" };
            packer.push_block(&line, Some(&heading), separator);
        }
    }
    packer.finish()
}

/// A request's standing in one server, shown beside it in `/prayer week`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStatus {
    pub tally: Tally,
    /// Marked answered with `/praise`.
    pub answered: bool,
}

impl RequestStatus {
    /// The words after the request: ` — *answered · 2 committed · 3 prayed*`.
    fn describe(self) -> String {
        let answered = if self.answered { "answered · " } else { "" };
        format!(
            " — *{answered}{} committed · {} prayed*",
            self.tally.committed, self.tally.prayed
        )
    }
}

/// Fills messages block by block, starting a new message where the next
/// block would not fit.
struct Packer {
    limit: usize,
    messages: Vec<String>,
    current: String,
}

impl Packer {
    fn new(limit: usize) -> Self {
        Packer {
            limit,
            messages: Vec::new(),
            current: String::new(),
        }
    }

    /// Adds `block` after `separator`, or opens a new message with it (under
    /// `heading` again, when the block belongs to a region). A block that
    /// fits in no message is split, each piece under the heading.
    fn push_block(&mut self, block: &str, heading: Option<&str>, separator: &str) {
        if self.current.is_empty() {
            self.open_with(block, heading);
            return;
        }
        if discord_len(&self.current) + discord_len(separator) + discord_len(block) <= self.limit {
            self.current.push_str(separator);
            self.current.push_str(block);
            return;
        }
        self.open_with(block, heading);
    }

    fn open_with(&mut self, block: &str, heading: Option<&str>) {
        self.flush();
        let prefix = heading.map(|h| format!("{h}\n")).unwrap_or_default();
        if discord_len(&prefix) + discord_len(block) <= self.limit {
            self.current = prefix + block;
            return;
        }
        let room = self.limit.saturating_sub(discord_len(&prefix)).max(1);
        for piece in split_message(block, room) {
            self.flush();
            self.current = format!("{prefix}{piece}");
        }
    }

    fn flush(&mut self) {
        if !self.current.trim().is_empty() {
            self.messages.push(std::mem::take(&mut self.current));
        }
        self.current.clear();
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.messages
    }
}

/// What a person typed, quoted back in a refusal: its first 60 characters
/// (with `…` when there were more), markdown-escaped, so a pasted essay
/// neither fills the reply nor formats it.
pub fn shown_typed(typed: &str) -> String {
    let shown: String = typed.chars().take(60).collect();
    let shown = if shown.len() < typed.len() {
        format!("{shown}…")
    } else {
        shown
    };
    escape_markdown(&shown)
}

/// A text's length as Discord measures it against its limits. Counting
/// UTF-16 code units is never less than counting characters, so a text
/// within the limit by this measure is within it by either.
pub fn discord_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The byte index of the end of the longest prefix of `text` within
/// `limit` (as [`discord_len`] measures).
fn prefix_within(text: &str, limit: usize) -> usize {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += c.len_utf16();
        if used > limit {
            return i;
        }
    }
    text.len()
}

/// `text` made to fit one message for a reply that says something short
/// (an error, a confirmation): cut at a word with an ellipsis if it is
/// too long. Never used for bulletin text, which is split, not cut.
pub fn fit_reply(text: &str) -> String {
    if discord_len(text) <= MESSAGE_LIMIT {
        return text.to_owned();
    }
    let room = MESSAGE_LIMIT - 1;
    let end = prefix_within(text, room);
    let cut = text[..end]
        .rfind(char::is_whitespace)
        .filter(|&i| i > end / 2)
        .unwrap_or(end);
    format!("{}…", text[..cut].trim_end())
}

/// A button's label as Discord takes it: at most 80 characters, cut at a
/// word with an ellipsis.
pub fn fit_label(text: &str) -> String {
    const LABEL_LIMIT: usize = 80;
    if text.chars().count() <= LABEL_LIMIT {
        return text.to_owned();
    }
    let cut: String = text.chars().take(LABEL_LIMIT - 1).collect();
    let end = cut
        .rfind(' ')
        .filter(|&i| i > LABEL_LIMIT / 2)
        .unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end())
}

/// Escapes Discord markdown so the text shows as written.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    // Where the current line starts, and whether it has held only digits
    // so far (`1. Pray` would show as a numbered list).
    let mut line_start = 0;
    let mut digits_only = true;
    for (i, c) in text.char_indices() {
        let at_line_start = i == line_start;
        // Brackets too: `[text](https://…)` would show as a masked link,
        // hiding where it goes.
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']')
            || (at_line_start && matches!(c, '>' | '#' | '-' | '+'))
            || (c == '.' && digits_only && !at_line_start)
        {
            out.push('\\');
        }
        out.push(c);
        if c == '\n' {
            line_start = i + 1;
            digits_only = true;
        } else {
            digits_only = digits_only && c.is_ascii_digit();
        }
    }
    out
}

/// What a member wrote, with its masked links (`[text](https://…)`) shown
/// as typed, as bulletin text shows them ([`escape_markdown`]), so a link
/// never hides where it goes; the rest of their formatting stays theirs.
pub fn escape_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '[' | ']') {
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
    while discord_len(rest) > limit {
        // The byte index just past `limit` (as Discord counts). At least one
        // character goes in each piece, so the loop always advances.
        let window_end = match prefix_within(rest, limit) {
            0 => rest.chars().next().map_or(rest.len(), char::len_utf8),
            end => end,
        };
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
    use crate::bulletins::parse::Verse;

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
    fn typed_text_is_quoted_back_short_and_inert() {
        assert_eq!(shown_typed("Afrika"), "Afrika");
        let long = "*".repeat(100);
        let shown = shown_typed(&long);
        assert_eq!(shown, format!("{}…", "\\*".repeat(60)));
    }

    #[test]
    fn the_digest_shows_each_requests_counts_and_answered_requests_as_praise() {
        let bulletin = Bulletin {
            title: "T".into(),
            date: None,
            verse: None,
            requests: vec![
                request("Africa", Kind::Petition, "A1"),
                request("Africa", Kind::Petition, "A2"),
            ],
            notes: vec![],
        };
        let status = [
            RequestStatus {
                tally: Tally {
                    committed: 2,
                    prayed: 3,
                    kept: 1,
                },
                answered: false,
            },
            RequestStatus {
                tally: Tally::default(),
                answered: true,
            },
        ];
        assert_eq!(
            render_digest(week(), &bulletin, None, None, &status),
            [
                "**T** · week of Monday 23 November 2026\n\n**Africa**\n🙏 A1 — *2 committed · 3 prayed*\n🎉 A2 — *answered · 0 committed · 0 prayed*"
            ]
        );
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
            render_digest(week(), &bulletin, None, None, &[]),
            [
                "**T** · week of Monday 23 November 2026\n\n**Africa**\n🙏 A1\n🙏 A2\n\n**Asia**\n🎉 B1"
            ]
        );
        assert_eq!(
            render_digest(week(), &bulletin, Some("Asia"), None, &[]),
            ["**T** · week of Monday 23 November 2026\n\n**Asia**\n🎉 B1"]
        );
        assert_eq!(find_region(&bulletin, " asia "), Ok("Asia"));
        assert_eq!(find_region(&bulletin, "ASIA:"), Ok("Asia"));
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
        assert_eq!(
            escape_markdown("See [the story](http://example.org/x) now"),
            r"See \[the story\](http://example.org/x) now"
        );
        assert_eq!(
            escape_markdown("1. one\n22. two, 3.5 m"),
            "1\\. one\n22\\. two, 3.5 m"
        );
    }

    /// A bulletin of `count` requests of about `length` characters over
    /// three regions.
    fn long_week(count: usize, length: usize) -> Bulletin {
        let regions = ["Africa", "Latin America", "South Asia"];
        Bulletin {
            title: "IJM Prayer Requests".into(),
            date: None,
            verse: None,
            requests: (0..count)
                .map(|i| {
                    let words =
                        format!("Pray for family {i} in Kenya today. ").repeat(length / 36 + 1);
                    request(regions[i % 3], Kind::Petition, words.trim())
                })
                .collect(),
            notes: vec![],
        }
    }

    #[test]
    fn a_long_week_is_split_between_requests_with_the_region_heading_repeated() {
        let bulletin = long_week(40, 300);
        let notice = "the week of 2026-11-30, the next week with a bulletin";
        let pieces = render_digest(week(), &bulletin, None, Some(notice), &[]);
        assert!(pieces.len() > 3, "{} pieces", pieces.len());
        assert!(pieces[0].starts_with(&format!("-# {notice}\n**IJM Prayer Requests**")));
        for piece in &pieces {
            assert!(
                discord_len(piece) <= MESSAGE_LIMIT,
                "{}",
                discord_len(piece)
            );
        }
        for piece in &pieces[1..] {
            assert!(
                piece.starts_with("**"),
                "a region heading opens it: {piece}"
            );
        }
        // Every request is whole in exactly one message, under its region.
        for (i, request) in bulletin.requests.iter().enumerate() {
            let line = format!("🙏 {}", escape_markdown(&request.text));
            let holding: Vec<&String> = pieces.iter().filter(|p| p.contains(&line)).collect();
            assert_eq!(holding.len(), 1, "request {i}");
            let heading = format!("**{}**", request.region);
            let at = holding[0].find(&line).unwrap_or_default();
            assert!(
                holding[0][..at].contains(&heading),
                "request {i} under its heading"
            );
        }
    }

    #[test]
    fn a_request_too_long_for_one_message_is_split_under_its_heading() {
        let bulletin = long_week(1, 5000);
        let pieces = render_digest(week(), &bulletin, None, None, &[]);
        assert!(pieces.len() >= 3);
        let mut text = String::new();
        for piece in &pieces[1..] {
            assert!(discord_len(piece) <= MESSAGE_LIMIT);
            let rest = piece
                .strip_prefix("**Africa**\n")
                .expect("the heading opens each piece");
            text.push_str(rest);
            text.push(' ');
        }
        assert_eq!(
            text.trim_end(),
            format!("🙏 {}", escape_markdown(&bulletin.requests[0].text)),
            "nothing lost"
        );
    }

    #[test]
    fn a_reply_too_long_for_discord_is_shortened_at_a_word() {
        let long = format!("There is no bulletin for {}", "x ".repeat(3000));
        let fitted = fit_reply(&long);
        assert!(discord_len(&fitted) <= MESSAGE_LIMIT);
        assert!(fitted.ends_with('…') && fitted.starts_with("There is no bulletin"));
        assert_eq!(fit_reply("Short."), "Short.");
    }

    #[test]
    fn a_button_label_is_cut_to_eighty_characters_at_a_word() {
        assert_eq!(fit_label("Prayed · Kenya"), "Prayed · Kenya");
        let long = "Prayed · ".to_owned() + &"word ".repeat(30);
        let fitted = fit_label(&long);
        assert!(
            fitted.chars().count() <= 80 && fitted.ends_with("word…"),
            "{fitted}"
        );
        let unbroken = "x".repeat(200);
        assert_eq!(fit_label(&unbroken).chars().count(), 80);
    }

    #[test]
    fn emoji_count_as_discord_counts_them() {
        let text = "🙏".repeat(1500);
        let pieces = split_message(&text, MESSAGE_LIMIT);
        assert!(pieces.iter().all(|p| discord_len(p) <= MESSAGE_LIMIT));
        assert_eq!(pieces.concat(), text);
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
