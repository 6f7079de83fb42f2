//! `librechat prompts export|import`: a prompts library as one JSON file, to move it between
//! servers. Imported groups are new ones owned by the person named; who they were shared with
//! does not travel (those people and groups are not on the other server).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::access::{self, ResourceType, roles};
use crate::config::{Env, Overrides, Settings};
use crate::db::prompt_transfer::{self, Incoming};
use crate::db::{Db, users};

/// The file's format version.
const FORMAT: u32 = 1;
/// The largest file read (a library of thousands of prompts is a few MB).
const MAX_FILE: u64 = 64 * 1024 * 1024;
/// As the API refuses longer ones.
const MAX_PROMPT_CHARS: usize = 50_000;

#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// Write every prompt group (or one person's) with its versions to a JSON file
    #[command(
        after_help = "Examples:\n  librechat prompts export prompts.json\n  librechat prompts export alice.json --user alice@example.org"
    )]
    Export {
        /// The file to write (`-`: standard output)
        file: PathBuf,
        /// Only the groups this person wrote
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
    },
    /// Read prompt groups from a file made by `export`, as new groups owned by one person
    #[command(
        after_help = "Example:\n  librechat prompts import prompts.json --user alice@example.org"
    )]
    Import {
        file: PathBuf,
        /// Who owns the imported groups
        #[arg(long, value_name = "EMAIL")]
        user: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    #[serde(rename = "librechatPrompts")]
    format: u32,
    #[serde(rename = "promptGroups")]
    groups: Vec<GroupOut>,
}

#[derive(Debug, Serialize, Deserialize)]
struct GroupOut {
    name: String,
    #[serde(default)]
    oneliner: String,
    #[serde(default)]
    category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<String>,
    /// Which of `prompts` is in production (0 is the oldest).
    #[serde(default)]
    production: usize,
    prompts: Vec<PromptOut>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PromptOut {
    prompt: String,
    #[serde(rename = "type")]
    kind: String,
}

pub fn run(env: Env, overrides: Overrides, cmd: PromptsCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    super::check_database(&settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = super::open_database(&settings).await?;
        match cmd {
            PromptsCommand::Export { file, user } => export(&db, &file, user).await,
            PromptsCommand::Import { file, user } => import(&db, &file, &user).await,
        }
    })
}

async fn find_user(db: &Db, email: &str) -> anyhow::Result<users::User> {
    let e = email.trim().to_lowercase();
    match db.read(move |c| users::find_by_email(c, &e)).await? {
        Some(u) => Ok(u),
        None => bail!("no account with the email {email}"),
    }
}

async fn export(db: &Db, file: &PathBuf, user: Option<String>) -> anyhow::Result<ExitCode> {
    let author = match user {
        Some(email) => Some(find_user(db, &email).await?.id),
        None => None,
    };
    let all = db
        .read(move |c| prompt_transfer::export(c, author.as_deref()))
        .await?;
    let groups: Vec<GroupOut> = all
        .into_iter()
        .map(|(g, versions)| GroupOut {
            production: versions
                .iter()
                .position(|v| Some(&v.id) == g.production_id.as_ref())
                .unwrap_or(versions.len().saturating_sub(1)),
            name: g.name,
            oneliner: g.oneliner,
            category: g.category,
            command: g.command,
            prompts: versions
                .into_iter()
                .map(|v| PromptOut {
                    prompt: v.prompt,
                    kind: v.kind,
                })
                .collect(),
        })
        .collect();
    let n = groups.len();
    let text = serde_json::to_string_pretty(&File {
        format: FORMAT,
        groups,
    })?;
    if file.as_os_str() == "-" {
        println!("{text}");
    } else {
        std::fs::write(file, text + "\n").with_context(|| format!("writing {}", file.display()))?;
        eprintln!("{n} prompt group(s) written to {}", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks one group of the file as the API checks what it is sent.
fn incoming(i: usize, g: GroupOut) -> anyhow::Result<Incoming> {
    let at = |what: &str| format!("promptGroups[{i}] ({}): {what}", g.name);
    if g.name.trim().is_empty() || g.name.chars().count() > 255 {
        bail!(at("a name is 1 to 255 characters"));
    }
    if g.oneliner.chars().count() > 500 || g.category.chars().count() > 100 {
        bail!(at("oneliner (500) or category (100) too long"));
    }
    let command = g.command.clone().filter(|c| !c.is_empty());
    if let Some(c) = &command
        && (c.len() > 56
            || !c
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    {
        bail!(at(
            "a command is lowercase letters, digits and hyphens, at most 56"
        ));
    }
    if g.prompts.is_empty() {
        bail!(at("no prompts"));
    }
    let mut versions = Vec::new();
    for p in &g.prompts {
        if p.prompt.trim().is_empty() || p.prompt.chars().count() > MAX_PROMPT_CHARS {
            bail!(at(&format!(
                "a prompt's text is 1 to {MAX_PROMPT_CHARS} characters"
            )));
        }
        if p.kind != "text" && p.kind != "chat" {
            bail!(at("a prompt's type is text or chat"));
        }
        versions.push((p.prompt.clone(), p.kind.clone()));
    }
    Ok(Incoming {
        production: g.production.min(versions.len() - 1),
        name: g.name,
        oneliner: g.oneliner,
        category: g.category,
        command,
        versions,
    })
}

async fn import(db: &Db, file: &PathBuf, email: &str) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > MAX_FILE {
        bail!("{} is larger than {} MB", file.display(), MAX_FILE >> 20);
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed: File = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a prompts export", file.display()))?;
    if parsed.format != FORMAT {
        bail!(
            "{}: format {} is not known here",
            file.display(),
            parsed.format
        );
    }
    let groups = parsed
        .groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| incoming(i, g))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let owner = find_user(db, email).await?;
    let viewer = access::viewer(&owner);
    let name = if owner.name.is_empty() {
        owner.username.clone()
    } else {
        owner.name.clone()
    };
    let role = roles::owner_of(ResourceType::PromptGroup);
    let done = db
        .write(move |c| prompt_transfer::import(c, &viewer, &name, &groups, (role.id, role.bits)))
        .await?;
    println!(
        "{} prompt group(s) imported for {}",
        done.groups, owner.email
    );
    for c in done.commands_dropped {
        println!("the command /{c} was in use already: left off");
    }
    Ok(ExitCode::SUCCESS)
}
