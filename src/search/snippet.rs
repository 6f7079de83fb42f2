//! Highlighted snippets: the part of a text around the best run of matching terms, HTML-escaped,
//! with each match wrapped in `<mark>`. Built from the same tokenizer as the index, so prefixes
//! and CJK characters highlight exactly what matched.

use tantivy::tokenizer::TextAnalyzer;

use super::query::Wanted;
use super::tokenizer;

/// About how many characters a snippet shows.
pub const SNIPPET_CHARS: usize = 160;

/// The snippet of `text` for the terms in `wanted`, at most about `max_chars` characters of
/// text (plus the `<mark>` tags and an ellipsis at a cut end).
pub fn snippet(
    analyzer: &mut TextAnalyzer,
    text: &str,
    wanted: &Wanted,
    max_chars: usize,
) -> String {
    let hits: Vec<std::ops::Range<usize>> = tokenizer::terms(analyzer, text)
        .into_iter()
        .filter(|(t, _)| wanted.matches(t))
        .map(|(_, r)| r)
        .collect();
    // The window (in bytes, about max_chars characters long) that holds the most hits.
    let budget = max_chars * 3;
    let mut best = (0usize, 0usize); // (hits, index of first hit)
    let mut end = 0;
    for start in 0..hits.len() {
        end = end.max(start);
        while end + 1 < hits.len() && hits[end + 1].end - hits[start].start <= budget {
            end += 1;
        }
        if end + 1 - start > best.0 {
            best = (end + 1 - start, start);
        }
    }
    let anchor = hits.get(best.1).map_or(0, |r| r.start);
    // Start a little before the first hit, at a character boundary, preferring a space.
    let lead = max_chars / 4;
    let from_lead = text[..anchor]
        .char_indices()
        .rev()
        .take(lead)
        .last()
        .map_or(anchor, |(i, _)| i);
    let mut from = from_lead;
    if from > 0
        && let Some((space, c)) = text[from..anchor]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
    {
        // Past the space, which may be several bytes (U+00A0, U+3000, ...).
        from += space + c.len_utf8();
    }
    let to = text[from..]
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| from + i);
    let mut out = String::with_capacity(to - from + 32);
    if from > 0 {
        out.push('…');
    }
    let mut at = from;
    for r in hits.iter().filter(|r| r.start >= from && r.end <= to) {
        escape_into(&mut out, &text[at..r.start]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[r.start..r.end]);
        out.push_str("</mark>");
        at = r.end;
    }
    escape_into(&mut out, &text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(exact: &[&str], prefix: Option<&str>) -> Wanted {
        Wanted {
            exact: exact.iter().map(|s| s.to_string()).collect(),
            prefix: prefix.map(str::to_owned),
        }
    }

    #[test]
    fn marks_matches_and_escapes_everything_else() {
        let s = snippet(
            &mut tokenizer::analyzer(),
            "<b>Rust</b> & the Café's rusty tools",
            &w(&["cafe"], Some("rust")),
            200,
        );
        assert_eq!(
            s,
            "&lt;b&gt;<mark>Rust</mark>&lt;/b&gt; &amp; the <mark>Café</mark>&#39;s <mark>rusty</mark> tools"
        );
    }

    #[test]
    fn long_texts_are_cut_around_the_hits() {
        let text = format!(
            "{} needle here {}",
            "hay ".repeat(200),
            "straw ".repeat(200)
        );
        let s = snippet(&mut tokenizer::analyzer(), &text, &w(&["needle"], None), 60);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>needle</mark> here"), "{s}");
        assert!(s.chars().count() < 60 + 20, "{s}");
        // Wide spaces before the match: the cut must land on a character boundary.
        let wide = format!("{}\u{a0}word needle \u{3000}x", "x".repeat(100));
        let s = snippet(&mut tokenizer::analyzer(), &wide, &w(&["needle"], None), 20);
        assert!(s.contains("<mark>needle</mark>"), "{s}");
        let cjk = snippet(
            &mut tokenizer::analyzer(),
            "我住在東京都",
            &w(&["東", "京"], None),
            50,
        );
        assert_eq!(cjk, "我住在<mark>東</mark><mark>京</mark>都");
    }
}
