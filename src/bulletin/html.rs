//! Turns a bulletin saved as a web page or an email body into the plain
//! lines the text grammar reads. Pure; no I/O.
//!
//! Block elements become paragraphs (a blank line between them), `<br>` a
//! line break, `<li>` a `•` bullet. Scripts, styles, navigation, forms and
//! footers are skipped, and so are the unsubscribe and copyright lines that
//! email bodies carry in plain table cells. Where the page marks its content
//! with `<article>` or `<main>`, only that is read.

use scraper::{ElementRef, Html, Node, Selector};

/// Whether `text` is a web page or an email body rather than plain text.
pub fn looks_like_html(text: &str) -> bool {
    let head = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if !head.starts_with('<') {
        return false;
    }
    let head = head[..head.len().min(2048)].to_ascii_lowercase();
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
    let document = Html::parse_document(html);
    let content = ["article", "main", "body"]
        .iter()
        .filter_map(|name| Selector::parse(name).ok())
        .find_map(|selector| document.select(&selector).next())
        .unwrap_or_else(|| document.root_element());
    let mut writer = Writer::default();
    writer.walk(content);
    writer.finish()
}

#[derive(Default)]
struct Writer {
    text: String,
    /// The line being built, white space already folded.
    line: String,
}

impl Writer {
    fn walk(&mut self, element: ElementRef<'_>) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.push_inline(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child);
                    }
                }
                _ => {}
            }
        }
    }

    fn element(&mut self, element: ElementRef<'_>) {
        let name = element.value().name();
        if is_skipped(element) {
            return;
        }
        match name {
            "br" => self.end_line(),
            "li" => {
                self.end_paragraph();
                self.line.push_str("• ");
                self.walk(element);
                self.end_paragraph();
            }
            _ if is_block(name) => {
                self.end_paragraph();
                self.walk(element);
                self.end_paragraph();
            }
            _ => self.walk(element),
        }
    }

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

/// Elements that never hold a bulletin's words.
fn is_skipped(element: ElementRef<'_>) -> bool {
    let value = element.value();
    if matches!(
        value.name(),
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
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
    if matches!(
        value.attr("role"),
        Some("navigation" | "contentinfo" | "search" | "menu")
    ) || value.attr("aria-hidden") == Some("true")
    {
        return true;
    }
    let marked = |name: &str| {
        name.split(['-', '_', ' '])
            .any(|part| SKIPPED_MARKS.contains(&part.to_ascii_lowercase().as_str()))
    };
    value.classes().any(marked) || value.id().is_some_and(marked)
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
}
