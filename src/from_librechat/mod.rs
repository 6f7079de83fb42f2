//! `librechat migrate-from-librechat DIR`: a whole LibreChat deployment, read from its MongoDB
//! backup (`mongodump` or `mongoexport`), brought into this server's database.
//!
//! Every collection is read as a stream, one document at a time, in the order its references
//! need ([`PASSES`]: users before their conversations, conversations before their messages).
//! Each document keeps LibreChat's ids, so links, shared links and client caches keep working,
//! and is written with "insert unless present": running the command twice imports nothing the
//! second time. Writes go in batches of [`BATCH`] documents, one transaction each.
//!
//! Nothing is dropped silently: a document that cannot come over is counted with its reason in
//! the [`report::Report`], and a collection this server has no place for is listed there.

mod bson;
mod collections;
pub mod creds;
mod doc;
mod extjson;
pub mod report;
mod source;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use rusqlite::Connection;

use crate::auth::crypto::Cipher;
use crate::db::from_librechat::BulkMessages;
use creds::LibreChatKeys;
use doc::Doc;
use report::{Counts, NotImported, Report, Skip};

/// Documents written per transaction.
const BATCH: u64 = 10_000;

pub struct Options {
    /// The `mongodump` or `mongoexport` folder.
    pub dir: PathBuf,
    /// This server's database file (created when missing).
    pub database: PathBuf,
    /// LibreChat's `CREDS_KEY`/`CREDS_IV`, for the secrets it encrypted.
    pub keys: Option<LibreChatKeys>,
    /// This server's `CREDS_KEY`, which seals the secrets again.
    pub creds_key: String,
    pub dry_run: bool,
    /// LibreChat's `uploads/` and `client/public/images/` folders, for the bytes of files.
    pub uploads: Option<PathBuf>,
    pub images: Option<PathBuf>,
    /// This server's file storage, where those bytes go: the data folder's `files/`, or the
    /// bucket of `fileStrategy: s3` (uploads pass through `files_dir/tmp/` on their way).
    pub file_store: crate::config::file_store::FileStore,
    pub files_dir: PathBuf,
    /// This server's search index, marked for a rebuild when messages come in.
    pub search_dir: PathBuf,
}

/// What a mapper did with one document.
pub enum Outcome {
    Imported,
    Present,
}

/// Why a mapper did not import one document.
pub enum Failure {
    Skip(Skip),
    /// The database failed (not the document): the migration stops.
    Fatal(rusqlite::Error),
}

impl From<Skip> for Failure {
    fn from(s: Skip) -> Self {
        Failure::Skip(s)
    }
}

impl From<rusqlite::Error> for Failure {
    /// A constraint the document breaks is the document's fault; anything else is not.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => Failure::Skip(Skip::new(
                "refused",
                format!("the database refused it: {e}"),
            )),
            _ => Failure::Fatal(e),
        }
    }
}

impl From<crate::db::DbError> for Failure {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Sqlite(e) => e.into(),
            other => Failure::Skip(Skip::new("refused", other.to_string())),
        }
    }
}

pub type Mapped = Result<Outcome, Failure>;

/// What one pass learns for the later ones.
#[derive(Default)]
pub struct Learned {
    /// `_id`s of LibreChat messages the shared links name, and the `messageId`s they became.
    pub shared_message_ids: HashMap<String, Option<String>>,
    /// Users whose import was refused, so their documents are skipped with the reason.
    pub refused_users: HashSet<String>,
    /// Secrets sealed again, by kind.
    pub resealed: HashMap<&'static str, u64>,
    /// Files brought over (where they are now), and those left in cloud storage.
    pub files: collections::files::Seen,
    /// LibreChat's access roles: their `_id` and their `accessRoleId` (`agent_viewer`).
    pub access_roles: HashMap<String, String>,
    /// People's ids at their identity provider (`idOnTheSource`) and their accounts here:
    /// how an external group names its members.
    pub users_by_source_id: HashMap<String, String>,
    /// Parts of imported documents that had no place here, counted by what they were.
    pub not_carried: HashMap<&'static str, u64>,
    /// Owners of the conversations messages were last written into (`None`: not here),
    /// looked up once per conversation; emptied when it reaches [`OWNERS_KEPT`].
    pub conversation_owners: HashMap<String, Option<String>>,
}

/// How many conversations' owners [`Learned::conversation_owners`] keeps (a few MB).
const OWNERS_KEPT: usize = 50_000;

impl Learned {
    /// Counts one part of a document that did not come over (reported at the end).
    pub fn not_carried(&mut self, what: &'static str) {
        *self.not_carried.entry(what).or_default() += 1;
    }
}

/// Everything a mapper may use.
pub struct Ctx<'a> {
    pub conn: &'a Connection,
    /// The same connection, for the store's functions.
    pub store: &'a crate::db::sql::Connection,
    pub cipher: Cipher,
    pub keys: Option<&'a LibreChatKeys>,
    pub learned: Learned,
    /// Where files' bytes come from and go.
    pub files: collections::files::Bytes,
}

impl Ctx<'_> {
    /// Fails with `user_not_found` unless `user` is an account here.
    pub fn user_exists(&self, user: &str) -> Result<(), Failure> {
        if crate::db::from_librechat::user_exists(self.conn, user)? {
            return Ok(());
        }
        let why = if self.learned.refused_users.contains(user) {
            format!("its user {user} was not imported")
        } else {
            format!("its user {user} does not exist")
        };
        Err(Skip::new("user_not_found", why).into())
    }

    /// The owner of conversation `id` here, if it is here.
    pub fn conversation_owner(&mut self, id: &str) -> rusqlite::Result<Option<&str>> {
        let owners = &mut self.learned.conversation_owners;
        if !owners.contains_key(id) {
            if owners.len() >= OWNERS_KEPT {
                owners.clear();
            }
            let owner = crate::db::from_librechat::conversation_owner(self.conn, id)?;
            owners.insert(id.to_owned(), owner);
        }
        Ok(owners[id].as_deref())
    }

    /// Decrypts one of LibreChat's secrets and seals it our way (`what` names it in the report
    /// and in a refusal).
    pub fn reseal(
        &mut self,
        what: &'static str,
        stored: &str,
        fixed_iv: bool,
    ) -> Result<String, Skip> {
        let plain = self.decrypt(what, stored, fixed_iv)?;
        Ok(self.seal(what, &plain))
    }

    /// A secret LibreChat keeps in a field of a stored configuration (encryptV2: an action's
    /// credentials, an MCP server's keys), sealed our way and counted under `kind`; `field`
    /// names it in a refusal. `uri_encoded`: LibreChat encrypted it after `encodeURIComponent`
    /// (action credentials), which is undone.
    pub fn reseal_field(
        &mut self,
        kind: &'static str,
        field: &str,
        stored: &str,
        uri_encoded: bool,
    ) -> Result<String, Skip> {
        let mut plain = self.decrypt(field, stored, false)?;
        if uri_encoded {
            plain = percent_encoding::percent_decode_str(&plain)
                .decode_utf8()
                .map_err(|_| {
                    Skip::new(
                        "cannot_decrypt",
                        format!("its {field} does not decrypt to text (wrong CREDS_KEY?)"),
                    )
                })?
                .into_owned();
        }
        Ok(self.seal(kind, &plain))
    }

    /// Seals a decrypted secret with this server's key, counted under `kind` in the report.
    pub fn seal(&mut self, kind: &'static str, plain: &str) -> String {
        *self.learned.resealed.entry(kind).or_default() += 1;
        self.cipher.encrypt(plain)
    }

    pub fn decrypt(&self, what: &str, stored: &str, fixed_iv: bool) -> Result<String, Skip> {
        let encrypted = fixed_iv || stored.contains(':');
        match self.keys {
            None if encrypted => Err(Skip::new(
                "no_creds_key",
                format!(
                    "its {what} is encrypted and LibreChat's CREDS_KEY was not given (--librechat-env)"
                ),
            )),
            None => Ok(stored.to_owned()),
            Some(k) => k.decrypt(stored, fixed_iv).map_err(|why| {
                Skip::new(
                    "cannot_decrypt",
                    format!("its {what} cannot be decrypted: {why}"),
                )
            }),
        }
    }
}

type Mapper = fn(&mut Ctx, &mut Doc) -> Mapped;

/// The collections imported, in the order their references need.
const PASSES: &[(&str, Mapper)] = &[
    ("roles", collections::accounts::role),
    ("users", collections::accounts::user),
    ("balances", collections::accounts::balance),
    ("transactions", collections::accounts::transaction),
    ("keys", collections::accounts::user_key),
    ("pluginauths", collections::accounts::plugin_auth),
    ("chatprojects", collections::library::project),
    ("files", collections::files::file),
    ("conversationtags", collections::chats::tag),
    ("conversations", collections::chats::conversation),
    ("messages", collections::chats::message),
    ("toolcalls", collections::agents::tool_call),
    ("sharedlinks", collections::chats::shared_link),
    ("presets", collections::library::preset),
    ("promptgroups", collections::library::prompt_group),
    ("prompts", collections::library::prompt),
    ("agentcategories", collections::agents::category),
    ("agents", collections::agents::agent),
    ("actions", collections::agents::action),
    ("mcpservers", collections::access::mcp_server),
    ("groups", collections::access::group),
    ("accessroles", collections::access::access_role),
    ("aclentries", collections::access::acl_entry),
    ("memoryentries", collections::library::memory),
    ("toolfavorites", collections::library::tool_favorite),
    ("banners", collections::library::banner),
];

/// Collections read before their pass, for what later passes need from them.
type Prescan = fn(&mut Learned, &mut Doc);

const PRESCANS: &[(&str, Prescan)] = &[("sharedlinks", collections::chats::prescan_shared_link)];

/// LibreChat collections with no place here, and what that means for the admin.
const NOT_HERE: &[(&str, &str)] = &[
    ("sessions", "sign-in sessions: people sign in again"),
    (
        "tokens",
        "short-lived sign-in, reset and OAuth tokens: people verify or connect again",
    ),
    (
        "assistants",
        "OpenAI Assistants are not supported by this server",
    ),
    (
        "agentapikeys",
        "only hashes of agent API keys are stored: people create new keys",
    ),
    ("skills", "skills are not supported yet"),
    ("skillfiles", "skills are not supported yet"),
    ("auditlogs", "LibreChat's audit log is not carried over"),
    (
        "configs",
        "admin configuration overrides: set them in librechat.yaml",
    ),
    ("systemgrants", "system grants have no equivalent here"),
    (
        "projects",
        "the old global project: share prompts and agents through access instead",
    ),
];

/// Runs the migration and says what it did.
pub fn run(opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let found = source::find(&opts.dir)?;
    let scratch;
    let database = if opts.dry_run {
        // A dry run imports into a throwaway copy: the report is exactly a real run's.
        scratch = Scratch::new()?;
        let copy = scratch.0.join("librechat.db");
        if opts.database.is_file() {
            crate::db::backup_to(&opts.database, &copy)?;
        }
        copy
    } else {
        opts.database.clone()
    };
    // Opening through the pool applies the migrations; the import then has its own connection.
    drop(crate::db::Db::open(&database)?);
    let store = crate::db::sql::Connection::sqlite(Connection::open(&database)?);
    let conn = store.as_sqlite().expect("the migration writes SQLite");
    crate::db::configure(conn)?;
    let mut ctx = Ctx {
        conn,
        store: &store,
        cipher: Cipher::new(&opts.creds_key),
        keys: opts.keys.as_ref(),
        learned: Learned::default(),
        files: collections::files::Bytes::new(
            opts.uploads.as_deref(),
            opts.images.as_deref(),
            &opts.file_store,
            &opts.files_dir,
            opts.dry_run,
        )?,
    };
    let mut report = Report {
        source: opts.dir.display().to_string(),
        dry_run: opts.dry_run,
        ..Report::default()
    };
    for (name, prescan) in PRESCANS {
        if let Some(c) = found.get(*name) {
            // Problems are reported by the pass itself.
            let _ = source::read(c, &mut |d| {
                if let Ok(m) = d {
                    prescan(&mut ctx.learned, &mut Doc(m));
                }
                ControlFlow::Continue(())
            });
        }
    }
    for (name, mapper) in PASSES {
        if let Some(c) = found.get(*name) {
            let counts = if *name == "messages" {
                // Written in bulk, past the search outbox: the index must be rebuilt, even
                // if this pass stops half way.
                if !opts.dry_run {
                    crate::search::SearchIndex::mark_stale(
                        &opts.search_dir,
                        "messages were imported from LibreChat",
                    )
                    .with_context(|| format!("cannot write to {}", opts.search_dir.display()))?;
                }
                let bulk = BulkMessages::start(conn)?;
                let counts = pass(&mut ctx, c, *mapper, Some(&bulk));
                bulk.finish(conn)?;
                counts?
            } else {
                pass(&mut ctx, c, *mapper, None)?
            };
            report.collections.insert((*name).to_owned(), counts);
            report.order.push((*name).to_owned());
        }
    }
    if let Some(counts) = collections::pictures::avatars(&mut ctx)? {
        report.collections.insert("avatars".into(), counts);
        report.order.push("avatars".into());
    }
    if let Some(counts) = collections::pictures::agent_avatars(&mut ctx)? {
        report.collections.insert("agentAvatars".into(), counts);
        report.order.push("agentAvatars".into());
    }
    let owners = crate::db::from_librechat::grant_missing_owners(conn, |rt| {
        let owner = crate::access::roles::owner_of(rt);
        (owner.id, owner.bits)
    })?;
    if owners > 0 {
        report.notes.push(format!(
            "{owners} prompt group(s), agent(s) or MCP server(s) had no access entry for their \
             author (LibreChat before its access control): their authors own them"
        ));
    }
    report
        .notes
        .extend(collections::files::settle_files(&mut ctx)?);
    let seen = std::mem::take(&mut ctx.learned.files);
    report.remote_files = seen.remote;
    report.remote_files_count = seen.remote_count;
    for (name, c) in &found {
        if PASSES.iter().any(|(n, _)| n == name) {
            continue;
        }
        let why = NOT_HERE
            .iter()
            .find(|(n, _)| n == name)
            .map_or("not a LibreChat collection this server knows", |(_, w)| w);
        let mut documents = 0;
        let _ = source::read(c, &mut |_| {
            documents += 1;
            ControlFlow::Continue(())
        });
        report.not_imported.insert(
            name.clone(),
            NotImported {
                documents,
                why: why.to_owned(),
            },
        );
    }
    let mut sealed: Vec<String> = ctx
        .learned
        .resealed
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    if !sealed.is_empty() {
        sealed.sort();
        report.notes.push(format!(
            "secrets decrypted with LibreChat's CREDS_KEY and sealed again with this server's (AES-256-GCM): {}",
            sealed.join(", ")
        ));
    }
    let mut dropped: Vec<String> = ctx
        .learned
        .not_carried
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    if !dropped.is_empty() {
        dropped.sort();
        report.notes.push(format!(
            "imported without what has no place here: {}",
            dropped.join(", ")
        ));
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Reads one collection through its mapper, in batches of [`BATCH`] documents (written in
/// bulk when `bulk` says so).
fn pass(
    ctx: &mut Ctx,
    c: &source::Collection,
    mapper: Mapper,
    bulk: Option<&BulkMessages>,
) -> anyhow::Result<Counts> {
    let begin = |conn: &Connection| match bulk {
        Some(b) => b.begin(conn),
        None => conn.execute_batch("BEGIN"),
    };
    let commit = |conn: &Connection| match bulk {
        Some(b) => b.commit(conn),
        None => conn.execute_batch("COMMIT"),
    };
    let started = Instant::now();
    let mut counts = Counts::default();
    let mut fatal = None;
    begin(ctx.conn)?;
    // One thread reads, parses and writes: measured, a reading thread of its own (handing
    // documents over one by one or in bundles) and a larger page cache were slower here.
    let read = source::read(c, &mut |d| {
        counts.read += 1;
        let mut doc = match d {
            Ok(m) => Doc(m),
            Err(why) => {
                counts.skip("", Skip::new("malformed", why));
                return ControlFlow::Continue(());
            }
        };
        let id = doc.id();
        match mapper(ctx, &mut doc) {
            Ok(Outcome::Imported) => counts.imported += 1,
            Ok(Outcome::Present) => counts.already_present += 1,
            Err(Failure::Skip(s)) => counts.skip(&id, s),
            Err(Failure::Fatal(e)) => fatal = Some(e),
        }
        if fatal.is_none()
            && counts.read % BATCH == 0
            && let Err(e) = commit(ctx.conn).and_then(|()| begin(ctx.conn))
        {
            fatal = Some(e);
        }
        // The database failed: reading the rest of the file would be for nothing.
        match fatal {
            Some(_) => ControlFlow::Break(()),
            None => ControlFlow::Continue(()),
        }
    });
    if let Some(e) = fatal {
        let _ = ctx.conn.execute_batch("ROLLBACK");
        return Err(anyhow::Error::new(e).context(format!(
            "the database failed while importing {}",
            c.path.display()
        )));
    }
    commit(ctx.conn)?;
    if let Err(stop) = read {
        counts.stopped = Some(stop.to_string());
    }
    counts.seconds = started.elapsed().as_secs_f64();
    Ok(counts)
}

/// A folder in the system's temporary folder, removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "librechat-migrate-dry-run-{}-{}",
            std::process::id(),
            crate::db::new_object_id()
        ));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot make {} for the dry run", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
