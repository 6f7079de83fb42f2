//! The ToUnicode parser, the encodings and the page layout, on PDFs made here (hostile ones
//! among them); Chromium's PDF is read in `documents::tests`.

use lopdf::{Dictionary, Stream, dictionary};

use super::cmap::CMap;
use super::encoding::{Base, glyph};
use super::*;

fn text_of(map: &CMap, code: &[u8]) -> Option<String> {
    let mut out = String::new();
    map.push(code, &mut out).then_some(out)
}

#[test]
fn a_to_unicode_map_reads_its_chars_ranges_and_code_space() {
    let map = CMap::parse(
        b"%!PS-Adobe-3.0 Resource-CMap\n/CIDInit /ProcSet findresource begin\n\
          12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) >> def\n\
          1 begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange\n\
          2 beginbfchar <03> <0020> <8001> <D83DDE00> endbfchar\n\
          3 beginbfrange <10> <19> <0030> <9000> <9002> [<0041> <00660069> <0043>]\n\
          <20><22><00E9>\nendbfrange endcmap CMapName currentdict /CMap defineresource pop end end",
    );
    assert_eq!(text_of(&map, b"\x03").as_deref(), Some(" "));
    assert_eq!(text_of(&map, b"\x80\x01").as_deref(), Some("😀"));
    assert_eq!(text_of(&map, b"\x15").as_deref(), Some("5"));
    assert_eq!(text_of(&map, b"\x90\x01").as_deref(), Some("fi"));
    assert_eq!(text_of(&map, b"\x90\x02").as_deref(), Some("C"));
    assert_eq!(text_of(&map, b"\x22").as_deref(), Some("ë"));
    // A one-byte code is not the two-byte code of the same number.
    assert_eq!(text_of(&map, b"\x00\x03"), None);
    assert_eq!(text_of(&map, b"\x1a"), None);
    assert_eq!(map.code_len(b"\x41\x80"), Some(1));
    assert_eq!(map.code_len(b"\x80\x01"), Some(2));
    assert_eq!(map.code_len(b"\x80"), None);
}

#[test]
fn hostile_to_unicode_maps_end_without_panics() {
    // The widest range is one entry; a code past the last unit of its text has none.
    let map = CMap::parse(b"1 beginbfrange <00000000> <FFFFFFFF> <FFFE> endbfrange");
    assert_eq!(
        text_of(&map, b"\x00\x00\x00\x01").as_deref(),
        Some("\u{FFFF}")
    );
    assert_eq!(text_of(&map, b"\xff\xff\xff\xff"), None);
    // An array shorter than its range, a range upside down, an empty target, a code of
    // five bytes.
    let map = CMap::parse(
        b"beginbfrange <10> <20> [<0041>] <30> <20> <0042> <40> <41> <> endbfrange \
          beginbfchar <0102030405> <0043> endbfchar",
    );
    assert_eq!(text_of(&map, b"\x10").as_deref(), Some("A"));
    assert_eq!(text_of(&map, b"\x11"), None);
    assert_eq!(text_of(&map, b"\x30"), None);
    assert_eq!(text_of(&map, b"\x40"), None);
    assert_eq!(text_of(&map, b"\x01\x02\x03\x04\x05"), None);
    // Unterminated strings, arrays and comments, and noise.
    for text in [
        &b"beginbfchar <01> <00"[..],
        b"beginbfrange <01> <02> [<0041> <0042",
        b"beginbfchar (unterminated \\) <01> <0041> endbfchar",
        b"% comment without end",
        b"beginbfrange <01",
        b"<<<<[[[]]]>>>>",
    ] {
        let _ = text_of(&CMap::parse(text), b"\x01");
    }
    // A code's text is a few letters at most, however long the map says it is.
    let long = format!("beginbfchar <01> <{}> endbfchar", "0041".repeat(1000));
    assert_eq!(
        text_of(&CMap::parse(long.as_bytes()), b"\x01").unwrap(),
        "A".repeat(32)
    );
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let map = CMap::parse(&noise);
    let _ = (map.code_len(&noise[..8]), text_of(&map, &noise[..2]));
}

#[test]
fn glyph_names_and_base_encodings() {
    for (name, c) in [
        ("A", Some('A')),
        ("eacute", Some('é')),
        ("uring", Some('ů')),
        ("uni20AC", Some('€')),
        ("uni00660069", Some('f')),
        ("u1F600", Some('😀')),
        ("a.sc", Some('a')),
        ("fi", Some('\u{FB01}')),
        ("quotedblleft", Some('“')),
        ("g123", None),
        ("uniZZZZ", None),
        ("", None),
    ] {
        assert_eq!(glyph(name.as_bytes()), c, "{name}");
    }
    assert_eq!(Base::WinAnsi.table()[0x80], '€');
    assert_eq!(Base::WinAnsi.table()[0xE9], 'é');
    assert_eq!(Base::MacRoman.table()[0x8E], 'é');
    assert_eq!(Base::Standard.table()[0x27], '’');
    assert_eq!(Base::Standard.table()[0xAE], '\u{FB01}');
    assert_eq!(Base::PdfDoc.table()[0x41], 'A');
    assert_eq!(Base::WinAnsi.table()[0x05], '\0');
}

/// A one-page PDF of this content, its fonts `/F1` (simple), `/F2` (composite; its
/// `/ToUnicode` a stream of that text, when given).
fn pdf(content: &[u8], f1: Dictionary, mut f2: Dictionary, cmap: Option<&[u8]>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    if let Some(cmap) = cmap {
        let mut stream = Stream::new(dictionary! {}, cmap.to_vec());
        stream.compress().unwrap();
        f2.set("ToUnicode", doc.add_object(stream));
    }
    let f1 = doc.add_object(f1);
    let f2 = doc.add_object(f2);
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => f1, "F2" => f2 } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn helvetica() -> Dictionary {
    dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" }
}

fn read_text(pdf: &[u8]) -> Result<String, String> {
    let mut sink = Sink::default();
    read(pdf, &mut sink).map(|()| sink.text)
}

#[test]
fn simple_fonts_read_by_encoding_and_differences_in_words_and_lines() {
    let f1 = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman",
        "FirstChar" => 32,
        "Widths" => vec![250.into(); 100],
        "Encoding" => dictionary! {
            "BaseEncoding" => "WinAnsiEncoding",
            "Differences" => vec![1.into(), "fi".into(), "uni2022".into(), "Eacute".into(), "g77".into()],
        },
    };
    let content = b"BT /F1 10 Tf 72 700 Td (Caf\xe9 \x01x) Tj [(A) -20 (B) -300 (C)] TJ\n\
        0 -12 Td (\x02\x03\x04) Tj T* (next) Tj 30 0 Td (far) Tj ET\n\
        BT /F1 10 Tf 1 0 0 1 72 600 Tm (\x80) Tj ET";
    let text = read_text(&pdf(content, f1, helvetica(), None)).unwrap();
    assert_eq!(text, "Café fixAB C\n•É\nnext far\n€\n\u{c}");
}

#[test]
fn composite_fonts_read_through_their_to_unicode_map() {
    let cmap = b"begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
        2 beginbfchar <0001> <0048> <0002> <0069> endbfchar\n\
        1 beginbfrange <0010> <0012> <03B1> endbfrange endcmap";
    let f2 = dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "Sub+Font",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Dictionary(dictionary! {
            "Type" => "Font", "Subtype" => "CIDFontType2", "DW" => 600,
            "W" => vec![1.into(), vec![500.into(), 300.into()].into(), 16.into(), 18.into(), 550.into()],
        })],
    };
    let content = b"BT /F2 12 Tf 1 0 0 -1 50 50 Tm <00010002> Tj [<0010> -50 <00110012>] TJ \
        <0099> Tj 0 -20 Td <0001> Tj ET";
    let text = read_text(&pdf(content, helvetica(), f2, Some(cmap))).unwrap();
    assert_eq!(text, "Hiαβγ\nH\n\u{c}");
}

#[test]
fn missing_fonts_and_broken_content_give_no_panic() {
    // Text in a font the page does not have, or before any font, gives nothing.
    let content = b"BT (before) Tj /F9 12 Tf (unknown) Tj /F1 12 Tf (known) Tj ET";
    assert_eq!(
        read_text(&pdf(content, helvetica(), helvetica(), None)).unwrap(),
        "known\n\u{c}"
    );
    // Deep saves, odd operands and unbalanced restores.
    let mut content = b"q ".repeat(10_000);
    content.extend_from_slice(b"Q Q Q 1 0 0 cm BT /F1 Tf /x Td () Tj [1 (a) /n] TJ ' \" Tz ET");
    content.extend_from_slice(&b"Q ".repeat(20_000));
    content.extend_from_slice(
        b"BT /F1 9 Tf 1e30 0 0 1e30 0 0 Tm (big) Tj 0 0 0 0 0 0 Tm (flat) Tj ET",
    );
    assert!(read_text(&pdf(&content, helvetica(), helvetica(), None)).is_ok());
    // An unterminated string, a bare operator soup.
    for content in [
        &b"BT /F1 12 Tf (never ends"[..],
        b"Tj TJ ' \" Tf Td TD Tm T* BT ET cm q Q",
    ] {
        let _ = read_text(&pdf(content, helvetica(), helvetica(), None));
    }
}

#[test]
fn a_page_stops_at_the_room_left_even_inside_one_string() {
    let mut content = b"BT /F1 12 Tf (".to_vec();
    content.extend(b"abcdefgh".repeat(100_000));
    content.extend_from_slice(b") Tj (more) Tj ET");
    let bytes = pdf(&content, helvetica(), helvetica(), None);
    let doc = Document::load_mem(&bytes).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let text = page_text(&doc, page, &mut Fonts::default(), 100).unwrap();
    assert!((100..=101).contains(&text.len()), "{}", text.len());
}
