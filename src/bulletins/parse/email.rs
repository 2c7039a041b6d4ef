//! Takes the bulletin out of an email saved as a file (`.eml`): MIME parts,
//! base64 and quoted-printable bodies, encoded headers and character sets
//! are decoded by `mail-parser`. Pure; no I/O.
//!
//! A text is taken for an email when it opens with a block of at least two
//! header fields that mail carries (`From:`, `Subject:`, `MIME-Version:`,
//! …) and a blank line, so a plain bulletin that happens to open with one
//! `From:` line is still read as text. The plain text part is read, else
//! the HTML part reduced to text; the subject is not used, so a forwarded
//! bulletin parses to the same bulletin (and fingerprint) as its text. A
//! forwarding header inside the body (`---------- Forwarded message
//! ---------` and the fields under it) is dropped with whatever the
//! forwarder wrote above it.

use mail_parser::{Message, MessageParser, PartType};

use super::{ParseError, html};

/// Header fields that mark a text as an email.
const MAIL_FIELDS: [&str; 14] = [
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "sender",
    "reply-to",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "received",
    "return-path",
    "delivered-to",
];

/// Whether `bytes` open with an email's header block: header fields (and
/// their folded continuations) up to a blank line, two or more of them
/// fields that mail carries. An mbox `From ` line may stand first.
pub fn looks_like_email(bytes: &[u8]) -> bool {
    let lines = bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let mut known = 0usize;
    let mut fields = 0usize;
    let mut first = true;
    for line in lines {
        if line.is_empty() {
            return known >= 2;
        }
        if std::mem::take(&mut first) && line.starts_with(b"From ") {
            continue;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // A folded line carries on the field above it.
            if fields == 0 {
                return false;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let name = &line[..colon];
        // RFC 5322: a field name is printable ASCII without spaces or colons.
        if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
            return false;
        }
        fields += 1;
        if MAIL_FIELDS
            .iter()
            .any(|field| name.eq_ignore_ascii_case(field.as_bytes()))
        {
            known += 1;
        }
    }
    false
}

/// The text of the email's bulletin: its plain text part, else its HTML
/// part reduced to text, else those of an email forwarded as an attachment.
pub fn email_text(bytes: &[u8]) -> Result<String, ParseError> {
    let message = MessageParser::new()
        .parse(bytes)
        .ok_or(ParseError::NoTextPart)?;
    let text = body_text(&message)
        .or_else(|| {
            // mail-parser keeps attached emails a few levels deep at most.
            message.parts.iter().find_map(|part| match &part.body {
                PartType::Message(attached) => body_text(attached),
                _ => None,
            })
        })
        .ok_or(ParseError::NoTextPart)?;
    Ok(after_forwarding_header(&text).to_owned())
}

fn body_text(message: &Message<'_>) -> Option<String> {
    let plain = message.text_bodies().find_map(|part| match &part.body {
        PartType::Text(text) if !text.trim().is_empty() => Some(text.to_string()),
        _ => None,
    });
    plain.or_else(|| {
        message.html_bodies().find_map(|part| match &part.body {
            PartType::Html(page) => {
                Some(html::html_to_text(page)).filter(|text| !text.trim().is_empty())
            }
            _ => None,
        })
    })
}

/// The text after a forwarding header, or all of it when there is none.
fn after_forwarding_header(text: &str) -> &str {
    let mut offset = 0;
    let mut marker_end = None;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if is_forwarding_marker(line.trim()) {
            marker_end = Some(offset);
            break;
        }
    }
    let Some(start) = marker_end else {
        return text;
    };
    // The forwarded email's fields follow the marker, up to a blank line.
    let mut end = start;
    for line in text[start..].split_inclusive('\n') {
        let trimmed = line.trim();
        let is_field = trimmed.split_once(':').is_some_and(|(name, _)| {
            (1..=20).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
        });
        if trimmed.is_empty() || !is_field {
            break;
        }
        end += line.len();
    }
    &text[end..]
}

/// `---------- Forwarded message ---------`, `Begin forwarded message:`,
/// `-----Original Message-----`, as mail programs write them.
fn is_forwarding_marker(line: &str) -> bool {
    let words = line
        .trim_matches(|c: char| c == '-' || c == ':' || c.is_whitespace())
        .to_ascii_lowercase();
    matches!(
        words.as_str(),
        "forwarded message" | "begin forwarded message" | "original message"
    )
}
