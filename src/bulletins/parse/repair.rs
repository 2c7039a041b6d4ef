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

/// The text of a link that did not survive the copy, and what may follow it.
const LINK_DEBRIS: &str = "Read the full story";
const LINK_DEBRIS_ENDINGS: [&str; 2] = [" here.", "."];

/// The repaired text of a request or note.
pub fn repair(text: &str) -> String {
    let text = text.trim_start_matches(is_blank);
    let mut out = String::with_capacity(text.len() + 8);
    push_mended(&mut out, text);
    if out.contains("  ") {
        out = fold_spaces(&out);
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out
}

fn fold_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Bytes that may need more than copying: ASCII white space, the
/// punctuation that can be glued, the `R` that may open link debris, and
/// every byte of a non-ASCII character (which may be white space).
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x80;
    while b < 256 {
        table[b] = true;
        b += 1;
    }
    // A plain space is not special: runs of them are folded afterwards, in
    // the rare text that has any.
    let ascii = [
        b'\t', b'\n', b'\r', 0x0b, 0x0c, b',', b'.', b'!', b'?', b'R',
    ];
    let mut i = 0;
    while i < ascii.len() {
        table[ascii[i] as usize] = true;
        i += 1;
    }
    table
};

/// Appends `text` to `out` with white space folded, glued punctuation
/// mended and link debris dropped. Runs of ordinary bytes are copied whole,
/// which keeps the common case close to a `memcpy`.
fn push_mended(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut copied = 0; // text[copied..i] is waiting to be copied
    let mut i = 0;
    while let Some(skip) = bytes[i..].iter().position(|&b| SPECIAL[b as usize]) {
        i += skip;
        let c = text[i..].chars().next().unwrap_or(' ');
        if is_blank(c) {
            out.push_str(&text[copied..i]);
            i = fold_blanks(out, text, i);
            copied = i;
            continue;
        }
        if c == 'R' && text[i..].starts_with(LINK_DEBRIS) {
            out.push_str(&text[copied..i]);
            i = drop_link_debris(out, text, i);
            copied = i;
            continue;
        }
        let needs_space = glued_to_next(text, i, c);
        i += c.len_utf8();
        if needs_space {
            // A closing quote belongs to the sentence that just ended.
            while let Some(q) = text[i..].chars().next().filter(|q| is_closing_quote(*q)) {
                i += q.len_utf8();
            }
            out.push_str(&text[copied..i]);
            copied = i;
            if text[i..].chars().next().is_some_and(|n| !n.is_whitespace()) {
                out.push(' ');
            }
        }
    }
    out.push_str(&text[copied..]);
}

/// White space, or the zero-width space that copies leave behind.
fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{200b}'
}

/// Skips the run of blanks at `text[i..]` and appends one space for it
/// (none at the start of `out`, none after a space); returns where the run
/// ends.
fn fold_blanks(out: &mut String, text: &str, mut i: usize) -> usize {
    while let Some(next) = text[i..].chars().next() {
        if !is_blank(next) {
            break;
        }
        i += next.len_utf8();
    }
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
    i
}

/// Skips the link debris at `text[i..]`, with its ending and, when a space
/// already separates what came before, the white space after it; returns
/// where the skipped text ends.
fn drop_link_debris(out: &str, text: &str, i: usize) -> usize {
    let rest = &text[i + LINK_DEBRIS.len()..];
    let ending = LINK_DEBRIS_ENDINGS
        .iter()
        .find(|e| rest.starts_with(*e))
        .map_or(0, |e| e.len());
    let mut i = i + LINK_DEBRIS.len() + ending;
    // The space before the debris already separates what follows.
    if out.is_empty() || out.ends_with(' ') {
        while let Some(next) = text[i..].chars().next().filter(|c| c.is_whitespace()) {
            i += next.len_utf8();
        }
    }
    i
}

/// Whether the punctuation `c` at `text[i]` is glued to a word that needs
/// a space before it: a comma before a letter, or the end of a sentence
/// before the next one.
fn glued_to_next(text: &str, i: usize, c: char) -> bool {
    let after = &text[i + c.len_utf8()..];
    match c {
        ',' => after.chars().next().is_some_and(char::is_alphabetic),
        '.' => {
            let before = text[..i].chars().next_back();
            before.is_some_and(|b| b.is_lowercase() || b.is_ascii_digit()) && starts_sentence(after)
        }
        '!' | '?' => starts_sentence(after),
        _ => false,
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
