//! Taking an upload in: the checks LibreChat's `filterFile` makes (an id, an endpoint, not
//! empty, within the endpoint's size and types), the type found in the bytes, the text read
//! out of a document, and then one stored object and one `files` record — or nothing at all.

use super::documents::{self, DocumentError};
use super::images::{self, Fit, ImageError, OutputType};
use super::kinds::{self, TypeError};
use super::storage::{Received, Storage};
use super::text::{self, TextError};
use crate::config::FileSettings;
use crate::db::files::File;
use crate::db::{Db, DbError};

/// The largest image file decoded (a 48-megapixel photo is about 20 MB).
pub const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;

/// What the upload's form said besides the file.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub user_id: String,
    /// The id the client gave the upload (`file_id` in the form): a UUID.
    pub temp_file_id: Option<String>,
    /// The name the browser gave, as sent (LibreChat's client percent-encodes it).
    pub filename: String,
    /// The type the browser gave.
    pub declared_type: String,
    pub endpoint: Option<String>,
    pub endpoint_type: Option<String>,
    pub conversation_id: Option<String>,
    /// For an agent's File Context (LibreChat's `tool_resource: context`): a document only
    /// (its text is what the agent is given), recorded with LibreChat's `FileContext.agents`
    /// and no conversation.
    pub for_agent: bool,
    /// For file search (LibreChat's `tool_resource: file_search`, an agent's or a chat's): a
    /// document only, recorded as `embedded` (its chunks are indexed, its text is not given to
    /// the model whole).
    pub file_search: bool,
}

/// Why an upload was refused. Each is the person's to fix (a 4xx), except `Db` and `Io`.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("No file_id provided")]
    NoFileId,
    #[error("file_id must be a UUID")]
    BadFileId,
    #[error("No endpoint provided")]
    NoEndpoint,
    #[error("Empty file uploaded")]
    Empty,
    #[error("Uploads are turned off for the {0} endpoint")]
    Disabled(String),
    #[error("File size limit of {mb} MB exceeded for {endpoint} endpoint")]
    TooLarge { mb: f64, endpoint: String },
    #[error("The file name must not contain path separators, \"..\" or control characters")]
    BadName,
    #[error("Unsupported file type")]
    Unsupported,
    /// LibreChat's words for an image uploaded for file search.
    #[error("Image uploads are not supported for file search tool resources")]
    ImageForSearch,
    /// LibreChat's words when an agent's File Context is given a file with no text to read.
    #[error("File type {0} is not supported for text parsing.")]
    NotText(String),
    #[error("{0}")]
    Type(#[from] TypeError),
    #[error("{0}")]
    Text(#[from] TextError),
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error("{0}")]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("storing the file failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The display name from what the browser sent: percent-decoded, never a path.
pub fn display_name(sent: &str) -> Result<String, IntakeError> {
    let decoded = percent_encoding::percent_decode_str(sent)
        .decode_utf8()
        .map(|s| s.into_owned())
        .unwrap_or_else(|_| sent.to_owned());
    let name = decoded.trim();
    if name.is_empty() {
        return Ok("file".into());
    }
    if name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || name.chars().any(char::is_control)
    {
        return Err(IntakeError::BadName);
    }
    Ok(name.chars().take(255).collect())
}

/// Checks a complete upload and keeps it: its bytes in the storage, its record in the
/// database. On any refusal nothing stays (the received file is dropped with `received`).
pub async fn take(
    db: &Db,
    storage: &Storage,
    settings: &FileSettings,
    meta: Meta,
    received: Received,
) -> Result<File, IntakeError> {
    let record = prepare(storage, settings, meta, received).await?;
    record_or_remove(db, storage, record).await
}

/// Checks a complete upload, reads it and stores its bytes: the record to keep, not recorded
/// yet (the caller records it, or removes its bytes: `storage_key`). On a refusal nothing is
/// stored.
pub async fn prepare(
    storage: &Storage,
    settings: &FileSettings,
    meta: Meta,
    received: Received,
) -> Result<File, IntakeError> {
    let temp_file_id = meta.temp_file_id.clone().ok_or(IntakeError::NoFileId)?;
    if uuid::Uuid::parse_str(&temp_file_id).is_err() {
        return Err(IntakeError::BadFileId);
    }
    let endpoint = meta.endpoint.clone().ok_or(IntakeError::NoEndpoint)?;
    if received.bytes == 0 {
        return Err(IntakeError::Empty);
    }
    let filename = display_name(&meta.filename)?;
    let limits = settings.endpoint(&endpoint, meta.endpoint_type.as_deref());
    if limits.disabled {
        return Err(IntakeError::Disabled(endpoint));
    }
    if received.bytes > limits.file_size_limit {
        return Err(IntakeError::TooLarge {
            mb: limits.file_size_limit as f64 / (1024.0 * 1024.0),
            endpoint,
        });
    }
    let mime = kinds::resolve(&meta.declared_type, &filename, &received.head)?;
    if !limits.accepts(&mime) {
        return Err(IntakeError::Unsupported);
    }
    if mime.starts_with("image/") && meta.file_search {
        return Err(IntakeError::ImageForSearch);
    }
    if mime.starts_with("image/") && meta.for_agent {
        // No OCR here: an image has no text for an agent's context.
        return Err(IntakeError::NotText(mime));
    }
    if mime.starts_with("image/") {
        return take_image(
            storage,
            settings,
            meta,
            received,
            &endpoint,
            temp_file_id,
            filename,
        )
        .await;
    }
    let text = if let Some(kind) = documents::Kind::of_mime(&mime) {
        // Read in a child process, with its own limits.
        let reader = settings.document_reader.as_deref();
        documents::child::read(kind, received.path(), reader).await?
    } else {
        // A text file is its own text: one over the limit is refused before it is read.
        if received.bytes > text::MAX_TEXT_BYTES as u64 {
            return Err(TextError::TooLong.into());
        }
        let bytes = received.read().await?;
        tokio::task::spawn_blocking(move || text::from_text_file(bytes))
            .await
            .map_err(std::io::Error::other)??
    };
    let size = received.bytes;
    let key = storage.keep(received).await?;
    let file_id = uuid::Uuid::new_v4().to_string();
    let record = File {
        filepath: format!("/api/files/download/{}/{file_id}", meta.user_id),
        file_id,
        user_id: meta.user_id,
        temp_file_id: Some(temp_file_id),
        filename,
        storage_key: key,
        bytes: i64::try_from(size).unwrap_or(i64::MAX),
        mime,
        // LibreChat's FileSources.text: given to the model as text; a file for file search is
        // stored (`local`) and searched (`embedded`), as LibreChat records it.
        source: if meta.file_search { "local" } else { "text" }.into(),
        embedded: meta.file_search,
        context: Some(
            if meta.for_agent {
                "agents"
            } else {
                "message_attachment"
            }
            .into(),
        ),
        conversation_id: meta.conversation_id.filter(|_| !meta.for_agent),
        text: Some(text),
        ..File::default()
    };
    Ok(record)
}

/// An image: decoded under limits, turned upright, shrunk for vision models (Anthropic's
/// smaller bound for its endpoint), written again without metadata, and stored once.
async fn take_image(
    storage: &Storage,
    settings: &FileSettings,
    meta: Meta,
    received: Received,
    endpoint: &str,
    temp_file_id: String,
    filename: String,
) -> Result<File, IntakeError> {
    if received.bytes > MAX_IMAGE_BYTES {
        return Err(IntakeError::TooLarge {
            mb: (MAX_IMAGE_BYTES / (1024 * 1024)) as f64,
            endpoint: endpoint.to_owned(),
        });
    }
    let bytes = received.read().await?;
    drop(received);
    let fit = if endpoint == "anthropic" {
        Fit::ANTHROPIC
    } else {
        Fit::HIGH
    };
    let output = OutputType::parse(&settings.image_output_type).unwrap_or_default();
    let prepared = tokio::task::spawn_blocking(move || images::prepare(&bytes, fit, output))
        .await
        .map_err(std::io::Error::other)??;
    let size = prepared.bytes.len();
    let key = storage.put_bytes(prepared.bytes).await?;
    let file_id = uuid::Uuid::new_v4().to_string();
    let record = File {
        filepath: format!("/images/{}/{file_id}.{}", meta.user_id, output.extension()),
        file_id,
        user_id: meta.user_id,
        temp_file_id: Some(temp_file_id),
        filename,
        storage_key: key,
        bytes: i64::try_from(size).unwrap_or(i64::MAX),
        mime: output.mime().to_owned(),
        width: Some(i64::from(prepared.width)),
        height: Some(i64::from(prepared.height)),
        source: "local".into(),
        context: Some("message_attachment".into()),
        conversation_id: meta.conversation_id,
        ..File::default()
    };
    Ok(record)
}

/// Records a stored file; when that fails, its bytes go too (the sweeper would, later).
async fn record_or_remove(db: &Db, storage: &Storage, record: File) -> Result<File, IntakeError> {
    let key = record.storage_key.clone();
    match db
        .write(move |c| crate::db::files::insert(c, &record))
        .await
    {
        Ok(saved) => Ok(saved),
        Err(e) => {
            let _ = storage.remove(&key).await;
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_and_never_paths() {
        assert_eq!(display_name("r%C3%A9sum%C3%A9.txt").unwrap(), "résumé.txt");
        assert_eq!(display_name("plain name.md").unwrap(), "plain name.md");
        assert_eq!(display_name("").unwrap(), "file");
        assert_eq!(display_name("v1..2.txt").unwrap(), "v1..2.txt");
        for bad in [
            "..%2F..%2Fetc%2Fpasswd",
            "a/b.txt",
            "a\\b.txt",
            "..",
            "a%0Ab",
        ] {
            assert!(display_name(bad).is_err(), "{bad}");
        }
    }
}
