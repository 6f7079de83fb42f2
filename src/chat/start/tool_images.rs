//! Images tools make (an MCP tool's image results) kept as the person's files, as LibreChat
//! keeps them (`saveBase64Image`, context `image_generation`): decoded under the image limits,
//! written again without metadata, recorded with the answer's conversation and message, and
//! attached to the answer with the call's id (LibreChat's `attachment` event).

use std::sync::Arc;

use serde_json::Value;

use crate::agents::tools::attach::{ImageSaver, NewImage};
use crate::db::files::File;
use crate::files::images::{self, Fit, OutputType};

/// Where the images of one answer go.
pub(super) struct Place {
    pub db: crate::db::Db,
    pub files: crate::files::Storage,
    pub user_id: String,
    pub conversation_id: String,
    pub message_id: String,
    /// `fileConfig.imageOutputType`.
    pub output: OutputType,
}

/// A saver for the images of the answer at `place`; each kept image is then given to
/// `attach` (the answer's attachments).
pub(super) fn saver(place: Place, attach: Arc<dyn Fn(Value) + Send + Sync>) -> ImageSaver {
    let place = Arc::new(place);
    Arc::new(move |image: NewImage| {
        let (place, attach) = (place.clone(), attach.clone());
        Box::pin(async move {
            match keep(&place, image).await {
                Ok(v) => {
                    attach(v.clone());
                    Some(v)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a tool's image could not be kept");
                    None
                }
            }
        })
    })
}

async fn keep(place: &Place, image: NewImage) -> Result<Value, String> {
    let output = place.output;
    let bytes = image.bytes;
    let prepared = tokio::task::spawn_blocking(move || images::prepare(&bytes, Fit::HIGH, output))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let size = prepared.bytes.len();
    let key = place
        .files
        .put_bytes(prepared.bytes)
        .await
        .map_err(|e| e.to_string())?;
    let file_id = uuid::Uuid::new_v4().to_string();
    let record = File {
        filepath: format!("/images/{}/{file_id}.{}", place.user_id, output.extension()),
        filename: format!("{file_id}-{}.{}", image.name, output.extension()),
        file_id,
        user_id: place.user_id.clone(),
        storage_key: key.clone(),
        bytes: i64::try_from(size).unwrap_or(i64::MAX),
        mime: output.mime().to_owned(),
        width: Some(i64::from(prepared.width)),
        height: Some(i64::from(prepared.height)),
        source: "local".into(),
        context: Some("image_generation".into()),
        conversation_id: Some(place.conversation_id.clone()),
        message_id: Some(place.message_id.clone()),
        ..File::default()
    };
    let stored = match place
        .db
        .write(move |c| crate::db::files::insert(c, &record))
        .await
    {
        Ok(f) => f,
        Err(e) => {
            let _ = place.files.remove(&key).await;
            return Err(e.to_string());
        }
    };
    let mut v =
        serde_json::to_value(crate::chat::present::file(&stored)).map_err(|e| e.to_string())?;
    v["messageId"] = Value::from(place.message_id.as_str());
    v["conversationId"] = Value::from(place.conversation_id.as_str());
    v["toolCallId"] = Value::from(image.call_id);
    Ok(v)
}
