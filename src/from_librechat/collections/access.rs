//! Sharing: MCP servers people added (schema/mcpServer.ts), groups of people (group.ts),
//! LibreChat's access roles (accessRole.ts, built in here) and the access entries that grant
//! them (aclEntry.ts).

use serde_json::{Value, json};

use super::{object_id, required_ref, settle};
use crate::access::roles::access_role as role_of;
use crate::access::{ResourceType, roles_of};
use crate::db::from_librechat::{self as sql, Owned, insert};
use crate::from_librechat::doc::{Doc, is_object_id};
use crate::from_librechat::report::Skip;
use crate::from_librechat::{Ctx, Mapped, Outcome};

/// An MCP server a person added. Its secrets are decrypted and sealed again.
pub fn mcp_server(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = object_id(d)?;
    let name = d.required("serverName")?;
    let normalized = d
        .text("normalizedServerName")?
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| crate::mcp::tool::normalize_server_name(&name));
    let author = required_ref(d, "author")?;
    ctx.user_exists(&author)?;
    let Some(mut config) = d.json("config").filter(Value::is_object) else {
        return Err(Skip::new("missing_field", "config is missing").into());
    };
    if config.get("command").is_some() || config["type"] == "stdio" {
        return Err(Skip::new(
            "command_server",
            "a server started as a command: only librechat.yaml adds those here",
        )
        .into());
    }
    // LibreChat encrypts the same secrets (encryptV2) that this server seals.
    for (block, field) in crate::mcp::user_servers::SECRETS {
        let Some(stored) = config[block].get(field).and_then(Value::as_str) else {
            continue;
        };
        let name = format!("MCP {block}.{field}");
        let sealed = ctx.reseal_field("MCP server secrets", &name, stored, false)?;
        config[block][field] = json!(sealed);
    }
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::MCP_SERVER,
        &[
            &id,
            &name,
            &normalized,
            &config.to_string(),
            &author,
            &created,
            &updated,
        ],
    )?;
    settle(ctx, row, Owned::McpServer, &id, &author)
}

/// A group and its members. LibreChat's Entra groups become groups of the OpenID sign-in
/// (`source` 'openid'), found again by their id there when people sign in. A member is named
/// by their account's `_id`, or, in an external group, by their id at the provider.
pub fn group(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = object_id(d)?;
    let name = d.required("name")?;
    let source = match d.text("source")?.as_deref() {
        None | Some("local") => "local",
        Some("entra") => "openid",
        Some(other) => {
            return Err(Skip::new("bad_shape", format!("unknown group source {other:?}")).into());
        }
    };
    let source_id = d.text("idOnTheSource")?.filter(|s| !s.is_empty());
    if source != "local" && source_id.is_none() {
        return Err(Skip::new("missing_field", "idOnTheSource is missing").into());
    }
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::GROUP,
        &[
            &id,
            &name,
            &d.text("description")?.unwrap_or_default(),
            &d.text("email")?,
            &d.text("avatar")?,
            &source,
            &source_id,
            &created,
            &updated,
        ],
    )?;
    let outcome = settle(ctx, row, Owned::Group, &id, &name)?;
    for member in d.array("memberIds").unwrap_or_default() {
        let Value::String(member) = member else {
            ctx.learned.not_carried("group members that are not ids");
            continue;
        };
        let lower = member.to_ascii_lowercase();
        let user = if is_object_id(&lower) && sql::user_exists(ctx.conn, &lower)? {
            Some(lower)
        } else {
            ctx.learned.users_by_source_id.get(&member).cloned()
        };
        match user {
            Some(user) => {
                insert(ctx.conn, sql::GROUP_MEMBER, &[&id, &user, &updated])?;
            }
            None => ctx
                .learned
                .not_carried("group members who are not people here"),
        }
    }
    Ok(outcome)
}

/// An access role: built in here, so nothing is written; what is learned is which role each
/// of LibreChat's `_id`s is, for the access entries that name it.
pub fn access_role(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = object_id(d)?;
    let role = d.required("accessRoleId")?;
    let rt = d.text("resourceType")?.unwrap_or_else(|| "agent".into());
    if ResourceType::parse(&rt)
        .and_then(|t| role_of(t, &role))
        .is_none()
    {
        return Err(Skip::new(
            "unknown_access_role",
            format!("the access role {role} has no equivalent here"),
        )
        .into());
    }
    ctx.learned.access_roles.insert(id, role);
    Ok(Outcome::Present)
}

/// Who may do what with one agent, prompt group or MCP server: the resource and the principal
/// (a person, a group, a role, everyone) must be here.
pub fn acl_entry(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = object_id(d)?;
    let type_name = d.required("resourceType")?;
    let Some(rt) = ResourceType::parse(&type_name) else {
        return Err(Skip::new(
            "unsupported_resource",
            format!("access to a {type_name} has no equivalent here"),
        )
        .into());
    };
    let resource = required_ref(d, "resourceId")?;
    match sql::resource_exists(ctx.conn, rt, &resource)? {
        None => {
            return Err(Skip::new(
                "unsupported_resource",
                format!("{type_name}s are not imported, nor access to them"),
            )
            .into());
        }
        Some(false) => {
            return Err(Skip::new(
                "resource_not_found",
                format!("its {type_name} {resource} was not imported"),
            )
            .into());
        }
        Some(true) => {}
    }
    let principal_type = d.required("principalType")?;
    let principal = match principal_type.as_str() {
        "public" => String::new(),
        "user" => {
            let user = required_ref(d, "principalId")?;
            ctx.user_exists(&user)?;
            user
        }
        "group" => {
            let group = required_ref(d, "principalId")?;
            if !sql::group_exists(ctx.conn, &group)? {
                return Err(Skip::new(
                    "group_not_found",
                    format!("its group {group} was not imported"),
                )
                .into());
            }
            group
        }
        "role" => {
            let role = d.required("principalId")?;
            if !sql::role_exists(ctx.conn, &role)? {
                return Err(Skip::new(
                    "role_not_found",
                    format!("its role {role} was not imported"),
                )
                .into());
            }
            role
        }
        other => {
            return Err(Skip::new("bad_shape", format!("unknown principalType {other:?}")).into());
        }
    };
    let bits = d.int("permBits").unwrap_or(1);
    if !(0..=15).contains(&bits) {
        return Err(Skip::new("bad_shape", format!("permBits {bits} is not 0 to 15")).into());
    }
    // LibreChat does not require the role: then it is the one of the type with these bits.
    let role = match d.reference("roleId")? {
        Some(oid) => ctx.learned.access_roles.get(&oid).cloned().ok_or_else(|| {
            Skip::new(
                "unknown_access_role",
                format!("its access role {oid} was not imported"),
            )
        })?,
        None => roles_of(rt)
            .find(|r| i64::from(r.bits) == bits)
            .map(|r| r.id.to_owned())
            .ok_or_else(|| {
                Skip::new(
                    "bad_shape",
                    format!("no {type_name} role has permBits {bits}"),
                )
            })?,
    };
    if role_of(rt, &role).is_none() {
        return Err(Skip::new(
            "unknown_access_role",
            format!("the access role {role} is not one of a {type_name}"),
        )
        .into());
    }
    if d.time("expiredAt").is_some_and(|e| e < crate::db::now()) {
        return Err(Skip::new("expired", "the entry had expired").into());
    }
    let granted_by = d.reference("grantedBy")?;
    let granted_at = d.time("grantedAt").unwrap_or_else(|| d.created_at());
    let row = insert(
        ctx.conn,
        sql::ACL_ENTRY,
        &[
            &id,
            &rt.as_str(),
            &resource,
            &principal_type,
            &principal,
            &role,
            &bits,
            &granted_by,
            &granted_at,
        ],
    )?;
    match settle(ctx, row, Owned::AclEntry, &id, &resource) {
        Err(crate::from_librechat::Failure::Skip(s)) if s.code == "refused" => Err(Skip::new(
            "duplicate",
            "an entry for the same principal and resource came first",
        )
        .into()),
        other => other,
    }
}
