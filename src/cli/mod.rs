//! The command line: `librechat serve`, `librechat config ...`, `librechat db ...`.

mod agents;
mod balance;
mod banner;
mod config;
mod db;
mod db_copy;
mod doctor;
mod export;
mod files;
mod group;
mod import;
mod mcp;
mod migrate;
mod progress;
mod prompts;
mod search;
pub(crate) mod serve;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Env, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "librechat",
    version = crate::VERSION,
    about = "A complete, self-hosted, multi-user AI chat service in one file",
    long_about = "A complete, self-hosted, multi-user AI chat service in one file, compatible with \
LibreChat's API, .env and librechat.yaml.\n\nSettings come from, lowest first: defaults, \
librechat.yaml, a .env file in the working directory, the environment, then these flags.",
    after_help = "Examples:\n  librechat serve                      # http://localhost:3080, data in ./data\n  \
librechat serve --port 8080 --data-dir /var/lib/librechat\n  librechat config check\n  \
librechat db backup /backups/librechat-$(date +%F).db"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: CommonArgs,
}

/// Flags every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Folder for the database, search index, uploads and generated secrets
    /// [env: LIBRECHAT_DATA_DIR] [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// LibreChat's configuration file [env: CONFIG_PATH] [default: ./librechat.yaml if present]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The .env file of settings (LibreChat's names), below the environment [default: ./.env
    /// if present]; e.g. /etc/librechat/librechat.env, which the systemd unit reads
    #[arg(long, global = true, value_name = "FILE")]
    env_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server and the web app
    #[command(
        after_help = "Examples:\n  librechat serve\n  librechat serve --host 0.0.0.0 --port 8080\n  \
PORT=8080 DOMAIN_CLIENT=https://chat.example.com librechat serve"
    )]
    Serve(serve::ServeArgs),
    /// Inspect the configuration
    #[command(subcommand, after_help = "Example:\n  librechat config check")]
    Config(config::ConfigCommand),
    /// Administer accounts: create, list, delete, ban, reset passwords, roles, invites
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat user create admin@example.org --admin\n  librechat user list\n  librechat user ban mallory@example.org 60"
    )]
    User(user::UserCommand),
    /// Groups of people to share prompts with: create, delete, add, remove, list, members
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat group create Marketing\n  librechat group add Marketing alice@example.org\n  librechat group list"
    )]
    Group(group::GroupCommand),
    /// The agents marketplace: list agents, promote or demote one
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat agents list\n  librechat agents promote agent_V1StGXR8Z5jdHi6BmyTqZ"
    )]
    Agents(agents::AgentsCommand),
    /// Move a prompts library between servers: export, import (a JSON file)
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat prompts export prompts.json\n  librechat prompts import prompts.json --user alice@example.org"
    )]
    Prompts(prompts::PromptsCommand),
    /// Terms of service
    #[command(subcommand, after_help = "Example:\n  librechat terms reset")]
    Terms(user::TermsCommand),
    /// Write every conversation of one user as LibreChat export JSON files
    #[command(after_help = "Example:\n  librechat export --user alice@example.org ./alice-chats")]
    Export(export::ExportArgs),
    /// Import conversations from ChatGPT, Claude or LibreChat export files
    #[command(
        after_help = "Examples:\n  librechat import conversations.json --user alice@example.org\n  \
librechat import ./alice-chats/1b2c.json --user alice@example.org"
    )]
    Import(import::ImportArgs),
    /// Bring a whole LibreChat deployment over from its MongoDB backup (mongodump or mongoexport)
    #[command(
        name = "migrate-from-librechat",
        after_help = "Examples:\n  librechat migrate-from-librechat ./dump --librechat-env /opt/LibreChat/.env --dry-run\n  \
librechat migrate-from-librechat ./dump --librechat-env /opt/LibreChat/.env --report report.json\n\n\
Stop the server first. Running it again imports only what is not there yet."
    )]
    MigrateFromLibrechat(migrate::MigrateArgs),
    /// Maintain the database: migrate, check, back up
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat db migrate\n  librechat db check\n  librechat db backup /backups/librechat.db"
    )]
    Db(db::DbCommand),
    /// Uploads: copy them into the S3 bucket before moving to fileStrategy: s3
    #[command(subcommand, after_help = "Example:\n  librechat files to-bucket")]
    Files(files::FilesCommand),
    /// Token credits: add, set, list
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat balance add alice@example.org 1000000\n  librechat balance list"
    )]
    Balance(balance::BalanceCommand),
    /// The banner shown at the top of the app: set, show, delete
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat banner set 'Maintenance tonight' --public\n  librechat banner delete"
    )]
    Banner(banner::BannerCommand),
    /// Maintain the full-text search index
    #[command(subcommand, after_help = "Example:\n  librechat search reindex")]
    Search(search::SearchCommand),
    /// The MCP servers of librechat.yaml: list them, test one
    #[command(
        subcommand,
        after_help = "Examples:\n  librechat mcp list\n  librechat mcp test time"
    )]
    Mcp(mcp::McpCommand),
    /// Check the data folder, database, search index, AI endpoints, mail, LDAP, OpenID and clock
    #[command(
        after_help = "Example:\n  sudo -u librechat librechat doctor --data-dir /var/lib/librechat \\\n    --config /etc/librechat/librechat.yaml --env-file /etc/librechat/librechat.env\n\n\
Prints what is wrong and how to fix it; exits 1 when something is broken."
    )]
    Doctor,
    /// Print the shell completion script for bash, zsh or fish
    #[command(
        after_help = "Examples:\n  librechat completions bash > /usr/share/bash-completion/completions/librechat\n  \
librechat completions zsh > \"${fpath[1]}/_librechat\"\n  librechat completions fish > ~/.config/fish/completions/librechat.fish"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API (JSON), as `GET /api/openapi.json` serves it
    #[command(after_help = "Example:\n  librechat openapi > librechat-openapi.json")]
    Openapi,
    /// Print the manual page (roff), as `man` reads it
    #[command(
        after_help = "Example:\n  librechat manpage | gzip > /usr/share/man/man1/librechat.1.gz"
    )]
    Manpage,
    /// Reads one document's text from standard input (the server runs this in a child process)
    #[command(name = "read-document", hide = true)]
    ReadDocument {
        /// pdf, docx, xlsx, odt or ods
        kind: String,
    },
}

/// Parses the command line and runs the command. Returns the process exit code.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // These two only print: no settings or .env are read.
    match cli.command {
        Command::Completions { shell } => return print_completions(shell),
        Command::Manpage => return print_manpage(),
        Command::Openapi => return print_openapi(),
        Command::ReadDocument { kind } => return Ok(crate::files::documents::child::run(&kind)),
        _ => {}
    }
    let env = match &cli.common.env_file {
        Some(file) if !file.is_file() => {
            anyhow::bail!("--env-file {}: no such file", file.display())
        }
        Some(file) => Env::load(file)?,
        None => Env::load(std::path::Path::new(".env"))?,
    };
    let overrides = Overrides {
        data_dir: cli.common.data_dir.clone(),
        config: cli.common.config.clone(),
        ..Overrides::default()
    };
    match cli.command {
        Command::Serve(args) => serve::run(env, overrides, args),
        Command::Config(cmd) => config::run(env, overrides, cmd),
        Command::Db(cmd) => db::run(env, overrides, cmd),
        Command::Search(cmd) => search::run(env, overrides, cmd),
        Command::Mcp(cmd) => mcp::run(env, overrides, cmd),
        Command::Files(cmd) => files::run(env, overrides, cmd),
        Command::Balance(cmd) => balance::run(env, overrides, cmd),
        Command::Banner(cmd) => banner::run(env, overrides, cmd),
        Command::User(cmd) => user::run(env, overrides, cmd),
        Command::Export(args) => export::run(env, overrides, args),
        Command::Import(args) => import::run(env, overrides, args),
        Command::MigrateFromLibrechat(args) => migrate::run(env, overrides, args),
        Command::Group(cmd) => group::run(env, overrides, cmd),
        Command::Agents(cmd) => agents::run(env, overrides, cmd),
        Command::Prompts(cmd) => prompts::run(env, overrides, cmd),
        Command::Terms(cmd) => user::run_terms(env, overrides, cmd),
        Command::Doctor => doctor::run(env, overrides),
        Command::Completions { shell } => print_completions(shell),
        Command::Manpage => print_manpage(),
        Command::Openapi => print_openapi(),
        Command::ReadDocument { kind } => Ok(crate::files::documents::child::run(&kind)),
    }
}

fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "librechat", &mut out);
    print(&out)
}

fn print_manpage() -> anyhow::Result<ExitCode> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command).render(&mut out)?;
    print(&out)
}

fn print_openapi() -> anyhow::Result<ExitCode> {
    let mut json = crate::server::router::openapi().to_pretty_json()?;
    json.push('\n');
    print(json.as_bytes())
}

/// Writes `bytes` to stdout; a reader that stopped early (`| head`) is not an error.
fn print(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Whether the database the admin commands would open is there: PostgreSQL at `DATABASE_URL`
/// (checked when connecting), else the data folder's SQLite file, which must exist already.
fn check_database(settings: &crate::config::Settings) -> anyhow::Result<()> {
    if settings.database_url.is_none() {
        let path = settings.database_path();
        if !path.is_file() {
            anyhow::bail!(
                "no database at {} (start the server or run `librechat db migrate` first)",
                path.display()
            );
        }
    }
    Ok(())
}

/// Opens the database the settings name, as `serve` does: PostgreSQL at `DATABASE_URL`
/// (brought to this version's schema if needed), else the data folder's SQLite file.
async fn open_database(settings: &crate::config::Settings) -> anyhow::Result<crate::db::Db> {
    use anyhow::Context;
    check_database(settings)?;
    crate::server::state::open_database(settings)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database_name()))
}
