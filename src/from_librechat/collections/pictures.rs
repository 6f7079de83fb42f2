//! Pictures: people's uploaded avatars and agents' pictures.
//!
//! People's: an account showing a picture uploaded to LibreChat gets it copied from `--images`
//! as an avatar file here (see [`avatars`]).
//!
//! Agents': LibreChat keeps the picture uploaded for an agent as a file of its
//! uploader, `/images/<user>/agent-<agent id>-avatar-<time>.<png|gif>?manual=false`
//! (`processLocalAvatar`), with no `files` document: the agent's `avatar`
//! (`{filepath, source}`) is all that names it. Here an agent's picture is a file of context
//! `agent_avatar` that names its agent, shown at `/images/agents/<agent id>/<file_id>.<ext>` to
//! whoever may see the agent (`crate::db::agent_pictures`).
//!
//! After the agents pass, each agent whose picture is a LibreChat upload gets it copied from
//! `--images` (safely, as people's pictures are: `files::locate`), as a file of its author, and
//! the agent, and those of its versions that name the same picture, point at it. Pictures in
//! cloud storage stay where they are and are listed with the report's remote files; links stay
//! as they are. An agent whose picture's bytes are missing keeps its old address (which shows
//! nothing) and is counted with the reason. Running again finds nothing new: a picture brought
//! over has this server's address.

use std::fs::File as FsFile;

use super::files::{LISTED_REMOTE, Place, REMOTE, extension, locate, safe_id};
use crate::db::files::File;
use crate::db::from_librechat::{self as sql, AgentAvatar};
use crate::from_librechat::report::{Counts, RemoteFile, Skip};
use crate::from_librechat::{Ctx, Failure};

/// Accounts showing a picture uploaded to LibreChat (`/images/<user>/avatar-<time>.png`):
/// the picture is copied from `--images` and becomes an avatar file here, shown at this
/// server's address for it. Pictures of social sign-ins (`https://…`) stay as they are.
pub fn avatars(ctx: &mut Ctx) -> anyhow::Result<Option<Counts>> {
    let found = sql::librechat_avatars(ctx.conn)?;
    if found.is_empty() {
        return Ok(None);
    }
    let mut counts = Counts::default();
    ctx.conn.execute_batch("BEGIN")?;
    for (user, avatar) in found {
        counts.read += 1;
        match avatar_of(ctx, &user, &avatar) {
            Ok(()) => counts.imported += 1,
            Err(Failure::Skip(s)) => counts.skip(&user, s),
            Err(Failure::Fatal(e)) => {
                let _ = ctx.conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        }
    }
    ctx.conn.execute_batch("COMMIT")?;
    Ok(Some(counts))
}

fn avatar_of(ctx: &mut Ctx, user: &str, avatar: &str) -> Result<(), Failure> {
    let (path, query) = avatar.split_once('?').unwrap_or((avatar, ""));
    let manual = !query.contains("manual=false");
    let picture = Picture {
        path,
        kept: "the account keeps its old address, which shows no picture",
        not_upload: "not an uploaded picture".into(),
        owner: user,
        context: "avatar",
    };
    bring_picture(
        ctx,
        picture,
        |file_id, ext| format!("/images/{user}/{file_id}.{ext}"),
        |conn, record| {
            let url = format!("{}?manual={manual}", record.filepath);
            sql::set_avatar(conn, user, avatar, &url)?;
            Ok(())
        },
    )
}

/// A LibreChat picture to bring over as a stored file.
struct Picture<'a> {
    /// Its address in LibreChat, without its query (`/images/...`).
    pub path: &'a str,
    /// What stays as it was when its bytes cannot be found (said with the reason).
    pub kept: &'a str,
    /// The reason when `path` is not a LibreChat upload.
    pub not_upload: String,
    /// Whose file it becomes.
    pub owner: &'a str,
    pub context: &'a str,
}

/// Copies `picture`'s bytes (found safely, [`locate`]) into storage and records the file at
/// the address `place(file_id, ext)` makes; then `then` points its user at it. When recording
/// fails, the copied bytes are thrown away.
fn bring_picture(
    ctx: &mut Ctx,
    picture: Picture,
    place: impl FnOnce(&str, &str) -> String,
    then: impl FnOnce(&rusqlite::Connection, &File) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let path = picture.path;
    let Place::Found(real, size) = locate(&ctx.files, path)
        .map_err(|s| Skip::new(s.code, format!("{}; {}", s.why, picture.kept)))?
    else {
        return Err(Skip::new("bad_shape", picture.not_upload).into());
    };
    let (ext, mime) = picture_type(path)?;
    let mut f = FsFile::open(&real)
        .map_err(|e| Skip::new("bytes_not_found", format!("cannot read {path}: {e}")))?;
    let (key, n) = ctx.files.put(&mut f, size)?;
    let file_id = uuid::Uuid::new_v4().to_string();
    let record = File {
        filepath: place(&file_id, &ext),
        file_id,
        user_id: picture.owner.to_owned(),
        filename: path.rsplit('/').next().unwrap_or("avatar").to_owned(),
        storage_key: key.clone(),
        bytes: i64::try_from(n).unwrap_or(i64::MAX),
        mime,
        source: "local".into(),
        context: Some(picture.context.into()),
        ..File::default()
    };
    let written = crate::db::files::insert(ctx.store, &record)
        .map_err(Failure::from)
        .and_then(|_| then(ctx.conn, &record));
    if written.is_err() {
        ctx.files.discard(&key);
    }
    written
}

/// The extension and type of a picture at `path` (a PNG, JPEG, GIF or WebP).
fn picture_type(path: &str) -> Result<(String, String), Skip> {
    let ext = extension(path, "");
    let mime = match ext.as_str() {
        "png" | "gif" | "webp" => format!("image/{ext}"),
        "jpg" | "jpeg" => "image/jpeg".into(),
        _ => return Err(Skip::new("bad_shape", format!("{path} is not a picture"))),
    };
    Ok((ext, mime))
}

/// Brings agents' pictures over; `None` when no agent has one to bring.
pub fn agent_avatars(ctx: &mut Ctx) -> anyhow::Result<Option<Counts>> {
    let found = sql::librechat_agent_avatars(ctx.conn)?;
    if found.is_empty() {
        return Ok(None);
    }
    let mut counts = Counts::default();
    ctx.conn.execute_batch("BEGIN")?;
    for agent in found {
        counts.read += 1;
        match picture_of(ctx, &agent) {
            Ok(()) => counts.imported += 1,
            Err(Failure::Skip(s)) => counts.skip(&agent.id, s),
            Err(Failure::Fatal(e)) => {
                let _ = ctx.conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        }
    }
    ctx.conn.execute_batch("COMMIT")?;
    Ok(Some(counts))
}

fn picture_of(ctx: &mut Ctx, agent: &AgentAvatar) -> Result<(), Failure> {
    let filepath = agent.filepath.as_str();
    let source = agent.source.as_deref().unwrap_or("local");
    if REMOTE.contains(&source) {
        let seen = &mut ctx.learned.files;
        seen.remote_count += 1;
        if seen.remote.len() < LISTED_REMOTE {
            seen.remote.push(RemoteFile {
                file_id: agent.id.clone(),
                user: agent.author.clone(),
                source: source.to_owned(),
                filepath: filepath.to_owned(),
            });
        }
        return Err(Skip::new(
            "remote_storage",
            format!("its picture is in {source}: not copied (listed in the report's remote_files)"),
        )
        .into());
    }
    if filepath.starts_with("https://") || filepath.starts_with("http://") {
        return Err(Skip::new(
            "link",
            format!("its picture is a link ({filepath}): kept as it is"),
        )
        .into());
    }
    if !safe_id(&agent.id) {
        return Err(Skip::new("bad_shape", "its id is not an id (letters, digits, -, _)").into());
    }
    let path = filepath.split('?').next().unwrap_or_default();
    // The author's, so the picture lives as long as the agent (the uploader may be an editor).
    let picture = Picture {
        path,
        kept: "the agent keeps its old picture address, which shows nothing",
        not_upload: format!("its picture {filepath:?} is not a LibreChat upload"),
        owner: &agent.author,
        context: "agent_avatar",
    };
    bring_picture(
        ctx,
        picture,
        |file_id, ext| format!("/images/agents/{}/{file_id}.{ext}", agent.id),
        |conn, record| {
            let (id, new) = (&record.file_id, &record.filepath);
            Ok(sql::set_agent_picture(
                conn,
                &agent.object_id,
                id,
                filepath,
                new,
            )?)
        },
    )
}
