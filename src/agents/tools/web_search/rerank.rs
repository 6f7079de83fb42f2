//! The built-in reranker: the pages' text cut into passages, and the passages that answer the
//! query best chosen by BM25 (Okapi, k1 = 1.2, b = 0.75), with every passage of every page of
//! one search as the collection, so a word common to all the pages counts for little.
//!
//! Words are runs of letters and digits, lower-cased; CJK text has no spaces, so each of its
//! characters is a word of its own. No stemming and no stop words: BM25's weighting already
//! makes "the" worth next to nothing.

use std::collections::HashMap;

/// Passages are paragraphs joined up to about this many characters (a long paragraph is cut
/// at sentence ends near it): enough to carry a fact with its context, small enough that a
/// few per page fit the model's room.
const PASSAGE_CHARS: usize = 600;
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A passage chosen, with its score (LibreChat's `Highlight`).
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub score: f64,
    pub text: String,
}

/// The passages of a page's paragraphs, in order.
pub fn passages(paragraphs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for p in paragraphs {
        for piece in cut(p) {
            if !current.is_empty() && current.len() + piece.len() + 1 > PASSAGE_CHARS {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(piece);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A paragraph in pieces of at most about [`PASSAGE_CHARS`], cut after a sentence's end
/// where there is one, else at a space, else anywhere (at a character boundary).
fn cut(mut p: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    while p.len() > PASSAGE_CHARS {
        let mut limit = PASSAGE_CHARS;
        while !p.is_char_boundary(limit) {
            limit -= 1;
        }
        let head = &p[..limit];
        let at = head
            .rfind(". ")
            .map(|i| i + 1)
            .or_else(|| head.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(limit);
        pieces.push(p[..at].trim());
        p = p[at..].trim_start();
    }
    if !p.trim().is_empty() {
        pieces.push(p.trim());
    }
    pieces
}

/// The words of `text`, as BM25 counts them.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// For each page (its passages), at most `per_page` passages that score above zero for
/// `query`, best first.
pub fn best(query: &str, pages: &[Vec<String>], per_page: usize) -> Vec<Vec<Highlight>> {
    let mut terms = words(query);
    terms.sort();
    terms.dedup();
    // Each passage's word counts and length.
    let docs: Vec<Vec<(HashMap<String, u32>, usize)>> = pages
        .iter()
        .map(|passages| {
            passages
                .iter()
                .map(|p| {
                    let w = words(p);
                    let mut tf = HashMap::new();
                    for t in &w {
                        if terms.binary_search(t).is_ok() {
                            *tf.entry(t.clone()).or_insert(0) += 1;
                        }
                    }
                    (tf, w.len())
                })
                .collect()
        })
        .collect();
    let n = docs.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let avg_len = docs.iter().flatten().map(|(_, l)| *l).sum::<usize>() as f64 / n;
    let idf: HashMap<&str, f64> = terms
        .iter()
        .map(|t| {
            let df = docs
                .iter()
                .flatten()
                .filter(|(tf, _)| tf.contains_key(t))
                .count() as f64;
            (t.as_str(), ((n - df + 0.5) / (df + 0.5) + 1.0).ln())
        })
        .collect();
    docs.iter()
        .zip(pages)
        .map(|(page, texts)| {
            let mut scored: Vec<Highlight> = page
                .iter()
                .zip(texts)
                .map(|((tf, len), text)| {
                    let norm = K1 * (1.0 - B + B * (*len as f64) / avg_len.max(1.0));
                    let score = tf
                        .iter()
                        .map(|(t, &f)| {
                            let f = f as f64;
                            idf[t.as_str()] * f * (K1 + 1.0) / (f + norm)
                        })
                        .sum::<f64>();
                    Highlight {
                        score,
                        text: text.clone(),
                    }
                })
                .filter(|h| h.score > 0.0)
                .collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score));
            scored.truncate(per_page);
            scored
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passage_that_answers_comes_first() {
        let a = passages(&[
            "Paris is the capital of France and its largest city.".into(),
            "The Eiffel Tower was completed in 1889 for the World's Fair.".into(),
        ]);
        let filler = "Cooking pasta takes salted water and patience. ".repeat(20);
        let b = passages(&[filler.clone(), "The tower is 330 metres tall.".into()]);
        let best = best("when was the Eiffel Tower completed", &[a, b], 2);
        assert!(best[0][0].text.contains("1889"), "{best:?}");
        assert!(best[1].iter().all(|h| !h.text.contains("pasta")) || best[1].len() <= 2);
        assert!(best[0][0].score > 0.0);
    }

    #[test]
    fn long_paragraphs_are_cut_at_sentences_and_cjk_counts_per_character() {
        let long = "A sentence about tides. ".repeat(60);
        let p = passages(&[long]);
        assert!(p.len() >= 2 && p.iter().all(|x| x.len() <= PASSAGE_CHARS));
        assert!(p[0].ends_with('.'));
        assert_eq!(
            words("東京タワー is Tall"),
            ["東", "京", "タ", "ワ", "ー", "is", "tall"]
        );
        let best = best("東京", &[vec!["大阪の話".into(), "東京の塔".into()]], 1);
        assert_eq!(best[0][0].text, "東京の塔");
        // Nothing matches: nothing is chosen.
        assert!(super::best("zebra", &[vec!["no match here".into()]], 3)[0].is_empty());
    }
}
