//! `librechat user ...` and `librechat terms reset`: account administration on the data folder,
//! safe while the server runs (SQLite WAL; the server sees bans within seconds and role,
//! password or deletion changes at the next request).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::auth::{accounts, password, permissions, validate};
use crate::config::{Env, Overrides, Settings};
use crate::db::{self, Db, bans, identities, sessions, users};
use crate::mail::{Mailer, Template};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local account (works while registration is closed)
    #[command(
        after_help = "Examples:\n  librechat user create alice@example.org --name \"Alice Liddell\" --admin\n  \
echo 'a long passphrase' | librechat user create bob@example.org --password-stdin --email-verified"
    )]
    Create(CreateArgs),
    /// List accounts as a table, or as JSON
    #[command(after_help = "Examples:\n  librechat user list\n  librechat user list --json")]
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Delete an account and everything it owns
    #[command(after_help = "Example:\n  librechat user delete mallory@example.org --yes")]
    Delete {
        email: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Ban an account for some minutes and end its sessions
    #[command(after_help = "Example:\n  librechat user ban mallory@example.org 120")]
    Ban { email: String, minutes: u64 },
    /// Lift a ban on an account (by email) or on an address (by IP; an IPv6 client is its /64)
    #[command(
        after_help = "Examples:\n  librechat user unban mallory@example.org\n  librechat user unban 203.0.113.7\n  librechat user unban 2001:db8:1:2::/64"
    )]
    Unban {
        /// An account's email, an IP address, or an IPv6 /64
        target: String,
    },
    /// List the bans in force, on accounts and on addresses
    #[command(after_help = "Example:\n  librechat user bans")]
    Bans,
    /// Set a new password and end the account's sessions
    #[command(
        after_help = "Examples:\n  librechat user reset-password alice@example.org\n  \
echo 'new passphrase' | librechat user reset-password alice@example.org --password-stdin"
    )]
    ResetPassword {
        email: String,
        /// Read the password from standard input instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget an account's identity at a provider, so the next sign-in there links it again
    #[command(
        long_about = "Forget an account's identity at a single sign-on provider (openid, saml, \
ldap, google, github, discord, facebook or apple). An account bound to one subject at a provider is \
never handed to another; when the provider itself changed the subject it knows the person by (a \
new directory, a migrated tenant), this lets the next sign-in there link the account again by \
the usual rule (a verified email address).",
        after_help = "Example:\n  librechat user unlink alice@example.org openid"
    )]
    Unlink {
        email: String,
        /// openid, saml, ldap, google, github, discord, facebook or apple
        provider: String,
    },
    /// Give an account a role (ADMIN or USER)
    #[command(after_help = "Example:\n  librechat user set-role alice@example.org ADMIN")]
    SetRole { email: String, role: String },
    /// Invite an email address: prints the registration link
    #[command(after_help = "Example:\n  librechat user invite carol@example.org")]
    Invite { email: String },
    /// Per-account activity
    #[command(after_help = "Example:\n  librechat user stats")]
    Stats,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    email: String,
    /// Display name [default: the part of the email before @]
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    username: Option<String>,
    /// Read the password from standard input instead of prompting
    #[arg(long)]
    password_stdin: bool,
    /// Make the account an administrator
    #[arg(long)]
    admin: bool,
    /// Mark the email address as verified
    #[arg(long)]
    email_verified: bool,
}

#[derive(Debug, Subcommand)]
pub enum TermsCommand {
    /// Ask every user to accept the terms of service again
    #[command(after_help = "Example:\n  librechat terms reset")]
    Reset,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Loads the settings (nothing is written) and opens the existing database.
async fn open(env: &Env, overrides: &Overrides) -> anyhow::Result<(Settings, Db)> {
    let settings = Settings::load(env, overrides, false)?;
    let db = super::open_database(&settings).await?;
    Ok((settings, db))
}

async fn find(db: &Db, email: &str) -> anyhow::Result<users::User> {
    let e = email.to_owned();
    db.read(move |c| users::find_by_email(c, &e))
        .await?
        .ok_or_else(|| anyhow!("no account with the email {email}"))
}

pub fn run_terms(env: Env, overrides: Overrides, cmd: TermsCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    runtime()?.block_on(async {
        let (_, db) = open(&env, &overrides).await?;
        match cmd {
            TermsCommand::Reset => {
                let n = db.write(|c| users::reset_terms(c)).await?;
                println!("{n} user(s) will be asked to accept the terms again");
            }
        }
        db.close().await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run(env: Env, overrides: Overrides, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    runtime()?.block_on(async {
        let (settings, db) = open(&env, &overrides).await?;
        let result = dispatch(&settings, &db, cmd).await;
        db.close().await?;
        result
    })
}

/// The replicas' shared state, with `USE_REDIS`, to announce a ban made here; `None` (with
/// a warning) when it cannot be reached: the ban is in the database all the same.
async fn shared(settings: &Settings) -> Option<crate::cache::shared::Shared> {
    let redis = settings.redis.as_ref()?;
    match crate::cache::shared::Shared::connect(redis).await {
        Ok(shared) => Some(shared),
        Err(e) => {
            eprintln!(
                "warning: {e}; the ban is in the database, which replicas read within seconds"
            );
            None
        }
    }
}

async fn dispatch(settings: &Settings, db: &Db, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Create(a) => {
            let email = validate::email(&a.email)?;
            let name = a
                .name
                .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_owned());
            validate::name(&name)?;
            let username = validate::username(a.username.as_deref())?;
            let pw = read_password(a.password_stdin, settings.auth.min_password_length)?;
            let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await?;
            let new = users::NewUser {
                email: email.clone(),
                name,
                username,
                password: Some(hash),
                provider: "local".into(),
                email_verified: a.email_verified,
                role: a.admin.then(|| permissions::ADMIN.to_owned()),
            };
            let created = db.write(move |c| users::create(c, &new)).await?;
            let user = created
                .ok_or_else(|| anyhow!("an account with the email {email} already exists"))?;
            println!("created {} ({}, role {})", user.email, user.id, user.role);
        }
        UserCommand::List { json } => {
            let all = db.read(users::list).await?;
            if json {
                let rows: Vec<_> = all
                    .iter()
                    .map(|u| {
                        json!({"id": u.id, "email": u.email, "name": u.name, "username": u.username,
                               "role": u.role, "provider": u.provider, "emailVerified": u.email_verified,
                               "createdAt": u.created_at})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|u| {
                        vec![
                            u.id.clone(),
                            u.email.clone(),
                            u.name.clone(),
                            u.role.clone(),
                            u.provider.clone(),
                            u.created_at[..10].to_owned(),
                        ]
                    })
                    .collect();
                print_table(
                    &["ID", "EMAIL", "NAME", "ROLE", "PROVIDER", "CREATED"],
                    &rows,
                );
            }
        }
        UserCommand::Delete { email, yes } => {
            let user = find(db, &email).await?;
            if !yes && !confirm(&format!("Delete {} and everything they own?", user.email))? {
                bail!("not deleted (pass --yes to skip this question)");
            }
            let id = user.id.clone();
            let uploads = db.write(move |c| users::delete(c, &id)).await?;
            let files = crate::files::Storage::from_settings(settings)?;
            crate::files::sweep::remove_all(&files, &uploads).await;
            println!("deleted {}", user.email);
        }
        UserCommand::Ban { email, minutes } => {
            // Up to ten years: the end of the ban must be a date the database can hold.
            if !(1..=10 * 366 * 24 * 60).contains(&minutes) {
                bail!("MINUTES must be between 1 and 5270400 (ten years)");
            }
            let user = find(db, &email).await?;
            let until = db::to_rfc3339(
                time::OffsetDateTime::now_utc()
                    + time::Duration::minutes(i64::try_from(minutes).unwrap_or(i64::MAX / 60)),
            );
            let ban = bans::Ban {
                subject: format!("user:{}", user.id),
                kind: "manual".into(),
                violation_count: 0,
                expires_at: until.clone(),
            };
            let id = user.id.clone();
            db.write(move |c| {
                let tx = c.transaction()?;
                bans::upsert(&tx, &ban)?;
                sessions::delete_for_user(&tx, &id)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
            if let Some(shared) = shared(settings).await {
                let ban = bans::Ban {
                    subject: format!("user:{}", user.id),
                    kind: "manual".into(),
                    violation_count: 0,
                    expires_at: until.clone(),
                };
                if let Err(e) = crate::cache::bans::share(&shared, &ban).await {
                    eprintln!(
                        "warning: {e}; the ban is in the database, which replicas read within \
                         seconds"
                    );
                }
            }
            println!(
                "banned {} until {until}; their sessions are ended",
                user.email
            );
        }
        UserCommand::Unban { target } => {
            // An address, or an IPv6 client's /64, as bans are kept (see cache::client_key);
            // an address also lifts a ban made on it alone, before IPv6 clients were their /64.
            let mut subjects = match crate::cache::parse_client_key(&target) {
                Some(key) => vec![format!("ip:{key}")],
                None => vec![format!("user:{}", find(db, &target).await?.id)],
            };
            if let Ok(ip) = target.trim().parse::<std::net::IpAddr>() {
                subjects.push(format!("ip:{ip}"));
            }
            let lifted = db
                .write({
                    let subjects = subjects.clone();
                    move |c| {
                        let mut any = false;
                        for subject in &subjects {
                            any |= bans::delete(c, subject)?;
                        }
                        Ok(any)
                    }
                })
                .await?;
            if let Some(redis) = &settings.redis {
                // Redis holds bans too: until it forgets this one, the replicas enforce it.
                let shared = crate::cache::shared::Shared::connect(redis).await?;
                for subject in &subjects {
                    crate::cache::bans::lift(&shared, subject).await?;
                }
            }
            println!("{} {target}", if lifted { "unbanned" } else { "no ban on" });
        }
        UserCommand::Bans => {
            let live = db.read(bans::list_live).await?;
            let everyone = db.read(users::list).await?;
            let rows: Vec<Vec<String>> = live
                .into_iter()
                .map(|b| {
                    let who = match b.subject.strip_prefix("user:") {
                        Some(id) => everyone
                            .iter()
                            .find(|u| u.id == id)
                            .map(|u| u.email.clone())
                            .unwrap_or_else(|| id.to_owned()),
                        None => b.subject.trim_start_matches("ip:").to_owned(),
                    };
                    vec![who, b.kind, b.expires_at]
                })
                .collect();
            print_table(&["BANNED", "WHY", "UNTIL"], &rows);
        }
        UserCommand::Unlink { email, provider } => {
            let Some(p) = identities::Provider::from_name(&provider) else {
                let names: Vec<&str> = identities::Provider::ALL.iter().map(|p| p.name()).collect();
                bail!("no provider {provider} (providers: {})", names.join(", "));
            };
            let user = find(db, &email).await?;
            let id = user.id.clone();
            match db.write(move |c| identities::detach(c, &id, p)).await? {
                Some(subject) => println!(
                    "{} is no longer linked to {} subject {subject}; the next {} sign-in links it again",
                    user.email,
                    p.label(),
                    p.label()
                ),
                None => println!("{} has no {} identity", user.email, p.label()),
            }
        }
        UserCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let user = find(db, &email).await?;
            let pw = read_password(password_stdin, settings.auth.min_password_length)?;
            let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await?;
            let id = user.id.clone();
            db.write(move |c| {
                users::set_password(c, &id, &hash)?;
                sessions::delete_for_user(c, &id)?;
                Ok(())
            })
            .await?;
            println!(
                "password changed for {}; their sessions are ended",
                user.email
            );
        }
        UserCommand::SetRole { email, role } => {
            let user = find(db, &email).await?;
            let r = role.to_uppercase();
            let name = r.clone();
            let builtin = r == permissions::ADMIN || r == permissions::USER;
            if !builtin && db.read(move |c| db::roles::get(c, &name)).await?.is_none() {
                bail!("no role {role} (roles: ADMIN, USER)");
            }
            let id = user.id.clone();
            db.write(move |c| users::set_role(c, &id, &r)).await?;
            println!("{} is now {}", user.email, role.to_uppercase());
        }
        UserCommand::Invite { email } => {
            let token = accounts::create_invite(db, &email).await?;
            let base = settings
                .server
                .domain_client
                .clone()
                .unwrap_or_else(|| format!("http://localhost:{}", settings.server.port));
            let link = format!("{base}/register?token={token}");
            println!("{link}");
            if let Some(mail) = &settings.email {
                let mailer = Mailer::new(mail, &settings.branding.app_title)?;
                mailer
                    .send(&email, "", Template::Invite, &[("link", &link)])
                    .await?;
                eprintln!("invitation emailed to {email}");
            }
        }
        UserCommand::Stats => {
            let rows = db
                .read(|c| {
                    let mut stmt = c.prepare(
                        "SELECT u.email, u.role, u.created_at,
                                (SELECT count(*) FROM conversations v WHERE v.user_id = u.id),
                                (SELECT count(*) FROM messages m WHERE m.user_id = u.id),
                                (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?1)
                         FROM users u ORDER BY u.created_at",
                    )?;
                    let rows = stmt
                        .query_map([db::now()], |r| {
                            Ok(vec![
                                r.get::<_, String>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?[..10].to_owned(),
                                r.get::<_, i64>(3)?.to_string(),
                                r.get::<_, i64>(4)?.to_string(),
                                r.get::<_, i64>(5)?.to_string(),
                            ])
                        })?
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(rows)
                })
                .await?;
            print_table(
                &[
                    "EMAIL",
                    "ROLE",
                    "CREATED",
                    "CONVERSATIONS",
                    "MESSAGES",
                    "ACTIVE SESSIONS",
                ],
                &rows,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// From standard input (`--password-stdin`, first line) or a hidden prompt, asked twice.
fn read_password(from_stdin: bool, min: u64) -> anyhow::Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to ask for a password; pipe it in with --password-stdin");
        }
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            bail!("the passwords do not match");
        }
        first
    };
    validate::password(&pw, min)?;
    Ok(pw)
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
