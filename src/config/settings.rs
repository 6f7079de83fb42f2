//! The typed settings and the one function that builds them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::yaml::{self, LibreChatYaml};
use super::{ConfigError, Env, Overrides, Secret, Secrets};

/// The largest conversation import accepted when `CONVERSATION_IMPORT_MAX_FILE_SIZE_BYTES` is
/// not set: 250 MiB, LibreChat's documented default.
pub const DEFAULT_IMPORT_MAX_BYTES: u64 = 250 * 1024 * 1024;

/// The whole effective configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    /// Holds the database, the search index, uploaded files and generated secrets.
    pub data_dir: PathBuf,
    /// The librechat.yaml that was read, if any.
    pub config_file: Option<PathBuf>,
    pub secrets: Secrets,
    pub auth: AuthSettings,
    pub branding: Branding,
    pub logins: LoginProviders,
    pub features: Features,
    pub limits: super::LimitSettings,
    /// `ALLOWED_IMAGE_HOSTS`: where images in messages (and the page) may come from, besides
    /// this server.
    pub images: super::ImageHosts,
    /// Uploads: librechat.yaml's `fileConfig` over the defaults, and the per-user quota.
    #[serde(skip)]
    pub files: super::FileSettings,
    /// `fileStrategy`: the local disk, or an S3-compatible bucket.
    pub file_store: super::file_store::FileStore,
    /// `DATABASE_URL`: a PostgreSQL database (`postgres://...`) to keep the data in instead
    /// of the data folder's SQLite file; several replicas can share it.
    pub database_url: Option<Secret>,
    /// `USE_REDIS`: state shared with other replicas on Redis; `None` keeps it in process.
    pub redis: Option<super::redis::RedisSettings>,
    /// Outgoing mail; `None` when not configured.
    pub email: Option<super::EmailSettings>,
    /// LDAP sign-in; `None` when not configured.
    pub ldap: Option<super::LdapSettings>,
    /// OpenID Connect sign-in; `None` when not configured.
    pub openid: Option<super::OpenIdSettings>,
    /// The social sign-ins configured (Google, GitHub, Discord, Facebook).
    pub social: Vec<super::SocialSettings>,
    /// Sign in with Apple; `None` when not configured.
    pub apple: Option<super::AppleSettings>,
    /// SAML sign-in; `None` when not configured, or when OpenID is (LibreChat offers one).
    pub saml: Option<super::SamlSettings>,
    /// The AI endpoints offered (keys inside: never printed).
    #[serde(skip)]
    pub endpoints: crate::providers::Endpoints,
    /// `endpoints.agents`: the agent builder, run limits, providers and capabilities.
    #[serde(skip)]
    pub agents: super::agents::AgentsConfig,
    /// The tools' credentials from the environment, and their services' addresses.
    #[serde(skip)]
    pub tools: super::tools::ToolSettings,
    /// The embeddings endpoint of file search's dense retrieval (`EMBEDDINGS_PROVIDER`, ...);
    /// `None` when not configured: file search is BM25 alone.
    #[serde(skip)]
    pub embeddings: Option<super::embeddings::EmbeddingsSettings>,
    /// `mcpServers` and `mcpSettings`: the MCP servers whose tools agents and chats may use.
    #[serde(skip)]
    pub mcp: crate::mcp::config::McpConfig,
    /// `actions`: the domains and private services agents' actions may call.
    #[serde(skip)]
    pub actions: super::actions::ActionsConfig,
    /// `OPENAI_MODERATION`: messages are checked before they are answered.
    #[serde(skip)]
    pub moderation: Option<crate::providers::moderation::Moderation>,
    /// librechat.yaml as read, after `${VAR}` expansion. Never printed: it holds resolved keys.
    #[serde(skip)]
    pub yaml: LibreChatYaml,
    /// librechat.yaml before expansion, with secret-looking values masked: what `config check` shows.
    #[serde(rename = "librechat_yaml")]
    pub yaml_masked: serde_json::Value,
    /// What is odd but not wrong in librechat.yaml (unknown keys, no `version`), warned
    /// about at start.
    #[serde(skip)]
    pub yaml_warnings: Vec<String>,
    /// The parts of librechat.yaml that are set but not supported yet, noted at start.
    #[serde(skip)]
    pub yaml_unsupported: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerSettings {
    /// `HOST` (default `localhost`).
    pub host: String,
    /// `PORT` (default 3080).
    pub port: u16,
    /// `TRUST_PROXY`: how many reverse proxies in front of us to believe about the client's
    /// address and the public URL (`X-Forwarded-*`). 0 (the default) ignores those headers.
    pub trust_proxy: u32,
    /// `DOMAIN_CLIENT`: public URL of the web app; a sub-path here sets the page's `<base href>`.
    pub domain_client: Option<String>,
    /// `DOMAIN_SERVER`: public URL of the API, reported to the client as `serverDomain`.
    pub domain_server: Option<String>,
    /// `NO_INDEX` (default true): ask search engines not to index the site.
    pub no_index: bool,
    /// `DISABLE_COMPRESSION` inverted: gzip responses when the client accepts them.
    pub compression: bool,
    /// `HTTP_REQUEST_TIMEOUT_MS` (default 300000, Node's): bound on a non-streaming request.
    pub request_timeout_ms: u64,
    /// `SHUTDOWN_TIMEOUT_MS` (default 10000): how long running requests may finish on shutdown.
    pub shutdown_timeout_ms: u64,
    /// `HTTP_HEADERS_TIMEOUT_MS` (default 60000, Node's): how long a client may take to send
    /// a request's headers before the connection is closed.
    pub headers_timeout_ms: u64,
    /// `MAX_BODY_SIZE` in bytes (default 3 MB, LibreChat's JSON body limit).
    pub body_limit: usize,
    /// `METRICS_ADDR` (ours): where Prometheus metrics are served (`host:port`); off when unset.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser. Empty
    /// (the default) sends no CORS headers, so only the bundled app's own origin can.
    pub cors_origins: Vec<String>,
    /// `STATIC_CACHE_MAX_AGE` seconds for static assets; unset means "revalidate every time".
    pub static_cache_max_age: Option<u64>,
    /// `INDEX_CACHE_CONTROL` for index.html (default `no-cache, no-store, must-revalidate`).
    pub index_cache_control: String,
    /// `CLIENT_DIR` or `--client-dir` (ours): a LibreChat client build (its `dist` folder,
    /// with `index.html`) served instead of the bundled app. Unset, the bundled app is served.
    pub client_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthSettings {
    /// `ALLOW_REGISTRATION` (default true: the first account registered becomes the admin).
    pub allow_registration: bool,
    /// `ALLOW_EMAIL_LOGIN` (default true).
    pub allow_email_login: bool,
    /// `ALLOW_SOCIAL_LOGIN` (default false).
    pub allow_social_login: bool,
    /// `ALLOW_SOCIAL_REGISTRATION` (default false).
    pub allow_social_registration: bool,
    /// `ALLOW_PASSWORD_RESET` (default false).
    pub allow_password_reset: bool,
    /// `ALLOW_ACCOUNT_DELETION` (default true).
    pub allow_account_deletion: bool,
    /// `ALLOW_UNVERIFIED_EMAIL_LOGIN` (default true).
    pub allow_unverified_email_login: bool,
    /// `MIN_PASSWORD_LENGTH` (default 8).
    pub min_password_length: u64,
    /// `registration.allowedDomains` from librechat.yaml.
    pub allowed_domains: Vec<String>,
    /// `registration.socialLogins`: the order of the login buttons.
    pub social_logins: Vec<String>,
    /// `SESSION_EXPIRY` in ms (default 15 min): lifetime of an access token.
    pub session_expiry_ms: u64,
    /// `REFRESH_TOKEN_EXPIRY` in ms (default 7 days): lifetime of a session.
    pub refresh_token_expiry_ms: u64,
    /// `SESSION_COOKIE_SECURE`: force the Secure flag on the refresh cookie; unset, it is set
    /// whenever the request came over https.
    pub session_cookie_secure: Option<bool>,
    /// `REAUTH_WINDOW` (ours) in minutes, default 10, at least 1: for this long after signing
    /// in, deleting the account or starting 2FA enrolment needs no password (LibreChat's client
    /// sends none); later the password must come with the request. Never 0: an account without
    /// a password here (single sign-on) has no other proof than a fresh sign-in.
    pub reauth_window_secs: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Branding {
    /// `APP_TITLE` (default `LibreChat`).
    pub app_title: String,
    /// `CUSTOM_FOOTER`; an empty value hides the footer.
    pub custom_footer: Option<String>,
    /// `HELP_AND_FAQ_URL` (default `https://librechat.ai`).
    pub help_and_faq_url: String,
    /// `SHOW_BIRTHDAY_ICON`.
    pub show_birthday_icon: bool,
    /// `ANALYTICS_GTM_ID`.
    pub analytics_gtm_id: Option<String>,
    /// `SANDPACK_BUNDLER_URL` and `SANDPACK_STATIC_BUNDLER_URL`: a self-hosted Sandpack bundler
    /// for the artifact previews of LibreChat's client (given to it as `bundlerURL` and
    /// `staticBundlerURL`, and allowed to frame).
    pub sandpack_bundler_url: Option<String>,
    pub sandpack_static_bundler_url: Option<String>,
    /// `ARTIFACT_LIBRARIES_URL` (ours): where the bundled app's artifact previews load React,
    /// Babel, Tailwind, Mermaid and the rest from, as npm packages at
    /// `<url>/<package>@<version>/<file>` (jsDelivr's npm mirror by default); `off` turns
    /// previews of React components and Mermaid diagrams off.
    pub artifact_libraries_url: Option<String>,
}

/// Which sign-in methods are configured, detected from their environment variables as LibreChat
/// does; the strategies themselves live in `auth/`.
#[derive(Debug, Clone, Serialize)]
pub struct LoginProviders {
    pub google: bool,
    pub github: bool,
    pub discord: bool,
    pub facebook: bool,
    pub apple: bool,
    pub openid: bool,
    pub openid_label: String,
    pub openid_image_url: Option<String>,
    pub openid_auto_redirect: bool,
    /// SAML is offered only when OpenID is not, as in LibreChat.
    pub saml: bool,
    pub saml_label: String,
    pub saml_image_url: Option<String>,
    /// LDAP is on when `LDAP_URL` and `LDAP_USER_SEARCH_BASE` are set.
    pub ldap: bool,
    /// `LDAP_LOGIN_USES_USERNAME`: the login form asks for a username instead of an email.
    pub ldap_uses_username: bool,
    /// Mail can be sent (`EMAIL_HOST` or a known `EMAIL_SERVICE`, and `EMAIL_FROM`).
    pub email: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Features {
    /// `ALLOW_SHARED_LINKS` (default true).
    pub shared_links: bool,
    /// `ALLOW_SHARED_LINKS_PUBLIC` (default false: viewing a shared link needs an account).
    pub public_shared_links: bool,
    /// `balance.enabled`, or `CHECK_BALANCE`.
    pub balance_enabled: bool,
    /// `balance.startBalance`, or `START_BALANCE` (default 20000).
    pub start_balance: u64,
    /// `transactions.enabled` (default true; forced on with balance).
    pub transactions: bool,
    /// `CONVERSATION_IMPORT_MAX_FILE_SIZE_BYTES`: the largest import file (default 250 MiB).
    pub conversation_import_max_file_size: u64,
    /// Hours a temporary chat is kept: `interface.temporaryChatRetention`, else the older
    /// `TEMP_CHAT_RETENTION_HOURS`; default 720 (30 days), clamped to 1..=8760.
    pub temporary_chat_retention_hours: u64,
    /// `SEARCH` (default true): full-text search over messages and titles. LibreChat needed
    /// Meilisearch for it; here it is built in, and `SEARCH=false` turns it off.
    pub search: bool,
}

impl Settings {
    /// Builds the settings from the environment (with `.env` already merged in) and the
    /// command-line overrides, reading librechat.yaml and resolving secrets. With
    /// `persist_secrets`, missing secrets are generated and stored in the data folder, which must
    /// then exist.
    pub fn load(
        env: &Env,
        flags: &Overrides,
        persist_secrets: bool,
    ) -> Result<Settings, ConfigError> {
        let data_dir = data_dir(env, flags);
        let (config_file, parsed) = read_yaml(env, flags)?;
        let warnings = yaml_warnings(config_file.is_some(), &parsed);
        let y = &parsed.yaml;

        let port = match flags.port {
            Some(p) => p,
            None => match env.int("PORT")? {
                Some(p) => u16::try_from(p)
                    .map_err(|_| ConfigError::invalid("PORT", &p.to_string(), "a port number"))?,
                None => 3080,
            },
        };
        let server = ServerSettings {
            host: flags
                .host
                .clone()
                .or_else(|| env.string("HOST"))
                .unwrap_or_else(|| "localhost".into()),
            port,
            trust_proxy: trust_proxy(env)?,
            domain_client: url_var(env, "DOMAIN_CLIENT")?,
            domain_server: url_var(env, "DOMAIN_SERVER")?,
            no_index: env.bool("NO_INDEX")?.unwrap_or(true),
            compression: !env.bool("DISABLE_COMPRESSION")?.unwrap_or(false),
            request_timeout_ms: env
                .int("HTTP_REQUEST_TIMEOUT_MS")?
                .unwrap_or(300_000)
                .max(1),
            shutdown_timeout_ms: env.int("SHUTDOWN_TIMEOUT_MS")?.unwrap_or(10_000),
            headers_timeout_ms: env.int("HTTP_HEADERS_TIMEOUT_MS")?.unwrap_or(60_000).max(1),
            body_limit: env.int("MAX_BODY_SIZE")?.unwrap_or(3 * 1024 * 1024) as usize,
            metrics_addr: match env.string("METRICS_ADDR") {
                None => None,
                Some(a) => Some(a.parse().map_err(|_| {
                    ConfigError::invalid(
                        "METRICS_ADDR",
                        &a,
                        "an address and port, like 127.0.0.1:9464",
                    )
                })?),
            },
            cors_origins: list(env.get("CORS_ORIGINS")),
            static_cache_max_age: env.int("STATIC_CACHE_MAX_AGE")?,
            index_cache_control: env
                .string("INDEX_CACHE_CONTROL")
                .unwrap_or_else(|| "no-cache, no-store, must-revalidate".into()),
            client_dir: client_dir(env, flags)?,
        };
        for origin in &server.cors_origins {
            if origin != "*" && url::Url::parse(origin).is_err() {
                return Err(ConfigError::invalid(
                    "CORS_ORIGINS",
                    origin,
                    "origins like https://chat.example.com",
                ));
            }
        }

        let registration = y.registration.clone().unwrap_or_default();
        let auth = AuthSettings {
            allow_registration: env.bool("ALLOW_REGISTRATION")?.unwrap_or(true),
            allow_email_login: env.bool("ALLOW_EMAIL_LOGIN")?.unwrap_or(true),
            allow_social_login: env.bool("ALLOW_SOCIAL_LOGIN")?.unwrap_or(false),
            allow_social_registration: env.bool("ALLOW_SOCIAL_REGISTRATION")?.unwrap_or(false),
            allow_password_reset: env.bool("ALLOW_PASSWORD_RESET")?.unwrap_or(false),
            allow_account_deletion: env.bool("ALLOW_ACCOUNT_DELETION")?.unwrap_or(true),
            allow_unverified_email_login: env.bool("ALLOW_UNVERIFIED_EMAIL_LOGIN")?.unwrap_or(true),
            min_password_length: env.int("MIN_PASSWORD_LENGTH")?.unwrap_or(8),
            allowed_domains: registration.allowed_domains.unwrap_or_default(),
            session_expiry_ms: env
                .int("SESSION_EXPIRY")?
                .unwrap_or(15 * 60 * 1000)
                .max(1000),
            refresh_token_expiry_ms: env
                .int("REFRESH_TOKEN_EXPIRY")?
                .unwrap_or(7 * 24 * 60 * 60 * 1000)
                .max(1000),
            session_cookie_secure: env.bool("SESSION_COOKIE_SECURE")?,
            reauth_window_secs: env
                .int("REAUTH_WINDOW")?
                .unwrap_or(10)
                .max(1)
                .saturating_mul(60),
            social_logins: registration.social_logins.unwrap_or_else(|| {
                ["google", "facebook", "openid", "github", "discord", "saml"]
                    .map(String::from)
                    .to_vec()
            }),
        };

        let branding = Branding {
            app_title: env
                .string("APP_TITLE")
                .unwrap_or_else(|| "LibreChat".into()),
            custom_footer: env.get_raw("CUSTOM_FOOTER").map(str::to_owned),
            help_and_faq_url: env
                .string("HELP_AND_FAQ_URL")
                .unwrap_or_else(|| "https://librechat.ai".into()),
            // LibreChat turns the icon on for `SHOW_BIRTHDAY_ICON=` (set but empty) as well.
            show_birthday_icon: env.get_raw("SHOW_BIRTHDAY_ICON") == Some("")
                || env.bool("SHOW_BIRTHDAY_ICON")?.unwrap_or(false),
            analytics_gtm_id: env.string("ANALYTICS_GTM_ID"),
            sandpack_bundler_url: url_var(env, "SANDPACK_BUNDLER_URL")?,
            sandpack_static_bundler_url: url_var(env, "SANDPACK_STATIC_BUNDLER_URL")?,
            artifact_libraries_url: match env.get("ARTIFACT_LIBRARIES_URL") {
                Some("off") => None,
                Some(_) => url_var(env, "ARTIFACT_LIBRARIES_URL")?,
                None => Some(crate::web::sandbox::DEFAULT_LIBRARIES_URL.to_owned()),
            },
        };

        let balance = y.balance.clone().unwrap_or_default();
        let balance_enabled = env
            .bool("CHECK_BALANCE")?
            .or(balance.enabled)
            .unwrap_or(false);
        let shared_links = env.bool("ALLOW_SHARED_LINKS")?.unwrap_or(true);
        let features = Features {
            shared_links,
            public_shared_links: shared_links
                && env.bool("ALLOW_SHARED_LINKS_PUBLIC")?.unwrap_or(false),
            balance_enabled,
            start_balance: env
                .int("START_BALANCE")?
                .or(balance.start_balance)
                .unwrap_or(20_000),
            transactions: balance_enabled
                || y.transactions
                    .as_ref()
                    .and_then(|t| t.enabled)
                    .unwrap_or(true),
            conversation_import_max_file_size: env
                .int("CONVERSATION_IMPORT_MAX_FILE_SIZE_BYTES")?
                .filter(|n| *n > 0)
                .unwrap_or(DEFAULT_IMPORT_MAX_BYTES),
            temporary_chat_retention_hours: y
                .interface
                .as_ref()
                .and_then(|i| i.temporary_chat_retention)
                .map(u64::from)
                .or(env.int("TEMP_CHAT_RETENTION_HOURS")?)
                .unwrap_or(720)
                .clamp(1, 8760),
            search: env.bool("SEARCH")?.unwrap_or(true),
        };

        if persist_secrets {
            prepare_data_dir(&data_dir)?;
        }
        let secrets = Secrets::resolve(env, &data_dir, persist_secrets)?;
        let endpoints = crate::providers::Endpoints::load(env, parsed.yaml.endpoints.as_ref())?;
        let agents = super::agents::AgentsConfig::load(env, parsed.yaml.endpoints.as_ref())?;
        let mut warnings = warnings;
        warnings.extend(endpoints.warnings.iter().cloned());
        let (actions, action_warnings) =
            super::actions::ActionsConfig::load(env, parsed.yaml.actions.as_ref());
        warnings.extend(action_warnings);
        let (web_search, search_warnings) =
            super::web_search::WebSearchConfig::load(env, parsed.as_written.get("webSearch"));
        warnings.extend(search_warnings);
        warnings.extend(agents.warnings.iter().cloned());
        let embeddings = super::embeddings::EmbeddingsSettings::from_env(env, &mut warnings)?;
        let (mcp, mcp_warnings) = crate::mcp::config::McpConfig::load(
            parsed.yaml.mcp_servers.as_ref(),
            parsed.yaml.mcp_settings.as_ref(),
        );
        warnings.extend(mcp_warnings);
        let email = super::EmailSettings::from_env(env, &branding.app_title)?;
        let openid = super::OpenIdSettings::from_env(env, server.domain_server.as_deref())?;
        let saml = match openid {
            Some(_) => None,
            None => super::SamlSettings::from_env(env)?,
        };
        Ok(Settings {
            server,
            data_dir,
            config_file,
            secrets,
            auth,
            branding,
            logins: LoginProviders {
                email: email.is_some(),
                saml: saml.is_some(),
                ..LoginProviders::detect(env)?
            },
            features,
            limits: super::LimitSettings::from_env(env)?
                .with_yaml(parsed.yaml.rate_limits.as_ref()),
            images: super::ImageHosts::from_env(env)?,
            files: super::FileSettings::load(
                env,
                parsed.yaml.file_config.as_ref(),
                parsed.yaml.image_output_type.as_ref(),
            )?,
            database_url: database_url(env)?,
            file_store: super::file_store::FileStore::load(
                env,
                parsed.as_written.get("fileStrategy"),
            )?,
            redis: super::redis::RedisSettings::from_env(env)?,
            email,
            ldap: super::LdapSettings::from_env(env)?,
            openid,
            social: super::SocialSettings::from_env(env)?,
            apple: super::AppleSettings::from_env(env)?,
            saml,
            agents,
            tools: super::tools::ToolSettings {
                web_search,
                ..super::tools::ToolSettings::from_env(env)?
            }
            .with_lists(
                parsed.yaml.included_tools.as_deref(),
                parsed.yaml.filtered_tools.as_deref(),
            ),
            actions,
            embeddings,
            mcp,
            endpoints,
            moderation: crate::providers::moderation::Moderation::from_env(env)?,
            yaml_warnings: warnings,
            yaml_unsupported: super::unsupported::not_supported(&parsed.as_written),
            yaml_masked: yaml::printable(&parsed.as_written),
            yaml: parsed.yaml,
        })
    }

    /// Where the data lives: the PostgreSQL URL's place without its password, or the SQLite
    /// file.
    pub fn database_name(&self) -> String {
        match &self.database_url {
            Some(url) => crate::db::sql::pg::redacted(url.expose()),
            None => self.database_path().display().to_string(),
        }
    }

    /// Where the SQLite database lives.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("librechat.db")
    }

    /// Where the search index lives.
    pub fn search_dir(&self) -> PathBuf {
        self.data_dir.join("search")
    }

    /// Where uploaded files live.
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }
}

impl LoginProviders {
    fn detect(env: &Env) -> Result<Self, ConfigError> {
        let all = |keys: &[&str]| keys.iter().all(|k| env.is_set(k));
        let openid = all(&[
            "OPENID_CLIENT_ID",
            "OPENID_CLIENT_SECRET",
            "OPENID_ISSUER",
            "OPENID_SESSION_SECRET",
        ]);
        Ok(Self {
            google: all(&["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"]),
            github: all(&["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"]),
            discord: all(&["DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET"]),
            facebook: all(&["FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET"]),
            apple: all(&[
                "APPLE_CLIENT_ID",
                "APPLE_TEAM_ID",
                "APPLE_KEY_ID",
                "APPLE_PRIVATE_KEY_PATH",
            ]),
            openid,
            openid_label: env
                .string("OPENID_BUTTON_LABEL")
                .unwrap_or_else(|| "Continue with OpenID".into()),
            openid_image_url: env.string("OPENID_IMAGE_URL"),
            openid_auto_redirect: env.bool("OPENID_AUTO_REDIRECT")?.unwrap_or(false),
            // Filled in from the parsed SAML settings (which are off when OpenID is on).
            saml: false,
            saml_label: env
                .string("SAML_BUTTON_LABEL")
                .unwrap_or_else(|| "Continue with SAML".into()),
            saml_image_url: env.string("SAML_IMAGE_URL"),
            ldap: all(&["LDAP_URL", "LDAP_USER_SEARCH_BASE"]),
            ldap_uses_username: env.bool("LDAP_LOGIN_USES_USERNAME")?.unwrap_or(false),
            // Filled in from the parsed email settings.
            email: false,
        })
    }
}

fn yaml_warnings(file_read: bool, parsed: &yaml::Parsed) -> Vec<String> {
    let mut out: Vec<String> = parsed
        .unknown_keys
        .iter()
        .map(|k| format!("librechat.yaml: unknown key `{k}` is ignored"))
        .collect();
    if let Some(w) = parsed.yaml.memory.as_ref().and_then(|m| m.agent_warning()) {
        out.push(w);
    }
    let named = |l: &Option<Vec<String>>| l.as_ref().is_some_and(|l| !l.is_empty());
    if named(&parsed.yaml.included_tools) && named(&parsed.yaml.filtered_tools) {
        out.push(
            "librechat.yaml: both `includedTools` and `filteredTools` are set; `filteredTools` \
             is ignored (as in LibreChat)"
                .into(),
        );
    }
    if file_read && parsed.yaml.version.is_none() {
        out.push(
            "librechat.yaml: no `version` key; LibreChat requires one (e.g. `version: 1.3.17`)"
                .into(),
        );
    }
    out
}

/// The data folder: `--data-dir`, else `LIBRECHAT_DATA_DIR`, else `./data`.
pub fn data_dir(env: &Env, flags: &Overrides) -> PathBuf {
    flags
        .data_dir
        .clone()
        .or_else(|| env.get("LIBRECHAT_DATA_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("data"))
}

/// Finds and parses librechat.yaml: `--config`, else `CONFIG_PATH`, else `./librechat.yaml` if
/// present. A file named explicitly must exist; the default one may be absent.
fn read_yaml(env: &Env, flags: &Overrides) -> Result<(Option<PathBuf>, yaml::Parsed), ConfigError> {
    let explicit = flags
        .config
        .clone()
        .or_else(|| env.get("CONFIG_PATH").map(PathBuf::from));
    if let Some(p) = &explicit {
        let s = p.to_string_lossy();
        if s.starts_with("http://") || s.starts_with("https://") {
            return Err(ConfigError::ReadFile {
                path: s.into_owned(),
                reason: "loading librechat.yaml from a URL is not supported; download it and set \
                         CONFIG_PATH to the file"
                    .into(),
            });
        }
    }
    let path = explicit
        .clone()
        .unwrap_or_else(|| PathBuf::from("librechat.yaml"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            return Ok((None, yaml::Parsed::default()));
        }
        Err(e) => {
            return Err(ConfigError::ReadFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    let parsed = yaml::parse(&text, &path.display().to_string(), env)?;
    Ok((Some(path), parsed))
}

/// `--client-dir`, else `CLIENT_DIR`: must be a folder with an `index.html`, as the server
/// serves that page for every path of the app.
fn client_dir(env: &Env, flags: &Overrides) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dir) = flags
        .client_dir
        .clone()
        .or_else(|| env.string("CLIENT_DIR").map(PathBuf::from))
    else {
        return Ok(None);
    };
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(ConfigError::invalid(
            "CLIENT_DIR",
            &shown,
            "a folder holding a built LibreChat client (it does not exist)",
        ));
    }
    if !dir.join("index.html").is_file() {
        return Err(ConfigError::invalid(
            "CLIENT_DIR",
            &shown,
            "a folder holding a built LibreChat client (it has no index.html: point it at the \
             build's dist folder)",
        ));
    }
    Ok(Some(dir))
}

fn trust_proxy(env: &Env) -> Result<u32, ConfigError> {
    let Some(v) = env.get("TRUST_PROXY") else {
        return Ok(0);
    };
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(u32::MAX),
        "false" => Ok(0),
        n => n.parse().map_err(|_| {
            ConfigError::invalid("TRUST_PROXY", v, "a number of proxies, true or false")
        }),
    }
}

fn url_var(env: &Env, key: &str) -> Result<Option<String>, ConfigError> {
    let Some(v) = env.get(key) else {
        return Ok(None);
    };
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(Some(v.trim_end_matches('/').to_owned()))
        }
        _ => Err(ConfigError::invalid(
            key,
            v,
            "an http(s) URL such as https://chat.example.com",
        )),
    }
}

fn list(v: Option<&str>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Checks that a folder exists (creating it) and that we can write there, with a one-line reason
/// when not. Used before anything is stored.
pub fn prepare_data_dir(dir: &Path) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError::DataDir {
        path: dir.to_path_buf(),
        reason,
    };
    // Created private: the folder holds every conversation and the secrets.
    let mut builder = std::fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(builder.recursive(true), 0o700);
    for sub in ["", "search", "files"] {
        builder
            .create(dir.join(sub))
            .map_err(|e| fail(format!("cannot create it: {e}")))?;
    }
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("not writable: {e}")))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// `DATABASE_URL`, which must name PostgreSQL (the only other engine this server speaks).
pub fn database_url(env: &Env) -> Result<Option<Secret>, ConfigError> {
    let Some(url) = env.string("DATABASE_URL").filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::invalid(
            "DATABASE_URL",
            &crate::db::sql::pg::redacted(&url),
            "a postgres:// URL (leave it unset to keep the data in the data folder)",
        ));
    }
    Ok(Some(Secret::new(url)))
}
