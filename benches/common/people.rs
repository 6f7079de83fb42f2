//! The people of the sharing benchmarks: 1,000 users, 100 groups of 20, the bench user
//! (`bench@example.org`) in groups 1–3, and a user who sees everything (`wide@example.org`,
//! the only member of group 0, which is given every resource), written in one transaction; and
//! the access entries that share resources with them.

use rusqlite::{Transaction, params};

use super::dataset::{EMAIL, PASSWORD, Rng};

pub const USERS: usize = 1000;
pub const GROUPS: usize = 100;
pub const MEMBERS: usize = 20;
pub const WIDE_EMAIL: &str = "wide@example.org";

/// A user's id: user 0 is the bench user, user [`USERS`] the wide one.
pub fn uid(u: usize) -> String {
    format!("{u:024x}")
}

/// A group's id: group 0 is the one given everything.
pub fn gid(g: usize) -> String {
    format!("g{g:023x}")
}

/// Increasing timestamps, a millisecond apart.
pub struct Clock(u64);

impl Clock {
    pub fn new() -> Self {
        Clock(0)
    }

    pub fn next(&mut self) -> String {
        self.0 += 1;
        let t = time::OffsetDateTime::UNIX_EPOCH
            + time::Duration::days(20_000)
            + time::Duration::milliseconds(self.0 as i64);
        librechat::db::to_rfc3339(t)
    }
}

/// Writes the users, the groups and their members.
pub fn write(tx: &Transaction, rng: &mut Rng, clock: &mut Clock) {
    let hash = librechat::auth::password::hash(PASSWORD);
    for u in 0..=USERS {
        let email = match u {
            0 => EMAIL.to_owned(),
            USERS => WIDE_EMAIL.to_owned(),
            _ => format!("user{u}@example.org"),
        };
        let now = clock.next();
        tx.execute(
            "INSERT INTO users (id, email, name, password, email_verified, created_at, updated_at) VALUES (?1, ?2, 'Bench', ?3, 1, ?4, ?4)",
            params![uid(u), email, hash, now],
        )
        .unwrap();
    }
    for g in 0..=GROUPS {
        let now = clock.next();
        tx.execute(
            "INSERT INTO groups (id, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![gid(g), format!("Group {g}"), now],
        )
        .unwrap();
        let members: Vec<usize> = match g {
            0 => vec![USERS],
            _ => (0..MEMBERS)
                .map(|i| {
                    if i == 0 && g <= 3 {
                        0
                    } else {
                        1 + (rng.next() as usize % (USERS - 1))
                    }
                })
                .collect(),
        };
        for m in members {
            tx.execute(
                "INSERT OR IGNORE INTO group_members (group_id, user_id, added_at) VALUES (?1, ?2, ?3)",
                params![gid(g), uid(m), clock.next()],
            )
            .unwrap();
        }
    }
}

/// One access entry: `resource` of `kind` given to `who` (`user`, `group` or `public`).
pub struct Grant<'a> {
    pub kind: &'a str,
    pub resource: &'a str,
    pub principal: &'a str,
    pub who: &'a str,
    pub role: &'a str,
    pub bits: u8,
}

pub fn grant(tx: &Transaction, g: Grant<'_>, clock: &mut Clock) {
    tx.execute(
        "INSERT OR IGNORE INTO acl_entries (id, resource_type, resource_id, principal_type, principal_id, role_id, perm_bits, granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![librechat::db::new_object_id(), g.kind, g.resource, g.principal, g.who, g.role, g.bits, clock.next()],
    )
    .unwrap();
}

/// Signs in as `email`; the access token.
pub fn login_as(port: u16, email: &str) -> String {
    let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    let resp = super::request(port, "POST", "/api/auth/login", None, &body).unwrap();
    resp.split(r#""token":""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}
