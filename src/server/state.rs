//! What every handler can reach.

use std::sync::Arc;

use crate::auth::crypto::Cipher;
use crate::auth::email_flows::EmailFlows;
use crate::auth::two_factor::TwoFactor;
use crate::auth::{Accounts, Roles, Tokens};
use crate::cache::Guard;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::search::SearchIndex;

/// Cloned for every request (axum hands each handler its own copy), so it is one shared
/// pointer: a clone is one atomic increment, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
pub struct Services {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// This installation's id, read once at start.
    pub instance_id: Arc<str>,
    pub accounts: Arc<Accounts>,
    pub roles: Arc<Roles>,
    pub two_factor: Arc<TwoFactor>,
    /// Verification, password reset and invitation mail.
    pub email: Arc<EmailFlows>,
    /// Rate limits, violations and bans.
    pub guard: Arc<Guard>,
    /// Full-text search; `None` when `SEARCH=false` or the index cannot be opened.
    pub search: Option<Arc<SearchIndex>>,
    /// Answers being generated.
    pub jobs: Arc<crate::chat::jobs::Jobs>,
    /// The client for AI providers at the administrator's URLs.
    pub http: reqwest::Client,
    /// The client for URLs a person chose (see `net`).
    pub guarded: crate::net::Guarded,
    /// Balances and transactions.
    pub billing: Arc<crate::billing::Billing>,
    /// Encrypts secrets at rest with CREDS_KEY (user API keys).
    pub cipher: Arc<Cipher>,
    /// Model lists fetched from providers.
    pub models: Arc<crate::providers::models::ModelLists>,
    /// OpenID Connect sign-in, when configured.
    pub openid: Option<Arc<crate::auth::openid::OpenId>>,
    /// The social sign-ins.
    pub social: Arc<crate::auth::social::Social>,
    /// Sign in with Apple, when configured.
    pub apple: Option<Arc<crate::auth::apple::Apple>>,
    /// SAML sign-in, when configured.
    pub saml: Option<Arc<crate::auth::saml::Saml>>,
    /// What is counted for Prometheus, when `METRICS_ADDR` is set.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Where uploaded files live.
    pub files: crate::files::Storage,
    /// Starts chat turns (`POST /api/agents/chat/:endpoint`).
    pub chat: crate::chat::start::ChatService,
    /// Agents' actions (`/api/agents/actions`, `/api/actions`).
    pub actions: Arc<crate::agents::actions::Actions>,
    /// The MCP servers and their connections (`/api/mcp/*`, their tools in chats).
    pub mcp: Arc<crate::mcp::Mcp>,
}

/// Opens (and migrates) the database the settings name: PostgreSQL at `DATABASE_URL`, else the
/// data folder's SQLite file (created if missing).
pub async fn open_database(settings: &Settings) -> Result<Db, db::DbError> {
    let path = settings.database_path();
    let url = settings
        .database_url
        .as_ref()
        .map(|u| u.expose().to_owned());
    tokio::task::spawn_blocking(move || match url {
        Some(url) => Db::open_postgres(&url).map(|(db, _)| db),
        None => Db::open(&path),
    })
    .await
    .map_err(|e| db::DbError::Io(e.to_string()))?
}

/// Refuses to start a replica whose secrets differ from those the database was first used
/// with: its tokens would be refused by the other replicas and the API keys it encrypts could
/// not be read by them (nor theirs by it). Only with PostgreSQL, the database replicas share.
async fn shared_secrets_agree(
    db: &db::Db,
    secrets: &crate::config::Secrets,
) -> Result<(), db::DbError> {
    let prints = secrets.fingerprints();
    let differing = db.write(move |c| db::differing_secrets(c, &prints)).await?;
    if differing.is_empty() {
        return Ok(());
    }
    Err(db::DbError::Io(format!(
        "this replica's {} not match what the database was first used with: every replica of \
         one database must have the same JWT_SECRET, JWT_REFRESH_SECRET, CREDS_KEY and \
         CREDS_IV (set them in each replica's environment; a replica given none generates its \
         own). After rotating them on every replica, run `librechat db accept-secrets` once with \
         the new values",
        match differing.as_slice() {
            [one] => format!("{one} does"),
            many => format!("{} do", many.join(", ")),
        }
    )))
}

impl AppState {
    /// Opens (and migrates) the database named by the settings, seeds the roles, and builds the
    /// services. The data folder must exist.
    pub async fn init(settings: Settings) -> Result<Self, db::DbError> {
        let db = open_database(&settings).await?;
        if db.is_postgres() {
            shared_secrets_agree(&db, &settings.secrets).await?;
        }
        let instance_id = db.read(db::instance_id).await?;
        let roles = Roles::load(
            db.clone(),
            settings.yaml.interface.clone(),
            settings.yaml.memory.clone(),
        )
        .await?;
        let files = crate::files::Storage::from_settings(&settings).map_err(|e| {
            db::DbError::Io(format!(
                "cannot use {} for uploads: {e}",
                settings.files_dir().display()
            ))
        })?;
        super::sweeper::spawn(db.clone(), files.clone());
        // Uploads left behind by a crash mid-import.
        let _ = std::fs::remove_dir_all(super::routes::imports::temp_dir(&settings.data_dir));
        let search = if settings.features.search {
            open_search(settings.search_dir(), db.clone()).await
        } else {
            None
        };
        if search.is_none() {
            tokio::spawn(crate::search::indexer::discard_while_off(db.clone()));
        }
        let s = &settings;
        let settings_creds_key = s.secrets.creds_key.value.expose().to_owned();
        let settings_metrics = s.server.metrics_addr.is_some();
        let guarded = crate::net::Guarded::new(s.endpoints.allowed_addresses.clone());
        let tokens = Tokens::new(
            s.secrets.jwt_secret.value.expose(),
            s.secrets.jwt_refresh_secret.value.expose(),
            s.auth.session_expiry_ms / 1000,
            s.auth.refresh_token_expiry_ms / 1000,
        );
        let accounts = Accounts::new(db.clone(), tokens, s.auth.clone(), s.logins.email);
        let shared = match &s.redis {
            Some(redis) => Some(
                crate::cache::shared::Shared::connect(redis)
                    .await
                    .map_err(|e| db::DbError::Io(format!("USE_REDIS: {e}")))?,
            ),
            None => None,
        };
        let guard = Arc::new(Guard::new(db.clone(), s.limits.ban.clone(), shared.clone()));
        let billing = Arc::new(crate::billing::Billing::new(db.clone(), s));
        let mailer = match &s.email {
            Some(e) => Some(
                crate::mail::Mailer::new(e, &s.branding.app_title)
                    .map_err(|e| db::DbError::Io(e.to_string()))?,
            ),
            None => None,
        };
        let link_base = s
            .server
            .domain_client
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{}", s.server.port));
        if mailer.is_some() && s.server.domain_client.is_none() {
            tracing::warn!(
                "email is configured but DOMAIN_CLIENT is not: links in emails will point to {link_base}"
            );
        }
        let email = EmailFlows::new(
            db.clone(),
            mailer,
            link_base,
            s.auth.allow_password_reset,
            s.auth.min_password_length,
        );
        let two_factor = TwoFactor::new(
            db.clone(),
            Cipher::new(s.secrets.creds_key.value.expose()),
            &s.branding.app_title,
        );
        let social = settings.social.clone();
        let apple = settings
            .apple
            .clone()
            .map(|a| Arc::new(crate::auth::apple::Apple::new(a)));
        // The settings were checked when loaded (see `SamlSettings::from_env`).
        let saml = settings
            .saml
            .clone()
            .and_then(|s| match crate::auth::saml::Saml::new(s) {
                Ok(saml) => Some(Arc::new(saml)),
                Err(e) => {
                    tracing::error!(error = %e, "SAML sign-in is off");
                    None
                }
            });
        let openid = settings
            .openid
            .clone()
            .map(|o| Arc::new(crate::auth::openid::OpenId::new(o)));
        let social = crate::auth::social::Social::new(social);
        if let Some(shared) = &shared {
            // Sign-ins in flight live in Redis: the callback may reach another replica.
            social.share(shared);
            openid.iter().for_each(|o| o.share(shared));
            apple.iter().for_each(|a| a.share(shared));
            saml.iter().for_each(|s| s.share(shared));
        }
        let settings = Arc::new(settings);
        let jobs = Arc::new(crate::chat::jobs::Jobs::new());
        if let Some(shared) = &shared {
            // A client may ask another replica for a title this one is writing.
            jobs.titles.share(shared);
            // With USE_REDIS_STREAMS: answers can be followed and stopped through any replica.
            jobs.share(shared);
        }
        let http = crate::providers::http_client();
        let models = Arc::<crate::providers::models::ModelLists>::default();
        let embeddings = embeddings(&settings, search.is_some(), &db, &http, &billing);
        let cipher = Arc::new(Cipher::new(settings_creds_key.as_str()));
        let metrics = settings_metrics.then(|| Arc::new(crate::metrics::Metrics::new()));
        let tools = Arc::new(crate::agents::tools::Registry::new(
            &settings.tools,
            http.clone(),
        ));
        let tool_auth = Arc::new(crate::chat::tool_auth::ToolAuth::new(
            db.clone(),
            cipher.clone(),
            settings.tools.clone(),
            tools.clone(),
            &settings.mcp,
        ));
        let actions = Arc::new(crate::agents::actions::Actions::new(
            db.clone(),
            crate::agents::actions::Setup {
                config: &settings.actions,
                cipher: cipher.clone(),
                callback_base: callback_base(&settings),
                enabled: settings
                    .agents
                    .served_capabilities(true)
                    .iter()
                    .any(|c| c == "actions"),
            },
        ));
        let mcp_net = crate::mcp::probe::net(&settings.mcp);
        let mut mcp_config = settings.mcp.clone();
        mcp_config.detect_oauth(&mcp_net.guarded).await;
        let mcp = crate::mcp::Mcp::new(mcp_config, mcp_net, tool_auth.clone());
        mcp.serve_user_servers(db.clone(), cipher.clone());
        mcp.set_oauth(Arc::new(crate::mcp::oauth::McpOAuth::new(
            db.clone(),
            cipher.clone(),
            mcp.net.guarded.clone(),
            &callback_base(&settings),
        )));
        mcp.start();
        let chat = crate::chat::start::ChatService {
            engine: crate::chat::engine::Engine {
                db: db.clone(),
                http: http.clone(),
                guarded: guarded.clone(),
                jobs: jobs.clone(),
                billing: billing.clone(),
                metrics: metrics.clone(),
                file_token_limit: settings.files.file_token_limit,
                files: files.clone(),
                tools,
                tool_auth: tool_auth.clone(),
                actions: actions.clone(),
                mcp: mcp.clone(),
                search: search.clone(),
                embeddings,
            },
            settings: settings.clone(),
            guard: guard.clone(),
            models: models.clone(),
            cipher: cipher.clone(),
            context_docs: Default::default(),
        };
        Ok(Self(Arc::new(Services {
            settings,
            db,
            instance_id: instance_id.into(),
            accounts: Arc::new(accounts),
            roles: Arc::new(roles),
            two_factor: Arc::new(two_factor),
            email: Arc::new(email),
            guard,
            search,
            jobs,
            http,
            guarded,
            models,
            billing,
            cipher,
            openid,
            social: Arc::new(social),
            apple,
            saml,
            metrics,
            files,
            chat,
            actions,
            mcp,
        })))
    }
}

/// File search's dense retrieval, with its worker started, when an embeddings endpoint is
/// configured and the search index is open (file search needs it).
fn embeddings(
    settings: &Settings,
    search: bool,
    db: &Db,
    http: &reqwest::Client,
    billing: &Arc<crate::billing::Billing>,
) -> Option<Arc<crate::files::embeddings::Embeddings>> {
    let config = settings.embeddings.clone().filter(|_| search)?;
    tracing::info!(provider = %config.provider, model = %config.model, "file search embeds its chunks");
    let e = Arc::new(crate::files::embeddings::Embeddings::new(
        config,
        db.clone(),
        http.clone(),
    ));
    tokio::spawn(crate::files::embeddings::run(
        e.clone(),
        db.clone(),
        billing.clone(),
    ));
    Some(e)
}

/// Opens the search index and starts keeping it up to date (rebuilding it first, in the
/// background, when it is missing or unusable). A failure leaves search off, not the server.
async fn open_search(dir: std::path::PathBuf, db: Db) -> Option<Arc<SearchIndex>> {
    let shown = dir.display().to_string();
    match tokio::task::spawn_blocking(move || SearchIndex::open(&dir)).await {
        Ok(Ok(index)) => {
            let index = Arc::new(index);
            tokio::spawn(crate::search::indexer::run(index.clone(), db));
            Some(index)
        }
        Ok(Err(e)) => {
            tracing::error!(dir = %shown, error = %e, "search is off: the index cannot be opened");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "search is off: opening the index failed");
            None
        }
    }
}

/// Where OAuth providers send people back to (`DOMAIN_SERVER`, else `DOMAIN_CLIENT`, else
/// this server on localhost).
fn callback_base(settings: &crate::config::Settings) -> String {
    settings
        .server
        .domain_server
        .clone()
        .or_else(|| settings.server.domain_client.clone())
        .unwrap_or_else(|| format!("http://localhost:{}", settings.server.port))
}
