//! `librechat group create|delete|add|remove|list|members`: the groups prompts (and next,
//! agents) are shared with. Safe while the server runs: access is checked against the groups
//! as they are at each request, so taking someone out of a group ends what it gave them at once.
//! Groups from an identity provider (source `openid`, `ldap`) are listed too; their members
//! are set again at each member's sign-in, so a change made here lasts until then.

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::db::{Db, groups, users};

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Make a group
    #[command(
        after_help = "Example:\n  librechat group create Marketing --description 'The marketing team'"
    )]
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a group: what was shared with it is no longer shared with its members
    Delete {
        /// The group's name or id
        group: String,
    },
    /// Put people in a group
    #[command(
        after_help = "Example:\n  librechat group add Marketing alice@example.org bob@example.org"
    )]
    Add {
        /// The group's name or id
        group: String,
        /// Their email addresses
        #[arg(required = true)]
        emails: Vec<String>,
    },
    /// Take people out of a group
    Remove {
        /// The group's name or id
        group: String,
        #[arg(required = true)]
        emails: Vec<String>,
    },
    /// List the groups, with how many members each has
    List,
    /// List a group's members
    Members {
        /// The group's name or id
        group: String,
    },
}

pub fn run(env: Env, overrides: Overrides, cmd: GroupCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        match cmd {
            GroupCommand::Create { name, description } => {
                let name = name.trim().to_owned();
                if name.is_empty() || name.chars().count() > 100 {
                    bail!("a group's name is 1 to 100 characters");
                }
                let n = name.clone();
                match db
                    .write(move |c| groups::create(c, &n, &description))
                    .await?
                {
                    Some(g) => println!("group {} created (id {})", g.name, g.id),
                    None => bail!("a group named {name} exists already"),
                }
            }
            GroupCommand::Delete { group } => {
                let g = find(&db, &group).await?;
                let id = g.id.clone();
                db.write(move |c| groups::delete(c, &id)).await?;
                println!("group {} deleted", g.name);
            }
            GroupCommand::Add { group, emails } => {
                let g = find(&db, &group).await?;
                change_members(&db, &g, emails, true).await?;
            }
            GroupCommand::Remove { group, emails } => {
                let g = find(&db, &group).await?;
                change_members(&db, &g, emails, false).await?;
            }
            GroupCommand::List => {
                let all = db.read(groups::list).await?;
                if all.is_empty() {
                    println!("no groups");
                }
                for g in all {
                    println!(
                        "{}\t{}\t{}\t{} member(s)\t{}",
                        g.id, g.name, g.source, g.member_count, g.description
                    );
                }
            }
            GroupCommand::Members { group } => {
                let g = find(&db, &group).await?;
                let id = g.id.clone();
                for email in db.read(move |c| groups::member_emails(c, &id)).await? {
                    println!("{email}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn find(db: &Db, group: &str) -> anyhow::Result<groups::Group> {
    let key = group.to_owned();
    let mut found = db.read(move |c| groups::find(c, &key)).await?;
    match found.len() {
        0 => bail!("no group named {group} (see `librechat group list`)"),
        1 => Ok(found.remove(0)),
        // A provider's groups may share a name: acting on one picked at random would be wrong.
        _ => {
            let ids: Vec<String> = found
                .iter()
                .map(|g| format!("{} ({})", g.id, g.source))
                .collect();
            bail!(
                "several groups are named {group}; name one by its id: {}",
                ids.join(", ")
            )
        }
    }
}

/// Adds (or removes) every one of `emails`; all must be accounts, or nothing changes.
async fn change_members(
    db: &Db,
    g: &groups::Group,
    emails: Vec<String>,
    adding: bool,
) -> anyhow::Result<()> {
    let gid = g.id.clone();
    let outcome = db
        .write(move |c| {
            let tx = c.transaction()?;
            let mut changed = Vec::new();
            for email in &emails {
                let Some(u) = users::find_by_email(&tx, &email.trim().to_lowercase())? else {
                    return Ok(Err(email.clone()));
                };
                let did = if adding {
                    groups::add_member(&tx, &gid, &u.id)?
                } else {
                    groups::remove_member(&tx, &gid, &u.id)?
                };
                changed.push((u.email, did));
            }
            tx.commit()?;
            Ok(Ok(changed))
        })
        .await?;
    let changed = match outcome {
        Ok(c) => c,
        Err(email) => bail!("no account with the email {email}; nothing changed"),
    };
    if g.source != "local" {
        println!(
            "note: {} is kept in step with {} at each sign-in; this change lasts until that person's next sign-in",
            g.name, g.source
        );
    }
    for (email, did) in changed {
        match (adding, did) {
            (true, true) => println!("{email} added to {}", g.name),
            (true, false) => println!("{email} was in {} already", g.name),
            (false, true) => println!("{email} removed from {}", g.name),
            (false, false) => println!("{email} was not in {}", g.name),
        }
    }
    Ok(())
}
