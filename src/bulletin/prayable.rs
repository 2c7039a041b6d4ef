//! Whether a request's text asks for prayer anywhere in it: the rule that
//! decides which items carry the buttons and the 🙏. Pure; no I/O.
//!
//! A sentence asks for prayer when it says so to the reader: it opens with
//! `Pray …` (after `Please`, `And`, `Also`), or it holds an asking phrase
//! (`please pray`, `pray with us`, `join us in praying`, `in praying that`,
//! `pray for`, `continue to pray`, `lift up` …). A sentence that reports an
//! earlier ask or thanks for prayers already said (`Last year we asked you
//! to pray for …`, `Thanks for praying with us!`) does not ask.

use aho_corasick::AhoCorasick;

/// Phrases that ask the reader to pray, wherever they stand in a sentence.
/// Matched as whole words, ignoring ASCII case; `'` stands for both
/// apostrophes.
const ASKING_PHRASES: [&str; 28] = [
    "please pray",
    "please join us in prayer",
    "please keep praying",
    "pray with us",
    "pray also",
    "also pray",
    "pray for",
    "pray that",
    "pray over",
    "pray the",
    "join us in praying",
    "join us in prayer",
    "join us in praising god and praying",
    "in praying that",
    "in praying for",
    "keep praying",
    "continue praying",
    "continue to pray",
    "continue in prayer",
    "in your prayers",
    "lift up",
    "lift them up",
    "would you pray",
    "will you pray",
    "ask you to pray",
    "let us pray",
    "let's pray",
    "intercede",
];

/// Words that make a sentence a report of earlier prayer, not an ask.
const REPORTS: [&str; 8] = [
    "asked you",
    "we asked",
    "you prayed",
    "have prayed",
    "thanks for praying",
    "thank you for praying",
    "thanks for your prayers",
    "thank you for your prayers",
];

static ASKING: std::sync::LazyLock<AhoCorasick> =
    std::sync::LazyLock::new(|| automaton(&ASKING_PHRASES));
static REPORTING: std::sync::LazyLock<AhoCorasick> =
    std::sync::LazyLock::new(|| automaton(&REPORTS));

fn automaton(phrases: &[&str]) -> AhoCorasick {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(phrases)
        .unwrap_or_else(|error| unreachable!("fixed phrases build an automaton: {error}"))
}

/// Whether `text` asks its reader to pray, in any of its sentences.
pub fn asks_for_prayer(text: &str) -> bool {
    // Curly apostrophes read as straight ones (`let’s pray`).
    let text = text.replace('\u{2019}', "'");
    super::sentences(&text).any(sentence_asks)
}

fn sentence_asks(sentence: &str) -> bool {
    if has_word_match(&REPORTING, sentence) {
        return false;
    }
    opens_with_pray(sentence) || has_word_match(&ASKING, sentence)
}

/// `Pray …`, `Please pray …`, `And pray …`, `Also pray …` at the opening.
fn opens_with_pray(sentence: &str) -> bool {
    let mut opening = sentence.trim_start_matches(|c: char| !c.is_alphanumeric());
    for filler in ["please ", "and ", "also ", "do "] {
        if super::starts_with_ignoring_case(opening, filler) {
            opening = &opening[filler.len()..];
        }
    }
    super::starts_with_ignoring_case(opening, "pray")
        && !opening.as_bytes().get(4).copied().is_some_and(is_word_byte)
}

/// A match of `automaton` in `text` that stands as whole words.
fn has_word_match(automaton: &AhoCorasick, text: &str) -> bool {
    let bytes = text.as_bytes();
    automaton.find_overlapping_iter(text).any(|m| {
        let before = m.start().checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(m.end()).copied();
        !before.is_some_and(is_word_byte) && !after.is_some_and(is_word_byte)
    })
}

/// Letters and digits, including any byte of a non-ASCII letter.
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte >= 0x80
}

#[cfg(test)]
mod tests {
    use super::asks_for_prayer;

    #[test]
    fn praise_that_asks_later_in_the_text_asks() {
        for text in [
            "Praise God that a judge in Peru ruled for the family. The team worked for years. Please pray with us that the ruling stands.",
            "Justice was served in Manila. Join us in praising God for the verdict! Pray also for the survivors' healing.",
            "Praise God that 300 children in Chiang Rai received ID cards. Join us in thanking God and in praying that their lives will flourish.",
            "Praise God for a new police manual in Uganda. Pray for smooth roll-out of the training.",
            "Please join us in celebrating two verdicts in Guatemala. Pray that in the year ahead the courts keep ruling justly.",
            "Thank God for the rescue in Ghana. Let’s pray for the boys as they go home.",
            "We rejoice with the team in Kenya. Please continue to pray for the widows.",
            "Celebrate with us! Keep the survivors in your prayers this week.",
        ] {
            assert!(asks_for_prayer(text), "asks: {text}");
        }
    }

    #[test]
    fn pure_thanks_does_not_ask() {
        for text in [
            "Last year we asked you to join our team in prayer for a new registry. God answered our prayers! The bill was approved. Thanks for praying with us!",
            "Praise God for last month's event in Northern Thailand, where 1,500 people gathered to celebrate and hear about the hope offered to them.",
            "Praise God that the court convicted the trafficker. Thank you for your prayers for this case.",
            "Last spring we asked you to pray for Maria. She is home now.",
            "The prayer-team in Lima celebrated the verdict with the family.",
            "Praise God: the praying community in Cebu saw 12 survivors graduate.",
        ] {
            assert!(!asks_for_prayer(text), "asks nothing: {text}");
        }
    }

    #[test]
    fn only_whole_words_count() {
        assert!(!asks_for_prayer(
            "Praise God for the prayerful staff in Accra."
        ));
        assert!(!asks_for_prayer(
            "They were sprayed for pests in the dayspray fortnight."
        ));
        assert!(asks_for_prayer("PRAY FOR THE JUDGES."));
        assert!(asks_for_prayer(
            "“Pray,” the director wrote, “for the girls.”"
        ));
    }
}
