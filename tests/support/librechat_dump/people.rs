//! Accounts: users of every sign-in kind, roles, balances, transactions, groups, tokens,
//! sessions, stored user keys, plugin credentials and memories.

use super::crypto::{Creds, sha256_hex};
use super::{Dump, Gen, Known, KnownSecret, KnownUser, at};
use bson::{Bson, Document, doc, oid::ObjectId};

/// How a user signs in.
enum Kind {
    Local,
    Totp(&'static str, &'static str),
    Social(&'static str, &'static str),
    OpenId,
    Saml,
    Ldap,
}

/// A bcrypt hash as LibreChat's bcryptjs makes it (`$2a$`, cost 10).
pub fn bcrypt_2a(password: &str) -> String {
    bcrypt::hash_with_result(password, 10)
        .expect("bcrypt")
        .format_for_version(bcrypt::Version::TwoA)
}

// schema/user.ts
fn user(g: &mut Gen, creds: &Creds, name: &str, kind: Kind, role: &str) -> (Document, KnownUser) {
    let id = g.oid();
    let username = name.to_lowercase();
    let email = format!("{username}@example.com");
    let mut k = KnownUser {
        id: id.to_hex(),
        email: email.clone(),
        username: username.clone(),
        ..Default::default()
    };
    let mut d = doc! {
        "_id": id, "name": format!("{name} Example"), "username": &username, "email": &email,
        "emailVerified": true, "role": role, "plugins": [], "twoFactorEnabled": false,
        "backupCodes": [], "refreshToken": [], "termsAccepted": false,
        "favorites": [], "createdAt": at(1), "updatedAt": at(2), "__v": 0,
    };
    let provider = match kind {
        Kind::Local | Kind::Totp(..) => "local",
        Kind::Social(p, _) => p,
        Kind::OpenId => "openid",
        Kind::Saml => "saml",
        Kind::Ldap => "ldap",
    };
    d.insert("provider", provider);
    k.provider = provider.into();
    match kind {
        Kind::Local | Kind::Totp(..) => {
            let password = format!("{username}-old-password-1");
            d.insert("password", bcrypt_2a(&password));
            k.password = Some(password);
            d.insert("avatar", Bson::Null);
        }
        Kind::Social(p, field) => {
            d.insert(field, format!("{p}-{}", g.hex(8)));
            d.insert(
                "avatar",
                format!("https://avatars.example.com/{username}.png"),
            );
        }
        Kind::OpenId => {
            d.insert("openidId", g.uuid());
            d.insert(
                "openidIssuer",
                "https://login.microsoftonline.com/0f6d/v2.0",
            );
            d.insert("idOnTheSource", g.uuid());
        }
        Kind::Saml => {
            d.insert("samlId", format!("_{}", g.hex(16)));
        }
        Kind::Ldap => {
            d.insert(
                "ldapId",
                format!("uid={username},ou=people,dc=example,dc=org"),
            );
            d.insert("emailVerified", true);
        }
    }
    if let Kind::Totp(secret, format) = kind {
        let stored = match format {
            "v3" => creds.encrypt_v3(secret, g.bytes16()),
            "v2" => creds.encrypt_v2(secret, g.bytes16()),
            _ => secret.to_owned(),
        };
        let codes: Vec<String> = (0..10).map(|_| g.hex(4)).collect();
        let backup: Vec<Bson> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let used_at = if i == 0 {
                    Bson::DateTime(at(5))
                } else {
                    Bson::Null
                };
                Bson::Document(
                    doc! { "codeHash": sha256_hex(c), "used": i == 0, "usedAt": used_at },
                )
            })
            .collect();
        d.insert("twoFactorEnabled", true);
        d.insert("totpSecret", stored);
        d.insert("backupCodes", backup);
        k.totp_secret = Some(secret.into());
        k.totp_format = Some(format);
        k.used_backup_code = Some(codes[0].clone());
        k.backup_codes = codes[1..].to_vec();
    }
    (d, k)
}

pub(super) fn add(g: &mut Gen, dump: &mut Dump, known: &mut Known) {
    let creds = known.creds();
    let mut add_user = |g: &mut Gen, dump: &mut Dump, name: &str, kind: Kind, role: &str| {
        let (d, k) = user(g, &creds, name, kind, role);
        dump.add("users", d);
        known.users.push(k.clone());
        k
    };
    let alice = add_user(g, dump, "Alice", Kind::Local, "USER");
    let admin = add_user(g, dump, "Root", Kind::Local, "ADMIN");
    // The v3 secret is the golden vector's plaintext.
    let totp_v3 = add_user(g, dump, "Bob", Kind::Totp("JBSWY3DPEHPK3PXP", "v3"), "USER");
    let totp_v2 = add_user(
        g,
        dump,
        "Carol",
        Kind::Totp("KRSXG5CTMVRXEZLU", "v2"),
        "EDITOR",
    );
    let totp_plain = add_user(
        g,
        dump,
        "Dave",
        Kind::Totp("GEZDGNBVGY3TQOJQ", "plain"),
        "USER",
    );
    let social: Vec<KnownUser> = [
        ("Gina", "google", "googleId"),
        ("Fred", "facebook", "facebookId"),
        ("Gus", "github", "githubId"),
        ("Dana", "discord", "discordId"),
        ("Abe", "apple", "appleId"),
    ]
    .into_iter()
    .map(|(n, p, f)| add_user(g, dump, n, Kind::Social(p, f), "USER"))
    .collect();
    let openid = add_user(g, dump, "Olga", Kind::OpenId, "USER");
    let saml = add_user(g, dump, "Sam", Kind::Saml, "USER");
    let ldap = add_user(g, dump, "Lenny", Kind::Ldap, "USER");
    // Alice accepted the terms, set personalization and favorites.
    let users = dump.docs_mut("users");
    users[0].insert("termsAccepted", true);
    users[0].insert("termsAcceptedAt", at(3));
    users[0].insert("personalization", doc! { "memories": true });
    users[0].insert(
        "favorites",
        vec![
            Bson::Document(doc! { "model": "gpt-4o", "endpoint": "openAI" }),
            Bson::Document(doc! { "spec": "fast-chat" }),
        ],
    );
    users[2].insert("personalization", doc! { "memories": false });
    let openid_doc = users
        .iter()
        .find(|u| u.get_str("provider").ok() == Some("openid"))
        .expect("openid user");
    known.openid_id_on_the_source = openid_doc
        .get_str("idOnTheSource")
        .expect("idOnTheSource")
        .into();

    roles(g, dump, known);
    balances(g, dump, known, &alice, &totp_v3);
    groups(g, dump, known, &alice, &totp_v3);
    secrets(g, dump, known, &creds, &alice);
    // schema/token.ts: a verification token and an MCP OAuth token (encryptV2).
    let alice_oid = oid(&alice.id);
    dump.add(
        "tokens",
        doc! {
            "_id": g.oid(), "userId": alice_oid, "email": &alice.email, "type": "verify",
            "token": sha256_hex("verify-me"), "createdAt": at(10), "expiresAt": at(70), "__v": 0,
        },
    );
    dump.add("tokens", doc! {
        "_id": g.oid(), "userId": alice_oid, "type": "mcp_oauth", "identifier": "mcp:files_server",
        "token": creds.encrypt_v2("mcp-access-token", g.bytes16()), "createdAt": at(11),
        "expiresAt": at(100_000), "metadata": { "expires_in": 3600 }, "__v": 0,
    });
    // schema/session.ts
    dump.add(
        "sessions",
        doc! {
            "_id": g.oid(), "refreshTokenHash": sha256_hex("refresh"), "expiration": at(100_000),
            "user": alice_oid, "__v": 0,
        },
    );
    known.alice = alice;
    known.admin = admin;
    known.totp_v3 = totp_v3;
    known.totp_v2 = totp_v2;
    known.totp_plain = totp_plain;
    known.social = social;
    known.openid = openid;
    known.saml = saml;
    known.ldap = ldap;
}

/// An ObjectId from its hex.
pub fn oid(hex: &str) -> ObjectId {
    ObjectId::parse_str(hex).expect("ObjectId hex")
}

// schema/role.ts
fn roles(g: &mut Gen, dump: &mut Dump, known: &mut Known) {
    for (name, admin) in [("ADMIN", true), ("USER", false), ("EDITOR", false)] {
        dump.add("roles", doc! {
            "_id": g.oid(), "name": name, "__v": 0,
            "permissions": {
                "BOOKMARKS": { "USE": true }, "MEMORIES": { "USE": true, "CREATE": true, "UPDATE": true, "READ": true, "OPT_OUT": true },
                "PROMPTS": { "USE": true, "CREATE": true, "SHARE": admin || name == "EDITOR", "SHARE_PUBLIC": admin },
                "AGENTS": { "USE": true, "CREATE": true, "SHARE": admin, "SHARE_PUBLIC": admin },
                "MULTI_CONVO": { "USE": true }, "TEMPORARY_CHAT": { "USE": true }, "RUN_CODE": { "USE": true },
                "WEB_SEARCH": { "USE": true }, "FILE_SEARCH": { "USE": true }, "FILE_CITATIONS": { "USE": true },
                "MARKETPLACE": { "USE": admin }, "PEOPLE_PICKER": { "VIEW_USERS": true, "VIEW_GROUPS": true, "VIEW_ROLES": admin },
                "MCP_SERVERS": { "USE": true, "CREATE": admin, "SHARE": admin, "SHARE_PUBLIC": admin },
            },
        });
    }
    known.custom_role = "EDITOR".into();
}

// schema/balance.ts, schema/transaction.ts
fn balances(g: &mut Gen, dump: &mut Dump, known: &mut Known, alice: &KnownUser, bob: &KnownUser) {
    dump.add("balances", doc! {
        "_id": g.oid(), "user": oid(&alice.id), "tokenCredits": 1_000_000, "autoRefillEnabled": true,
        "refillIntervalValue": 30, "refillIntervalUnit": "days", "lastRefill": at(20), "refillAmount": 500_000, "__v": 0,
    });
    // A double, as the Node driver stores a Number past int32.
    dump.add("balances", doc! {
        "_id": g.oid(), "user": oid(&bob.id), "tokenCredits": 5_500_000_000.0_f64, "autoRefillEnabled": false,
        "refillIntervalValue": 1, "refillIntervalUnit": "months", "lastRefill": at(20), "refillAmount": 0, "__v": 0,
    });
    known.balances = vec![
        (alice.id.clone(), 1_000_000),
        (bob.id.clone(), 5_500_000_000),
    ];
    let conversation_id = g.uuid();
    let message_id = g.uuid();
    for (i, (kind, raw, rate)) in [
        ("prompt", -120, 2.5),
        ("completion", -80, 10.0),
        ("credits", 500_000, 1.0),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = doc! {
            "_id": g.oid(), "user": oid(&alice.id), "conversationId": &conversation_id, "tokenType": kind,
            "model": "gpt-4o", "context": if kind == "credits" { "autoRefill" } else { "message" },
            "rawAmount": raw, "tokenValue": raw as f64 * rate, "rate": rate,
            "createdAt": at(30 + i as i64), "updatedAt": at(30 + i as i64), "__v": 0,
        };
        if kind == "credits" {
            // An int64, as an admin's `NumberLong` edit in mongosh leaves it.
            d.insert("rawAmount", Bson::Int64(raw.into()));
        } else {
            d.insert("valueKey", "gpt-4o");
            d.insert("messageId", &message_id);
            d.insert("inputTokens", 100);
            d.insert("writeTokens", 10);
            d.insert("readTokens", 10);
        }
        dump.add("transactions", d);
    }
}

// schema/group.ts
fn groups(g: &mut Gen, dump: &mut Dump, known: &mut Known, alice: &KnownUser, bob: &KnownUser) {
    let id = g.oid();
    dump.add(
        "groups",
        doc! {
            "_id": id, "name": "Research Team", "description": "People who share research agents",
            "email": "research@example.com", "memberIds": [&alice.id, &bob.id], "source": "local",
            "createdAt": at(40), "updatedAt": at(41), "__v": 0,
        },
    );
    known.group_id = id.to_hex();
    let entra = g.oid();
    dump.add("groups", doc! {
        "_id": entra, "name": "Entra Engineers", "source": "entra", "idOnTheSource": g.uuid(),
        "memberIds": [&known.openid_id_on_the_source], "createdAt": at(42), "updatedAt": at(43), "__v": 0,
    });
    known.entra_group_id = entra.to_hex();
}

// schema/key.ts, schema/pluginAuth.ts, schema/memory.ts
fn secrets(g: &mut Gen, dump: &mut Dump, known: &mut Known, creds: &Creds, alice: &KnownUser) {
    // The openAI key's plaintext and ciphertext are the golden v1 vector.
    for (name, plain) in [
        ("openAI", "sk-test-key-123"),
        ("anthropic", r#"{"apiKey":"sk-ant-xyz","baseURL":""}"#),
    ] {
        dump.add("keys", doc! {
            "_id": g.oid(), "userId": oid(&alice.id), "name": name, "value": creds.encrypt_v1(plain),
            "expiresAt": bson::DateTime::from_millis(4_102_444_800_000), "__v": 0,
        });
        known.user_keys.push(KnownSecret {
            user_id: alice.id.clone(),
            name: name.into(),
            plaintext: plain.into(),
        });
    }
    dump.add("pluginauths", doc! {
        "_id": g.oid(), "authField": "WOLFRAM_APP_ID", "value": creds.encrypt_v1("wolf-app-42"),
        "userId": &alice.id, "pluginKey": "wolfram", "createdAt": at(50), "updatedAt": at(50), "__v": 0,
    });
    known.plugin_auths.push(KnownSecret {
        user_id: alice.id.clone(),
        name: "wolfram/WOLFRAM_APP_ID".into(),
        plaintext: "wolf-app-42".into(),
    });
    for (key, value) in [
        (
            "preferred_language",
            "Alice writes in English and reads French.",
        ),
        ("work_context", "Alice maintains a Rust service."),
    ] {
        dump.add("memoryentries", doc! {
            "_id": g.oid(), "userId": oid(&alice.id), "key": key, "value": value, "tokenCount": 9,
            "updated_at": at(60), "__v": 0,
        });
        known.memory_keys.push(key.into());
    }
}
