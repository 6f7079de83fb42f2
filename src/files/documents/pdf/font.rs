//! A page's font as a decoder of shown strings into text, with the glyph widths the layout
//! needs to tell words and lines apart.
//!
//! Text comes from the font's ToUnicode map when it has one and the map knows the code;
//! else, for a simple font, from its encoding (a base encoding and its `/Differences`).
//! A composite font's codes are two bytes (or as its ToUnicode code space says); without a
//! map they give no text, unless the font's CMap is a Unicode one (UCS-2/UTF-16).

use lopdf::{Dictionary, Document, Object};

use super::cmap::CMap;
use super::encoding::{self, Base};

/// The width of a glyph the font does not give (thousandths of the font size).
const DEFAULT_WIDTH: f32 = 500.0;

/// The most widths one font keeps.
const MAX_WIDTHS: usize = 65_536;

/// What a page's font turns codes into.
pub(super) struct Font {
    /// Codes are two bytes unless the ToUnicode code space says otherwise.
    composite: bool,
    /// Codes are UTF-16BE text (a composite font with a Unicode CMap).
    utf16: bool,
    to_unicode: Option<CMap>,
    /// A simple font's character per code, '\0' for none.
    table: [char; 256],
    /// Glyph widths (thousandths of the font size): ranges of codes and their width.
    widths: Vec<(u32, u32, f32)>,
    default_width: f32,
}

/// The text and measure of one shown string.
pub(super) struct Shown {
    /// The sum of the glyphs' widths, in thousandths of the font size.
    pub width: f32,
    /// How many codes were shown, and how many of them were the one-byte space.
    pub codes: usize,
    pub spaces: usize,
}

fn name<'a>(dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    dict.get(key).and_then(Object::as_name).ok()
}

fn number(object: &Object) -> Option<f32> {
    object.as_float().ok().filter(|n| n.is_finite())
}

impl Font {
    /// Reads the font dictionary; parts that cannot be read (a missing or bomb-sized
    /// ToUnicode stream, a broken encoding) are left out, so a font always results.
    pub(super) fn new(doc: &Document, dict: &Dictionary, limit: usize) -> Font {
        let subtype = name(dict, b"Subtype");
        let composite = subtype == Some(b"Type0");
        let to_unicode = dict
            .get_deref(b"ToUnicode", doc)
            .and_then(Object::as_stream)
            .and_then(|s| s.get_plain_content_with_limit(limit))
            .ok()
            .map(|text| CMap::parse(&text));
        let mut font = Font {
            composite,
            utf16: false,
            to_unicode,
            table: Base::Standard.table(),
            widths: Vec::new(),
            default_width: DEFAULT_WIDTH,
        };
        match dict.get_deref(b"Encoding", doc) {
            Ok(Object::Name(n)) if composite => {
                font.utf16 = n.windows(4).any(|w| w == b"UCS2" || w == b"UTF1");
            }
            Ok(Object::Name(n)) => {
                if let Some(base) = Base::named(n) {
                    font.table = base.table();
                }
            }
            Ok(Object::Dictionary(enc)) => font.read_differences(doc, enc),
            _ => {}
        }
        if composite {
            font.read_cid_widths(doc, dict);
        } else if subtype != Some(b"Type3") {
            font.read_simple_widths(doc, dict);
        }
        font
    }

    fn read_differences(&mut self, doc: &Document, enc: &Dictionary) {
        if let Some(base) = name(enc, b"BaseEncoding").and_then(Base::named) {
            self.table = base.table();
        }
        let Ok(differences) = enc
            .get_deref(b"Differences", doc)
            .and_then(Object::as_array)
        else {
            return;
        };
        let mut code = 0usize;
        for item in differences {
            match item {
                Object::Integer(n) => code = (*n).clamp(0, 256) as usize,
                Object::Name(glyph) => {
                    if let Some(slot) = self.table.get_mut(code) {
                        *slot = encoding::glyph(glyph).unwrap_or('\0');
                    }
                    code = (code + 1).min(256);
                }
                _ => {}
            }
        }
    }

    fn read_simple_widths(&mut self, doc: &Document, dict: &Dictionary) {
        let first = dict.get(b"FirstChar").and_then(Object::as_i64).unwrap_or(0);
        let Ok(widths) = dict.get_deref(b"Widths", doc).and_then(Object::as_array) else {
            return;
        };
        let first = first.clamp(0, 255) as u32;
        for (code, w) in (first..256).zip(widths) {
            let w = doc.dereference(w).ok().and_then(|(_, w)| number(w));
            self.widths.push((code, code, w.unwrap_or(DEFAULT_WIDTH)));
        }
    }

    /// A composite font's widths: its descendant's `/DW` and `/W` (`c [w1 w2 …]` and
    /// `c_first c_last w`).
    fn read_cid_widths(&mut self, doc: &Document, dict: &Dictionary) {
        self.default_width = 1000.0;
        let descendant = dict
            .get_deref(b"DescendantFonts", doc)
            .and_then(Object::as_array)
            .ok()
            .and_then(|a| a.first())
            .and_then(|d| doc.dereference(d).ok())
            .and_then(|(_, d)| d.as_dict().ok());
        let Some(descendant) = descendant else {
            return;
        };
        if let Some(dw) = descendant.get(b"DW").ok().and_then(number) {
            self.default_width = dw;
        }
        let Ok(w) = descendant.get_deref(b"W", doc).and_then(Object::as_array) else {
            return;
        };
        let mut items = w
            .iter()
            .filter_map(|o| doc.dereference(o).ok().map(|(_, o)| o));
        while let Some(first) = items.next().and_then(|o| o.as_i64().ok()) {
            let Ok(first) = u32::try_from(first) else {
                return;
            };
            match items.next() {
                Some(Object::Array(list)) => {
                    for (code, w) in (first..).zip(list) {
                        if self.widths.len() >= MAX_WIDTHS {
                            return;
                        }
                        let w = number(w).unwrap_or(self.default_width);
                        self.widths.push((code, code, w));
                    }
                }
                Some(last) => {
                    let (Ok(last), Some(w)) = (last.as_i64(), items.next().and_then(number)) else {
                        return;
                    };
                    let last = u32::try_from(last).unwrap_or(u32::MAX);
                    if self.widths.len() < MAX_WIDTHS && first <= last {
                        self.widths.push((first, last, w));
                    }
                }
                None => return,
            }
        }
        self.widths.sort_by_key(|&(lo, _, _)| lo);
    }

    fn width(&self, code: u32) -> f32 {
        let at = self.widths.partition_point(|&(lo, _, _)| lo <= code);
        match at.checked_sub(1).map(|i| self.widths[i]) {
            Some((_, hi, w)) if code <= hi => w,
            _ => self.default_width,
        }
    }

    /// Appends the text of a shown string to `out` and measures it; the decoding stops once
    /// `out` is over `limit` bytes.
    pub(super) fn show(&self, bytes: &[u8], out: &mut String, limit: usize) -> Shown {
        let mut shown = Shown {
            width: 0.0,
            codes: 0,
            spaces: 0,
        };
        if self.utf16 {
            let units = bytes
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)]));
            let text: String = char::decode_utf16(units).filter_map(Result::ok).collect();
            shown.codes = text.chars().count();
            shown.width = shown.codes as f32 * self.default_width;
            push_text(&text, out);
            return shown;
        }
        let mut text = String::new();
        let mut rest = bytes;
        while !rest.is_empty() && out.len() + text.len() <= limit {
            let fallback = if self.composite { 2 } else { 1 };
            let n = self
                .to_unicode
                .as_ref()
                .and_then(|m| m.code_len(rest))
                .unwrap_or(fallback);
            let (code, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            let value = code.iter().fold(0u32, |v, &b| (v << 8) | b as u32);
            shown.width += self.width(value);
            shown.codes += 1;
            if code == [b' '] {
                shown.spaces += 1;
            }
            let mapped = self
                .to_unicode
                .as_ref()
                .is_some_and(|m| m.push(code, &mut text));
            if !mapped && !self.composite && code.len() == 1 {
                let c = self.table[code[0] as usize];
                if c != '\0' {
                    text.push(c);
                }
            }
        }
        push_text(&text, out);
        shown
    }
}

/// Appends text, control characters left out and the Latin ligatures (U+FB00 to U+FB06)
/// spelled in their letters, as searches and models read them.
pub(super) fn push_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}
