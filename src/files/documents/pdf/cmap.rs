//! A font's ToUnicode CMap (PDF 32000-1 §9.10.3): the code space (how many bytes make a
//! code) and the `bfchar`/`bfrange` maps from codes to text.
//!
//! Only the forms ToUnicode maps use are read: `begincodespacerange`, `beginbfchar` (a code
//! and its UTF-16BE text) and `beginbfrange` (a range and either the text of its first code,
//! whose last unit counts up, or an array of texts). A range is kept as a range, never
//! spread out, so `<0000> <FFFFFFFF>` costs one entry; the entries are bounded in number.
//! Anything else (names, numbers, dictionaries, comments) is skipped, and text that ends
//! early (an unterminated string or array) ends the map where it stops.

/// The most entries one map keeps (the largest CJK maps have some tens of thousands).
const MAX_ENTRIES: usize = 200_000;

/// The most UTF-16 units one code's text keeps (a ligature is a few letters).
const MAX_TARGET_UNITS: usize = 32;

/// A parsed ToUnicode map.
#[derive(Debug, Default)]
pub(super) struct CMap {
    /// Code-space ranges: (bytes in the code, low, high).
    codespace: Vec<(u8, u32, u32)>,
    /// Sorted by (bytes, low).
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    len: u8,
    lo: u32,
    hi: u32,
    target: Target,
}

#[derive(Debug)]
enum Target {
    /// The UTF-16 units of the range's first code; the last counts up along the range.
    Base(Vec<u16>),
    /// One text per code of the range, in order.
    List(Vec<Vec<u16>>),
}

/// A lexical token of a CMap.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Hex(Vec<u8>),
    Word(&'a [u8]),
    ArrayStart,
    ArrayEnd,
}

/// Splits a CMap into tokens; literal strings, dictionaries' brackets and comments are
/// skipped.
struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let s = self.s;
        loop {
            let c = *s.get(self.i)?;
            self.i += 1;
            match c {
                b'%' => {
                    while self.i < s.len() && !matches!(s[self.i], b'\n' | b'\r') {
                        self.i += 1;
                    }
                }
                b'<' if s.get(self.i) == Some(&b'<') => self.i += 1,
                b'>' => {}
                b'<' => {
                    let end = s[self.i..]
                        .iter()
                        .position(|&b| b == b'>')
                        .map_or(s.len(), |p| self.i + p);
                    let digits: Vec<u8> = s[self.i..end]
                        .iter()
                        .filter_map(|&b| (b as char).to_digit(16).map(|d| d as u8))
                        .collect();
                    self.i = (end + 1).min(s.len());
                    let mut bytes: Vec<u8> = digits.chunks(2).map(|p| p[0] << 4).collect();
                    for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
                        *byte |= pair.get(1).copied().unwrap_or(0);
                    }
                    return Some(Token::Hex(bytes));
                }
                b'(' => {
                    // A literal string: skipped, its parentheses balanced and escapes honoured.
                    let mut depth = 1usize;
                    while depth > 0 && self.i < s.len() {
                        match s[self.i] {
                            b'\\' => self.i += 1,
                            b'(' => depth += 1,
                            b')' => depth -= 1,
                            _ => {}
                        }
                        self.i += 1;
                    }
                }
                b'[' => return Some(Token::ArrayStart),
                b']' => return Some(Token::ArrayEnd),
                c if c.is_ascii_whitespace() || c == 0 => {}
                _ => {
                    let start = self.i - 1;
                    while self.i < s.len() && !is_delimiter(s[self.i]) {
                        self.i += 1;
                    }
                    return Some(Token::Word(&s[start..self.i]));
                }
            }
        }
    }
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0 || b"()<>[]{}/%".contains(&b)
}

/// Two hex strings in a row; `None` at anything else (the section's end).
fn hex_pair(tokens: &mut Lexer<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    let Token::Hex(first) = tokens.next()? else {
        return None;
    };
    let Token::Hex(second) = tokens.next()? else {
        return None;
    };
    Some((first, second))
}

/// A code of 1 to 4 bytes as a number, or `None` for any other length.
fn code(bytes: &[u8]) -> Option<(u8, u32)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    let value = bytes.iter().fold(0u32, |v, &b| (v << 8) | b as u32);
    Some((bytes.len() as u8, value))
}

/// The UTF-16BE text of a target, its first [`MAX_TARGET_UNITS`] units.
fn utf16(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .take(MAX_TARGET_UNITS)
        .map(|p| u16::from_be_bytes([p[0], p.get(1).copied().unwrap_or(0)]))
        .collect()
}

impl CMap {
    /// Reads a CMap's text; what cannot be understood is left out.
    pub(super) fn parse(text: &[u8]) -> CMap {
        let mut map = CMap::default();
        let mut tokens = Lexer { s: text, i: 0 };
        while let Some(token) = tokens.next() {
            match token {
                Token::Word(b"begincodespacerange") => map.codespace_section(&mut tokens),
                Token::Word(b"beginbfchar") => map.bfchar_section(&mut tokens),
                Token::Word(b"beginbfrange") => map.bfrange_section(&mut tokens),
                _ => {}
            }
        }
        map.entries.sort_by_key(|e| (e.len, e.lo));
        map
    }

    fn full(&self) -> bool {
        self.entries.len() >= MAX_ENTRIES
    }

    fn codespace_section(&mut self, tokens: &mut Lexer<'_>) {
        while let Some((lo, hi)) = hex_pair(tokens) {
            if let (Some((len, lo)), Some((_, hi))) = (code(&lo), code(&hi))
                && self.codespace.len() < 256
            {
                self.codespace.push((len, lo, hi));
            }
        }
    }

    fn bfchar_section(&mut self, tokens: &mut Lexer<'_>) {
        while let Some((src, dst)) = hex_pair(tokens) {
            if let Some((len, lo)) = code(&src)
                && !self.full()
            {
                let target = Target::Base(utf16(&dst));
                self.entries.push(Entry {
                    len,
                    lo,
                    hi: lo,
                    target,
                });
            }
        }
    }

    fn bfrange_section(&mut self, tokens: &mut Lexer<'_>) {
        while let Some((lo, hi)) = hex_pair(tokens) {
            let target = match tokens.next() {
                Some(Token::Hex(dst)) => Target::Base(utf16(&dst)),
                Some(Token::ArrayStart) => {
                    let mut list = Vec::new();
                    loop {
                        match tokens.next() {
                            Some(Token::Hex(dst)) => list.push(utf16(&dst)),
                            Some(Token::ArrayEnd) => break,
                            _ => return,
                        }
                    }
                    Target::List(list)
                }
                _ => return,
            };
            if let (Some((len, lo)), Some((_, hi))) = (code(&lo), code(&hi))
                && lo <= hi
                && !self.full()
            {
                self.entries.push(Entry {
                    len,
                    lo,
                    hi,
                    target,
                });
            }
        }
    }

    /// How many bytes the code at the start of `bytes` has, by the code space; `None` when
    /// no code-space range holds it (or there is none).
    pub(super) fn code_len(&self, bytes: &[u8]) -> Option<usize> {
        (1..=bytes.len().min(4)).find(|&n| {
            let value = bytes[..n].iter().fold(0u32, |v, &b| (v << 8) | b as u32);
            self.codespace
                .iter()
                .any(|&(len, lo, hi)| len as usize == n && (lo..=hi).contains(&value))
        })
    }

    /// Appends the text of the code `bytes` (1 to 4 bytes); false when the map has none.
    pub(super) fn push(&self, bytes: &[u8], out: &mut String) -> bool {
        let Some((len, value)) = code(bytes) else {
            return false;
        };
        let at = self
            .entries
            .partition_point(|e| (e.len, e.lo) <= (len, value));
        let Some(entry) = at.checked_sub(1).map(|i| &self.entries[i]) else {
            return false;
        };
        if entry.len != len || value > entry.hi {
            return false;
        }
        let offset = value - entry.lo;
        let units: Vec<u16> = match &entry.target {
            Target::Base(units) => {
                let mut units = units.clone();
                let Some(last) = units.last_mut() else {
                    return false;
                };
                match u16::try_from((*last as u32).saturating_add(offset)) {
                    Ok(v) => *last = v,
                    Err(_) => return false,
                }
                units
            }
            Target::List(list) => match list.get(offset as usize) {
                Some(units) => units.clone(),
                None => return false,
            },
        };
        out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
        true
    }
}
