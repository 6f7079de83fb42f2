//! Simple fonts' one-byte encodings (PDF 32000-1 Annex D): the standard base encodings and
//! the glyph names an encoding's `/Differences` use.
//!
//! The four base encodings differ from ASCII only in their upper half (and Standard in two
//! quotes), so each is kept as its upper 128 code points. Glyph names are read by the
//! Adobe Glyph List's rules for `uniXXXX` and `uXXXX[XX]`, a suffix after a dot dropped
//! (`a.sc`), and a short table of the common names (Latin letters, digits, punctuation,
//! ligatures, quotes, dashes and the accented letters of Latin-1); other names give no text.

/// A base encoding (`/BaseEncoding` or a font's `/Encoding` name).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Base {
    Standard,
    WinAnsi,
    MacRoman,
    PdfDoc,
}

impl Base {
    /// The encoding of that name; `None` for names that are not one of the four.
    pub(super) fn named(name: &[u8]) -> Option<Base> {
        Some(match name {
            b"StandardEncoding" => Base::Standard,
            b"WinAnsiEncoding" => Base::WinAnsi,
            b"MacRomanEncoding" => Base::MacRoman,
            b"PDFDocEncoding" => Base::PdfDoc,
            _ => return None,
        })
    }

    /// The character of each code, '\0' where the code has none.
    pub(super) fn table(self) -> [char; 256] {
        let upper = match self {
            Base::Standard => &STANDARD,
            Base::WinAnsi => &WIN_ANSI,
            Base::MacRoman => &MAC_ROMAN,
            Base::PdfDoc => &PDF_DOC,
        };
        let mut table = ['\0'; 256];
        for (code, c) in table.iter_mut().enumerate().take(0x7f).skip(0x20) {
            *c = code as u8 as char;
        }
        if self == Base::Standard {
            table[0x27] = '\u{2019}';
            table[0x60] = '\u{2018}';
        }
        for (c, &unit) in table[128..].iter_mut().zip(upper) {
            *c = char::from_u32(unit as u32).unwrap_or('\0');
        }
        table
    }
}

/// The character a glyph name stands for (the first, for names of several).
pub(super) fn glyph(name: &[u8]) -> Option<char> {
    let name = std::str::from_utf8(name).ok()?;
    let name = name.split('.').next().unwrap_or(name);
    if let Some(c) = name.strip_prefix("uni").and_then(|h| hex_char(h.get(..4)?)) {
        return Some(c);
    }
    if let Some(hex) = name.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && let Some(c) = hex_char(hex)
    {
        return Some(c);
    }
    if name.len() == 1 && name.as_bytes()[0].is_ascii_alphabetic() {
        return name.chars().next();
    }
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
}

fn hex_char(hex: &str) -> Option<char> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}

// The upper halves (codes 128 to 255) of the base encodings, as UTF-16 code units.

const STANDARD: [u16; 128] = [
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x00A1, 0x00A2, 0x00A3,
    0x2044, 0x00A5, 0x0192, 0x00A7, 0x00A4, 0x0027, 0x201C, 0x00AB, 0x2039, 0x203A, 0xFB01, 0xFB02,
    0x0000, 0x2013, 0x2020, 0x2021, 0x00B7, 0x0000, 0x00B6, 0x2022, 0x201A, 0x201E, 0x201D, 0x00BB,
    0x2026, 0x2030, 0x0000, 0x00BF, 0x0000, 0x0060, 0x00B4, 0x02C6, 0x02DC, 0x00AF, 0x02D8, 0x02D9,
    0x00A8, 0x0000, 0x02DA, 0x00B8, 0x0000, 0x02DD, 0x02DB, 0x02C7, 0x2014, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x00C6, 0x0000, 0x00AA, 0x0000, 0x0000, 0x0000, 0x0000, 0x0141, 0x00D8, 0x0152, 0x00BA,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x00E6, 0x0000, 0x0000, 0x0000, 0x0131, 0x0000, 0x0000,
    0x0142, 0x00F8, 0x0153, 0x00DF, 0x0000, 0x0000, 0x0000, 0x0000,
];
const WIN_ANSI: [u16; 128] = [
    0x20AC, 0x2022, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x2022, 0x017D, 0x2022, 0x2022, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x2022, 0x017E, 0x0178, 0x0020, 0x00A1, 0x00A2, 0x00A3,
    0x00A4, 0x00A5, 0x00A6, 0x00A7, 0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x002D, 0x00AE, 0x00AF,
    0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7, 0x00B8, 0x00B9, 0x00BA, 0x00BB,
    0x00BC, 0x00BD, 0x00BE, 0x00BF, 0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x00CC, 0x00CD, 0x00CE, 0x00CF, 0x00D0, 0x00D1, 0x00D2, 0x00D3,
    0x00D4, 0x00D5, 0x00D6, 0x00D7, 0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x00DD, 0x00DE, 0x00DF,
    0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x00E4, 0x00E5, 0x00E6, 0x00E7, 0x00E8, 0x00E9, 0x00EA, 0x00EB,
    0x00EC, 0x00ED, 0x00EE, 0x00EF, 0x00F0, 0x00F1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x00F6, 0x00F7,
    0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x00FD, 0x00FE, 0x00FF,
];
const MAC_ROMAN: [u16; 128] = [
    0x00C4, 0x00C5, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00DC, 0x00E1, 0x00E0, 0x00E2, 0x00E4, 0x00E3,
    0x00E5, 0x00E7, 0x00E9, 0x00E8, 0x00EA, 0x00EB, 0x00ED, 0x00EC, 0x00EE, 0x00EF, 0x00F1, 0x00F3,
    0x00F2, 0x00F4, 0x00F6, 0x00F5, 0x00FA, 0x00F9, 0x00FB, 0x00FC, 0x2020, 0x00B0, 0x00A2, 0x00A3,
    0x00A7, 0x2022, 0x00B6, 0x00DF, 0x00AE, 0x00A9, 0x2122, 0x00B4, 0x00A8, 0x2260, 0x00C6, 0x00D8,
    0x221E, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x00B5, 0x2202, 0x2211, 0x220F, 0x03C0, 0x222B, 0x00AA,
    0x00BA, 0x2126, 0x00E6, 0x00F8, 0x00BF, 0x00A1, 0x00AC, 0x221A, 0x0192, 0x2248, 0x2206, 0x00AB,
    0x00BB, 0x2026, 0x0020, 0x00C0, 0x00C3, 0x00D5, 0x0152, 0x0153, 0x2013, 0x2014, 0x201C, 0x201D,
    0x2018, 0x2019, 0x00F7, 0x25CA, 0x00FF, 0x0178, 0x2044, 0x00A4, 0x2039, 0x203A, 0xFB01, 0xFB02,
    0x2021, 0x00B7, 0x201A, 0x201E, 0x2030, 0x00C2, 0x00CA, 0x00C1, 0x00CB, 0x00C8, 0x00CD, 0x00CE,
    0x00CF, 0x00CC, 0x00D3, 0x00D4, 0xF8FF, 0x00D2, 0x00DA, 0x00DB, 0x00D9, 0x0131, 0x02C6, 0x02DC,
    0x00AF, 0x02D8, 0x02D9, 0x02DA, 0x00B8, 0x02DD, 0x02DB, 0x02C7,
];
const PDF_DOC: [u16; 128] = [
    0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044, 0x2039, 0x203A, 0x2212, 0x2030,
    0x201E, 0x201C, 0x201D, 0x2018, 0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141, 0x0152, 0x0160,
    0x0178, 0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E, 0x0000, 0x20AC, 0x00A1, 0x00A2, 0x00A3,
    0x00A4, 0x00A5, 0x00A6, 0x00A7, 0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x0000, 0x00AE, 0x00AF,
    0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7, 0x00B8, 0x00B9, 0x00BA, 0x00BB,
    0x00BC, 0x00BD, 0x00BE, 0x00BF, 0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x00CC, 0x00CD, 0x00CE, 0x00CF, 0x00D0, 0x00D1, 0x00D2, 0x00D3,
    0x00D4, 0x00D5, 0x00D6, 0x00D7, 0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x00DD, 0x00DE, 0x00DF,
    0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x00E4, 0x00E5, 0x00E6, 0x00E7, 0x00E8, 0x00E9, 0x00EA, 0x00EB,
    0x00EC, 0x00ED, 0x00EE, 0x00EF, 0x00F0, 0x00F1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x00F6, 0x00F7,
    0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x00FD, 0x00FE, 0x00FF,
];
/// The common glyph names and their characters.
const NAMES: &[(&str, char)] = &[
    ("space", '\u{0020}'),
    ("exclam", '\u{0021}'),
    ("quotedbl", '\u{0022}'),
    ("numbersign", '\u{0023}'),
    ("dollar", '\u{0024}'),
    ("percent", '\u{0025}'),
    ("ampersand", '\u{0026}'),
    ("quotesingle", '\u{0027}'),
    ("quoteright", '\u{2019}'),
    ("parenleft", '\u{0028}'),
    ("parenright", '\u{0029}'),
    ("asterisk", '\u{002A}'),
    ("plus", '\u{002B}'),
    ("comma", '\u{002C}'),
    ("hyphen", '\u{002D}'),
    ("period", '\u{002E}'),
    ("slash", '\u{002F}'),
    ("colon", '\u{003A}'),
    ("semicolon", '\u{003B}'),
    ("less", '\u{003C}'),
    ("equal", '\u{003D}'),
    ("greater", '\u{003E}'),
    ("question", '\u{003F}'),
    ("at", '\u{0040}'),
    ("bracketleft", '\u{005B}'),
    ("backslash", '\u{005C}'),
    ("bracketright", '\u{005D}'),
    ("asciicircum", '\u{005E}'),
    ("underscore", '\u{005F}'),
    ("grave", '\u{0060}'),
    ("quoteleft", '\u{2018}'),
    ("braceleft", '\u{007B}'),
    ("bar", '\u{007C}'),
    ("braceright", '\u{007D}'),
    ("asciitilde", '\u{007E}'),
    ("zero", '\u{0030}'),
    ("one", '\u{0031}'),
    ("two", '\u{0032}'),
    ("three", '\u{0033}'),
    ("four", '\u{0034}'),
    ("five", '\u{0035}'),
    ("six", '\u{0036}'),
    ("seven", '\u{0037}'),
    ("eight", '\u{0038}'),
    ("nine", '\u{0039}'),
    ("fi", '\u{FB01}'),
    ("fl", '\u{FB02}'),
    ("ff", '\u{FB00}'),
    ("ffi", '\u{FB03}'),
    ("ffl", '\u{FB04}'),
    ("quotedblleft", '\u{201C}'),
    ("quotedblright", '\u{201D}'),
    ("quotesinglbase", '\u{201A}'),
    ("quotedblbase", '\u{201E}'),
    ("guillemotleft", '\u{00AB}'),
    ("guillemotright", '\u{00BB}'),
    ("guilsinglleft", '\u{2039}'),
    ("guilsinglright", '\u{203A}'),
    ("endash", '\u{2013}'),
    ("emdash", '\u{2014}'),
    ("minus", '\u{2212}'),
    ("bullet", '\u{2022}'),
    ("ellipsis", '\u{2026}'),
    ("periodcentered", '\u{00B7}'),
    ("dagger", '\u{2020}'),
    ("daggerdbl", '\u{2021}'),
    ("trademark", '\u{2122}'),
    ("copyright", '\u{00A9}'),
    ("registered", '\u{00AE}'),
    ("degree", '\u{00B0}'),
    ("section", '\u{00A7}'),
    ("paragraph", '\u{00B6}'),
    ("cent", '\u{00A2}'),
    ("sterling", '\u{00A3}'),
    ("yen", '\u{00A5}'),
    ("Euro", '\u{20AC}'),
    ("currency", '\u{00A4}'),
    ("exclamdown", '\u{00A1}'),
    ("questiondown", '\u{00BF}'),
    ("ordfeminine", '\u{00AA}'),
    ("ordmasculine", '\u{00BA}'),
    ("plusminus", '\u{00B1}'),
    ("multiply", '\u{00D7}'),
    ("divide", '\u{00F7}'),
    ("mu", '\u{00B5}'),
    ("onehalf", '\u{00BD}'),
    ("onequarter", '\u{00BC}'),
    ("threequarters", '\u{00BE}'),
    ("onesuperior", '\u{00B9}'),
    ("twosuperior", '\u{00B2}'),
    ("threesuperior", '\u{00B3}'),
    ("dotlessi", '\u{0131}'),
    ("germandbls", '\u{00DF}'),
    ("nbspace", '\u{00A0}'),
    ("nonbreakingspace", '\u{00A0}'),
    ("sfthyphen", '\u{00AD}'),
    ("brokenbar", '\u{00A6}'),
    ("logicalnot", '\u{00AC}'),
    ("macron", '\u{00AF}'),
    ("acute", '\u{00B4}'),
    ("cedilla", '\u{00B8}'),
    ("dieresis", '\u{00A8}'),
    ("circumflex", '\u{02C6}'),
    ("tilde", '\u{02DC}'),
    ("ring", '\u{02DA}'),
    ("caron", '\u{02C7}'),
    ("breve", '\u{02D8}'),
    ("dotaccent", '\u{02D9}'),
    ("hungarumlaut", '\u{02DD}'),
    ("ogonek", '\u{02DB}'),
    ("perthousand", '\u{2030}'),
    ("florin", '\u{0192}'),
    ("fraction", '\u{2044}'),
    ("AE", '\u{00C6}'),
    ("ae", '\u{00E6}'),
    ("OE", '\u{0152}'),
    ("oe", '\u{0153}'),
    ("Oslash", '\u{00D8}'),
    ("oslash", '\u{00F8}'),
    ("Eth", '\u{00D0}'),
    ("eth", '\u{00F0}'),
    ("Thorn", '\u{00DE}'),
    ("thorn", '\u{00FE}'),
    ("Lslash", '\u{0141}'),
    ("lslash", '\u{0142}'),
    ("Scaron", '\u{0160}'),
    ("scaron", '\u{0161}'),
    ("Zcaron", '\u{017D}'),
    ("zcaron", '\u{017E}'),
    ("Ydieresis", '\u{0178}'),
    ("ydieresis", '\u{00FF}'),
    ("Aacute", '\u{00C1}'),
    ("Agrave", '\u{00C0}'),
    ("Acircumflex", '\u{00C2}'),
    ("Adieresis", '\u{00C4}'),
    ("Atilde", '\u{00C3}'),
    ("Aring", '\u{00C5}'),
    ("aacute", '\u{00E1}'),
    ("agrave", '\u{00E0}'),
    ("acircumflex", '\u{00E2}'),
    ("adieresis", '\u{00E4}'),
    ("atilde", '\u{00E3}'),
    ("aring", '\u{00E5}'),
    ("Eacute", '\u{00C9}'),
    ("Egrave", '\u{00C8}'),
    ("Ecircumflex", '\u{00CA}'),
    ("Edieresis", '\u{00CB}'),
    ("Ecaron", '\u{011A}'),
    ("eacute", '\u{00E9}'),
    ("egrave", '\u{00E8}'),
    ("ecircumflex", '\u{00EA}'),
    ("edieresis", '\u{00EB}'),
    ("ecaron", '\u{011B}'),
    ("Iacute", '\u{00CD}'),
    ("Igrave", '\u{00CC}'),
    ("Icircumflex", '\u{00CE}'),
    ("Idieresis", '\u{00CF}'),
    ("Itilde", '\u{0128}'),
    ("iacute", '\u{00ED}'),
    ("igrave", '\u{00EC}'),
    ("icircumflex", '\u{00EE}'),
    ("idieresis", '\u{00EF}'),
    ("itilde", '\u{0129}'),
    ("Oacute", '\u{00D3}'),
    ("Ograve", '\u{00D2}'),
    ("Ocircumflex", '\u{00D4}'),
    ("Odieresis", '\u{00D6}'),
    ("Otilde", '\u{00D5}'),
    ("oacute", '\u{00F3}'),
    ("ograve", '\u{00F2}'),
    ("ocircumflex", '\u{00F4}'),
    ("odieresis", '\u{00F6}'),
    ("otilde", '\u{00F5}'),
    ("Uacute", '\u{00DA}'),
    ("Ugrave", '\u{00D9}'),
    ("Ucircumflex", '\u{00DB}'),
    ("Udieresis", '\u{00DC}'),
    ("Utilde", '\u{0168}'),
    ("Uring", '\u{016E}'),
    ("uacute", '\u{00FA}'),
    ("ugrave", '\u{00F9}'),
    ("ucircumflex", '\u{00FB}'),
    ("udieresis", '\u{00FC}'),
    ("utilde", '\u{0169}'),
    ("uring", '\u{016F}'),
    ("Yacute", '\u{00DD}'),
    ("Ycircumflex", '\u{0176}'),
    ("yacute", '\u{00FD}'),
    ("ycircumflex", '\u{0177}'),
    ("Nacute", '\u{0143}'),
    ("Ntilde", '\u{00D1}'),
    ("Ncedilla", '\u{0145}'),
    ("Ncaron", '\u{0147}'),
    ("nacute", '\u{0144}'),
    ("ntilde", '\u{00F1}'),
    ("ncedilla", '\u{0146}'),
    ("ncaron", '\u{0148}'),
    ("Cacute", '\u{0106}'),
    ("Ccircumflex", '\u{0108}'),
    ("Ccedilla", '\u{00C7}'),
    ("Ccaron", '\u{010C}'),
    ("cacute", '\u{0107}'),
    ("ccircumflex", '\u{0109}'),
    ("ccedilla", '\u{00E7}'),
    ("ccaron", '\u{010D}'),
];
