//! Properties of the whole parser over generated input: no input makes it
//! panic, and what it produces stays within a size budget of what it read
//! (a budget on shape, not on wall time, so it holds on any machine).

use proptest::prelude::*;

use super::html::html_to_text;
use super::{Bulletin, decode_bulletin, parse_bulletin};

/// The tags the reducer treats specially, and some it does not.
const TAGS: [&str; 17] = [
    "p", "div", "i", "b", "li", "ul", "table", "tr", "td", "br", "script", "style", "nav",
    "article", "main", "span", "a",
];

/// How much of the bulletin is words read from the input: everything but
/// regions and countries, which are names the parser supplies.
fn words(bulletin: &Bulletin) -> usize {
    let verse = bulletin.verse.as_ref().map_or(0, |v| {
        v.text.chars().count() + v.reference.as_ref().map_or(0, |r| r.chars().count())
    });
    bulletin.title.chars().count()
        + verse
        + bulletin
            .requests
            .iter()
            .map(|r| r.text.chars().count())
            .sum::<usize>()
        + bulletin
            .notes
            .iter()
            .map(|n| n.text.chars().count())
            .sum::<usize>()
}

/// Parses `text` (it must not panic) and checks the bulletin's size: the
/// repairs add at most a space per glued sentence, and the default title
/// is the only text made up.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    if let Ok(bulletin) = parse_bulletin(text) {
        let budget = 2 * text.chars().count() + super::DEFAULT_TITLE.len();
        prop_assert!(
            words(&bulletin) <= budget,
            "{} > {budget}",
            words(&bulletin)
        );
    }
    Ok(())
}

/// Text from the page, plus the two newlines that close its last paragraph:
/// markup becomes at most as many characters as it took (`<li>` is `• `,
/// a block two newlines), and an entity no more than it spelled.
fn check_reduced(html: &str) -> Result<(), TestCaseError> {
    let text = html_to_text(html);
    prop_assert!(text.chars().count() <= html.chars().count() + 2);
    Ok(())
}

#[derive(Debug, Clone)]
enum Piece {
    Open { tag: usize, marked: bool },
    Close(usize),
    Text(String),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => (0..TAGS.len(), proptest::bool::weighted(0.1))
            .prop_map(|(tag, marked)| Piece::Open { tag, marked }),
        2 => (0..TAGS.len()).prop_map(Piece::Close),
        3 => "[A-Za-z .,!?&;#<>\u{a0}•“”]{0,16}".prop_map(Piece::Text),
    ]
}

fn render(pieces: &[Piece]) -> String {
    let mut html = String::new();
    for piece in pieces {
        match piece {
            Piece::Open { tag, marked } => {
                html.push('<');
                html.push_str(TAGS[*tag]);
                if *marked {
                    html.push_str(" class=\"site-footer\"");
                }
                html.push('>');
            }
            Piece::Close(tag) => {
                html.push_str("</");
                html.push_str(TAGS[*tag]);
                html.push('>');
            }
            Piece::Text(text) => html.push_str(text),
        }
    }
    html
}

/// A nesting `depth` deep built from a repeating pattern of tags, each
/// closed or left open, with text inside.
fn nested() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec((0..TAGS.len(), any::<bool>(), "[A-Za-z .]{0,8}"), 1..16),
        0usize..4000,
    )
        .prop_map(|(pattern, depth)| {
            let mut html = String::from("<html><body>");
            let mut closing = Vec::new();
            for (tag, closed, text) in pattern.iter().cycle().take(depth) {
                html.push_str(&format!("<{}>{text}", TAGS[*tag]));
                if *closed {
                    closing.push(TAGS[*tag]);
                }
            }
            html.push_str("Pray for Peru.");
            for tag in closing.iter().rev() {
                html.push_str(&format!("</{tag}>"));
            }
            html.push_str("</body></html>");
            html
        })
}

/// Bytes as they may arrive: anything at all, or behind the opening of an
/// email or a web page so the deeper readers see them.
fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let any_bytes = proptest::collection::vec(any::<u8>(), 0..2048);
    prop_oneof![
        any_bytes.clone(),
        any_bytes.clone().prop_map(|rest| {
            let mut bytes = b"From: a@b.c\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
                Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
                Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                .to_vec();
            bytes.extend(rest);
            bytes
        }),
        any_bytes.prop_map(|rest| {
            let mut bytes = b"<!DOCTYPE html><html><body><p>".to_vec();
            bytes.extend(rest);
            bytes
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_and_parse_without_panicking(bytes in file_bytes()) {
        if let Ok(text) = decode_bulletin(&bytes) {
            check_parse(&text)?;
        }
    }

    #[test]
    fn any_text_reduces_within_its_own_length(text in any::<String>()) {
        check_reduced(&text)?;
        check_parse(&text)?;
    }

    #[test]
    fn any_mix_of_known_tags_reduces_within_its_own_length(
        pieces in proptest::collection::vec(piece(), 0..2000)
    ) {
        let html = render(&pieces);
        check_reduced(&html)?;
        check_parse(&html)?;
    }

    #[test]
    fn deep_nestings_reduce_within_their_own_length(html in nested()) {
        check_reduced(&html)?;
        check_parse(&html)?;
    }
}

#[test]
fn a_hundred_thousand_nested_known_tags_parse_without_panicking() {
    let mut html = String::new();
    for (i, tag) in TAGS.iter().cycle().take(100_000).enumerate() {
        // Every third one is closed at once, the rest are left open.
        html.push_str(&format!("<{tag}>"));
        if i % 3 == 0 {
            html.push_str(&format!("Pray {i}.</{tag}>"));
        }
    }
    check_reduced(&html).expect("within budget");
    check_parse(&html).expect("within budget");
}
