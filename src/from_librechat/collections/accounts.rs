//! Accounts and what hangs on them: roles (schema/role.ts), users (user.ts), balances
//! (balance.ts), transactions (transaction.ts), stored keys (key.ts), plugin keys
//! (pluginAuth.ts).

use serde_json::Value;

use super::{inserted, json_or, settle};
use crate::db::from_librechat::{self as sql, Owned, insert};
use crate::from_librechat::doc::{Doc, is_object_id};
use crate::from_librechat::report::Skip;
use crate::from_librechat::{Ctx, Mapped};

/// A role and its permissions. The built-in ADMIN and USER keep this server's permissions.
pub fn role(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let name = d.required("name")?;
    let permissions = d
        .json("permissions")
        .filter(Value::is_object)
        .ok_or_else(|| Skip::new("missing_field", "permissions is missing"))?;
    let at = d.updated_at(&crate::db::now());
    inserted(insert(
        ctx.conn,
        sql::ROLE,
        &[&name, &permissions.to_string(), &at],
    )?)
}

/// Sign-in identities LibreChat keeps on the user, and their columns here.
const IDENTITIES: [&str; 9] = [
    "googleId",
    "facebookId",
    "openidId",
    "openidIssuer",
    "samlId",
    "ldapId",
    "githubId",
    "discordId",
    "appleId",
];

pub fn user(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let refused = |ctx: &mut Ctx, s: Skip| {
        ctx.learned.refused_users.insert(id.clone());
        Err(s.into())
    };
    if !is_object_id(&id) {
        return refused(ctx, Skip::new("bad_shape", "_id is not an ObjectId"));
    }
    let email = match d.text("email") {
        Ok(Some(e)) if e.contains('@') => e.trim().to_lowercase(),
        Ok(_) => {
            return refused(
                ctx,
                Skip::new("missing_field", "email is missing or invalid"),
            );
        }
        Err(s) => return refused(ctx, s),
    };
    // 2FA comes over only whole: a person who had it must not lose it.
    let two_factor = d.flag("twoFactorEnabled");
    let secret = match d.text("totpSecret") {
        Ok(s) => s,
        Err(s) => return refused(ctx, s),
    };
    let totp_secret = match (two_factor, secret) {
        (true, Some(stored)) => match ctx.decrypt("2FA secret", &stored, false) {
            Ok(plain) if is_base32(&plain) => Some(ctx.seal("2FA secrets", &plain)),
            Ok(_) => {
                return refused(
                    ctx,
                    Skip::new(
                        "cannot_decrypt",
                        "its 2FA secret does not decrypt to a base32 secret (wrong CREDS_KEY?)",
                    ),
                );
            }
            Err(s) => return refused(ctx, s),
        },
        (true, None) => {
            return refused(
                ctx,
                Skip::new("bad_shape", "2FA is on but the secret is missing"),
            );
        }
        (false, _) => None,
    };
    let backup_codes = if two_factor {
        d.json("backupCodes").filter(Value::is_array)
    } else {
        None
    };
    let text = |d: &mut Doc, k: &str| d.text(k).ok().flatten();
    let (name, username, avatar) = (text(d, "name"), text(d, "username"), text(d, "avatar"));
    let role = text(d, "role").unwrap_or_else(|| "USER".into());
    let provider = text(d, "provider").unwrap_or_else(|| "local".into());
    let password = text(d, "password");
    let ids: Vec<Option<String>> = IDENTITIES.iter().map(|k| text(d, k)).collect();
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let personalization = d.json("personalization").filter(Value::is_object);
    let terms_accepted_at = d.time("termsAcceptedAt");
    if d.0.get("pendingTotpSecret").is_some_and(|v| !v.is_null()) {
        ctx.learned
            .not_carried("unfinished 2FA set-ups (people start them again)");
    }
    let source_id = text(d, "idOnTheSource");
    let row = insert(
        ctx.conn,
        sql::USER,
        &[
            &id,
            &email,
            &name.unwrap_or_default(),
            &username.unwrap_or_default(),
            &avatar,
            &role,
            &provider,
            &password,
            &d.flag("emailVerified"),
            &two_factor,
            &totp_secret,
            &json_or(backup_codes, "[]"),
            &d.flag("termsAccepted"),
            &json_or(d.json("plugins").filter(Value::is_array), "[]"),
            &json_or(personalization, r#"{"memories":true}"#),
            &json_or(d.json("favorites").filter(Value::is_array), "[]"),
            &ids[0],
            &ids[1],
            &ids[2],
            &ids[3],
            &ids[4],
            &ids[5],
            &ids[6],
            &ids[7],
            &ids[8],
            &created,
            &updated,
            &terms_accepted_at,
        ],
    )?;
    let outcome = settle(ctx, row, Owned::User, &id, &email);
    match (&outcome, source_id) {
        (Err(_), _) => {
            ctx.learned.refused_users.insert(id);
        }
        // External groups name their members by it (see `access::group`).
        (Ok(_), Some(source_id)) => {
            ctx.learned.users_by_source_id.insert(source_id, id);
        }
        (Ok(_), None) => {}
    }
    outcome
}

fn is_base32(s: &str) -> bool {
    s.len() >= 16
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b) || b == b'=')
}

pub fn balance(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let user = d
        .reference("user")?
        .ok_or_else(|| Skip::new("missing_field", "user is missing"))?;
    ctx.user_exists(&user)?;
    let at = d.time("updatedAt").unwrap_or_else(crate::db::now);
    inserted(insert(
        ctx.conn,
        sql::BALANCE,
        &[
            &user,
            &d.int("tokenCredits").unwrap_or(0),
            &d.flag("autoRefillEnabled"),
            &d.int("refillIntervalValue").unwrap_or(30),
            &d.text("refillIntervalUnit")?
                .unwrap_or_else(|| "days".into()),
            &d.time("lastRefill"),
            &d.int("refillAmount").unwrap_or(0),
            &at,
        ],
    )?)
}

pub fn transaction(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = d.id();
    let user = d
        .reference("user")?
        .ok_or_else(|| Skip::new("missing_field", "user is missing"))?;
    ctx.user_exists(&user)?;
    let token_type = d.required("tokenType")?;
    let created = d.created_at();
    inserted(insert(
        ctx.conn,
        sql::TRANSACTION,
        &[
            &id,
            &user,
            &d.text("conversationId")?,
            &d.text("messageId")?,
            &token_type,
            &d.text("model")?,
            &d.text("context")?.unwrap_or_default(),
            &d.text("valueKey")?,
            &d.real("rate"),
            &d.int("rawAmount").unwrap_or(0),
            &d.int("tokenValue").unwrap_or(0),
            &d.int("inputTokens"),
            &d.int("writeTokens"),
            &d.int("readTokens"),
            &created,
        ],
    )?)
}

/// A key a person stored for an endpoint (`user_provided`): v1-encrypted in LibreChat.
pub fn user_key(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let user = d
        .reference("userId")?
        .ok_or_else(|| Skip::new("missing_field", "userId is missing"))?;
    ctx.user_exists(&user)?;
    let name = d.required("name")?;
    let value = d.required("value")?;
    let expires = d.time("expiresAt");
    if expires
        .as_deref()
        .is_some_and(|e| e < crate::db::now().as_str())
    {
        return Err(Skip::new("expired", "the key had expired").into());
    }
    let sealed = ctx.reseal("user keys", &value, true)?;
    inserted(insert(
        ctx.conn,
        sql::USER_KEY,
        &[&user, &name, &sealed, &expires, &crate::db::now()],
    )?)
}

/// A tool's credential a person entered (v1-encrypted in LibreChat).
pub fn plugin_auth(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let user = d
        .reference("userId")?
        .ok_or_else(|| Skip::new("missing_field", "userId is missing"))?;
    ctx.user_exists(&user)?;
    let field = d.required("authField")?;
    let plugin = d.text("pluginKey")?.unwrap_or_else(|| field.clone());
    let value = d.required("value")?;
    let sealed = ctx.reseal("tool credentials", &value, true)?;
    let created = d.created_at();
    let updated = d.updated_at(&created);
    inserted(insert(
        ctx.conn,
        sql::PLUGIN_AUTH,
        &[&user, &plugin, &field, &sealed, &created, &updated],
    )?)
}
