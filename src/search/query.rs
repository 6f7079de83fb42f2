//! Turns what a person typed into a query. The input is always text: quotes mark phrases when
//! they pair up and are ignored otherwise, and words such as `AND`, `OR` or `-x` are just
//! words, so no input can fail to parse. Every word must match; the last word also matches as
//! a prefix while the person is still typing it; a word that the tokenizer splits into several
//! terms (CJK text, `e-mail`) must match as a phrase.

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use super::tokenizer;

/// The shortest last word that is also matched as a prefix; shorter ones would expand to
/// too many terms to be useful.
const MIN_PREFIX_CHARS: usize = 2;
/// How many of the searcher's terms a prefix may expand to.
pub const MAX_PREFIX_EXPANSIONS: usize = 50;

/// The terms a query looks for, for highlighting.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub exact: Vec<String>,
    pub prefix: Option<String>,
}

impl Wanted {
    /// Whether an analyzed term of a document matches.
    pub fn matches(&self, term: &str) -> bool {
        self.exact.iter().any(|t| t == term)
            || self.prefix.as_deref().is_some_and(|p| term.starts_with(p))
    }
}

/// One group of terms that must appear together.
#[derive(Debug, PartialEq, Eq)]
struct Group {
    terms: Vec<String>,
    prefix: bool,
}

/// Splits the input into groups: quoted phrases and words.
fn groups(analyzer: &mut TextAnalyzer, input: &str) -> Vec<Group> {
    let quotes = input.matches('"').count();
    // An odd quote out (someone is typing a phrase) is ignored, not an error.
    let usable_quotes = quotes - quotes % 2;
    let mut out = Vec::new();
    let mut seen_quotes = 0;
    let mut in_phrase = false;
    let mut current = String::new();
    let flush =
        |current: &mut String, phrase: bool, out: &mut Vec<Group>, analyzer: &mut TextAnalyzer| {
            if phrase {
                let terms: Vec<String> = tokenizer::terms(analyzer, current)
                    .into_iter()
                    .map(|(t, _)| t)
                    .collect();
                if !terms.is_empty() {
                    out.push(Group {
                        terms,
                        prefix: false,
                    });
                }
            } else {
                for word in current.split_whitespace() {
                    let terms: Vec<String> = tokenizer::terms(analyzer, word)
                        .into_iter()
                        .map(|(t, _)| t)
                        .collect();
                    if !terms.is_empty() {
                        out.push(Group {
                            terms,
                            prefix: false,
                        });
                    }
                }
            }
            current.clear();
        };
    for c in input.chars() {
        if c == '"' {
            seen_quotes += 1;
            if seen_quotes <= usable_quotes {
                flush(&mut current, in_phrase, &mut out, analyzer);
                in_phrase = !in_phrase;
            } else {
                current.push(' ');
            }
        } else {
            current.push(c);
        }
    }
    let ends_open = !in_phrase && !current.is_empty() && !current.ends_with(char::is_whitespace);
    let before = out.len();
    flush(&mut current, in_phrase, &mut out, analyzer);
    // The word being typed (not a closed phrase) is also matched as a prefix.
    if ends_open
        && out.len() > before
        && let Some(last) = out.last_mut()
        && last
            .terms
            .last()
            .is_some_and(|t| t.chars().count() >= MIN_PREFIX_CHARS)
    {
        last.prefix = true;
    }
    out
}

/// The query for `input` over `field`, or `None` when the input holds no searchable term.
/// `expand(prefix)` lists the searcher's own terms that start with `prefix` (at most
/// [`MAX_PREFIX_EXPANSIONS`]): the word being typed matches any of them.
pub fn build(
    analyzer: &mut TextAnalyzer,
    field: Field,
    input: &str,
    expand: &mut dyn FnMut(&str) -> Vec<String>,
) -> Option<(Box<dyn Query>, Wanted)> {
    let groups = groups(analyzer, input);
    if groups.is_empty() {
        return None;
    }
    let mut wanted = Wanted::default();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let term = |t: &str| Term::from_field_text(field, t);
    for mut g in groups {
        let last = g.terms.pop().expect("groups are never empty");
        let head: Vec<Term> = g.terms.iter().map(|t| term(t)).collect();
        // The group's terms with `end` as the last one: a term, or a phrase.
        let with_end = |end: &str| -> Box<dyn Query> {
            if head.is_empty() {
                Box::new(TermQuery::new(term(end), IndexRecordOption::WithFreqs))
            } else {
                let mut terms = head.clone();
                terms.push(term(end));
                Box::new(PhraseQuery::new(terms))
            }
        };
        let clause: Box<dyn Query> = if g.prefix {
            // The finished word outranks the words it begins.
            let mut options: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Should,
                Box::new(BoostQuery::new(with_end(&last), 2.0)),
            )];
            for longer in expand(&last).into_iter().filter(|t| *t != last) {
                options.push((Occur::Should, with_end(&longer)));
            }
            Box::new(BooleanQuery::new(options))
        } else {
            with_end(&last)
        };
        wanted.exact.extend(g.terms);
        if g.prefix {
            wanted.prefix = Some(last);
        } else {
            wanted.exact.push(last);
        }
        clauses.push((Occur::Must, clause));
    }
    Some((Box::new(BooleanQuery::new(clauses)), wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(input: &str) -> Vec<(Vec<&'static str>, bool)> {
        let leaked: Vec<Group> = groups(&mut tokenizer::analyzer(), input);
        leaked
            .into_iter()
            .map(|g| {
                (
                    g.terms
                        .into_iter()
                        .map(|t| &*Box::leak(t.into_boxed_str()))
                        .collect(),
                    g.prefix,
                )
            })
            .collect()
    }

    #[test]
    fn words_phrases_and_the_word_being_typed() {
        assert_eq!(g("rust tok"), [(vec!["rust"], false), (vec!["tok"], true)]);
        assert_eq!(
            g("rust tok "),
            [(vec!["rust"], false), (vec!["tok"], false)]
        );
        assert_eq!(
            g("\"Hello World\" x"),
            [(vec!["hello", "world"], false), (vec!["x"], false)]
        );
        assert_eq!(g("\"hello wor\""), [(vec!["hello", "wor"], false)]);
        // CJK characters are whole terms already: no prefix.
        assert_eq!(g("東京"), [(vec!["東", "京"], false)]);
    }

    #[test]
    fn hostile_input_is_text() {
        assert_eq!(g("\""), Vec::<(Vec<&str>, bool)>::new());
        assert_eq!(g("AND"), [(vec!["and"], true)]);
        assert_eq!(g("a \"b"), [(vec!["a"], false), (vec!["b"], false)]);
        assert_eq!(
            g("title:x -y +z* (w)"),
            [
                (vec!["title", "x"], false),
                (vec!["y"], false),
                (vec!["z"], false),
                (vec!["w"], false)
            ]
        );
        assert!(g("*** ::: \\ ()").is_empty());
    }
}
