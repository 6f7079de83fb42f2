//! What an upload really is, from its first bytes, whatever its name and declared type say.
//!
//! A file is taken only when its bytes agree with the type it claims: a "PNG" that is text,
//! or "text" that is a ZIP, is refused. Where the browser could not name a type
//! (`application/octet-stream`, or none), text is named from the file's extension.

use super::documents::Kind;

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    /// A ZIP container: DOCX, XLSX, ODT, a plain archive...
    Zip,
    /// UTF-8 text (as far as the first bytes go) without NUL bytes.
    Text,
    /// Anything else.
    Binary,
}

impl Sniffed {
    /// The image type these bytes are, if they are one.
    pub fn image_mime(self) -> Option<&'static str> {
        Some(match self {
            Sniffed::Png => "image/png",
            Sniffed::Jpeg => "image/jpeg",
            Sniffed::Gif => "image/gif",
            Sniffed::Webp => "image/webp",
            _ => return None,
        })
    }
}

/// Looks at an upload's first bytes (`head`: up to 4 KiB, or the whole file if shorter).
pub fn sniff(head: &[u8]) -> Sniffed {
    match head {
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Sniffed::Png,
        [0xFF, 0xD8, 0xFF, ..] => Sniffed::Jpeg,
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Sniffed::Gif,
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Sniffed::Webp,
        [b'%', b'P', b'D', b'F', b'-', ..] => Sniffed::Pdf,
        [b'P', b'K', 0x03, 0x04, ..] => Sniffed::Zip,
        _ if looks_like_text(head) => Sniffed::Text,
        _ => Sniffed::Binary,
    }
}

/// UTF-8 without NUL (a character cut at the end of the head is allowed), or a UTF-8 BOM.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // Only an incomplete character at the very end.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// Text types by extension, for files the browser sent without a usable type.
const TEXT_EXTENSIONS: &[(&str, &str)] = &[
    ("txt", "text/plain"),
    ("log", "text/plain"),
    ("md", "text/markdown"),
    ("markdown", "text/markdown"),
    ("csv", "text/csv"),
    ("tsv", "text/tab-separated-values"),
    ("html", "text/html"),
    ("htm", "text/html"),
    ("xml", "application/xml"),
    ("css", "text/css"),
    ("js", "text/javascript"),
    ("mjs", "text/javascript"),
    ("ts", "application/typescript"),
    ("json", "application/json"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("toml", "application/toml"),
    ("sql", "application/sql"),
    ("sh", "application/x-sh"),
    ("py", "text/x-python"),
    ("rb", "text/x-ruby"),
    ("rs", "text/x-rust"),
    ("go", "text/x-go"),
    ("java", "text/x-java"),
    ("c", "text/x-c"),
    ("h", "text/x-h"),
    ("cpp", "text/x-c++"),
    ("cs", "text/x-csharp"),
    ("php", "text/x-php"),
    ("tex", "text/x-tex"),
    ("ics", "text/calendar"),
    ("vtt", "text/vtt"),
];

/// Whether a declared type is one of text's (so text bytes may carry it).
fn is_text_type(mime: &str) -> bool {
    mime.starts_with("text/")
        || TEXT_EXTENSIONS.iter().any(|(_, m)| *m == mime)
        || matches!(
            mime,
            "application/csv"
                | "application/x-yaml"
                | "application/javascript"
                | "application/x-ndjson"
        )
}

/// A file name's extension, in lower case.
fn extension(filename: &str) -> Option<String> {
    filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
}

/// Why an upload's type was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    #[error("the file's content is not a {declared} file")]
    Mismatch { declared: String },
    #[error("files of this kind cannot be used here")]
    Unknown,
}

/// The type to record for an upload: the declared one when the bytes agree with it, the
/// bytes' own when the browser named none.
pub fn resolve(declared: &str, filename: &str, head: &[u8]) -> Result<String, TypeError> {
    let declared = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let sniffed = sniff(head);
    let unnamed = declared.is_empty() || declared == "application/octet-stream";
    let mismatch = || TypeError::Mismatch {
        declared: declared.clone(),
    };
    if let Some(image) = sniffed.image_mime() {
        return match declared.as_str() {
            d if unnamed || d == image => Ok(image.to_owned()),
            // Browsers name JPEG both ways.
            "image/jpg" | "image/pjpeg" if image == "image/jpeg" => Ok(image.to_owned()),
            _ => Err(mismatch()),
        };
    }
    if declared.starts_with("image/") {
        return Err(mismatch());
    }
    match sniffed {
        Sniffed::Pdf if unnamed || declared == "application/pdf" => Ok("application/pdf".into()),
        // Word, Excel and OpenDocument files are ZIP containers, named by their extension.
        Sniffed::Zip if unnamed => extension(filename)
            .and_then(|e| Kind::of_extension(&e))
            .filter(|k| k.is_zip())
            .map(|k| k.mime().to_owned())
            .ok_or(TypeError::Unknown),
        // The container's contents are checked when it is read.
        Sniffed::Zip
            if declared.starts_with("application/")
                && Kind::of_mime(&declared).is_none_or(Kind::is_zip) =>
        {
            Ok(declared)
        }
        Sniffed::Text if unnamed => {
            let ext = extension(filename).unwrap_or_default();
            Ok(TEXT_EXTENSIONS
                .iter()
                .find(|(e, _)| *e == ext)
                .map_or("text/plain", |(_, m)| m)
                .to_owned())
        }
        Sniffed::Text if is_text_type(&declared) => Ok(declared),
        Sniffed::Binary if unnamed => Err(TypeError::Unknown),
        _ => Err(mismatch()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn the_bytes_decide() {
        assert_eq!(sniff(PNG), Sniffed::Png);
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Sniffed::Jpeg);
        assert_eq!(sniff(b"GIF89a"), Sniffed::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Sniffed::Webp);
        assert_eq!(sniff(b"%PDF-1.7"), Sniffed::Pdf);
        assert_eq!(sniff(b"PK\x03\x04"), Sniffed::Zip);
        assert_eq!(sniff("héllo".as_bytes()), Sniffed::Text);
        // A character cut by the end of the head is still text.
        assert_eq!(sniff(&"é".as_bytes()[..1]), Sniffed::Text);
        assert_eq!(sniff(b"a\0b"), Sniffed::Binary);
        assert_eq!(sniff(b"\xff\xfe\xfd"), Sniffed::Binary);
    }

    #[test]
    fn a_type_that_lies_is_refused() {
        assert_eq!(resolve("image/png", "a.png", PNG).unwrap(), "image/png");
        assert_eq!(
            resolve("image/jpg", "a.jpg", b"\xff\xd8\xff").unwrap(),
            "image/jpeg"
        );
        assert!(resolve("image/png", "a.png", b"just text").is_err());
        assert!(resolve("text/plain", "a.txt", PNG).is_err());
        assert!(resolve("image/gif", "a.gif", PNG).is_err());
        assert!(resolve("application/pdf", "a.pdf", b"text").is_err());
        assert!(resolve("text/plain", "a.txt", b"PK\x03\x04").is_err());
        assert!(resolve("video/mp4", "a.mp4", b"\0\0\0 ftypisom").is_err());
    }

    #[test]
    fn unnamed_text_is_named_by_its_extension() {
        assert_eq!(
            resolve("", "main.rs", b"fn main() {}").unwrap(),
            "text/x-rust"
        );
        assert_eq!(
            resolve("application/octet-stream", "notes", b"hi").unwrap(),
            "text/plain"
        );
        assert_eq!(
            resolve("text/markdown; charset=utf-8", "a.md", b"# x").unwrap(),
            "text/markdown"
        );
        assert_eq!(resolve("", "x.bin", b"\0\x01"), Err(TypeError::Unknown));
        assert_eq!(resolve("", "a.png", PNG).unwrap(), "image/png");
        assert_eq!(
            resolve("", "report.DOCX", b"PK\x03\x04").unwrap(),
            Kind::Docx.mime()
        );
        assert_eq!(resolve("", "a.zip", b"PK\x03\x04"), Err(TypeError::Unknown));
        assert_eq!(
            resolve("", "a.pdf", b"%PDF-1.4").unwrap(),
            "application/pdf"
        );
    }

    #[test]
    fn a_zip_is_not_a_pdf() {
        assert!(resolve("application/pdf", "a.pdf", b"PK\x03\x04").is_err());
        assert!(resolve(Kind::Xlsx.mime(), "a.xlsx", b"%PDF-1.4").is_err());
        assert_eq!(
            resolve(Kind::Xlsx.mime(), "a.xlsx", b"PK\x03\x04").unwrap(),
            Kind::Xlsx.mime()
        );
    }
}
