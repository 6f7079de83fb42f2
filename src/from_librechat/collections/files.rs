//! Files (schema/file.ts) and their bytes, and the pictures of accounts.
//!
//! LibreChat keeps a local file's bytes in its `uploads/` folder (`filepath`
//! `/uploads/<user>/<file_id>__<name>`) or, for images, in `client/public/images/`
//! (`/images/<user>/<name>`). Given those folders (`--uploads`, `--images`), each file's bytes
//! are copied into this server's storage, streamed, and its record keeps its `file_id` with a
//! `filepath` of this server's shape: `/images/<user>/<file_id>.<ext>` for an image,
//! `/api/files/download/<user>/<file_id>` otherwise. A path that would lead out of those
//! folders (`..`, a link pointing out) is refused. A dry run checks the bytes are there and
//! copies nothing.
//!
//! Files LibreChat kept in cloud storage (S3, Firebase, Azure Blob, CloudFront) are not copied:
//! they are listed in the report, for a second step. A file whose bytes were never kept (a
//! document LibreChat only read as text) comes over with its text as its bytes.

use std::collections::HashMap;
use std::fs::File as FsFile;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::file_store::FileStore;
use crate::db::from_librechat::{self as sql, insert};
use crate::files::Storage;
use crate::from_librechat::doc::Doc;
use crate::from_librechat::report::{RemoteFile, Skip};
use crate::from_librechat::{Ctx, Failure, Mapped, Outcome};

/// LibreChat's file sources whose bytes are in cloud storage, not in its folders.
pub(super) const REMOTE: &[&str] = &["s3", "firebase", "azure_blob", "cloudfront"];
/// Image types shown at `/images/…`, as this server's own uploads are.
const SHOWN: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];
/// Cloud files listed by name in the report; the rest are counted.
pub(super) const LISTED_REMOTE: usize = 1000;

/// Where bytes come from, and where they go.
pub struct Bytes {
    /// LibreChat's `uploads/` and `client/public/images/` folders, resolved.
    uploads: Option<PathBuf>,
    images: Option<PathBuf>,
    /// This server's storage; `None` in a dry run, which copies nothing.
    store: Option<Storage>,
}

impl Bytes {
    /// The folders given, which must exist; `store` in `files_dir` is this server's storage
    /// (not touched in a dry run).
    pub fn new(
        uploads: Option<&Path>,
        images: Option<&Path>,
        store: &FileStore,
        files_dir: &Path,
        dry_run: bool,
    ) -> anyhow::Result<Self> {
        let resolve = |p: Option<&Path>, flag: &str| -> anyhow::Result<Option<PathBuf>> {
            p.map(|p| {
                p.canonicalize()
                    .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", p.display()))
            })
            .transpose()
        };
        Ok(Self {
            uploads: resolve(uploads, "--uploads")?,
            images: resolve(images, "--images")?,
            store: if dry_run {
                None
            } else {
                Some(Storage::new(store, files_dir.to_owned())?)
            },
        })
    }

    /// Stores what `from` reads; in a dry run only a name is made.
    pub(super) fn put(
        &self,
        from: &mut dyn std::io::Read,
        size: u64,
    ) -> Result<(String, u64), Skip> {
        match &self.store {
            None => Ok((format!("dry-run/{}", uuid::Uuid::new_v4().simple()), size)),
            Some(s) => s
                .copy_in(from)
                .map_err(|e| Skip::new("copy_failed", format!("copying its bytes failed: {e}"))),
        }
    }

    pub(super) fn discard(&self, key: &str) {
        if let Some(s) = &self.store {
            let _ = s.discard(key);
        }
    }
}

/// A file here that came from LibreChat: where clients fetch it now, and whether it is
/// attached to a message.
pub struct Moved {
    pub filepath: String,
    unattached: bool,
    /// The first imported message that carries it, and that message's owner.
    attach_to: Option<(String, String)>,
}

/// What the files pass learns for the messages pass and the report.
#[derive(Default)]
pub struct Seen {
    pub moved: HashMap<String, Moved>,
    pub remote: Vec<RemoteFile>,
    pub remote_count: u64,
    /// Files LibreChat's RAG API searched, with no text in the backup to search here.
    unsearchable: u64,
    /// Files kept only as text in LibreChat, brought over with their text as their bytes.
    text_only: u64,
}

/// Is `id` safe in a path (`/images/<user>/<file_id>.<ext>`)? LibreChat's are UUIDs.
pub(super) fn safe_id(id: &str) -> bool {
    id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where LibreChat's `filepath` is on this disk.
pub(super) enum Place {
    Found(PathBuf, u64),
    /// Not under `/uploads/` or `/images/`.
    Elsewhere,
}

pub(super) fn locate(bytes: &Bytes, filepath: &str) -> Result<Place, Skip> {
    let path = filepath.split('?').next().unwrap_or_default();
    let (root, rest, flag) = if let Some(rest) = path.strip_prefix("/uploads/") {
        (&bytes.uploads, rest, "--uploads")
    } else if let Some(rest) = path.strip_prefix("/images/") {
        (&bytes.images, rest, "--images")
    } else {
        return Ok(Place::Elsewhere);
    };
    let unsafe_path = |why: &str| Skip::new("unsafe_path", format!("its path {filepath} {why}"));
    if rest
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains(['\\', '\0']))
    {
        return Err(unsafe_path(
            "is not a plain path (empty, \".\" or \"..\" parts)",
        ));
    }
    let Some(root) = root else {
        return Err(Skip::new(
            "bytes_not_found",
            format!("its bytes ({filepath}) need {flag}, which was not given"),
        ));
    };
    let not_found = |e: std::io::Error| {
        Skip::new(
            "bytes_not_found",
            format!(
                "its bytes ({filepath}) are not in {flag} {}: {e}",
                root.display()
            ),
        )
    };
    let real = root.join(rest).canonicalize().map_err(not_found)?;
    if !real.starts_with(root) {
        return Err(unsafe_path(&format!(
            "leads out of {flag} (through a link)"
        )));
    }
    let meta = real.metadata().map_err(not_found)?;
    if !meta.is_file() {
        return Err(unsafe_path("is not a file"));
    }
    Ok(Place::Found(real, meta.len()))
}

/// The extension for an image's `filepath`: the original's, or from its type.
pub(super) fn extension(name: &str, mime: &str) -> String {
    let ok =
        |e: &str| !e.is_empty() && e.len() <= 5 && e.bytes().all(|b| b.is_ascii_alphanumeric());
    match name.rsplit_once('.') {
        Some((_, e)) if ok(e) => e.to_ascii_lowercase(),
        _ => match mime.rsplit_once('/').map(|(_, s)| s) {
            Some("jpeg") => "jpg".into(),
            Some(s) if ok(s) => s.to_owned(),
            _ => "bin".into(),
        },
    }
}

pub fn file(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let file_id = d.required("file_id")?;
    if !safe_id(&file_id) {
        return Err(Skip::new("bad_shape", "file_id is not an id (letters, digits, -)").into());
    }
    let user = d
        .reference("user")?
        .ok_or_else(|| Skip::new("missing_field", "user is missing"))?;
    ctx.user_exists(&user)?;
    if d.time("expiredAt").is_some_and(|e| e < crate::db::now()) {
        return Err(Skip::new("expired", "its retention had expired in LibreChat").into());
    }
    let source = d.text("source")?.unwrap_or_else(|| "local".into());
    let filepath = d.text("filepath")?.unwrap_or_default();
    let seen = &mut ctx.learned.files;
    if REMOTE.contains(&source.as_str()) {
        seen.remote_count += 1;
        if seen.remote.len() < LISTED_REMOTE {
            seen.remote.push(RemoteFile {
                file_id: file_id.clone(),
                user: user.clone(),
                source: source.clone(),
                filepath: filepath.clone(),
            });
        }
        return Err(Skip::new(
            "remote_storage",
            format!("its bytes are in {source}: not copied (listed in the report's remote_files)"),
        )
        .into());
    }
    if let Some((mine, filepath, unattached)) = sql::file_here(ctx.conn, &file_id, &user)? {
        if !mine {
            return Err(Skip::new(
                "conflict",
                format!("{file_id} belongs to someone else here"),
            )
            .into());
        }
        let m = Moved {
            filepath,
            unattached,
            attach_to: None,
        };
        seen.moved.insert(file_id, m);
        return Ok(Outcome::Present);
    }
    let text = d.text("text")?.filter(|t| !t.is_empty());
    let place = locate(&ctx.files, &filepath);
    let outside = matches!(place, Ok(Place::Elsewhere));
    if outside && (source == "local" || filepath.contains("..")) {
        return Err(Skip::new(
            "unsafe_path",
            format!("its path {filepath:?} is not under /uploads/ or /images/"),
        )
        .into());
    }
    let mime = d
        .text("type")?
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    let filename = d
        .text("filename")?
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| filepath.rsplit('/').next().unwrap_or("file").to_owned());
    // The bytes: the original's, or (never kept by LibreChat) the text read from it.
    let (key, size, from_disk) = match (place, &text) {
        (Ok(Place::Found(path, size)), _) => {
            let mut f = FsFile::open(&path).map_err(|e| {
                Skip::new(
                    "bytes_not_found",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let (key, n) = ctx.files.put(&mut f, size)?;
            (key, n, true)
        }
        (Err(s), _) if s.code == "unsafe_path" => return Err(s.into()),
        (_, Some(t)) => {
            seen.text_only += 1;
            let (key, n) = ctx.files.put(&mut t.as_bytes(), t.len() as u64)?;
            (key, n, false)
        }
        (Err(s), None) => return Err(s.into()),
        (Ok(Place::Elsewhere), None) => {
            return Err(Skip::new(
                "no_bytes",
                format!("its bytes are kept by {source} ({filepath}), not in the backup"),
            )
            .into());
        }
    };
    let searched = d.flag("embedded");
    if searched && text.is_none() {
        seen.unsearchable += 1;
    }
    // Only pictures this server would make are shown inline; anything else (an SVG, which
    // could carry script) is a download.
    let new_path = if from_disk && SHOWN.contains(&mime.as_str()) {
        let stored = filepath.split('?').next().unwrap_or_default();
        format!("/images/{user}/{file_id}.{}", extension(stored, &mime))
    } else {
        format!("/api/files/download/{user}/{file_id}")
    };
    let kept_as = if from_disk && source != "text" {
        "local"
    } else {
        "text"
    };
    let message_id = d.text("messageId")?;
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::FILE,
        &[
            &file_id,
            &user,
            &d.text("temp_file_id")?,
            &filename,
            &new_path,
            &key,
            &i64::try_from(size).unwrap_or(i64::MAX),
            &mime,
            &d.int("width"),
            &d.int("height"),
            &kept_as,
            &d.text("context")?,
            &d.int("usage").unwrap_or(0),
            &d.text("conversationId")?,
            &message_id,
            &text,
            &(searched && text.is_some()),
            &created,
            &updated,
        ],
    );
    if !matches!(row, Ok(true)) {
        ctx.files.discard(&key);
        row?;
        return Err(Skip::new("refused", format!("{file_id} was not written")).into());
    }
    let m = Moved {
        filepath: new_path,
        unattached: message_id.is_none(),
        attach_to: None,
    };
    ctx.learned.files.moved.insert(file_id, m);
    Ok(Outcome::Imported)
}

/// Points a message's file references (`files[].filepath`, `content[].image_file.filepath`)
/// at the files' places here, and fills what a `files` entry lacks of this server's form
/// (name, type, size, source). Returns the ids of the files brought over that it carries.
pub fn relink(
    ctx: &Ctx,
    files: Option<&mut Value>,
    content: Option<&mut Value>,
) -> Result<Vec<String>, Failure> {
    let moved = &ctx.learned.files.moved;
    let mut carried = Vec::new();
    let mut point = |entry: &mut serde_json::Map<String, Value>| -> Option<String> {
        let id = entry.get("file_id")?.as_str()?.to_owned();
        let m = moved.get(&id)?;
        entry.insert("filepath".into(), Value::String(m.filepath.clone()));
        if !carried.contains(&id) {
            carried.push(id.clone());
        }
        Some(id)
    };
    for entry in files.and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(entry) = entry.as_object_mut() else {
            continue;
        };
        let Some(id) = point(entry) else { continue };
        if ["filename", "type", "bytes", "source"]
            .iter()
            .all(|k| entry.contains_key(*k))
        {
            continue;
        }
        if let Some((name, mime, bytes, source, w, h)) = sql::file_card(ctx.conn, &id)? {
            let mut fill = |k: &str, v: Value| {
                entry.entry(k).or_insert(v);
            };
            fill("filename", name.into());
            fill("type", mime.into());
            fill("bytes", bytes.into());
            fill("source", source.into());
            if let (Some(w), Some(h)) = (w, h) {
                fill("width", w.into());
                fill("height", h.into());
            }
        }
    }
    for part in content.and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(image) = part.get_mut("image_file").and_then(Value::as_object_mut) {
            point(image);
        }
    }
    Ok(carried)
}

/// Notes that an imported message carries these files (the first such message is the one
/// each is attached to, after the messages pass).
pub fn carried_by(ctx: &mut Ctx, file_ids: Vec<String>, message_id: &str, user: &str) {
    for id in file_ids {
        if let Some(m) = ctx.learned.files.moved.get_mut(&id)
            && m.unattached
            && m.attach_to.is_none()
        {
            m.attach_to = Some((message_id.to_owned(), user.to_owned()));
        }
    }
}

/// After every pass: attaches the files brought over to the messages that carry them, and
/// keeps those no message carries out of the sweeper's reach (it removes uploads for
/// messages never sent; LibreChat keeps them in people's file lists). Returns notes.
pub fn settle_files(ctx: &mut Ctx) -> rusqlite::Result<Vec<String>> {
    let (mut attached, mut kept) = (0, 0);
    ctx.conn.execute_batch("BEGIN")?;
    for (id, m) in &ctx.learned.files.moved {
        match &m.attach_to {
            Some((message, user)) => {
                attached += sql::attach_file(ctx.conn, id, user, message)? as u64
            }
            None if m.unattached => kept += sql::keep_unattached(ctx.conn, id)? as u64,
            None => {}
        }
    }
    ctx.conn.execute_batch("COMMIT")?;
    let seen = &ctx.learned.files;
    let mut notes = Vec::new();
    if attached + kept > 0 {
        notes.push(format!(
            "files: {attached} attached to the messages that carry them; {kept} that no message carries kept as plain uploads (never swept)"
        ));
    }
    if seen.remote_count > 0 {
        notes.push(format!(
            "files: {} in cloud storage (S3, Firebase, Azure Blob, CloudFront) not copied; the JSON report lists them (remote_files) for a second step",
            seen.remote_count
        ));
    }
    if seen.text_only > 0 {
        notes.push(format!(
            "files: {} that LibreChat kept only as text came over with that text as their bytes (downloading one gives its text)",
            seen.text_only
        ));
    }
    if seen.unsearchable > 0 {
        notes.push(format!(
            "files: {} searched by LibreChat's RAG API have no text in the backup: upload them again to search them here",
            seen.unsearchable
        ));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_out_of_the_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = dir.path().join("uploads");
        std::fs::create_dir_all(uploads.join("u1")).unwrap();
        std::fs::write(uploads.join("u1/f__a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), uploads.join("u1/link")).unwrap();
        let bytes = Bytes::new(
            Some(&uploads),
            None,
            &FileStore::Local,
            &dir.path().join("files"),
            true,
        )
        .unwrap();
        assert!(matches!(
            locate(&bytes, "/uploads/u1/f__a.txt?x=1"),
            Ok(Place::Found(_, 1))
        ));
        for bad in [
            "/uploads/u1/../../secret",
            "/uploads/u1/link",
            "/uploads//etc/passwd",
        ] {
            let e = locate(&bytes, bad).err().expect(bad);
            assert_eq!(e.code, "unsafe_path", "{bad}: {}", e.why);
        }
        let e = locate(&bytes, "/images/u1/a.png").err().unwrap();
        assert_eq!(e.code, "bytes_not_found");
        assert!(e.why.contains("--images"), "{}", e.why);
        assert!(matches!(locate(&bytes, "vectordb"), Ok(Place::Elsewhere)));
        assert_eq!(extension("a.PNG", "image/png"), "png");
        assert_eq!(extension("noext", "image/jpeg"), "jpg");
    }
}
