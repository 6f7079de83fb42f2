//! The text of Office Open XML (DOCX, XLSX) and OpenDocument (ODT, ODS) files: ZIP containers
//! of XML, read one entry at a time with a bound on what each entry inflates to (the size a
//! ZIP declares may lie; the bound is on the bytes actually inflated).
//!
//! Written by hand on the ZIP and XML readers already linked: the crates that read these
//! formats whole (calamine, docx-rs) weigh 0.75 MB each and bring second copies of both.

use std::io::{Cursor, Read};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::{Kind, Sink};

/// The most one entry of the container may inflate to (decompression bombs stop here).
const MAX_ENTRY: u64 = 64 * 1024 * 1024;
/// The most columns a row is read to (Excel's own limit, XFD).
const MAX_COLUMNS: usize = 16_384;

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Appends the document's text to `sink`.
pub(super) fn read(kind: Kind, bytes: &[u8], sink: &mut Sink) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("it is not a valid ZIP container ({e})"))?;
    match kind {
        Kind::Docx => docx(&mut zip, sink),
        Kind::Xlsx => xlsx(&mut zip, sink),
        Kind::Odt => odt(&mut zip, sink),
        Kind::Ods => ods(&mut zip, sink),
        Kind::Pdf => Err("a PDF is not a ZIP container".into()),
    }
}

/// One entry's bytes, or `None` when the container has no such entry.
fn entry(zip: &mut Archive<'_>, name: &str) -> Result<Option<Vec<u8>>, String> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("{name}: {e}")),
    };
    let mut out = Vec::new();
    file.take(MAX_ENTRY + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name}: {e}"))?;
    if out.len() as u64 > MAX_ENTRY {
        return Err(format!(
            "{name} inflates to over {} MB",
            MAX_ENTRY / (1024 * 1024)
        ));
    }
    Ok(Some(out))
}

fn required(zip: &mut Archive<'_>, name: &str) -> Result<Vec<u8>, String> {
    entry(zip, name)?.ok_or_else(|| format!("it has no {name}"))
}

/// What [`walk`] hands on: an element opening (an empty element opens and closes), an
/// element closing (its local name), or text with its entities resolved.
enum Tok<'e> {
    Open(&'e BytesStart<'e>),
    Close(&'e str),
    Text(&'e str),
}

/// Walks an XML document's elements and text; `f` returns false to stop early.
fn walk(xml: &[u8], mut f: impl FnMut(Tok<'_>) -> bool) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    loop {
        let event = reader.read_event().map_err(|e| format!("bad XML: {e}"))?;
        let more = match &event {
            Event::Start(s) => f(Tok::Open(s)),
            Event::Empty(s) => f(Tok::Open(s)) && f(Tok::Close(s.local_name().into_inner())),
            Event::End(e) => f(Tok::Close(e.local_name().into_inner())),
            Event::Text(t) => f(Tok::Text(&t.xml10_content())),
            Event::CData(c) => f(Tok::Text(c)),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &**r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                c.is_none_or(|c| f(Tok::Text(c.encode_utf8(&mut [0; 4]))))
            }
            Event::Eof => return Ok(()),
            _ => true,
        };
        if !more {
            return Ok(());
        }
    }
}

/// An attribute's value by its qualified name (`r:id`, `table:name`).
fn attr(s: &BytesStart<'_>, qname: &str) -> Option<String> {
    let a = s.try_get_attribute(qname).ok()??;
    a.normalized_value(XmlVersion::Implicit1_0)
        .ok()
        .map(|v| v.into_owned())
}

/// A Word document: the body's paragraphs, one per line; tabs and breaks inside runs.
fn docx(zip: &mut Archive<'_>, sink: &mut Sink) -> Result<(), String> {
    let xml = required(zip, "word/document.xml")?;
    let (mut in_run, mut in_text) = (false, false);
    walk(&xml, |tok| match tok {
        Tok::Open(s) => match s.local_name().as_ref() {
            "r" => {
                in_run = true;
                true
            }
            "t" => {
                in_text = true;
                true
            }
            "ta" if in_run => sink.push_char('\t'),
            "br" | "cr" if in_run => sink.push_char('\n'),
            _ => true,
        },
        Tok::Close("r") => {
            in_run = false;
            true
        }
        Tok::Close("t") => {
            in_text = false;
            true
        }
        Tok::Close("p") => sink.push_char('\n'),
        Tok::Text(t) if in_text => sink.push(t),
        _ => true,
    })
}

/// An OpenDocument text: the body's paragraphs and headings, one per line.
fn odt(zip: &mut Archive<'_>, sink: &mut Sink) -> Result<(), String> {
    let xml = required(zip, "content.xml")?;
    let mut in_body = false;
    walk(&xml, |tok| match tok {
        Tok::Open(s) => match s.local_name().as_ref() {
            "body" => {
                in_body = true;
                true
            }
            "ta" if in_body => sink.push_char('\t'),
            "line-break" if in_body => sink.push_char('\n'),
            "s" if in_body => {
                let n = attr(s, "text:c").and_then(|c| c.parse::<usize>().ok());
                sink.push(&" ".repeat(n.unwrap_or(1).clamp(1, 100)))
            }
            _ => true,
        },
        Tok::Close("body") => {
            in_body = false;
            true
        }
        Tok::Close("p" | "h") if in_body => sink.push_char('\n'),
        Tok::Text(t) if in_body => sink.push(t),
        _ => true,
    })
}

/// A row of cells as one CSV line (as LibreChat's spreadsheet text: SheetJS's `sheet_to_csv`).
fn push_csv_row(sink: &mut Sink, cells: &[String]) -> bool {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line.push('\n');
    sink.push(&line)
}

/// An Excel workbook: each sheet, in the workbook's order, as `Name:` and its rows as CSV.
fn xlsx(zip: &mut Archive<'_>, sink: &mut Sink) -> Result<(), String> {
    let workbook = required(zip, "xl/workbook.xml")?;
    let mut sheets: Vec<(String, Option<String>)> = Vec::new();
    walk(&workbook, |tok| {
        if let Tok::Open(s) = tok
            && s.local_name().as_ref() == "sheet"
        {
            sheets.push((attr(s, "name").unwrap_or_default(), attr(s, "r:id")));
        }
        true
    })?;
    let mut targets: Vec<(String, String)> = Vec::new();
    if let Some(rels) = entry(zip, "xl/_rels/workbook.xml.rels")? {
        walk(&rels, |tok| {
            if let Tok::Open(s) = tok
                && s.local_name().as_ref() == "Relationship"
                && let (Some(id), Some(target)) = (attr(s, "Id"), attr(s, "Target"))
            {
                let path = match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_owned(),
                    None => format!("xl/{target}"),
                };
                targets.push((id, path));
            }
            true
        })?;
    }
    let shared = match entry(zip, "xl/sharedStrings.xml")? {
        Some(xml) => shared_strings(&xml)?,
        None => Vec::new(),
    };
    for (i, (name, id)) in sheets.iter().enumerate() {
        let path = id
            .as_ref()
            .and_then(|id| targets.iter().find(|(t, _)| t == id))
            .map_or_else(
                || format!("xl/worksheets/sheet{}.xml", i + 1),
                |(_, p)| p.clone(),
            );
        let Some(xml) = entry(zip, &path)? else {
            continue;
        };
        if !sink.push(&format!("{name}:\n")) || !xlsx_sheet(&xml, &shared, sink)? {
            return Ok(());
        }
    }
    Ok(())
}

/// The workbook's shared strings, in order (rich-text runs joined, phonetic guides left out),
/// up to as much text as a document may give.
fn shared_strings(xml: &[u8]) -> Result<Vec<String>, String> {
    let mut strings = Vec::new();
    let (mut current, mut in_text, mut in_phonetic, mut total) = (String::new(), false, false, 0);
    walk(xml, |tok| match tok {
        Tok::Open(s) => {
            match s.local_name().as_ref() {
                "t" => in_text = true,
                "rPh" => in_phonetic = true,
                _ => {}
            }
            true
        }
        Tok::Close("t") => {
            in_text = false;
            true
        }
        Tok::Close("rPh") => {
            in_phonetic = false;
            true
        }
        Tok::Close("si") => {
            total += current.len();
            strings.push(std::mem::take(&mut current));
            total <= crate::files::text::MAX_TEXT_BYTES
        }
        Tok::Text(t) if in_text && !in_phonetic => {
            current.push_str(t);
            true
        }
        _ => true,
    })?;
    Ok(strings)
}

/// The column index of a cell reference (`C7` is 2).
fn column_of(reference: &str) -> Option<usize> {
    let letters = reference
        .bytes()
        .take_while(u8::is_ascii_alphabetic)
        .try_fold(0usize, |n, b| {
            (n < MAX_COLUMNS).then(|| n * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1))
        })?;
    letters.checked_sub(1).filter(|&c| c < MAX_COLUMNS)
}

/// One worksheet's rows as CSV; false when the text is full.
fn xlsx_sheet(xml: &[u8], shared: &[String], sink: &mut Sink) -> Result<bool, String> {
    let mut row: Vec<String> = Vec::new();
    let (mut cell_type, mut column) = (String::new(), 0usize);
    let (mut value, mut in_value) = (String::new(), false);
    let mut more = true;
    walk(xml, |tok| match tok {
        Tok::Open(s) => {
            match s.local_name().as_ref() {
                "row" => row.clear(),
                "c" => {
                    cell_type = attr(s, "t").unwrap_or_default();
                    column = attr(s, "r")
                        .and_then(|r| column_of(&r))
                        .unwrap_or(row.len());
                    value.clear();
                }
                "v" | "t" => in_value = true,
                _ => {}
            }
            true
        }
        Tok::Close("v" | "t") => {
            in_value = false;
            true
        }
        Tok::Close("c") => {
            let text = match cell_type.as_str() {
                "s" => value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| shared.get(i))
                    .cloned()
                    .unwrap_or_default(),
                "" => if value.trim() == "1" { "TRUE" } else { "FALSE" }.to_owned(),
                _ => std::mem::take(&mut value),
            };
            if column >= row.len() && column < MAX_COLUMNS {
                row.resize(column, String::new());
                row.push(text);
            }
            true
        }
        Tok::Close("row") => {
            if row.iter().any(|c| !c.is_empty()) {
                more = push_csv_row(sink, &row);
            }
            more
        }
        Tok::Text(t) if in_value => {
            value.push_str(t);
            true
        }
        _ => true,
    })?;
    Ok(more)
}

/// An OpenDocument spreadsheet: each table as `Name:` and its rows as CSV. Repeated rows and
/// cells (`number-rows-repeated`, `number-columns-repeated`) are written out, except the
/// empty ones that fill a sheet to its edge.
fn ods(zip: &mut Archive<'_>, sink: &mut Sink) -> Result<(), String> {
    let xml = required(zip, "content.xml")?;
    let mut row: Vec<String> = Vec::new();
    let (mut row_repeat, mut empty_run) = (1usize, 0usize);
    let (mut cell, mut cell_repeat, mut in_cell) = (String::new(), 1usize, false);
    let repeat = |s: &BytesStart<'_>, name: &str| {
        attr(s, name)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1)
    };
    walk(&xml, |tok| match tok {
        Tok::Open(s) => match s.local_name().as_ref() {
            "table" => sink.push(&format!("{}:\n", attr(s, "table:name").unwrap_or_default())),
            "table-row" => {
                row.clear();
                empty_run = 0;
                row_repeat = repeat(s, "table:number-rows-repeated");
                true
            }
            "table-cell" | "covered-table-cell" => {
                cell.clear();
                in_cell = true;
                cell_repeat = repeat(s, "table:number-columns-repeated");
                true
            }
            "ta" if in_cell => {
                cell.push('\t');
                true
            }
            "s" if in_cell => {
                cell.push(' ');
                true
            }
            _ => true,
        },
        Tok::Close("p") if in_cell => {
            cell.push('\n');
            true
        }
        Tok::Close("table-cell" | "covered-table-cell") => {
            in_cell = false;
            let text = cell.trim_end_matches('\n');
            if text.is_empty() {
                // Not written unless a cell with text follows it in the row.
                empty_run = empty_run.saturating_add(cell_repeat);
            } else {
                let blanks = empty_run.min(MAX_COLUMNS - row.len());
                row.resize(row.len() + blanks, String::new());
                empty_run = 0;
                let copies = cell_repeat.min(MAX_COLUMNS - row.len());
                row.extend(std::iter::repeat_n(text.to_owned(), copies));
            }
            true
        }
        Tok::Close("table-row") => {
            if row.is_empty() {
                return true;
            }
            (0..row_repeat).all(|_| push_csv_row(sink, &row))
        }
        Tok::Text(t) if in_cell => {
            cell.push_str(t);
            true
        }
        _ => true,
    })
}
