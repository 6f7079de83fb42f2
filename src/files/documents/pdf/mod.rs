//! The text of a PDF, page after page: each page's content stream run through the text
//! operators (`BT`/`ET`, `Tf`, `Td`, `TD`, `Tm`, `T*`, `Tj`, `TJ`, `'`, `"`, and the graphics
//! state's `q`/`Q`/`cm`), its strings decoded by the page's fonts (see [`font`]).
//!
//! Words and lines come from where text lands on the page: text that starts below or above
//! where the last text ended (by over half the font size) starts a new line, and text that
//! starts a gap to the right (over 0.15 of the font size, a `TJ` adjustment included) or
//! far to the left starts a new word. Forms (`Do`) are not entered.
//!
//! lopdf bounds each stream it inflates; a page tree that loops ends (its page list is
//! built once); pages whose text cannot be decoded are skipped as long as others give text.

mod cmap;
mod encoding;
mod font;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, ObjectId};

use super::Sink;
use font::Font;

/// The most one stream (or one page's content) may inflate to.
const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// How deep `q` may nest (deeper saves are not kept; their `Q` restores an outer state).
const MAX_SAVED_STATES: usize = 256;

/// Appends the PDF's text to `sink`, a line break and a form feed after each page (the
/// chunker numbers pages by them: `crate::files::chunks`). An error when nothing could be read.
pub(super) fn read(bytes: &[u8], sink: &mut Sink) -> Result<(), String> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_INFLATED),
        ..lopdf::LoadOptions::default()
    };
    let doc = lopdf::Document::load_mem_with_options(bytes, options).map_err(|e| e.to_string())?;
    let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
    if pages.is_empty() {
        return Err("it has no pages".into());
    }
    let mut fonts = Fonts::default();
    let mut first_error = None;
    let mut read_any = false;
    for page in pages {
        let room = super::MAX_TEXT_BYTES.saturating_sub(sink.text.len());
        match page_text(&doc, page, &mut fonts, room) {
            Ok(text) => {
                read_any |= !text.is_empty();
                if !sink.push(&text) {
                    return Ok(());
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        if !sink.text.is_empty() && !sink.text.ends_with('\n') && !sink.push_char('\n') {
            return Ok(());
        }
        if !sink.push_char(crate::files::chunks::PAGE_BREAK) {
            return Ok(());
        }
    }
    match first_error {
        Some(e) if !read_any => Err(e),
        _ => Ok(()),
    }
}

/// The fonts read so far, by their dictionary (pages share fonts; each is read once).
#[derive(Default)]
struct Fonts(HashMap<*const lopdf::Dictionary, Rc<Font>>);

/// The text of one page, up to about `room` bytes.
fn page_text(
    doc: &Document,
    page: ObjectId,
    fonts: &mut Fonts,
    room: usize,
) -> Result<String, String> {
    let content = doc
        .get_page_content_with_limit(page, MAX_INFLATED)
        .map_err(|e| e.to_string())?;
    let content = Content::decode(&content).map_err(|e| e.to_string())?;
    let mut page_fonts = HashMap::new();
    for (name, dict) in doc.get_page_fonts(page).unwrap_or_default() {
        let font = fonts
            .0
            .entry(dict as *const _)
            .or_insert_with(|| Rc::new(Font::new(doc, dict, MAX_INFLATED)));
        page_fonts.insert(name, font.clone());
    }
    let mut layout = Layout::new(page_fonts, room);
    for op in &content.operations {
        if layout.out.len() > room {
            break;
        }
        layout.run(op);
    }
    Ok(layout.out)
}

/// An affine transform `[a b c d e f]` (PDF 32000-1 §8.3.3).
type Matrix = [f32; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `m` then `n` (the product m × n).
fn concat(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn translate(tx: f32, ty: f32, m: &Matrix) -> Matrix {
    concat(&[1.0, 0.0, 0.0, 1.0, tx, ty], m)
}

/// The text state of a page being read and the text so far.
struct Layout {
    fonts: HashMap<Vec<u8>, Rc<Font>>,
    out: String,
    /// How long `out` may grow (about: a shown string stops past it).
    room: usize,
    ctm: Matrix,
    saved: Vec<Matrix>,
    tm: Matrix,
    tlm: Matrix,
    font: Option<Rc<Font>>,
    size: f32,
    leading: f32,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    /// Where the last text ended on the page, and its font size there.
    last: Option<(f32, f32, f32)>,
}

/// A number operand (0 when missing or not a number).
fn float(o: Option<&Object>) -> f32 {
    o.and_then(|o| o.as_float().ok())
        .filter(|n| n.is_finite())
        .unwrap_or(0.0)
}

fn num(ops: &[Object], i: usize) -> f32 {
    float(ops.get(i))
}

fn matrix(ops: &[Object]) -> Matrix {
    std::array::from_fn(|i| num(ops, i))
}

impl Layout {
    fn new(fonts: HashMap<Vec<u8>, Rc<Font>>, room: usize) -> Layout {
        Layout {
            fonts,
            out: String::new(),
            room,
            ctm: IDENTITY,
            saved: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            font: None,
            size: 0.0,
            leading: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            scale: 1.0,
            last: None,
        }
    }

    fn run(&mut self, op: &Operation) {
        let ops = &op.operands;
        match op.operator.as_str() {
            "q" if self.saved.len() < MAX_SAVED_STATES => self.saved.push(self.ctm),
            "Q" => self.ctm = self.saved.pop().unwrap_or(self.ctm),
            "cm" => self.ctm = concat(&matrix(ops), &self.ctm),
            "BT" => (self.tm, self.tlm) = (IDENTITY, IDENTITY),
            "Tf" => {
                let font = ops.first().and_then(|o| o.as_name().ok());
                self.font = font.and_then(|f| self.fonts.get(f)).cloned();
                self.size = num(ops, 1);
            }
            "Tc" => self.char_spacing = num(ops, 0),
            "Tw" => self.word_spacing = num(ops, 0),
            "Tz" => self.scale = num(ops, 0) / 100.0,
            "TL" => self.leading = num(ops, 0),
            "Td" => self.move_line(num(ops, 0), num(ops, 1)),
            "TD" => {
                self.leading = -num(ops, 1);
                self.move_line(num(ops, 0), num(ops, 1));
            }
            "Tm" => (self.tm, self.tlm) = (matrix(ops), matrix(ops)),
            "T*" => self.next_line(),
            "Tj" => self.show_operand(ops.first()),
            "'" => {
                self.next_line();
                self.show_operand(ops.first());
            }
            "\"" => {
                self.word_spacing = num(ops, 0);
                self.char_spacing = num(ops, 1);
                self.next_line();
                self.show_operand(ops.get(2));
            }
            "TJ" => {
                let Some(Object::Array(items)) = ops.first() else {
                    return;
                };
                for item in items {
                    match item {
                        Object::String(..) => self.show_operand(Some(item)),
                        _ => self.advance(-float(Some(item)) / 1000.0 * self.size),
                    }
                }
            }
            _ => {}
        }
    }

    fn move_line(&mut self, tx: f32, ty: f32) {
        self.tlm = translate(tx, ty, &self.tlm);
        self.tm = self.tlm;
    }

    /// `T*` and the quote operators: the next line, a line break in the text whatever the
    /// leading says.
    fn next_line(&mut self) {
        self.move_line(0.0, -self.leading);
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    /// Moves the text position along the line by `tx` (unscaled text space).
    fn advance(&mut self, tx: f32) {
        self.tm = translate(tx * self.scale, 0.0, &self.tm);
    }

    /// Where the text position is on the page, and the font's size there.
    fn position(&self) -> (f32, f32, f32) {
        let m = concat(&self.tm, &self.ctm);
        let size = (self.size * m[2].hypot(m[3])).abs();
        (m[4], m[5], size)
    }

    fn show_operand(&mut self, operand: Option<&Object>) {
        let (Some(Object::String(bytes, _)), Some(font)) = (operand, self.font.clone()) else {
            return;
        };
        let (x, y, size) = self.position();
        if let Some((lx, ly, last_size)) = self.last {
            let size = size.max(last_size).max(f32::EPSILON);
            let (dx, dy) = (x - lx, y - ly);
            let ends_with_space = self.out.ends_with(char::is_whitespace);
            if dy.abs() > size * 0.5 {
                if !self.out.ends_with('\n') {
                    self.out.push('\n');
                }
            } else if (dx > size * 0.15 || dx < -size) && !ends_with_space && !self.out.is_empty() {
                self.out.push(' ');
            }
        }
        let shown = font.show(bytes, &mut self.out, self.room);
        let tx = shown.width / 1000.0 * self.size
            + shown.codes as f32 * self.char_spacing
            + shown.spaces as f32 * self.word_spacing;
        self.advance(tx);
        self.last = Some(self.position());
    }
}
