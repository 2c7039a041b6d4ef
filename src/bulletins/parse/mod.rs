//! Parses a weekly prayer bulletin into a [`Bulletin`]. Pure: no I/O, no
//! clock, no database, no Discord.
//!
//! # The grammar, as bulletins really arrive
//!
//! ```text
//! bulletin  = header body
//! header    = [title] [date] [verse [reference]]      (blank lines anywhere)
//! title     = the first line, when it is short and is not a bullet, a quote or a date
//! date      = a line such as `April 27, 2019`, `27 April 2019`, `2019-04-27`
//! verse     = a line opening with a quote (“ or "), wrapped until its closing quote;
//!             a reference may follow the closing quote on the same line
//! reference = a line opening with an em dash, en dash or hyphen: `— Matthew 10:26`
//! body      = headless-section? section*
//! section   = heading paragraph*
//! heading   = a short line of capitalised words without closing punctuation,
//!             standing on its own (`Latin America`, `Africa + Europe:`)
//! paragraph = a bullet (`•`, `-`, `*`, …) or a plain paragraph; the lines of a
//!             hard-wrapped paragraph are joined
//! ```
//!
//! A paragraph that speaks of prayer, praise or God is a request; one that
//! does not (`IJM has partner offices in …`) is a section note. A headless
//! first section takes the region of the first country it names (Kenya →
//! Africa), else `General`. Before any of this, the text is decoded (BOM,
//! UTF-16, CRLF), an email file is opened to its text or HTML part
//! (`email.rs`), an HTML page or email body is reduced to its text
//! (`html.rs`), and each line is stripped of `|` table debris.
//!
//! Every step takes time and stack in proportion to the input, whatever
//! its nesting: nothing here recurses on the input's structure.

mod countries;
mod email;
mod html;
#[cfg(test)]
mod prayable;
mod repair;

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use countries::{countries_in, region_of};
pub use repair::repair;

/// The most a bulletin file may hold. Real bulletins are a few kilobytes;
/// anything near this size is not one, and refusing it early keeps a
/// mistaken upload from tying up the parser.
pub const MAX_BULLETIN_BYTES: usize = 1024 * 1024;

/// The region of a headless first section that names no country.
pub const GENERAL_REGION: &str = "General";

/// The title given to a bulletin that has none of its own.
pub const DEFAULT_TITLE: &str = "Prayer Requests";

/// One week's bulletin, as the parser understood it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bulletin {
    pub title: String,
    pub date: Option<NaiveDate>,
    pub verse: Option<Verse>,
    pub requests: Vec<PrayerRequest>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verse {
    pub text: String,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrayerRequest {
    pub region: String,
    pub kind: Kind,
    pub text: String,
    pub countries: Vec<String>,
}

/// A line under a region that informs rather than asks for prayer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub region: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Asks for prayer.
    Petition,
    /// Gives thanks for an answer.
    Praise,
}

impl Bulletin {
    /// SHA-256 of the bulletin as understood, in hex: the same bulletin gets
    /// the same fingerprint whatever its line ends, BOM, damage or format
    /// (text, web page, email) it arrived in.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        use std::fmt::Write;
        // Serialising plain strings and dates cannot fail; the Debug form
        // is an equally deterministic fallback.
        let normalised = serde_json::to_string(self).unwrap_or_else(|_| format!("{self:?}"));
        let digest = Sha256::digest(normalised.as_bytes());
        digest
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Petition => "petition",
            Kind::Praise => "praise",
        }
    }
}

/// Why a file is not a bulletin. Each reads as the end of a sentence that
/// starts with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is binary, not text")]
    Binary,
    #[error("the file is not UTF-8 or UTF-16 text")]
    NotText,
    #[error("the file is {bytes} bytes; a bulletin is at most {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },
    #[error("no prayer requests found: this does not look like a prayer bulletin")]
    NoRequests,
    #[error("{}", not_a_bulletin(*items, *paragraphs))]
    NotABulletin { items: usize, paragraphs: usize },
    #[error("the email has no text or HTML part")]
    NoTextPart,
}

fn not_a_bulletin(items: usize, paragraphs: usize) -> String {
    let found = match items {
        0 => "none of its paragraphs asks for prayer or gives thanks".to_owned(),
        _ => format!(
            "only {items} of the {paragraphs} paragraphs that speak of prayer or God ask for prayer or give thanks"
        ),
    };
    format!(
        "this does not look like a prayer bulletin: {found}, while at least half of a bulletin's items do (“Please pray for …”, “Praise God for …”)"
    )
}

/// Decodes a file's bytes into text: UTF-8 (with or without a BOM) or
/// UTF-16 with a BOM, as Windows editors save it. An email file becomes the
/// text of its bulletin part, never its encoded form; it is opened here,
/// from its bytes, because its parts may be in other character sets.
pub fn decode_bulletin(bytes: &[u8]) -> Result<String, ParseError> {
    if bytes.len() > MAX_BULLETIN_BYTES {
        return Err(ParseError::TooLarge {
            bytes: bytes.len(),
            limit: MAX_BULLETIN_BYTES,
        });
    }
    if email::looks_like_email(bytes) {
        let text = email::email_text(bytes)?;
        if text.contains('\0') {
            return Err(ParseError::Binary);
        }
        return Ok(text);
    }
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => decode_utf16(rest, u16::from_le_bytes)?,
        [0xFE, 0xFF, rest @ ..] => decode_utf16(rest, u16::from_be_bytes)?,
        _ => {
            if bytes.contains(&0) {
                return Err(ParseError::Binary);
            }
            let text = std::str::from_utf8(bytes).map_err(|_| ParseError::NotText)?;
            text.strip_prefix('\u{feff}').unwrap_or(text).to_owned()
        }
    };
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(text)
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ParseError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseError::NotText);
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let text = char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| ParseError::NotText)?;
    if text.contains('\0') {
        return Err(ParseError::Binary);
    }
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

/// Parses a bulletin's text (plain text, an HTML page, an email body or a
/// whole email).
pub fn parse_bulletin(text: &str) -> Result<Bulletin, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let from_email;
    let text = if email::looks_like_email(text.as_bytes()) {
        from_email = email::email_text(text.as_bytes())?;
        from_email.as_str()
    } else {
        text
    };
    let from_html;
    let text = if html::looks_like_html(text) {
        from_html = html::html_to_text(text);
        from_html.as_str()
    } else {
        text
    };
    // Old Mac files end lines with a lone CR; everything else has LF.
    let separator = if text.contains('\n') { '\n' } else { '\r' };
    let lines: Vec<&str> = text.split(separator).map(clean_line).collect();

    let (header, body_start) = parse_header(&lines);
    let (requests, notes) = parse_body(&lines[body_start..]);
    if requests.is_empty() {
        return Err(ParseError::NoRequests);
    }
    let items = requests.iter().filter(|r| r.is_bulletin_item()).count();
    if items == 0 || items * 2 < requests.len() {
        return Err(ParseError::NotABulletin {
            items,
            paragraphs: requests.len(),
        });
    }
    Ok(Bulletin {
        title: header.title.unwrap_or_else(|| DEFAULT_TITLE.to_owned()),
        date: header.date,
        verse: header.verse,
        requests,
        notes,
    })
}

/// A line without its surrounding white space (no-break spaces included)
/// and the `|` that email tables leave at either end.
fn clean_line(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '|' || c == '\u{feff}' || c == '\u{200b}')
}

#[derive(Default)]
struct Header {
    title: Option<String>,
    date: Option<NaiveDate>,
    verse: Option<Verse>,
}

/// Reads the title, date, verse and reference; returns them and the index
/// of the first line of the body.
fn parse_header(lines: &[&str]) -> (Header, usize) {
    let mut header = Header::default();
    let mut seen_any = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.is_empty() {
            i += 1;
            continue;
        }
        let first = !seen_any;
        seen_any = true;
        if header.date.is_none()
            && let Some(date) = parse_date(line)
        {
            header.date = Some(date);
            i += 1;
            continue;
        }
        if header.verse.is_none()
            && let Some((verse, used)) = parse_verse(&lines[i..])
        {
            header.verse = Some(verse);
            i += used;
            continue;
        }
        if let Some(verse) = header.verse.as_mut()
            && verse.reference.is_none()
            && let Some(reference) = parse_reference(line)
        {
            verse.reference = Some(reference);
            i += 1;
            continue;
        }
        if first && is_title(line) {
            header.title = Some(strip_markdown(line).to_owned());
            i += 1;
            continue;
        }
        break;
    }
    (header, i)
}

fn is_title(line: &str) -> bool {
    line.len() <= 120
        && !is_bullet(line)
        && !line.starts_with(OPENING_QUOTES)
        && !line.ends_with('.')
}

const OPENING_QUOTES: [char; 4] = ['“', '"', '«', '‘'];
const CLOSING_QUOTES: [char; 4] = ['”', '"', '»', '’'];
const DASHES: [char; 4] = ['—', '–', '-', '―'];

/// A verse: a quote over one or more lines. Returns it and the lines used.
fn parse_verse(lines: &[&str]) -> Option<(Verse, usize)> {
    let first = lines.first()?.strip_prefix(OPENING_QUOTES)?;
    let mut text = String::new();
    // A verse is a few lines at most; a quote that does not close by then
    // is a paragraph that happens to open with one.
    for (used, line) in std::iter::once(first)
        .chain(lines[1..].iter().copied())
        .take(8)
        .enumerate()
    {
        if line.is_empty() {
            return None;
        }
        if let Some(close) = line.rfind(CLOSING_QUOTES) {
            let after = &line[close..];
            let closing_len = after.chars().next().map_or(1, char::len_utf8);
            let rest = after[closing_len..].trim();
            if rest.is_empty() || parse_reference(rest).is_some() {
                push_words(&mut text, &line[..close]);
                let reference = parse_reference(rest);
                let text = text.trim_end_matches(CLOSING_QUOTES).to_owned();
                return Some((Verse { text, reference }, used + 1));
            }
        }
        push_words(&mut text, line);
    }
    None
}

fn push_words(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(line.trim());
}

/// `— Matthew 10:26`, `- Luke 10:36-37`, `(Micah 6:8)`.
fn parse_reference(line: &str) -> Option<String> {
    let inner = if let Some(rest) = line.strip_prefix(DASHES) {
        rest
    } else {
        line.strip_prefix('(')?.strip_suffix(')')?
    };
    let inner = inner.trim();
    let looks_like_reference = !inner.is_empty()
        && inner.len() <= 60
        && inner.chars().any(|c| c.is_ascii_digit())
        && inner.chars().next().is_some_and(char::is_alphanumeric);
    looks_like_reference.then(|| inner.to_owned())
}

/// A date line: `April 27, 2019`, `Saturday, April 27, 2019`,
/// `27 April 2019`, `Apr. 27, 2019`, `2019-04-27`.
fn parse_date(line: &str) -> Option<NaiveDate> {
    if line.len() > 40 || !line.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let line = line.trim_end_matches('.');
    // A leading weekday adds nothing the date does not say.
    let line = match line.split_once(", ") {
        Some((weekday, rest)) if weekday.parse::<chrono::Weekday>().is_ok() => rest,
        _ => line,
    };
    let line = line.replace('.', "");
    ["%B %d, %Y", "%B %d %Y", "%d %B %Y", "%d %B, %Y", "%Y-%m-%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(&line, format).ok())
}

/// Markdown emphasis and heading marks around a title or heading.
fn strip_markdown(line: &str) -> &str {
    line.trim_start_matches('#')
        .trim_matches(|c: char| c == '*' || c == '_' || c.is_whitespace())
}

fn is_bullet(line: &str) -> bool {
    bullet_text(line).is_some()
}

/// The text after a bullet marker, or `None` when the line has none.
fn bullet_text(line: &str) -> Option<&str> {
    let mut chars = line.chars();
    let marker = chars.next()?;
    let rest = chars.as_str();
    match marker {
        '•' | '●' | '◦' | '▪' | '‣' | '·' => Some(rest.trim_start()),
        '-' | '*' | '–' if rest.starts_with(char::is_whitespace) => Some(rest.trim_start()),
        _ => {
            // `1.` or `1)` numbered items.
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let after = &line[digits..];
            (digits > 0 && digits <= 2)
                .then(|| after.strip_prefix(['.', ')']))
                .flatten()
                .filter(|rest| rest.starts_with(' '))
                .map(str::trim_start)
        }
    }
}

/// A line that stands as a region heading: short, capitalised words, no
/// closing punctuation. Recognised by shape, so headings the bot has never
/// seen (`IJM Global Office & Partners`) are found too.
fn heading_name(line: &str) -> Option<&str> {
    let name = strip_markdown(line).trim_end_matches(':').trim();
    if name.is_empty() || name.len() > 60 || is_bullet(line) {
        return None;
    }
    if name.ends_with(['.', ',', ';', '!', '?', '"', '”']) || name.contains(". ") {
        return None;
    }
    let mut words = 0;
    let mut ends_with_connector = false;
    for word in name.split_whitespace() {
        words += 1;
        let first = word.chars().next()?;
        let connector = matches!(
            word,
            "&" | "+" | "and" | "of" | "the" | "for" | "in" | "/" | "-" | "–" | "—"
        );
        if !(first.is_uppercase() || first.is_ascii_digit() || connector) {
            return None;
        }
        ends_with_connector = connector;
    }
    // `Praise God for` wraps onto the next line; a heading never ends so.
    if ends_with_connector {
        return None;
    }
    let starts_capitalised = name.chars().next().is_some_and(char::is_uppercase);
    (words <= 7 && starts_capitalised && parse_date(name).is_none()).then_some(name)
}

/// A hard-wrapped paragraph's lines are shorter than this; a line as long as
/// this is a whole paragraph, so the next line starts a new one.
const WRAP_WIDTH: usize = 120;

enum Piece<'a> {
    Heading(String),
    /// Borrowed when it is one line, as most paragraphs are.
    Paragraph(Cow<'a, str>),
}

/// Splits the body into headings and paragraphs, joining wrapped lines.
fn pieces<'a>(lines: &[&'a str]) -> Vec<Piece<'a>> {
    let mut pieces = Vec::new();
    let mut paragraph: Option<Cow<'a, str>> = None;
    let mut last_line_len = 0;
    for (i, &line) in lines.iter().enumerate() {
        if line.is_empty() {
            if let Some(text) = paragraph.take() {
                pieces.push(Piece::Paragraph(text));
            }
            continue;
        }
        if let Some(text) = bullet_text(line) {
            if let Some(done) = paragraph.replace(Cow::Borrowed(text)) {
                pieces.push(Piece::Paragraph(done));
            }
            last_line_len = line.len();
            continue;
        }
        let may_start_anew = paragraph
            .as_deref()
            .is_none_or(|p| p.ends_with(['.', '!', '?', '”', '"', ')']));
        // A line that the next one carries on in lower case is wrapped text.
        let continued = lines
            .get(i + 1)
            .and_then(|next| next.chars().next())
            .is_some_and(char::is_lowercase);
        if may_start_anew
            && !continued
            && let Some(name) = heading_name(line)
        {
            if let Some(done) = paragraph.take() {
                pieces.push(Piece::Paragraph(done));
            }
            pieces.push(Piece::Heading(name.to_owned()));
            continue;
        }
        match paragraph.as_mut() {
            Some(text) if last_line_len < WRAP_WIDTH => {
                let text = text.to_mut();
                text.push(' ');
                text.push_str(line);
            }
            _ => {
                if let Some(done) = paragraph.replace(Cow::Borrowed(line)) {
                    pieces.push(Piece::Paragraph(done));
                }
            }
        }
        last_line_len = line.len();
    }
    if let Some(text) = paragraph {
        pieces.push(Piece::Paragraph(text));
    }
    pieces
}

fn parse_body(lines: &[&str]) -> (Vec<PrayerRequest>, Vec<Note>) {
    let mut requests = Vec::new();
    let mut notes = Vec::new();
    // Until the first heading, the region is not known: it comes from the
    // countries the headless section names, once all of it has been read.
    let mut region: Option<String> = None;
    let mut headless_requests = 0;
    let mut headless_notes = 0;
    for piece in pieces(lines) {
        match piece {
            Piece::Heading(name) => {
                if region.is_none() {
                    headless_requests = requests.len();
                    headless_notes = notes.len();
                }
                region = Some(name);
            }
            Piece::Paragraph(raw) => {
                let text = repair(&raw);
                if text.is_empty() {
                    continue;
                }
                let region = region.clone().unwrap_or_default();
                if speaks_of_prayer(&text) {
                    let countries = countries_in(&text);
                    let kind = classify(&text);
                    requests.push(PrayerRequest {
                        region,
                        kind,
                        text,
                        countries,
                    });
                } else {
                    notes.push(Note { region, text });
                }
            }
        }
    }
    if region.is_none() {
        headless_requests = requests.len();
        headless_notes = notes.len();
    }
    let headless_region = requests[..headless_requests]
        .iter()
        .flat_map(|r| &r.countries)
        .find_map(|c| region_of(c))
        .unwrap_or(GENERAL_REGION);
    for request in &mut requests[..headless_requests] {
        request.region = headless_region.to_owned();
    }
    for note in &mut notes[..headless_notes] {
        note.region = headless_region.to_owned();
    }
    (requests, notes)
}

/// Words (at the start of a word, in any case) that mark a paragraph as
/// asking for prayer or giving thanks rather than informing.
const PRAYER_WORDS: [&str; 7] = [
    "pray", "prais", "thank", "celebrat", "rejoic", "god", "lord",
];

static PRAYER_MATCHER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(PRAYER_WORDS)
            .unwrap_or_else(|error| unreachable!("seven plain words build an automaton: {error}"))
    });

/// Whether a paragraph asks for prayer or gives thanks, rather than informs.
fn speaks_of_prayer(text: &str) -> bool {
    PRAYER_MATCHER.find_iter(text).any(|m| {
        !text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    })
}

/// Openings that give thanks or celebrate.
const PRAISE_OPENINGS: [&str; 16] = [
    "praise god",
    "praise the lord",
    "praise be",
    "thank god",
    "thank you",
    "thank the lord",
    "thanks be to god",
    "we thank",
    "we praise",
    "we celebrate",
    "celebrate",
    "rejoice",
    "hallelujah",
    "join us in praising",
    "join us in thanking",
    "join us in celebrating",
];

/// Openings that ask for prayer.
const PETITION_OPENINGS: [&str; 10] = [
    "pray",
    "join us in pray",
    "join us in asking",
    "ask god",
    "ask the lord",
    "we ask",
    "continue to pray",
    "keep praying",
    "lift up",
    "would you pray",
];

/// Reports that God answered, wherever they stand in an opening sentence.
const ANSWER_REPORTS: [&str; 5] = [
    "god answered",
    "answered our prayer",
    "prayers were answered",
    "prayers have been answered",
    "prayer was answered",
];

/// `Praise` when the request opens by giving thanks, celebrating or
/// reporting an answer; `Petition` otherwise. The opening is the first
/// sentence, or the second when the first only sets the scene (`Justice was
/// served this week … Join us in praising God …`). A request that opens by
/// asking for prayer stays a petition whatever it praises later.
pub fn classify(text: &str) -> Kind {
    for sentence in sentences(text).take(2) {
        let mut opening = sentence.trim_start_matches(|c: char| !c.is_alphanumeric());
        for filler in ["please ", "and ", "also "] {
            if starts_with_ignoring_case(opening, filler) {
                opening = &opening[filler.len()..];
            }
        }
        if PRAISE_OPENINGS
            .iter()
            .any(|p| starts_with_ignoring_case(opening, p))
        {
            return Kind::Praise;
        }
        if PETITION_OPENINGS
            .iter()
            .any(|p| starts_with_ignoring_case(opening, p))
        {
            return Kind::Petition;
        }
        if ANSWER_MATCHER.is_match(sentence) {
            return Kind::Praise;
        }
    }
    Kind::Petition
}

/// Whether a request's text asks for prayer anywhere: `Please pray with
/// us that …`, `Pray also for …`, `join us in praying`, `join us in
/// prayer`, `keep them in your prayers`, `Ask God to …`, `lift up …`.
/// Not: thanks for prayers already prayed (`Thanks for praying with us!`,
/// `Thank you for your prayers`), reports of them (`God answered our
/// prayers`, `we asked you to pray`, `you prayed`), or the word inside a
/// name, a command or code (`prayer-bot`, `/prayer who`, `` `pray` ``).
/// Read word by word, sentence by sentence, in any case.
pub fn asks_for_prayer(text: &str) -> bool {
    sentences(text).any(|sentence| {
        let words = words_of(sentence);
        (0..words.len()).any(|i| asks_at(&words, i) && !thanks_or_past(&words, i))
    })
}

/// Whether a request's text gives thanks: it opens so ([`classify`] says
/// praise), or somewhere praises or thanks God (`Join us in thanking God`,
/// `Praise the Lord`), celebrates, rejoices, or reports an answer.
pub fn gives_thanks(text: &str) -> bool {
    if classify(text) == Kind::Praise || ANSWER_MATCHER.is_match(text) {
        return true;
    }
    sentences(text).any(|sentence| {
        let words = words_of(sentence);
        words.iter().enumerate().any(|(i, word)| {
            let next = |n: usize| words.get(i + n).and_then(Option::as_deref);
            let to_god = matches!(next(1), Some("god" | "him" | "jesus" | "lord"))
                || (next(1) == Some("the") && next(2) == Some("lord"));
            match word.as_deref() {
                Some("praise" | "praising" | "thank" | "thanking" | "thanks") => to_god,
                Some("rejoice" | "rejoicing" | "hallelujah" | "celebrate" | "celebrating") => true,
                _ => false,
            }
        })
    })
}

/// Whether a request of `kind` saying `text` can be prayed for: the one
/// rule behind [`PrayerRequest::is_prayable`], for requests read back in
/// other shapes.
pub fn is_prayable(kind: Kind, text: &str) -> bool {
    kind == Kind::Petition || asks_for_prayer(text)
}

impl PrayerRequest {
    /// Whether members can pray for it: the bot posts it with the
    /// buttons and the 🙏, and tracking counts it. A petition always; a
    /// praise item when it also asks for prayer ([`asks_for_prayer`]).
    /// Only an item of pure thanks is not.
    pub fn is_prayable(&self) -> bool {
        is_prayable(self.kind, &self.text)
    }

    /// Whether it asks for prayer or gives thanks, as a bulletin's items do.
    fn is_bulletin_item(&self) -> bool {
        asks_for_prayer(&self.text) || gives_thanks(&self.text)
    }
}

/// The words of a sentence in lower case, each `None` when it is not a
/// plain word but part of a name, path, command or code (`prayer-bot`,
/// `/prayer`, `prayer_bot`, `` `pray` ``, `prayer.rs`). Emphasis, quotes,
/// brackets and punctuation around a word do not count.
fn words_of(sentence: &str) -> Vec<Option<String>> {
    const AROUND: &[char] = &[
        '"', '“', '”', '‘', '’', '\'', '(', ')', '[', ']', '{', '}', '*', '_', '.', ',', ';', ':',
        '!', '?', '…', '¡', '¿',
    ];
    sentence
        .split(|c: char| c.is_whitespace() || matches!(c, '—' | '–'))
        .filter(|token| !token.is_empty())
        .map(|token| {
            if token.contains("()") || token.contains("{}") {
                return None; // a call or a block: code
            }
            let word = token.trim_matches(AROUND);
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '\'' || c == '’');
            plain.then(|| word.to_lowercase())
        })
        .collect()
}

/// Whether the word at `i` asks for prayer, on its own or with the words
/// around it.
fn asks_at(words: &[Option<String>], i: usize) -> bool {
    let word = |at: usize| words.get(at).and_then(Option::as_deref);
    let before = |n: usize| i.checked_sub(n).and_then(word);
    let after = |n: usize| word(i + n);
    match word(i) {
        Some("pray" | "praying" | "intercede" | "interceding") => true,
        // `join us in prayer`, `keep them in your prayers`, `your prayers
        // for …`, `prayer is needed`; not `prayer support`, `prayer team`.
        Some("prayer" | "prayers") => {
            before(1) == Some("in")
                || before(1) == Some("your")
                || matches!(before(1), Some("need" | "needs" | "needed"))
                || (matches!(after(1), Some("is" | "are")) && after(2) == Some("needed"))
        }
        // `Ask God to …`, `asking the Lord that …`, `ask that …`.
        Some("ask" | "asking") => {
            matches!(after(1), Some("god" | "him" | "jesus" | "lord" | "that"))
                || (after(1) == Some("the") && after(2) == Some("lord"))
        }
        // `lift up the survivors`, `lift them up`, `lifting our team up`.
        Some("lift" | "lifting") => (1..=4).any(|n| after(n) == Some("up")),
        _ => false,
    }
}

/// Whether the asking word at `i` is thanks for prayer or a report of it:
/// `thank(s) … for` just before it (`Thank you so much for your prayers`),
/// or `asked`, `answered` or `prayed` earlier in the sentence (`Last month
/// we asked you to pray`).
fn thanks_or_past(words: &[Option<String>], i: usize) -> bool {
    let word = |at: usize| words.get(at).and_then(Option::as_deref);
    let thanked = (1..=4).any(|n| {
        i.checked_sub(n).is_some_and(|f| {
            word(f) == Some("for")
                && (1..=4).any(|m| {
                    f.checked_sub(m)
                        .and_then(word)
                        .is_some_and(|w| matches!(w, "thank" | "thanks" | "grateful"))
                })
        })
    });
    thanked || (0..i).any(|at| matches!(word(at), Some("asked" | "answered" | "prayed")))
}

static ANSWER_MATCHER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(ANSWER_REPORTS)
            .unwrap_or_else(|error| unreachable!("five phrases build an automaton: {error}"))
    });

/// `text` starts with `prefix` (lower-case ASCII), ignoring ASCII case.
fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Sentences, split after `.`, `!` or `?` and a space. Abbreviations split
/// too soon, which only matters for the opening two and is harmless there.
fn sentences(text: &str) -> SentenceIter<'_> {
    SentenceIter { rest: text }
}

struct SentenceIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for SentenceIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let bytes = self.rest.as_bytes();
        let end = bytes
            .windows(2)
            .position(|pair| matches!(pair, [b'.' | b'!' | b'?', b' ']))
            .map_or(self.rest.len(), |i| i + 1);
        let (sentence, rest) = self.rest.split_at(end);
        self.rest = rest.trim_start();
        Some(sentence)
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
