//! Turns a bulletin saved as a web page or an email body into the plain
//! lines the text grammar reads. Pure; no I/O.
//!
//! Block elements become paragraphs (a blank line between them), `<br>` a
//! line break, `<li>` a `•` bullet. Scripts, styles, navigation, forms and
//! footers are skipped, and so are the unsubscribe and copyright lines that
//! email bodies carry in plain table cells. Where the page marks its content
//! with `<article>` or `<main>`, only that is read.
//!
//! The page is read as a stream of tags, not built into a tree: a tree
//! builder's search of its open elements makes deep unclosed nesting cost
//! quadratic time, and walking a deep tree recursively overflows the stack.
//! Here the open elements are an explicit stack of at most [`MAX_DEPTH`];
//! an element opened deeper is not tracked (its end tag is still counted),
//! so time and memory grow linearly with the page whatever its nesting.
//! The few end tags a browser implies (a new `<p>`, `<li>` or `<td>` closes
//! the one before) are implied here too, because a skipped element left
//! open by them would otherwise hide the rest of the page.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::{LocalName, TokenizerResult};

/// How many open elements are tracked. Real pages nest a few dozen deep;
/// this leaves room for the worst email tables while bounding the work an
/// end tag does to find its element.
pub const MAX_DEPTH: usize = 256;

/// Whether `text` is a web page or an email body rather than plain text.
pub fn looks_like_html(text: &str) -> bool {
    let head = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if !head.starts_with('<') {
        return false;
    }
    // The opening is enough to tell; the cut must fall between characters.
    let head = head[..head.floor_char_boundary(2048)].to_ascii_lowercase();
    [
        "<!doctype html",
        "<html",
        "<body",
        "<div",
        "<p",
        "<table",
        "<h1",
        "<ul",
        "<head",
        "<meta",
    ]
    .iter()
    .any(|tag| head.contains(tag))
}

/// The text of the page, one block element to a paragraph.
pub fn html_to_text(html: &str) -> String {
    let tokenizer = Tokenizer::new(Reader::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The reader never asks the tokenizer to wait for a script or a new
    // encoding, so the first feed reads everything; were it ever to pause,
    // feeding again carries on where it stopped.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    tokenizer.sink.state.into_inner().into_text()
}

/// Receives the tokenizer's tags and text. The tokenizer hands tokens over
/// through a shared reference, hence the cell.
#[derive(Default)]
struct Reader {
    state: RefCell<State>,
}

impl TokenSink for Reader {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return state.start(tag),
                TagKind::EndTag => state.end(&tag.name),
            },
            Token::CharacterTokens(text) => state.write(|w| w.push_inline(&text)),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[derive(Default)]
struct State {
    /// The open elements, innermost last; never more than [`MAX_DEPTH`].
    open: Vec<Open>,
    /// How many of `open` are skipped: while any is, nothing is written.
    skipped: usize,
    /// Elements opened beyond [`MAX_DEPTH`] and not yet closed. Only their
    /// number is kept: each end tag there closes the innermost of them.
    deep: usize,
    /// The `deep` count at which a skipped element opened beyond
    /// [`MAX_DEPTH`]; what follows is skipped until it closes.
    deep_skip: Option<usize>,
    /// The whole page, and the first article and main part, written as
    /// they are read: which one is wanted is known only at the end.
    page: Writer,
    article: Part,
    main: Part,
}

struct Open {
    name: LocalName,
    /// Closing it ends a paragraph.
    block: bool,
    skipped: bool,
    /// The article or main part it opened, if it opened one.
    part: Option<PartName>,
    /// Which searches for an open element stop at it (the scopes of the
    /// HTML standard, simplified).
    stops: u8,
}

/// Stops every search: the edges of tables, cells and embedded objects.
const STOPS_ALL: u8 = 1;
/// Stops the search for a list item.
const STOPS_LIST_ITEM: u8 = 2;
/// Stops the search for a paragraph.
const STOPS_PARAGRAPH: u8 = 4;
/// Stops the search for a definition term or description.
const STOPS_DEFINITION: u8 = 8;
/// Stops the search for a table part (row, cell, body): only the table.
const STOPS_TABLE_PART: u8 = 16;

fn stops(name: &str) -> u8 {
    match name {
        "table" | "template" => STOPS_ALL | STOPS_TABLE_PART,
        "applet" | "caption" | "td" | "th" | "marquee" | "object" => STOPS_ALL,
        "ul" | "ol" => STOPS_LIST_ITEM,
        "dl" => STOPS_DEFINITION,
        "button" => STOPS_PARAGRAPH,
        _ => 0,
    }
}

#[derive(Clone, Copy)]
enum PartName {
    Article,
    Main,
}

#[derive(Default)]
struct Part {
    seen: Seen,
    writer: Writer,
}

#[derive(Default, PartialEq)]
enum Seen {
    #[default]
    Not,
    Open,
    Closed,
}

impl State {
    fn skipping(&self) -> bool {
        self.skipped > 0 || self.deep_skip.is_some()
    }

    /// Applies `f` to every writer reading at this point, unless the point
    /// is inside a skipped element.
    fn write(&mut self, f: impl Fn(&mut Writer)) {
        if self.skipping() {
            return;
        }
        f(&mut self.page);
        for part in [&mut self.article, &mut self.main] {
            if part.seen == Seen::Open {
                f(&mut part.writer);
            }
        }
    }

    fn start(&mut self, tag: Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        match name {
            // What the page, its head and its body hold is read, as a
            // browser shows it; a head holds only elements skipped anyway.
            "html" | "head" | "body" => return TokenSinkResult::Continue,
            "br" => {
                self.write(Writer::end_line);
                return TokenSinkResult::Continue;
            }
            _ => {}
        }
        self.close_implied(name);
        let skipped = is_skipped(&tag);
        let raw = raw_text(name);
        // A `/>` closes nothing in HTML, except in the SVG and MathML a
        // skipped part may hold; inside skipped content honouring it can
        // only end the skipping sooner.
        let closed_at_once = is_void(name)
            || (tag.self_closing
                && raw.is_none()
                && (self.skipping() || matches!(name, "svg" | "math")));
        if !skipped {
            if name == "li" {
                self.write(|w| {
                    w.end_paragraph();
                    w.line.push_str("• ");
                });
            } else if is_block(name) {
                self.write(Writer::end_paragraph);
            }
        }
        if closed_at_once {
            return TokenSinkResult::Continue;
        }
        if self.deep == 0 && self.open.len() < MAX_DEPTH {
            let part = if self.skipping() || skipped {
                None
            } else {
                self.open_part(name)
            };
            self.skipped += usize::from(skipped);
            self.open.push(Open {
                block: name == "li" || is_block(name),
                skipped,
                part,
                stops: stops(name),
                name: tag.name,
            });
        } else {
            self.deep += 1;
            if skipped && self.deep_skip.is_none() {
                self.deep_skip = Some(self.deep);
            }
        }
        raw.unwrap_or(TokenSinkResult::Continue)
    }

    /// Marks the first article or main part open.
    fn open_part(&mut self, name: &str) -> Option<PartName> {
        let (part, which) = match name {
            "article" => (&mut self.article, PartName::Article),
            "main" => (&mut self.main, PartName::Main),
            _ => return None,
        };
        if part.seen != Seen::Not {
            return None;
        }
        part.seen = Seen::Open;
        Some(which)
    }

    fn end(&mut self, name: &LocalName) {
        let name = &**name;
        match name {
            "html" | "head" | "body" => return,
            // Browsers read a stray `</br>` as `<br>`.
            "br" => {
                self.write(Writer::end_line);
                return;
            }
            _ if is_void(name) => return,
            _ => {}
        }
        if self.deep > 0 {
            if self.deep_skip == Some(self.deep) {
                self.deep_skip = None;
            }
            self.deep -= 1;
            if is_block(name) || name == "li" {
                self.write(Writer::end_paragraph);
            }
            return;
        }
        let stop = if matches!(
            name,
            "table" | "caption" | "tbody" | "thead" | "tfoot" | "tr" | "td" | "th"
        ) {
            STOPS_TABLE_PART
        } else {
            STOPS_ALL
        };
        match self.find_open(|open| open == name, stop) {
            Some(index) => self.close_from(index),
            // Browsers read a stray `</p>` as an empty paragraph.
            None if name == "p" => self.write(Writer::end_paragraph),
            None => {}
        }
    }

    /// Closes what a start tag closes without saying so: an open paragraph
    /// before a block, the list item before a list item, the cell before a
    /// cell, and so on. Beyond the tracked depth nothing is closed, as
    /// the innermost elements are not known there.
    fn close_implied(&mut self, name: &str) {
        if self.deep > 0 {
            return;
        }
        if closes_paragraph(name)
            && let Some(index) = self.find_open(|open| open == "p", STOPS_ALL | STOPS_PARAGRAPH)
        {
            self.close_from(index);
        }
        let found = match name {
            "li" => self.find_open(|open| open == "li", STOPS_ALL | STOPS_LIST_ITEM),
            "dd" | "dt" => self.find_open(
                |open| matches!(open, "dd" | "dt"),
                STOPS_ALL | STOPS_DEFINITION,
            ),
            "td" | "th" => self
                .find_open(|open| matches!(open, "td" | "th" | "tr"), STOPS_TABLE_PART)
                .filter(|&index| &*self.open[index].name != "tr"),
            "tr" => self.find_open(|open| open == "tr", STOPS_TABLE_PART),
            "tbody" | "thead" | "tfoot" => self.find_open(
                |open| matches!(open, "tbody" | "thead" | "tfoot"),
                STOPS_TABLE_PART,
            ),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.open.len().checked_sub(1).filter(|&top| {
                    matches!(
                        &*self.open[top].name,
                        "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
                    )
                })
            }
            _ => None,
        };
        if let Some(index) = found {
            self.close_from(index);
        }
    }

    /// The innermost open element that `wanted` accepts, searching no
    /// further out than the first element whose stops include `stop`.
    fn find_open(&self, wanted: impl Fn(&str) -> bool, stop: u8) -> Option<usize> {
        for (index, open) in self.open.iter().enumerate().rev() {
            if wanted(&open.name) {
                return Some(index);
            }
            if open.stops & stop != 0 {
                return None;
            }
        }
        None
    }

    /// Closes the open element at `index` and everything inside it.
    fn close_from(&mut self, index: usize) {
        let mut ends_paragraph = false;
        while self.open.len() > index {
            let Some(open) = self.open.pop() else { break };
            if open.skipped {
                self.skipped -= 1;
            } else if open.block && self.skipped == 0 {
                ends_paragraph = true;
            }
            match open.part {
                Some(PartName::Article) => self.article.seen = Seen::Closed,
                Some(PartName::Main) => self.main.seen = Seen::Closed,
                None => {}
            }
        }
        if ends_paragraph {
            // The page (and an enclosing main part) sees the paragraph end.
            self.write(Writer::end_paragraph);
        }
    }

    fn into_text(self) -> String {
        if self.article.seen != Seen::Not {
            return self.article.writer.finish();
        }
        if self.main.seen != Seen::Not {
            return self.main.writer.finish();
        }
        self.page.finish()
    }
}

#[derive(Default)]
struct Writer {
    text: String,
    /// The line being built, white space already folded.
    line: String,
}

impl Writer {
    fn push_inline(&mut self, text: &str) {
        for (i, word) in text.split(char::is_whitespace).enumerate() {
            // A split piece after the first means white space stood there.
            if i > 0 && !self.line.is_empty() && !self.line.ends_with(' ') {
                self.line.push(' ');
            }
            self.line.push_str(word);
        }
    }

    fn end_line(&mut self) {
        let line = self.line.trim();
        if !line.is_empty() && !is_boilerplate(line) {
            self.text.push_str(line);
            self.text.push('\n');
        }
        self.line.clear();
    }

    fn end_paragraph(&mut self) {
        self.end_line();
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn finish(mut self) -> String {
        self.end_paragraph();
        self.text
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "header"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "table"
            | "tbody"
            | "thead"
            | "tr"
            | "td"
            | "th"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "center"
            | "figure"
            | "figcaption"
            | "address"
            | "pre"
            | "hr"
    )
}

/// Elements that never have content or an end tag.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "image"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Start tags that close an open paragraph, as in the HTML standard.
fn closes_paragraph(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "dd"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "header"
            | "hgroup"
            | "hr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "listing"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "plaintext"
            | "pre"
            | "search"
            | "section"
            | "summary"
            | "ul"
            | "xmp"
    )
}

/// How the tokenizer must read what follows a start tag: the text of
/// scripts, styles and titles is not markup, and a tokenizer without a tree
/// builder has to be told so.
fn raw_text(name: &str) -> Option<TokenSinkResult<()>> {
    let kind = match name {
        "title" | "textarea" => RawKind::Rcdata,
        // `noscript` holds raw text where scripts run, as they do for the
        // browsers the page was made for.
        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => RawKind::Rawtext,
        "script" => RawKind::ScriptData,
        "plaintext" => return Some(TokenSinkResult::Plaintext),
        _ => return None,
    };
    Some(TokenSinkResult::RawData(kind))
}

/// Elements that never hold a bulletin's words.
fn is_skipped(tag: &Tag) -> bool {
    if matches!(
        &*tag.name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "title"
            | "nav"
            | "footer"
            | "aside"
            | "form"
            | "button"
            | "select"
            | "svg"
            | "iframe"
            | "object"
            | "img"
    ) {
        return true;
    }
    // As in the DOM, the first of repeated attributes counts.
    let attr = |name: &str| {
        tag.attrs
            .iter()
            .find(|a| &*a.name.local == name)
            .map(|a| &*a.value)
    };
    if matches!(
        attr("role"),
        Some("navigation" | "contentinfo" | "search" | "menu")
    ) || attr("aria-hidden") == Some("true")
    {
        return true;
    }
    let marked = |name: &str| {
        name.split(['-', '_', ' '])
            .any(|part| SKIPPED_MARKS.contains(&part.to_ascii_lowercase().as_str()))
    };
    attr("class").is_some_and(|classes| classes.split_ascii_whitespace().any(marked))
        || attr("id").is_some_and(marked)
}

/// Class and id words that mark navigation and page furniture.
const SKIPPED_MARKS: [&str; 10] = [
    "nav",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "breadcrumb",
    "breadcrumbs",
    "sidebar",
    "cookie",
    "unsubscribe",
];

/// Lines that email bodies carry in plain cells: never a request.
fn is_boilerplate(line: &str) -> bool {
    let lower = line.to_lowercase();
    [
        "unsubscribe",
        "view this email in your browser",
        "view in browser",
        "all rights reserved",
        "privacy policy",
        "update your preferences",
        "manage your preferences",
        "©",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_paragraphs_and_list_items_bullets() {
        let html = "<html><body><h1>IJM Prayer Requests</h1><p>One\n  line <b>bold</b>.</p>\
                    <ul><li>Pray for Peru.</li></ul></body></html>";
        assert_eq!(
            html_to_text(html),
            "IJM Prayer Requests\n\nOne line bold.\n\n• Pray for Peru.\n\n"
        );
    }

    #[test]
    fn scripts_styles_navigation_and_footers_are_not_read() {
        let html = "<html><head><title>t</title><style>p{}</style></head><body>\
                    <nav>Home | About</nav><div class=\"site-footer\">Donate</div>\
                    <script>var pray = 1;</script><p>Pray for Peru.</p>\
                    <footer>© IJM</footer><p>Unsubscribe from this list</p></body></html>";
        assert_eq!(html_to_text(html), "Pray for Peru.\n\n");
    }

    #[test]
    fn only_the_article_is_read_when_the_page_marks_one() {
        let html = "<body><header><p>Site name</p></header><article><p>Pray.</p></article></body>";
        assert_eq!(html_to_text(html), "Pray.\n\n");
    }

    #[test]
    fn plain_text_is_not_taken_for_html() {
        assert!(!looks_like_html("IJM Prayer Requests\n<3 Pray"));
        assert!(looks_like_html("\u{feff}<!DOCTYPE html><html>"));
        assert!(looks_like_html("<table><tr><td>IJM</td></tr></table>"));
    }

    #[test]
    fn fifty_thousand_nested_inline_tags_read_as_one_line() {
        let depth = 50_000;
        let html = format!(
            "<p>{}Pray for Peru.{}</p>",
            "<i>".repeat(depth),
            "</i>".repeat(depth)
        );
        assert_eq!(html_to_text(&html), "Pray for Peru.\n\n");
    }

    #[test]
    fn a_hundred_thousand_unclosed_blocks_keep_their_text_in_order() {
        let html = "<div>Pray".repeat(100_000);
        let text = html_to_text(&html);
        assert_eq!(text.lines().filter(|line| *line == "Pray").count(), 100_000);
        assert_eq!(text.len(), "Pray\n\n".len() * 100_000);
    }

    #[test]
    fn a_hundred_thousand_closed_nested_blocks_close_back_to_the_page() {
        let depth = 100_000;
        let html = format!(
            "<body>{}Pray for Peru.{}<p>Pray for Chile.</p><footer>Donate</footer></body>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert_eq!(html_to_text(&html), "Pray for Peru.\n\nPray for Chile.\n\n");
    }

    #[test]
    fn a_hundred_thousand_stray_end_tags_are_ignored() {
        let html = format!("<p>Pray {}for Peru.</p>", "</div>".repeat(100_000));
        assert_eq!(html_to_text(&html), "Pray for Peru.\n\n");
    }

    #[test]
    fn a_skipped_element_opened_past_the_tracked_depth_is_still_skipped() {
        let depth = MAX_DEPTH + 10;
        let html = format!(
            "{}<nav>Home</nav>Pray for Peru.{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert_eq!(html_to_text(&html), "Pray for Peru.\n\n");
    }

    #[test]
    fn a_new_paragraph_or_item_closes_a_skipped_one_left_open() {
        let html = "<p class=\"footer\">Donate<p>Pray for Peru.\
                    <ul><li class=\"menu\">Home<li>Pray for Chile.</ul>";
        assert_eq!(
            html_to_text(html),
            "Pray for Peru.\n\n• Pray for Chile.\n\n"
        );
    }

    #[test]
    fn script_and_style_text_is_not_read_as_markup() {
        let html = "<p>Pray</p><script>if (a<b) { document.write(\"</p><p>x\") }</script>\
                    <style>p > i { }</style><title>t</title><p>for Peru.</p>";
        assert_eq!(html_to_text(html), "Pray\n\nfor Peru.\n\n");
    }

    #[test]
    fn entities_are_decoded() {
        let html = "<p>IJM HQ &amp; Partners&nbsp;&mdash; &#8220;pray&#x201D;</p>";
        assert_eq!(html_to_text(html), "IJM HQ & Partners — “pray”\n\n");
    }

    #[test]
    fn the_html_check_cutting_through_a_character_does_not_panic() {
        let text = format!("<p>{}", "é".repeat(2000));
        assert!(looks_like_html(&text));
    }
}
