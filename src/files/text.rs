//! Documents read as text for the model (LibreChat's "upload as text"): for now text and code,
//! which need only to be valid UTF-8.

/// The most text one document may give (LibreChat's limit on extracted text).
pub const MAX_TEXT_BYTES: usize = 15 * 1024 * 1024;

/// Why a document gave no text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the file is not valid UTF-8 text")]
    NotText,
    #[error("the text of this file is over the {} MB a document may give; try a shorter one", MAX_TEXT_BYTES / (1024 * 1024))]
    TooLong,
}

/// The text of a text file: UTF-8 (a byte-order mark dropped), NUL-free, at most
/// [`MAX_TEXT_BYTES`].
pub fn from_text_file(bytes: Vec<u8>) -> Result<String, TextError> {
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(TextError::TooLong);
    }
    let mut text = String::from_utf8(bytes).map_err(|_| TextError::NotText)?;
    if text.contains('\0') {
        return Err(TextError::NotText);
    }
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_without_nul() {
        assert_eq!(from_text_file(b"\xef\xbb\xbfhi".to_vec()).unwrap(), "hi");
        assert_eq!(from_text_file(b"a\xffb".to_vec()), Err(TextError::NotText));
        assert_eq!(from_text_file(b"a\0b".to_vec()), Err(TextError::NotText));
        assert_eq!(
            from_text_file(vec![b'a'; MAX_TEXT_BYTES + 1]),
            Err(TextError::TooLong)
        );
    }
}
