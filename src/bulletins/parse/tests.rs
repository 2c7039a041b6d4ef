//! The parser against small bulletins, one shape each.

use super::*;

fn parse(text: &str) -> Bulletin {
    match parse_bulletin(text) {
        Ok(bulletin) => bulletin,
        Err(error) => panic!("expected a bulletin, got {error}: {text}"),
    }
}

fn regions(b: &Bulletin) -> Vec<&str> {
    b.requests.iter().map(|r| r.region.as_str()).collect()
}

fn texts(b: &Bulletin) -> Vec<&str> {
    b.requests.iter().map(|r| r.text.as_str()).collect()
}

const BULLETED: &str = "\
IJM Prayer Requests

“Learn to do right; seek justice.”

— Isaiah 1:17


  • Praise God that a court in Kenya convicted an officer this week.

Latin America

  • Please pray for Jeremias,* a survivor in Bolivia.

South Asia

  • Pray for a family freed from a brick kiln.

IJM HQ & Global Partners

IJM has partner offices in Canada, Germany and the U.K.

  • Please pray for our spring campaign.";

#[test]
fn a_bulleted_bulletin_gives_title_verse_requests_and_notes() {
    let b = parse(BULLETED);
    assert_eq!(b.title, "IJM Prayer Requests");
    assert_eq!(b.date, None);
    assert_eq!(
        b.verse,
        Some(Verse {
            text: "Learn to do right; seek justice.".into(),
            reference: Some("Isaiah 1:17".into()),
        })
    );
    assert_eq!(
        regions(&b),
        [
            "Africa",
            "Latin America",
            "South Asia",
            "IJM HQ & Global Partners"
        ]
    );
    assert_eq!(
        b.notes,
        [Note {
            region: "IJM HQ & Global Partners".into(),
            text: "IJM has partner offices in Canada, Germany and the U.K.".into(),
        }]
    );
    assert_eq!(b.requests[1].countries, ["Bolivia"]);
}

#[test]
fn hyphen_and_star_bullets_are_bullets() {
    let b =
        parse("Title\n\nAfrica\n- Pray for Ghana.\n- Pray for Kenya.\n\nAsia\n* Pray for Nepal.\n");
    assert_eq!(
        texts(&b),
        ["Pray for Ghana.", "Pray for Kenya.", "Pray for Nepal."]
    );
    assert_eq!(regions(&b), ["Africa", "Africa", "Asia"]);
}

#[test]
fn plain_paragraphs_are_requests_without_bullets() {
    let b = parse(
        "IJM Prayer Requests\n\nLatin America\n\nPlease pray for Peru.\n\nPraise God for Chile.\n\nSouth Asia\n\nPray for India.\n",
    );
    assert_eq!(
        texts(&b),
        [
            "Please pray for Peru.",
            "Praise God for Chile.",
            "Pray for India."
        ]
    );
    assert_eq!(
        regions(&b),
        ["Latin America", "Latin America", "South Asia"]
    );
}

#[test]
fn hard_wrapped_lines_are_joined_into_one_request() {
    let b = parse(
        "IJM Prayer Requests\n\nSouth Asia\n\n• Please pray for a large rescue operation in\n  South Asia this week. Our teams have spent months\n  investigating.\n• Pray for the families.\n",
    );
    assert_eq!(
        texts(&b),
        [
            "Please pray for a large rescue operation in South Asia this week. Our teams have spent months investigating.",
            "Pray for the families."
        ]
    );
}

#[test]
fn wrapped_plain_paragraphs_are_joined_and_kept_apart_by_blank_lines() {
    let b = parse(
        "Prayer\n\nAfrica\n\nPlease pray for the trial\nin Ghana.\n\nPraise God for\nnew laws.\n",
    );
    assert_eq!(
        texts(&b),
        [
            "Please pray for the trial in Ghana.",
            "Praise God for new laws."
        ]
    );
}

#[test]
fn a_headless_first_section_takes_the_region_of_its_countries() {
    let b = parse(
        "IJM Prayer Requests\n\n• Please pray for the trial in Ghana.\n\nLatin America\n\n• Pray for Peru.\n",
    );
    assert_eq!(regions(&b), ["Africa", "Latin America"]);
}

#[test]
fn a_headless_section_naming_no_country_is_general() {
    let b = parse(
        "IJM Prayer Requests\n\n• Please pray for our staff.\n\nLatin America\n\n• Pray for Peru.\n",
    );
    assert_eq!(regions(&b), [GENERAL_REGION, "Latin America"]);
}

#[test]
fn a_bulletin_with_no_headings_is_one_headless_section() {
    let b = parse("IJM Prayer Requests\n\n• Pray for Uganda.\n• Pray for widows there.\n");
    assert_eq!(regions(&b), ["Africa", "Africa"]);
}

#[test]
fn a_date_line_gives_the_bulletin_its_date() {
    for line in [
        "April 27, 2019",
        "Saturday, April 27, 2019",
        "27 April 2019",
        "Apr. 27, 2019",
        "2019-04-27",
    ] {
        let b = parse(&format!(
            "IJM Prayer Requests\n{line}\n\nAfrica\n• Pray for Kenya.\n"
        ));
        assert_eq!(b.date, NaiveDate::from_ymd_opt(2019, 4, 27), "{line}");
    }
}

#[test]
fn a_reference_may_follow_an_em_dash_en_dash_or_hyphen() {
    for dash in ["—", "–", "-"] {
        let b = parse(&format!(
            "IJM Prayer Requests\n\n\"Go and do likewise.\"\n{dash} Luke 10:36-37\n\nAfrica\n• Pray for Kenya.\n"
        ));
        let verse = b.verse.expect("a verse");
        assert_eq!(verse.text, "Go and do likewise.");
        assert_eq!(verse.reference.as_deref(), Some("Luke 10:36-37"), "{dash}");
        assert_eq!(b.requests.len(), 1);
    }
}

#[test]
fn a_verse_may_wrap_and_carry_its_reference_on_the_same_line() {
    let b = parse(
        "IJM Prayer Requests\n\n“He has shown you what is good:\nto act justly.” — Micah 6:8\n\nAfrica\n• Pray for Kenya.\n",
    );
    assert_eq!(
        b.verse,
        Some(Verse {
            text: "He has shown you what is good: to act justly.".into(),
            reference: Some("Micah 6:8".into())
        })
    );
}

#[test]
fn section_notes_are_kept_apart_from_requests() {
    let b = parse(
        "Prayer\n\nIJM Global Office & Partners\n\nThe IJM global office is located in Washington, D.C.\n\n• Please pray for our staff.\n",
    );
    assert_eq!(texts(&b), ["Please pray for our staff."]);
    assert_eq!(b.notes.len(), 1);
    assert_eq!(b.notes[0].region, "IJM Global Office & Partners");
}

#[test]
fn headings_are_recognised_by_shape_and_cleaned() {
    let b = parse(
        "Prayer\n\nAfrica + Europe:\n• Pray for Kenya.\n\n| Eastern Europe & Central Asia |\n• Pray for Moldova.\n",
    );
    assert_eq!(
        regions(&b),
        ["Africa + Europe", "Eastern Europe & Central Asia"]
    );
}

#[test]
fn table_debris_and_stray_bars_are_ignored() {
    let b = parse(
        "IJM Prayer Requests |\n|\n| Latin America |\n|\n| • Please pray for Peru. |\n|   |\n",
    );
    assert_eq!(b.title, "IJM Prayer Requests");
    assert_eq!(texts(&b), ["Please pray for Peru."]);
    assert_eq!(regions(&b), ["Latin America"]);
}

#[test]
fn a_bom_and_crlf_line_ends_change_nothing() {
    let unix = "IJM Prayer Requests\n\nLatin America\n\n• Please pray for\nPeru.\n";
    let windows = format!("\u{feff}{}", unix.replace('\n', "\r\n"));
    assert_eq!(parse(&windows), parse(unix));
}

#[test]
fn glued_sentences_and_commas_are_repaired_in_requests() {
    let b = parse(
        "Prayer\n\nLatin America\n• Please pray for Jeremias,* a survivor in Bolivia.He was abused.\n• Pray for the campaign,Hidden No More.\n",
    );
    assert_eq!(
        texts(&b),
        [
            "Please pray for Jeremias,* a survivor in Bolivia. He was abused.",
            "Pray for the campaign, Hidden No More."
        ]
    );
}

#[test]
fn read_the_full_story_is_dropped_from_requests() {
    let b =
        parse("Prayer\n\nLatin America\n• Praise God for the ruling.\u{a0}Read the full story.\n");
    assert_eq!(texts(&b), ["Praise God for the ruling."]);
}

#[test]
fn no_break_spaces_become_plain_spaces() {
    let b = parse("Prayer\n\nAfrica\n• Please pray for Ghana.\u{a0} Pray also for police.\n");
    assert_eq!(texts(&b), ["Please pray for Ghana. Pray also for police."]);
}

#[test]
fn a_custom_headline_or_singular_title_is_the_title() {
    assert_eq!(
        parse("IJM Prayer Request\n\nAfrica\n• Pray for Kenya.\n").title,
        "IJM Prayer Request"
    );
    assert_eq!(
        parse("Pray for Freedom Sunday!\n\nAfrica\n• Pray for Kenya.\n").title,
        "Pray for Freedom Sunday!"
    );
}

#[test]
fn a_bulletin_without_a_title_gets_the_default_one() {
    let b = parse("• Please pray for a survivor in Kenya.\n");
    assert_eq!(b.title, DEFAULT_TITLE);
    assert_eq!(regions(&b), ["Africa"]);
}

#[test]
fn kind_is_praise_when_a_request_opens_by_giving_thanks() {
    for text in [
        "Praise God that the court ruled justly.",
        "Thank God for a rescue in Peru.",
        "Please join us in celebrating a verdict.",
        "Join us in thanking God for new laws.",
        "Last year we asked you to pray for a registry. God answered our prayers! Thanks for praying.",
        "Justice was served this week. Join us in praising God that the courts listened.",
    ] {
        assert_eq!(classify(text), Kind::Praise, "{text}");
    }
}

#[test]
fn kind_is_petition_when_a_request_opens_by_asking_even_if_it_praises_later() {
    for text in [
        "Please pray for a woman just rescued. Praise God for her rescue.",
        "The trial has begun. Please pray that the prosecutors work diligently.",
        "Please join us in prayer for the tour. We thank God for it.",
        "Ask God to move in the hearts of people.",
        "Our teams are working hard in Cebu this month.",
    ] {
        assert_eq!(classify(text), Kind::Petition, "{text}");
    }
}

const PAGE: &str = r#"<!DOCTYPE html>
<html><head><title>Prayer | IJM</title><style>body { color: red }</style>
<script>window.pray = function () {};</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/pray">Pray</a></nav>
<main>
<h1>IJM Prayer Requests</h1>
<p>“Learn to do right; seek justice.”</p>
<p>— Isaiah 1:17</p>
<ul><li>Praise God that a court in Kenya convicted an officer this week.</li></ul>
<h2>Latin America</h2>
<ul><li>Please pray for Jeremias,* a survivor in Bolivia.</li></ul>
<h2>South Asia</h2>
<ul><li>Pray for a family freed from a brick kiln.</li></ul>
<h2>IJM HQ &amp; Global Partners</h2>
<p>IJM has partner offices in Canada, Germany and the U.K.</p>
<ul><li>Please pray for our spring <a href="/c">campaign</a>.</li></ul>
</main>
<footer><p>Pray with us every week. © International Justice Mission</p></footer>
</body></html>"#;

#[test]
fn a_bulletin_saved_as_a_web_page_parses_as_its_text_does() {
    assert_eq!(parse(PAGE), parse(BULLETED));
}

const EMAIL: &str = r#"<div style="font-family: Arial">
<table width="600"><tr><td><p>View this email in your browser</p></td></tr>
<tr><td><p><strong>IJM Prayer Requests</strong></p>
<p>&ldquo;Learn to do right; seek justice.&rdquo;</p><p>&mdash; Isaiah 1:17</p>
<p>&bull;&nbsp;Praise God that a court in Kenya convicted an officer this week.</p>
<p><strong>Latin America</strong></p>
<p>&bull;&nbsp;Please pray for Jeremias,* a survivor in Bolivia.</p>
<p><strong>South Asia</strong></p>
<p>&bull;&nbsp;Pray for a family freed from a brick kiln.</p>
<p><strong>IJM HQ &amp; Global Partners</strong></p>
<p>IJM has partner offices in Canada, Germany and the U.K.</p>
<p>&bull;&nbsp;Please pray for our spring campaign.</p></td></tr>
<tr><td><p>You received this because you signed up. Unsubscribe | Update your preferences</p></td></tr>
</table></div>"#;

#[test]
fn a_bulletin_sent_as_an_email_body_parses_as_its_text_does() {
    assert_eq!(parse(EMAIL), parse(BULLETED));
}

#[test]
fn empty_and_blank_text_is_refused() {
    assert_eq!(parse_bulletin(""), Err(ParseError::Empty));
    assert_eq!(parse_bulletin(" \n\r\n\t"), Err(ParseError::Empty));
    assert_eq!(decode_bulletin(b"\xef\xbb\xbf \n"), Err(ParseError::Empty));
}

#[test]
fn text_that_asks_for_no_prayer_is_not_a_bulletin() {
    assert_eq!(
        parse_bulletin("fn main() {\n    println!(\"hello\");\n}\n"),
        Err(ParseError::NoRequests)
    );
    assert_eq!(
        parse_bulletin("Shopping list\n\n- eggs\n- milk\n"),
        Err(ParseError::NoRequests)
    );
}

#[test]
fn binary_and_non_utf8_bytes_are_refused() {
    assert_eq!(
        decode_bulletin(b"\x89PNG\r\n\x1a\n\0\0\0"),
        Err(ParseError::Binary)
    );
    assert_eq!(decode_bulletin(b"caf\xe9 latte"), Err(ParseError::NotText));
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let big = vec![b'a'; MAX_BULLETIN_BYTES + 1];
    assert!(matches!(
        decode_bulletin(&big),
        Err(ParseError::TooLarge { .. })
    ));
}

#[test]
fn utf16_with_a_bom_is_decoded() {
    let text = "IJM Prayer Requests\r\n\r\nAfrica\r\n• Pray for Kenya.\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(decode_bulletin(&bytes).as_deref(), Ok(text));
}

#[test]
fn json_has_the_documented_shape() {
    let b = parse("IJM Prayer Requests\nApril 27, 2019\n\nAfrica\n• Pray for Kenya.\n");
    let json = serde_json::to_value(&b).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({
            "title": "IJM Prayer Requests",
            "date": "2019-04-27",
            "verse": null,
            "requests": [{"region": "Africa", "kind": "petition", "text": "Pray for Kenya.", "countries": ["Kenya"]}],
            "notes": []
        })
    );
}

/// `BULLETED` as quoted-printable: long lines soft-broken with `=`, the
/// bullets and quotes as `=E2=80=A2`-style escapes.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    let mut column = 0;
    for byte in text.bytes() {
        let piece = match byte {
            b'\n' => {
                out.push('\n');
                column = 0;
                continue;
            }
            b'=' | 0x80.. => format!("={byte:02X}"),
            _ => char::from(byte).to_string(),
        };
        if column + piece.len() > 72 {
            out.push_str("=\n");
            column = 0;
        }
        column += piece.len();
        out.push_str(&piece);
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = Vec::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            encoded.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i)) as usize & 63]
            } else {
                b'='
            });
        }
    }
    encoded
        .chunks(76)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn email_bytes(message: &str) -> Vec<u8> {
    message.replace('\n', "\r\n").into_bytes()
}

fn decoded_and_parsed(bytes: &[u8]) -> Bulletin {
    let text = decode_bulletin(bytes).unwrap_or_else(|e| panic!("decodes: {e}"));
    parse(&text)
}

#[test]
fn an_email_with_a_quoted_printable_plain_part_parses_as_its_text_does() {
    let message = format!(
        "From: IJM <prayer@ijm.org>\n\
         To: Ann <ann@example.com>\n\
         Subject: =?UTF-8?Q?IJM_Prayer_Requests_=E2=80=93_this_week?=\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\n\
         \n\
         --b1\n\
         Content-Type: text/plain; charset=UTF-8\n\
         Content-Transfer-Encoding: quoted-printable\n\
         \n\
         {}\n\
         --b1\n\
         Content-Type: text/html; charset=UTF-8\n\
         \n\
         <p>Something else entirely.</p>\n\
         --b1--\n",
        quoted_printable(BULLETED)
    );
    let bytes = email_bytes(&message);
    assert_eq!(decoded_and_parsed(&bytes), parse(BULLETED));
    // The same email handed to the parser as text reads the same.
    let text = std::str::from_utf8(&bytes).expect("the fixture is ASCII");
    assert_eq!(parse(text), parse(BULLETED));
}

#[test]
fn an_email_with_only_a_base64_html_part_parses_as_its_page_does() {
    let message = format!(
        "From: IJM <prayer@ijm.org>\n\
         Subject: Prayer\n\
         MIME-Version: 1.0\n\
         Content-Type: text/html; charset=utf-8\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\n",
        base64(EMAIL.as_bytes())
    );
    let bulletin = decoded_and_parsed(&email_bytes(&message));
    assert_eq!(bulletin, parse(BULLETED));
}

#[test]
fn an_encoded_subject_and_a_latin1_body_are_decoded_not_stored_encoded() {
    let message = b"From: =?ISO-8859-1?Q?Jos=E9?= <jose@example.com>\r\n\
        Subject: =?UTF-8?B?SUpNIFByYXllciBSZXF1ZXN0cw==?=\r\n\
        Content-Type: text/plain; charset=ISO-8859-1\r\n\
        Content-Transfer-Encoding: 8bit\r\n\
        \r\n\
        IJM Prayer Requests\r\n\
        \r\n\
        Latin America\r\n\
        - Pray for Jos\xe9 in Per\xfa.\r\n";
    let bulletin = decoded_and_parsed(message);
    assert_eq!(bulletin.title, "IJM Prayer Requests");
    assert_eq!(texts(&bulletin), ["Pray for José in Perú."]);
}

#[test]
fn a_forwarding_header_in_the_body_is_not_part_of_the_bulletin() {
    let message = format!(
        "From: Ann <ann@example.com>\n\
         Subject: Fwd: IJM Prayer Requests\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         FYI, this week's.\n\
         \n\
         ---------- Forwarded message ---------\n\
         From: IJM <prayer@ijm.org>\n\
         Date: Fri, Apr 26, 2019 at 3:00 PM\n\
         Subject: IJM Prayer Requests\n\
         To: <ann@example.com>\n\
         \n\
         {BULLETED}\n"
    );
    assert_eq!(decoded_and_parsed(&email_bytes(&message)), parse(BULLETED));
}

#[test]
fn an_email_with_no_text_or_html_part_is_refused_in_a_sentence() {
    let message = format!(
        "From: IJM <prayer@ijm.org>\n\
         Subject: Prayer\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\n\
         \n\
         --b1\n\
         Content-Type: image/png\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\n\
         --b1--\n",
        base64(b"\x89PNG\r\n\x1a\n\0\0\0")
    );
    let error = decode_bulletin(&email_bytes(&message)).expect_err("no text part");
    assert_eq!(error, ParseError::NoTextPart);
    assert_eq!(error.to_string(), "the email has no text or HTML part");
}

#[test]
fn a_plain_bulletin_opening_with_one_from_line_is_still_read_as_text() {
    let text = "From: the IJM prayer team\n\nLatin America\n\n• Please pray for Peru.\n";
    let bulletin = decoded_and_parsed(text.as_bytes());
    assert_eq!(bulletin.title, "From: the IJM prayer team");
    assert_eq!(texts(&bulletin), ["Please pray for Peru."]);
    assert_eq!(regions(&bulletin), ["Latin America"]);
}

#[test]
fn a_request_asks_for_prayer_wherever_it_says_so() {
    for text in [
        "Praise God that a court in Kenya convicted an officer. Please pray with us that this case sends a message.",
        "Justice was served in Cebu. Join us in praising God for the team. Pray also for the survivors’ healing.",
        "Join us in thanking God that these children will grow up as citizens and in praying that their lives will flourish.",
        "Please join us in celebrating a verdict in Peru. Pray that the courts keep ruling justly.",
        "Praise God for a new manual. Pray for a smooth roll-out of the training.",
        "Praise God for the rescue! Pray we can work together as a community.",
        "Please join us in prayer for the tour this month.",
        "We thank God for the verdict; keep the family in your prayers.",
        "Praise the Lord! Ask God to comfort the family.",
        "Thank God for the rescue. Lift up the survivors as they heal.",
        "We celebrate the new law. Would you **pray** for the officials enforcing it?",
        "PRAISE GOD FOR THE RULING. PLEASE PRAY FOR THE APPEAL.",
    ] {
        assert!(asks_for_prayer(text), "asks: {text}");
    }
}

#[test]
fn thanks_and_reports_of_prayer_do_not_ask_for_it() {
    for text in [
        "Last year we asked you to join our team in prayer for a registry. God answered our prayers! Thanks for praying with us!",
        "Last month we asked you to pray for a new law. God answered our prayers! The law passed. Thank you for praying with us.",
        "Praise God for last month’s event in Northern Thailand, where 1,500 people gathered to celebrate.",
        "Praise God that 120 stateless children received citizenship papers this month.",
        "Please join us in celebrating that a court in Peru sentenced a man who abused three girls.",
        "Thank you so much for your faithful prayers this year.",
        "Many of you prayed for Mateo, and the court ruled for him. Praise God!",
        "We praise God for our prayer team and its prayer support.",
        "Praise God: the prayer-bot posted every request, and `/prayer who` lists who prayed.",
        "Praise God for the _prayer_bot_ and for prayer.rs working.",
    ] {
        assert!(!asks_for_prayer(text), "does not ask: {text}");
    }
}

#[test]
fn a_praise_item_is_prayable_when_it_asks_and_a_petition_always() {
    let request = |text: &str| PrayerRequest {
        region: "Africa".into(),
        kind: classify(text),
        text: text.into(),
        countries: Vec::new(),
    };
    let asks = request("Praise God for a verdict. Pray for the appeal.");
    assert_eq!(asks.kind, Kind::Praise);
    assert!(asks.is_prayable());
    let thanks = request("Praise God for a verdict.");
    assert_eq!(thanks.kind, Kind::Praise);
    assert!(!thanks.is_prayable());
    let petition = request("The trial has begun in Ghana.");
    assert_eq!(petition.kind, Kind::Petition);
    assert!(petition.is_prayable(), "a petition is prayable as it reads");
}

/// The shape of a project's README: headings and paragraphs that mention
/// prayer (the tool's name, its commands, a button's label) without a
/// single one asking for prayer or giving thanks.
const README_LIKE: &str = "# prayer-bot\n\nA Discord bot that posts a weekly prayer bulletin.\n\n## Running it\n\nThe bot posts each prayer request with two buttons, I'll pray and Prayed.\n\nMembers add 🙏 to say they prayed; `/prayer who` lists them.\n\n`prayer-bot import FILE` stores a prayer bulletin for a week.\n\nThe prayer week starts on Monday.\n\n## Tracking\n\nPrayer marks are kept per server.\n\nA praise report is shared with `/praise`.\n\nGod willing, the database stays small.\n";

#[test]
fn a_file_whose_paragraphs_do_not_ask_or_thank_is_not_a_bulletin() {
    let refused = parse_bulletin(README_LIKE);
    assert!(
        matches!(refused, Err(ParseError::NotABulletin { items, paragraphs }) if items * 2 < paragraphs),
        "{refused:?}"
    );
    let said = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        said.starts_with("this does not look like a prayer bulletin: only 1 of the")
            && said.contains("“Please pray for …”"),
        "{said}"
    );
    let code = "// prayer tracking\nfn pray() {}\n\n// God mode\nfn lord() {}\n";
    assert!(matches!(
        parse_bulletin(code),
        Err(ParseError::NotABulletin { items: 0, .. })
    ));
    assert_eq!(
        parse_bulletin(code).err().map(|e| e.to_string()).as_deref(),
        Some(
            "this does not look like a prayer bulletin: none of its paragraphs asks for prayer or gives thanks, while at least half of a bulletin's items do (“Please pray for …”, “Praise God for …”)"
        )
    );
}

#[test]
fn bulletins_of_every_shape_still_parse() {
    for text in [
        "IJM Prayer Requests\n\nAfrica\n• Pray for Kenya.\n\nAsia\n• Praise God for Nepal.\n",
        "Praise God for Nepal.\n",
        "IJM Prayer Request\n\nLatin America\n\nLast month we asked you to pray for a law. God answered our prayers! Thank you for praying with us.\n\nAfrica\n\nPlease pray for our partners in Romania.\n",
        "Prayer\n\n• The trial of suspected traffickers has begun in Ghana. Please pray that the prosecutors work diligently.\n• Our teams are in Cebu this month; may God protect them.\n",
    ] {
        assert!(parse_bulletin(text).is_ok(), "{text}");
    }
}
