//! The text of a PDF, page after page (lopdf: fonts' encodings and ToUnicode maps applied).
//!
//! lopdf bounds each stream it inflates; a page tree that loops ends (its page list is
//! built once); pages whose text cannot be decoded are skipped as long as others give text.

use super::Sink;

/// The most one stream (or one page's content) may inflate to.
const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// Appends the PDF's text to `sink`, a line break and a form feed after each page (the
/// chunker numbers pages by them: `crate::files::chunks`). An error when nothing could be read.
pub(super) fn read(bytes: &[u8], sink: &mut Sink) -> Result<(), String> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_INFLATED),
        ..lopdf::LoadOptions::default()
    };
    let doc = lopdf::Document::load_mem_with_options(bytes, options).map_err(|e| e.to_string())?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.is_empty() {
        return Err("it has no pages".into());
    }
    let mut first_error = None;
    let mut read_any = false;
    for page in pages {
        for chunk in doc.extract_text_chunks_with_limit(&[page], MAX_INFLATED) {
            match chunk {
                Ok(text) => {
                    read_any = true;
                    if !sink.push(&text) {
                        return Ok(());
                    }
                }
                Err(e) => {
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        if !sink.text.ends_with('\n') && !sink.push_char('\n') {
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
