//! A document's text cut into chunks for file search: by its structure first (pages, Markdown
//! headings, paragraphs), then by lines, sentences and words where a paragraph is too long, and
//! by characters where nothing else is left (CJK text without punctuation, a hex dump).
//!
//! Sizes are in characters, not bytes, so CJK text gets chunks of the same reach as Latin text.
//! The bounds are those of LibreChat's RAG API (`CHUNK_SIZE` 1500, `CHUNK_OVERLAP` 100, its
//! LangChain recursive splitter): a chunk holds at most [`MAX_CHARS`] of new text, and a chunk
//! that continues the one before it (the same page and section, cut for size) starts with up
//! to [`OVERLAP_CHARS`] of its end, so a sentence cut in two is whole in one of them.
//!
//! Pages: the document readers end each PDF page with a form feed (`\u{c}`); a text with form
//! feeds is read as pages, numbered from 1, and no chunk spans two of them. Other texts have no
//! page numbers.

/// The most new text one chunk holds (it may start with [`OVERLAP_CHARS`] more).
pub const MAX_CHARS: usize = 1500;
/// How much of a chunk's end the next one repeats, when it continues it.
pub const OVERLAP_CHARS: usize = 100;
/// A heading starts a new chunk once the current one holds at least this much: a run of short
/// sections stays together rather than making crumbs.
const MIN_SECTION_CHARS: usize = 300;
/// What a page ends with in a document's text.
pub const PAGE_BREAK: char = '\u{c}';

/// One piece of a document, as indexed and as the file search tool returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub text: String,
    /// The page it is on (from 1), when the document has pages.
    pub page: Option<u32>,
}

/// Cuts `text` into chunks, in document order; blank text gives none.
pub fn split(text: &str) -> Vec<Chunk> {
    let paged = text.contains(PAGE_BREAK);
    let mut out = Vec::new();
    for (i, page) in text.split(PAGE_BREAK).enumerate() {
        let mut packer = Packer {
            page: paged.then(|| u32::try_from(i + 1).unwrap_or(u32::MAX)),
            current: String::new(),
            len: 0,
            out: &mut out,
        };
        for (heading, paragraph) in paragraphs(page) {
            if heading && packer.len >= MIN_SECTION_CHARS {
                packer.emit();
            }
            for piece in pieces(paragraph, MAX_CHARS) {
                packer.push(&piece);
            }
        }
        packer.emit();
    }
    out
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A Markdown ATX heading line (`# Title` to `###### Title`).
fn is_heading(line: &str) -> bool {
    let t = line.trim_start();
    let hashes = t.chars().take_while(|c| *c == '#').count();
    (1..=6).contains(&hashes) && t[hashes..].starts_with([' ', '\t'])
}

/// The paragraphs of a page (runs of non-blank lines; a heading line always starts one), each
/// with whether it starts with a heading.
fn paragraphs(page: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut heading = false;
    let mut offset = 0;
    for line in page.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        let starts_section = !blank && is_heading(line);
        if let Some(s) = start
            && (blank || starts_section)
        {
            out.push((heading, page[s..offset].trim()));
            start = None;
        }
        if !blank && start.is_none() {
            start = Some(offset);
            heading = starts_section;
        }
        offset += line.len();
    }
    if let Some(s) = start {
        out.push((heading, page[s..].trim()));
    }
    out.retain(|(_, p)| !p.is_empty());
    out
}

/// Where a too long text may be cut, best first: lines, sentences (Latin and CJK), clauses,
/// words. Past the last, it is cut between characters.
const SEPARATORS: &[&str] = &[
    "\n", ". ", "。", "！", "？", "! ", "? ", "; ", "，", ", ", " ",
];

/// `text` as pieces of at most `max` characters, cut at the best separator that does it (each
/// separator stays with the piece before it), neighbours joined up to `max`.
fn pieces(text: &str, max: usize) -> Vec<String> {
    let mut atoms = Vec::new();
    cut(text, max, SEPARATORS, &mut atoms);
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for a in atoms {
        if !current.is_empty() && chars(&current) + chars(&a) > max {
            out.push(std::mem::take(&mut current));
        }
        current.push_str(&a);
    }
    out.push(current);
    out.into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Appends to `out` the smallest parts of `text` (each of at most `max` characters) its first
/// usable separator among `separators` gives, cutting too long parts further with the
/// separators after it.
fn cut(text: &str, max: usize, separators: &[&str], out: &mut Vec<String>) {
    if chars(text) <= max {
        out.push(text.to_owned());
        return;
    }
    // The first separator that cuts the text at all (one only at its end does not).
    let found = separators.iter().position(|s| text.trim_end().contains(*s));
    let Some(at) = found else {
        // Nothing to cut at: by characters.
        let all: Vec<char> = text.chars().collect();
        out.extend(all.chunks(max).map(|c| c.iter().collect::<String>()));
        return;
    };
    let (sep, rest) = (separators[at], &separators[at + 1..]);
    for part in text.split_inclusive(sep) {
        cut(part, max, rest, out);
    }
}

/// Fills chunks of one page from its pieces, in order.
struct Packer<'a> {
    page: Option<u32>,
    current: String,
    /// The new text in `current`, in characters (its overlap not counted).
    len: usize,
    out: &'a mut Vec<Chunk>,
}

impl Packer<'_> {
    fn push(&mut self, piece: &str) {
        let n = chars(piece);
        if self.len > 0 && self.len + 1 + n > MAX_CHARS {
            let tail = overlap(&self.current);
            self.emit();
            self.current = tail;
        }
        if !self.current.is_empty() {
            self.current.push('\n');
        }
        self.current.push_str(piece);
        self.len += n;
    }

    /// Ends the current chunk (nothing carries over into the next).
    fn emit(&mut self) {
        let text = std::mem::take(&mut self.current);
        if self.len > 0 && !text.trim().is_empty() {
            self.out.push(Chunk {
                text,
                page: self.page,
            });
        }
        self.len = 0;
    }
}

/// The end of `text` the next chunk starts with: at most [`OVERLAP_CHARS`], from a word's
/// start when there is a space to start from.
fn overlap(text: &str) -> String {
    let n = chars(text);
    let skip = n.saturating_sub(OVERLAP_CHARS);
    let tail: String = text.chars().skip(skip).collect();
    if skip == 0 {
        return tail;
    }
    match tail.find(char::is_whitespace) {
        Some(i) if i + 1 < tail.len() => tail[i..].trim_start().to_owned(),
        _ => tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_text_fits(chunks: &[Chunk]) {
        for c in chunks {
            assert!(
                chars(&c.text) <= MAX_CHARS + OVERLAP_CHARS + 1,
                "a chunk of {} characters",
                chars(&c.text)
            );
            assert!(!c.text.trim().is_empty());
        }
    }

    #[test]
    fn blank_text_has_no_chunks() {
        assert!(split("").is_empty());
        assert!(split(" \n\n\t\n").is_empty());
        assert!(split("\u{c}\u{c}").is_empty());
    }

    #[test]
    fn a_short_text_is_one_chunk_without_a_page() {
        let c = split("Hello there.\n\nA second paragraph.");
        assert_eq!(
            c,
            [Chunk {
                text: "Hello there.\nA second paragraph.".into(),
                page: None
            }]
        );
    }

    #[test]
    fn headings_start_sections_once_a_chunk_has_some_text() {
        let body = "word ".repeat(80);
        let text = format!("# One\n\n{body}\n\n## Two\n{body}\n\n# Three\nshort\n# Four\nshort");
        let c = split(&text);
        assert_eq!(c.len(), 3, "{c:#?}");
        assert!(c[0].text.starts_with("# One"));
        assert!(c[1].text.starts_with("## Two"));
        // Short sections stay together.
        assert!(c[2].text.starts_with("# Three") && c[2].text.contains("# Four"));
        // A section break carries no overlap.
        assert!(!c[1].text.contains("One"));
        // `#hashtag` and `####### x` are not headings.
        assert!(!is_heading("#hashtag") && !is_heading("####### x") && is_heading("  ### x"));
    }

    #[test]
    fn pages_are_numbered_and_never_shared() {
        let c = split("first page\u{c}\u{c}third page, second part\nmore\u{c}");
        assert_eq!(
            c,
            [
                Chunk {
                    text: "first page".into(),
                    page: Some(1)
                },
                Chunk {
                    text: "third page, second part\nmore".into(),
                    page: Some(3)
                }
            ]
        );
    }

    #[test]
    fn a_text_with_no_breaks_is_cut_with_overlap() {
        let words: Vec<String> = (0..3000).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let c = split(&text);
        new_text_fits(&c);
        assert!(c.len() > 10);
        // Every word is in some chunk, and each chunk starts with the end of the one before.
        let joined: String = c
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        for w in &words {
            assert!(
                joined.contains(&format!("{w} ")) || joined.ends_with(w.as_str()),
                "{w}"
            );
        }
        for pair in c.windows(2) {
            let first_word = pair[1].text.split_whitespace().next().unwrap();
            assert!(
                pair[0].text.contains(first_word),
                "no overlap: {first_word}"
            );
        }
    }

    #[test]
    fn cjk_text_is_cut_at_sentences_then_characters() {
        // Sentences: cut after 。, never through a character.
        let sentence = "東京は日本の首都であり、多くの人が住んでいます。";
        let text = sentence.repeat(200);
        let c = split(&text);
        new_text_fits(&c);
        assert!(c.len() > 2);
        for chunk in &c {
            assert!(chunk.text.ends_with('。'), "{}", chunk.text);
        }
        // No punctuation at all: by characters, every one of them kept.
        let text: String = "漢字かなカナ".chars().cycle().take(4000).collect();
        let c = split(&text);
        new_text_fits(&c);
        let new_chars: usize = c.iter().map(|c| chars(&c.text)).sum();
        assert!(new_chars >= 4000);
        assert!(
            c[1].text.starts_with(
                &c[0]
                    .text
                    .chars()
                    .skip(MAX_CHARS - OVERLAP_CHARS)
                    .collect::<String>()
            )
        );
    }

    #[test]
    fn accents_and_long_lines_survive() {
        let line = format!("Café déjà vu, {}\n", "très ".repeat(400));
        let c = split(&line.repeat(3));
        new_text_fits(&c);
        assert!(
            c.iter().all(|c| c.text.contains("très")),
            "{:?}",
            c.iter().map(|c| chars(&c.text)).collect::<Vec<_>>()
        );
    }
}
