//! A person's avatar (`POST /api/files/images/avatar`), made as LibreChat makes it: the picture
//! cut to its centred square and sized to [`SIDE`] × [`SIDE`] pixels, written again as
//! `imageOutputType` (which drops every piece of metadata), stored once, recorded as a file of
//! context `avatar`, and set as the account's `avatar` URL. The avatar it replaces goes, its
//! record and its bytes.
//!
//! The picture is served by `GET /images/{userId}/{fileId}.{ext}`, to its owner only; account
//! deletion takes it along with every other file, and the sweeper removes an avatar file the
//! account no longer shows (one a social sign-in replaced).

use image::RgbaImage;

use super::images::{self, ImageError, OutputType};
use super::intake::MAX_IMAGE_BYTES;
use super::kinds::{self, TypeError};
use super::storage::{Received, Storage};
use crate::config::FileSettings;
use crate::db::files::File;
use crate::db::{Db, DbError};

/// The side of a stored avatar, in pixels: LibreChat's (`resizeAndConvert`'s width of 150,
/// after cutting the square).
pub const SIDE: u32 = 150;

/// What the form said besides the picture.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub user_id: String,
    /// The type the browser gave.
    pub declared_type: String,
    /// The name the browser gave (only to name a text type; never stored as a path).
    pub filename: String,
    /// The form's `manual` was `"true"`: the person chose this picture, and signing in with a
    /// social provider will not replace it with the provider's.
    pub manual: bool,
}

/// The avatar now set.
#[derive(Debug, Clone)]
pub struct Avatar {
    /// The account's `avatar`: `/images/{userId}/{fileId}.{ext}?manual=true|false`.
    pub url: String,
    pub file: File,
}

/// Why an avatar was refused. Each is the person's to fix (a 4xx), except `Db`, `Io` and an
/// image that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("Empty file uploaded")]
    Empty,
    #[error("File size limit of {mb} MB exceeded for avatar upload")]
    TooLarge { mb: f64 },
    #[error("Unsupported file type: an avatar is a PNG, JPEG, GIF or WebP image")]
    NotAnImage,
    #[error("{0}")]
    Type(#[from] TypeError),
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("storing the avatar failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The most an avatar upload may weigh: `avatarSizeLimit`, and never more than any image
/// this server decodes.
pub fn size_limit(settings: &FileSettings) -> u64 {
    settings.avatar_size_limit.min(MAX_IMAGE_BYTES)
}

/// The limit in LibreChat's words ("2 MB").
pub fn too_large(settings: &FileSettings) -> AvatarError {
    AvatarError::TooLarge {
        mb: size_limit(settings) as f64 / (1024.0 * 1024.0),
    }
}

/// Checks a received picture, makes the avatar, stores and records it, and sets it on the
/// account; the avatar before it is removed. On any refusal nothing stays.
pub async fn take(
    db: &Db,
    storage: &Storage,
    settings: &FileSettings,
    upload: Upload,
    received: Received,
) -> Result<Avatar, AvatarError> {
    let manual = upload.manual;
    let user_id = upload.user_id.clone();
    let record = picture(storage, settings, &upload, received, |file_id, ext| {
        format!("/images/{user_id}/{file_id}.{ext}")
    })
    .await?;
    // LibreChat's client and its social sign-ins read `manual=true` in the URL.
    let url = format!("{}?manual={manual}", record.filepath);
    let record = File {
        context: Some("avatar".into()),
        ..record
    };
    let (r, u) = (record.clone(), url.clone());
    let replaced = match db
        .write(move |c| crate::db::avatars::replace(c, &r, &u))
        .await
    {
        Ok(old) => old,
        Err(e) => {
            let _ = storage.remove(&record.storage_key).await;
            return Err(e.into());
        }
    };
    for old in replaced {
        if let Err(e) = storage.remove(&old).await {
            tracing::warn!(error = %e, "removing a replaced avatar's bytes failed; the sweeper will");
        }
    }
    Ok(Avatar { url, file: record })
}

/// Checks a received picture and makes it an avatar: its centred square at [`SIDE`] pixels,
/// written again as `imageOutputType`, stored. Returns the file's record (not yet written;
/// `filepath` from `path(file_id, extension)`, no context): the caller records it, or removes
/// the stored bytes (`storage_key`) when it does not.
pub async fn picture(
    storage: &Storage,
    settings: &FileSettings,
    upload: &Upload,
    received: Received,
    path: impl FnOnce(&str, &str) -> String,
) -> Result<File, AvatarError> {
    if received.bytes == 0 {
        return Err(AvatarError::Empty);
    }
    if received.bytes > size_limit(settings) {
        return Err(too_large(settings));
    }
    // The bytes decide; a declared type that disagrees with them is refused.
    let mime = kinds::resolve(&upload.declared_type, &upload.filename, &received.head)?;
    if !mime.starts_with("image/") {
        return Err(AvatarError::NotAnImage);
    }
    let bytes = received.read().await?;
    drop(received);
    let output = OutputType::parse(&settings.image_output_type).unwrap_or_default();
    let (picture, width, height) = tokio::task::spawn_blocking(move || {
        let square = square(images::decode(&bytes)?);
        let (w, h) = (square.width(), square.height());
        Ok::<_, ImageError>((images::encode(square, output)?, w, h))
    })
    .await
    .map_err(std::io::Error::other)??;
    let size = picture.len();
    let key = storage.put_bytes(picture).await?;
    let file_id = uuid::Uuid::new_v4().to_string();
    Ok(File {
        filepath: path(&file_id, output.extension()),
        file_id,
        user_id: upload.user_id.clone(),
        filename: format!("avatar.{}", output.extension()),
        storage_key: key,
        bytes: i64::try_from(size).unwrap_or(i64::MAX),
        mime: output.mime().to_owned(),
        width: Some(i64::from(width)),
        height: Some(i64::from(height)),
        source: "local".into(),
        ..File::default()
    })
}

/// The picture's centred square, at [`SIDE`] pixels a side (smaller pictures are enlarged,
/// as LibreChat's are).
fn square(pixels: RgbaImage) -> RgbaImage {
    let side = pixels.width().min(pixels.height());
    let x = (pixels.width() - side) / 2;
    let y = (pixels.height() - side) / 2;
    let view = image::imageops::crop_imm(&pixels, x, y, side, side);
    image::imageops::thumbnail(&*view, SIDE, SIDE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_centred_square_is_kept() {
        // Red on the left third, green in the middle, blue on the right: only green stays.
        let mut wide = RgbaImage::new(300, 100);
        for (x, _, p) in wide.enumerate_pixels_mut() {
            *p = match x {
                0..100 => image::Rgba([255, 0, 0, 255]),
                100..200 => image::Rgba([0, 255, 0, 255]),
                _ => image::Rgba([0, 0, 255, 255]),
            };
        }
        let out = square(wide);
        assert_eq!(out.dimensions(), (SIDE, SIDE));
        for p in [out.get_pixel(0, 0), out.get_pixel(SIDE - 1, SIDE - 1)] {
            assert_eq!(p.0, [0, 255, 0, 255]);
        }
        let small = square(RgbaImage::new(40, 60));
        assert_eq!(
            small.dimensions(),
            (SIDE, SIDE),
            "enlarged, as LibreChat does"
        );
    }
}
