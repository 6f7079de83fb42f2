//! Documents read as text for the model, as LibreChat's "upload as text" does for PDF, Word,
//! Excel and OpenDocument files: PDF pages one after the other, a Word or OpenDocument text's
//! paragraphs one per line, each sheet of a workbook as `Name:` followed by its rows as CSV.
//!
//! A document is someone else's program in all but name (a PDF's page tree may loop, a ZIP may
//! inflate a thousandfold), so the server never reads one itself: [`child`] runs the reading
//! in a child process of this same executable with a memory and CPU limit and a deadline, and
//! a document that breaks any of them is refused with a 4xx. [`extract`] is what that child
//! runs.

pub mod child;
mod office;
mod pdf;

use super::text::MAX_TEXT_BYTES;

/// The largest document read (LibreChat's document parser takes 15 MB; a text-heavy PDF of
/// a few hundred pages is well under this).
pub const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// The kinds of document read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    /// Word (Office Open XML).
    Docx,
    /// Excel (Office Open XML).
    Xlsx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
}

const KINDS: &[(Kind, &str, &str, &str)] = &[
    (Kind::Pdf, "pdf", "application/pdf", "PDF"),
    (
        Kind::Docx,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document",
    ),
    (
        Kind::Xlsx,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel workbook",
    ),
    (
        Kind::Odt,
        "odt",
        "application/vnd.oasis.opendocument.text",
        "OpenDocument text",
    ),
    (
        Kind::Ods,
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        "OpenDocument spreadsheet",
    ),
];

impl Kind {
    fn row(self) -> &'static (Kind, &'static str, &'static str, &'static str) {
        KINDS
            .iter()
            .find(|r| r.0 == self)
            .expect("every kind has a row")
    }

    /// The kind a media type names (Excel's older names for XLSX included, as LibreChat's
    /// `excelMimeTypes`; the bytes decide whether it really is one).
    pub fn of_mime(mime: &str) -> Option<Self> {
        if let Some(r) = KINDS.iter().find(|r| r.2 == mime) {
            return Some(r.0);
        }
        matches!(
            mime,
            "application/vnd.ms-excel"
                | "application/msexcel"
                | "application/x-msexcel"
                | "application/x-ms-excel"
                | "application/x-excel"
                | "application/xls"
                | "application/x-xls"
        )
        .then_some(Kind::Xlsx)
    }

    /// The kind a file name's extension names.
    pub fn of_extension(ext: &str) -> Option<Self> {
        KINDS
            .iter()
            .find(|r| r.1.eq_ignore_ascii_case(ext))
            .map(|r| r.0)
    }

    /// The short name (the child's argument; the extension).
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The kind named by [`Kind::name`].
    pub fn parse(name: &str) -> Option<Self> {
        KINDS.iter().find(|r| r.1 == name).map(|r| r.0)
    }

    /// The media type recorded for it.
    pub fn mime(self) -> &'static str {
        self.row().2
    }

    /// What people call it, for error messages.
    pub fn label(self) -> &'static str {
        self.row().3
    }

    /// Whether its bytes start as a ZIP container.
    pub fn is_zip(self) -> bool {
        self != Kind::Pdf
    }
}

/// Why a document gave no text. All are the uploader's to fix (a 4xx) except `Io`.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(
        "documents of over {} MB cannot be read as text",
        MAX_DOCUMENT_BYTES / (1024 * 1024)
    )]
    TooLarge,
    #[error("this {kind} could not be read: {reason}")]
    Unreadable { kind: &'static str, reason: String },
    #[error("No text found in document")]
    NoText,
    #[error("reading this {0} took more time or memory than a document may")]
    OverLimits(&'static str),
    #[error("reading the document failed: {0}")]
    Io(#[from] std::io::Error),
}

impl DocumentError {
    fn unreadable(kind: Kind, reason: impl std::fmt::Display) -> Self {
        DocumentError::Unreadable {
            kind: kind.label(),
            reason: reason.to_string(),
        }
    }
}

/// Reads a document's text, in this process: what the child runs. The text stops at
/// [`MAX_TEXT_BYTES`] (the model is given far less: `fileTokenLimit`).
pub fn extract(kind: Kind, bytes: &[u8]) -> Result<String, DocumentError> {
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge);
    }
    let mut sink = Sink::default();
    match kind {
        Kind::Pdf => pdf::read(bytes, &mut sink),
        _ => office::read(kind, bytes, &mut sink),
    }
    .map_err(|reason| DocumentError::unreadable(kind, reason))?;
    let text = sink.text;
    if text.trim().is_empty() {
        return Err(DocumentError::NoText);
    }
    Ok(text)
}

/// The text read so far, which stops growing at [`MAX_TEXT_BYTES`] (cut at a character).
#[derive(Debug, Default)]
struct Sink {
    text: String,
    full: bool,
}

impl Sink {
    /// Appends `s`; false once the text is full (the reader may stop).
    fn push(&mut self, s: &str) -> bool {
        if self.full {
            return false;
        }
        let room = MAX_TEXT_BYTES - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return true;
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
        self.full = true;
        false
    }

    fn push_char(&mut self, c: char) -> bool {
        self.push(c.encode_utf8(&mut [0; 4]))
    }
}

#[cfg(test)]
mod tests;
