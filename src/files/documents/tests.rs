//! Documents made by the tools people use (tests/fixtures/documents: Chromium's PDF,
//! python-docx, openpyxl, odfpy), and hostile ones made here.

use std::io::Write;

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/documents/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

fn unreadable(r: Result<String, DocumentError>) -> String {
    match r {
        Err(DocumentError::Unreadable { reason, .. }) => reason,
        other => panic!("expected unreadable, got {other:?}"),
    }
}

#[test]
fn a_pdf_printed_by_a_browser_reads_with_its_accents_and_scripts() {
    let text = extract(Kind::Pdf, &fixture("report.pdf")).unwrap();
    for part in [
        "Quarterly report",
        "Résumé: café, naïve, Zürich",
        "Ελληνικά",
        "Русский",
        "right cell 42",
    ] {
        assert!(text.contains(part), "{part:?} in {text:?}");
    }
}

#[test]
fn a_word_document_reads_one_paragraph_per_line() {
    let text = extract(Kind::Docx, &fixture("report.docx")).unwrap();
    assert!(
        text.starts_with(
            "Quarterly report\nRésumé: café & <tags> \"quoted\", Zürich.\nBold and italic\n"
        ),
        "{text:?}"
    );
    assert!(text.contains("cell A1") && text.contains("cell B2"));
}

#[test]
fn a_workbook_reads_as_named_sheets_of_csv() {
    let text = extract(Kind::Xlsx, &fixture("report.xlsx")).unwrap();
    assert_eq!(
        text,
        "Data:\nname,qty,price\napple,3,1.25\n\"pear, plum\",10,0.5\n,,,,far cell\n\
         Second:\nsecond sheet text\n"
    );
}

#[test]
fn opendocument_text_and_spreadsheets_read() {
    let text = extract(Kind::Odt, &fixture("report.odt")).unwrap();
    assert_eq!(text, "Quarterly report\nRésumé: café & <tags>, Zürich.\n");
    // The sheet is filled to its edge with a million empty rows: none is written.
    let text = extract(Kind::Ods, &fixture("report.ods")).unwrap();
    assert_eq!(text, "Data:\nname,qty\napple,3\n\"pear, plum\",10\n");
}

/// A PDF from numbered objects, its cross-reference table computed.
fn raw_pdf(objects: &[(u32, &[u8])], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = std::collections::BTreeMap::new();
    for (n, body) in objects {
        offsets.insert(*n, out.len());
        writeln!(out, "{n} 0 obj").unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let size = offsets.keys().max().unwrap() + 1;
    write!(out, "xref\n0 {size}\n0000000000 65535 f \n").unwrap();
    for n in 1..size {
        writeln!(
            out,
            "{:010} 00000 n ",
            offsets.get(&n).copied().unwrap_or(0)
        )
        .unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {size} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n"
    )
    .unwrap();
    out
}

const CONTENT: &[u8] =
    b"<< /Length 45 >>\nstream\nBT /F1 12 Tf 72 700 Td (Loop test text) Tj ET\nendstream";
const FONT: &[u8] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
const RESOURCES: &str = "/Resources << /Font << /F1 5 0 R >> >>";

#[test]
fn a_plain_pdf_reads() {
    let page = format!("<< /Type /Page /Parent 2 0 R /Contents 4 0 R {RESOURCES} >>");
    let pdf = raw_pdf(
        &[
            (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
            (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            (3, page.as_bytes()),
            (4, CONTENT),
            (5, FONT),
        ],
        "",
    );
    assert!(extract(Kind::Pdf, &pdf).unwrap().contains("Loop test text"));
}

#[test]
fn pdfs_that_loop_end_with_text_or_an_error() {
    let page = format!("<< /Type /Page /Parent 2 0 R /Contents 4 0 R {RESOURCES} >>");
    let self_parent = format!("<< /Type /Page /Parent 3 0 R /Contents 4 0 R {RESOURCES} >>");
    let xobject_page = "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> >>".to_owned();
    let cases: Vec<Vec<(u32, Vec<u8>)>> = vec![
        // The page tree contains itself.
        vec![(2, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>".to_vec())],
        // Two page-tree nodes, each the other's kid.
        vec![
            (2, b"<< /Type /Pages /Kids [6 0 R] /Count 1 >>".to_vec()),
            (
                6,
                b"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>".to_vec(),
            ),
        ],
        // A page that is its own parent.
        vec![
            (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
            (3, self_parent.into_bytes()),
        ],
        // A form that draws itself.
        vec![
            (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
            (3, xobject_page.into_bytes()),
            (
                6,
                b"<< /Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources << /XObject << /X1 6 0 R >> >> /Length 10 >>\nstream\nq /X1 Do Q\nendstream".to_vec(),
            ),
        ],
        // A stream whose length is itself.
        vec![
            (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
            (
                4,
                b"<< /Length 4 0 R >>\nstream\nBT /F1 12 Tf (x) Tj ET\nendstream".to_vec(),
            ),
        ],
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let mut objects: std::collections::BTreeMap<u32, Vec<u8>> = [
            (1, b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()),
            (3, page.clone().into_bytes()),
            (4, CONTENT.to_vec()),
            (5, FONT.to_vec()),
        ]
        .into_iter()
        .collect();
        objects.extend(case);
        let list: Vec<(u32, &[u8])> = objects.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        // Ends: either some text or a clear refusal.
        match extract(Kind::Pdf, &raw_pdf(&list, "")) {
            Ok(_) | Err(DocumentError::Unreadable { .. } | DocumentError::NoText) => {}
            Err(e) => panic!("case {i}: {e}"),
        }
    }
    // The cross-reference table that names itself as the one before it.
    let pdf = raw_pdf(
        &[
            (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
            (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            (3, page.as_bytes()),
            (4, CONTENT),
            (5, FONT),
        ],
        "/Prev 300",
    );
    let _ = extract(Kind::Pdf, &pdf);
}

#[test]
fn garbage_is_not_a_pdf() {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    unreadable(extract(Kind::Pdf, &bytes));
    unreadable(extract(Kind::Docx, b"PK\x03\x04 not really"));
}

/// A ZIP with these entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_container_without_its_document_or_text_is_refused() {
    let zip = zip_of(&[("hello.txt", b"hi")]);
    assert!(unreadable(extract(Kind::Docx, &zip)).contains("word/document.xml"));
    assert!(unreadable(extract(Kind::Xlsx, &zip)).contains("xl/workbook.xml"));
    let empty = zip_of(&[(
        "word/document.xml",
        b"<w:document xmlns:w=\"w\"><w:body><w:p/></w:body></w:document>",
    )]);
    assert!(matches!(
        extract(Kind::Docx, &empty),
        Err(DocumentError::NoText)
    ));
    let broken = zip_of(&[("word/document.xml", b"<w:document><w:body></w:p>")]);
    assert!(unreadable(extract(Kind::Docx, &broken)).contains("bad XML"));
}

#[test]
fn a_decompression_bomb_stops_at_the_entry_bound() {
    // 65 MiB of spaces inside one text run: a few hundred KB deflated.
    let mut xml = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>".to_vec();
    xml.resize(xml.len() + 65 * 1024 * 1024, b' ');
    xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
    let bomb = zip_of(&[("word/document.xml", &xml)]);
    drop(xml);
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let reason = unreadable(extract(Kind::Docx, &bomb));
    assert!(reason.contains("inflates to over 64 MB"), "{reason}");
}

#[test]
fn kinds_by_type_and_extension() {
    assert_eq!(Kind::of_mime("application/pdf"), Some(Kind::Pdf));
    assert_eq!(Kind::of_mime("application/vnd.ms-excel"), Some(Kind::Xlsx));
    assert_eq!(Kind::of_mime("application/zip"), None);
    assert_eq!(Kind::of_extension("DOCX"), Some(Kind::Docx));
    for k in [Kind::Pdf, Kind::Docx, Kind::Xlsx, Kind::Odt, Kind::Ods] {
        assert_eq!(Kind::parse(k.name()), Some(k));
        assert_eq!(Kind::of_mime(k.mime()), Some(k));
    }
}

#[test]
fn the_sink_stops_at_the_limit_on_a_character() {
    let mut s = Sink::default();
    assert!(s.push(&"a".repeat(MAX_TEXT_BYTES - 1)));
    assert!(!s.push("é"));
    assert_eq!(s.text.len(), MAX_TEXT_BYTES - 1);
    assert!(!s.push("b"));
}

#[test]
fn a_document_over_the_size_limit_is_not_read() {
    let big = vec![b' '; MAX_DOCUMENT_BYTES as usize + 1];
    assert!(matches!(
        extract(Kind::Pdf, &big),
        Err(DocumentError::TooLarge)
    ));
}
