//! Mends the copy-and-paste damage bulletins arrive with. Pure; no I/O.
//!
//! - every run of white space (line breaks, tabs, no-break spaces) becomes
//!   one space, with none at either end;
//! - a sentence glued to the next (`Bolivia.He`, `answered!Guatemala`) gets
//!   its space back; the full stop only counts when a lower-case letter or
//!   digit stands before it and a capitalised word after, so `U.K.`,
//!   `ijm.org` and `3.5` stay as they are;
//! - a comma glued to a word (`campaign,Hidden`) gets its space back, while
//!   `1,500` and the pseudonym marker in `Jeremias,*` stay;
//! - `Read the full story.`, the text of a link that did not survive the
//!   copy, is removed.

/// Link texts left behind when a bulletin is copied out of a web page.
const LINK_DEBRIS: [&str; 3] = [
    "Read the full story here.",
    "Read the full story.",
    "Read the full story",
];

/// The repaired text of a request or note.
pub fn repair(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some((index, debris)) = next_debris(rest) {
        push_mended(&mut out, &rest[..index]);
        rest = &rest[index + debris.len()..];
    }
    push_mended(&mut out, rest);
    let kept = out.trim_end().len();
    out.truncate(kept);
    out
}

fn next_debris(text: &str) -> Option<(usize, &'static str)> {
    // The common case has no debris at all; one search for the shared
    // prefix keeps that case to a single scan.
    let start = text.find("Read the full story")?;
    LINK_DEBRIS
        .iter()
        .find(|d| text[start..].starts_with(*d))
        .map(|d| (start, *d))
}

/// Appends `text` to `out` with white space folded and glued punctuation
/// mended. `out` may already hold text: the fold carries across the seam.
fn push_mended(out: &mut String, text: &str) {
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if c.is_whitespace() || c == '\u{200b}' {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
        let next = &text[index + c.len_utf8()..];
        let needs_space = match c {
            ',' => next.chars().next().is_some_and(char::is_alphabetic),
            '.' => {
                let before = text[..index].chars().next_back();
                before.is_some_and(|b| b.is_lowercase() || b.is_ascii_digit())
                    && starts_sentence(next)
            }
            '!' | '?' => starts_sentence(next),
            _ => false,
        };
        if needs_space {
            // A closing quote belongs to the sentence that just ended.
            while let Some(&(_, q)) = chars.peek() {
                if !is_closing_quote(q) {
                    break;
                }
                out.push(q);
                chars.next();
            }
            if chars.peek().is_some_and(|&(_, n)| !n.is_whitespace()) {
                out.push(' ');
            }
        }
    }
}

/// Whether `text` opens with a capitalised word, optionally behind closing
/// quotes: `He was`, `”She`. A single capital (`U.K.`) does not count.
fn starts_sentence(text: &str) -> bool {
    let mut chars = text.chars().skip_while(|c| is_closing_quote(*c));
    matches!(
        (chars.next(), chars.next()),
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase()
    )
}

fn is_closing_quote(c: char) -> bool {
    matches!(c, '”' | '’' | '"' | '»' | ')')
}

#[cfg(test)]
mod tests {
    use super::repair;

    #[test]
    fn a_sentence_glued_to_the_next_gets_its_space_back() {
        assert_eq!(
            repair("survivor in Bolivia.He was abused"),
            "survivor in Bolivia. He was abused"
        );
        assert_eq!(repair("God answered!Thanks"), "God answered! Thanks");
        assert_eq!(repair("he said “no.”Then"), "he said “no.” Then");
    }

    #[test]
    fn a_comma_glued_to_a_word_gets_its_space_back() {
        assert_eq!(
            repair("spring advocacy campaign,Hidden No More"),
            "spring advocacy campaign, Hidden No More"
        );
    }

    #[test]
    fn abbreviations_addresses_numbers_and_pseudonyms_stay_as_they_are() {
        let text = "offices in the U.K. and U.S. See ijm.org for 3.5 million, 1,500 people. Jeremias,* a survivor";
        assert_eq!(repair(text), text);
    }

    #[test]
    fn read_the_full_story_is_removed() {
        assert_eq!(
            repair("ruling with justice.\u{a0}Read the full story."),
            "ruling with justice."
        );
        assert_eq!(
            repair("Read the full story. Pray for them."),
            "Pray for them."
        );
    }

    #[test]
    fn white_space_of_every_kind_folds_to_one_space() {
        assert_eq!(
            repair("  one\u{a0} two\t\tthree\nfour  "),
            "one two three four"
        );
    }
}
