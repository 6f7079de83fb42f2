//! The readable text of an HTML page: its title and its paragraphs, without scripts, styles,
//! navigation, headers, footers, forms or other chrome.
//!
//! Built on html5ever's tokenizer (already in the binary for ammonia's sanitizer), not a DOM:
//! one pass over the tokens, no tree in memory, so a hostile page costs time in proportion to
//! its (already bounded) size and nothing more. Text inside the elements of [`SKIP`] is
//! dropped; the elements of [`BLOCK`] end a paragraph. Entities are decoded by the tokenizer.
//! A readability-style scoring of the page's parts is not needed: the reranker picks the
//! passages that answer the query, so chrome that slips through costs only a little room.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Elements whose text is not the page's content.
const SKIP: [&str; 17] = [
    "script", "style", "noscript", "template", "svg", "math", "head", "nav", "header", "footer",
    "aside", "form", "button", "select", "iframe", "object", "canvas",
];

/// Elements that start and end a paragraph.
const BLOCK: [&str; 30] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "br",
    "hr",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
];

/// What a page says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    /// Its `<title>`, whitespace collapsed.
    pub title: String,
    /// Its paragraphs in order, whitespace collapsed, none empty.
    pub paragraphs: Vec<String>,
}

/// Reads `html`.
pub fn readable(html: &str) -> Page {
    let sink = Sink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut state = tokenizer.sink.state.into_inner();
    state.end_paragraph();
    Page {
        title: collapse(&state.title),
        paragraphs: state.paragraphs,
    }
}

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// How deep inside skipped elements the tokenizer is (0: in the content).
    skipping: usize,
    in_title: bool,
    title: String,
    current: String,
    paragraphs: Vec<String>,
}

impl State {
    fn end_paragraph(&mut self) {
        let text = collapse(&self.current);
        self.current.clear();
        if !text.is_empty() {
            self.paragraphs.push(text);
        }
    }

    fn tag(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if name == "title" {
            self.in_title = tag.kind == TagKind::StartTag;
            return;
        }
        if SKIP.contains(&name) {
            match tag.kind {
                TagKind::StartTag if !tag.self_closing => self.skipping += 1,
                TagKind::EndTag => self.skipping = self.skipping.saturating_sub(1),
                _ => {}
            }
            return;
        }
        if BLOCK.contains(&name) {
            self.end_paragraph();
        }
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut st = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                st.tag(&tag);
                // Without a tree builder, the tokenizer must be told which elements hold raw
                // text, or `if (a<b)` in a script would read as a tag.
                if tag.kind == TagKind::StartTag && !tag.self_closing {
                    return match &*tag.name {
                        "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                            TokenSinkResult::RawData(RawKind::Rawtext)
                        }
                        "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                        "plaintext" => TokenSinkResult::Plaintext,
                        _ => TokenSinkResult::Continue,
                    };
                }
            }
            Token::CharacterTokens(text) => {
                if st.in_title {
                    if st.title.len() < 1_000 {
                        st.title.push_str(&text);
                    }
                } else if st.skipping == 0 {
                    st.current.push_str(&text);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// `s` with each run of whitespace made one space, trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_content_and_drops_the_chrome() {
        let page = readable(
            "<!doctype html><html><head><title> The  Moon &amp; Tides </title>\
             <style>p { color: red }</style><script>if (a<b) { document.write('<p>no</p>') }</script>\
             </head><body><nav><a href=/>Home</a> | <a href=/x>About</a></nav>\
             <header>Site banner</header><main><h1>Tides</h1>\
             <p>The Moon's gravity raises   two bulges\nof water.</p>\
             <p>Spring tides come at new and full moon.<br>Neap tides at quarters.</p>\
             <ul><li>High water</li><li>Low water</li></ul>\
             <noscript>Enable JavaScript</noscript></main>\
             <footer>© 2026 Example</footer></body></html>",
        );
        assert_eq!(page.title, "The Moon & Tides");
        assert_eq!(
            page.paragraphs,
            [
                "Tides",
                "The Moon's gravity raises two bulges of water.",
                "Spring tides come at new and full moon.",
                "Neap tides at quarters.",
                "High water",
                "Low water",
            ]
        );
    }

    #[test]
    fn broken_markup_still_reads() {
        let page = readable("<p>one <b>two<p>three</div></span> <script>never closed");
        assert_eq!(page.paragraphs, ["one two", "three"]);
        assert_eq!(readable("").paragraphs, Vec::<String>::new());
        assert_eq!(readable("just text").paragraphs, ["just text"]);
    }
}
