//! How text becomes search terms, for the index and for queries alike.
//!
//! Words are runs of letters and digits, as in most tokenizers, so English, German, Russian or
//! Arabic text splits on spaces and punctuation. Chinese and Japanese are written without
//! spaces, and Korean attaches particles to words, so every Han, kana and Hangul character is a
//! term of its own: a query of several such characters becomes a phrase of consecutive
//! characters, which finds the word wherever it stands. Terms are lowercased and accents are
//! folded (`Café` and `cafe` match), and absurdly long terms are dropped.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const NAME: &str = "librechat";

/// The analyzer used for every searchable field and every query.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordsAndCharacters::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzed terms of `text`, with their byte ranges, in order.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push((t.text.clone(), t.offset_from..t.offset_to));
    }
    out
}

/// Whether `c` is written without spaces between words (Han, kana, Hangul and their variants).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals, Kangxi radicals
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3100..=0x312F     // Bopomofo
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xA960..=0xA97F     // Hangul Jamo extended A
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // half-width Katakana
        | 0x20000..=0x3FFFF) // CJK extensions B and later
}

/// Splits text into words, and CJK text into single characters.
#[derive(Clone, Default)]
pub struct WordsAndCharacters {
    token: Token,
}

pub struct Stream<'a> {
    text: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    token: &'a mut Token,
}

impl Tokenizer for WordsAndCharacters {
    type TokenStream<'a> = Stream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Stream<'a> {
        self.token.reset();
        Stream {
            text,
            chars: text.char_indices().peekable(),
            token: &mut self.token,
        }
    }
}

impl TokenStream for Stream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while let Some((start, c)) = self.chars.next() {
            if is_cjk(c) {
                let end = start + c.len_utf8();
                self.set(start, end);
                return true;
            }
            if c.is_alphanumeric() {
                let mut end = start + c.len_utf8();
                while let Some(&(i, next)) = self.chars.peek() {
                    if !next.is_alphanumeric() || is_cjk(next) {
                        break;
                    }
                    end = i + next.len_utf8();
                    self.chars.next();
                }
                self.set(start, end);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

impl Stream<'_> {
    fn set(&mut self, start: usize, end: usize) {
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.text.push_str(&self.text[start..end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        terms(&mut analyzer(), text)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn latin_words_are_lowercased_and_folded() {
        assert_eq!(
            words("Crème Brûlée, NAÏVE café—déjà vu!"),
            ["creme", "brulee", "naive", "cafe", "deja", "vu"]
        );
        assert_eq!(words("Straße Ørsted"), ["strasse", "orsted"]);
    }

    #[test]
    fn cjk_becomes_single_characters_and_mixed_text_splits() {
        assert_eq!(words("東京タワー"), ["東", "京", "タ", "ワ", "ー"]);
        assert_eq!(words("iPhone15は便利"), ["iphone15", "は", "便", "利"]);
        assert_eq!(words("서울에서"), ["서", "울", "에", "서"]);
        assert_eq!(words("Привет, мир"), ["привет", "мир"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Déjà 東京";
        for (_, range) in terms(&mut analyzer(), text) {
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        }
        assert!(words("").is_empty() && words(" \"' -- ").is_empty());
    }
}
