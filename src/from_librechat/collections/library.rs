//! What people keep besides their chats: projects (schema/chatProject.ts), presets
//! (preset.ts), prompt groups and their versions (promptGroup.ts, prompt.ts), memories
//! (memory.ts), favorite tools (favorite.ts), and the admin's banner (banner.ts).

use serde_json::{Map, Value};

use super::{inserted, settle};
use crate::db::from_librechat::{self as sql, Owned, insert};
use crate::from_librechat::doc::{Doc, is_object_id};
use crate::from_librechat::report::Skip;
use crate::from_librechat::{Ctx, Mapped};
use crate::shapes::TPreset;

fn owner(d: &mut Doc, key: &str) -> Result<String, Skip> {
    d.reference(key)?
        .ok_or_else(|| Skip::new("missing_field", format!("{key} is missing")))
}

pub fn project(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let user = owner(d, "user")?;
    ctx.user_exists(&user)?;
    let name = d.required("name")?;
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::PROJECT,
        &[
            &id,
            &user,
            &name,
            &d.text("description")?.unwrap_or_default(),
            &created,
            &updated,
        ],
    )?;
    settle(ctx, row, Owned::Project, &id, &user)
}

pub fn preset(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.required("presetId")?;
    // Very old LibreChat kept presets without an owner: nobody could see them.
    let user = d
        .reference("user")?
        .ok_or_else(|| Skip::new("no_owner", "a preset without a user"))?;
    ctx.user_exists(&user)?;
    let title = d.text("title")?.unwrap_or_else(|| "New Preset".into());
    let default = d.flag("defaultPreset");
    let position = d.int("order");
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let settings: Map<String, Value> = std::mem::take(&mut d.0)
        .into_iter()
        .filter(|(k, _)| {
            !TPreset::FIELDS.contains(&k.as_str())
                && !["_id", "__v", "tenantId", "_meiliIndex"].contains(&k.as_str())
        })
        .collect();
    let row = insert(
        ctx.conn,
        sql::PRESET,
        &[
            &id,
            &user,
            &title,
            &default,
            &position,
            &Value::Object(settings).to_string(),
            &created,
            &updated,
        ],
    )?;
    settle(ctx, row, Owned::Preset, &id, &user)
}

pub fn prompt_group(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let author = owner(d, "author")?;
    ctx.user_exists(&author)?;
    let name = d.required("name")?;
    // Commands are slash commands: the same rule LibreChat's form applies.
    let command = d.text("command")?.filter(|c| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let production = d.reference("productionId")?.filter(|p| is_object_id(p));
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::PROMPT_GROUP,
        &[
            &id,
            &name,
            &d.text("oneliner")?.unwrap_or_default(),
            &d.text("category")?.unwrap_or_default(),
            &command,
            &production,
            &author,
            &d.text("authorName")?.unwrap_or_default(),
            &d.int("numberOfGenerations").unwrap_or(0),
            &created,
            &updated,
        ],
    )?;
    settle(ctx, row, Owned::PromptGroup, &id, &author)
}

/// One version of a prompt group's text.
pub fn prompt(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let group = owner(d, "groupId")?;
    if !sql::prompt_group_exists(ctx.conn, &group)? {
        return Err(Skip::new(
            "group_not_found",
            format!("its prompt group {group} was not imported"),
        )
        .into());
    }
    let author = owner(d, "author")?;
    let text = d.text("prompt")?.unwrap_or_default();
    let kind = match d.text("type")?.as_deref() {
        Some("chat") => "chat",
        _ => "text",
    };
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::PROMPT,
        &[&id, &group, &author, &text, &kind, &created, &updated],
    )?;
    settle(ctx, row, Owned::Prompt, &id, &author)
}

pub fn memory(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let user = owner(d, "userId")?;
    ctx.user_exists(&user)?;
    let key = d.required("key")?;
    if !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(Skip::new(
            "bad_shape",
            format!("the memory key {key:?} is not lowercase letters and _"),
        )
        .into());
    }
    let at = d
        .time("updated_at")
        .or_else(|| d.time("updatedAt"))
        .unwrap_or_else(crate::db::now);
    inserted(insert(
        ctx.conn,
        sql::MEMORY,
        &[
            &id,
            &user,
            &d.text("agentId")?.unwrap_or_default(),
            &key,
            &d.text("value")?.unwrap_or_default(),
            &d.int("tokenCount").unwrap_or(0),
            &at,
        ],
    )?)
}

pub fn tool_favorite(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let user = owner(d, "user")?;
    ctx.user_exists(&user)?;
    let kind = d.required("itemType")?;
    if !["builtin", "tool", "mcp", "skill"].contains(&kind.as_str()) {
        return Err(Skip::new("bad_shape", format!("unknown itemType {kind:?}")).into());
    }
    let item = d.required("itemId")?;
    let created = d.created_at();
    inserted(insert(
        ctx.conn,
        sql::TOOL_FAVORITE,
        &[&user, &kind, &item, &created],
    )?)
}

/// LibreChat can hold several banners; this server shows one: the one that starts last wins.
pub fn banner(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.text("bannerId")?.unwrap_or_else(|| d.id());
    let message = d.required("message")?;
    let created = d.created_at();
    let from = d.time("displayFrom").unwrap_or_else(|| created.clone());
    let updated = d.updated_at(&created);
    let kind = match d.text("type")?.as_deref() {
        Some("popup") => "popup",
        _ => "banner",
    };
    let row = insert(
        ctx.conn,
        sql::BANNER,
        &[
            &id,
            &message,
            &from,
            &d.time("displayTo"),
            &kind,
            &d.flag("isPublic"),
            &d.flag("persistable"),
            &created,
            &updated,
        ],
    )?;
    if row {
        return Ok(crate::from_librechat::Outcome::Imported);
    }
    if sql::banner_id(ctx.conn)?.as_deref() == Some(id.as_str()) {
        return Ok(crate::from_librechat::Outcome::Present);
    }
    Err(Skip::new(
        "one_banner",
        "this server shows one banner: a banner starting later was kept",
    )
    .into())
}
