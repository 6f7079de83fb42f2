//! `librechat doctor`: checks what a running server depends on and says what is wrong and how
//! to fix it. The configuration; the data folder (there, writable, private, on a disk that
//! keeps it, with room); the database (readable, intact, its schema); the search index; each
//! AI endpoint with the server's key; mail, LDAP, OpenID, Redis (`USE_REDIS`) and the S3
//! bucket of `fileStrategy: s3` when configured; and this clock
//! against the servers that answered. Exits 1 when something is broken (warnings alone do not
//! fail it), so it can gate a deploy. Safe while the server runs: it only reads, apart from
//! a test file in the data folder.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::config::{Env, Overrides, Settings};
use crate::providers::probe::{self, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Note,
    Warn,
    Fail,
}

struct Report {
    lines: Vec<(Level, String, Option<String>)>,
}

impl Report {
    fn add(&mut self, level: Level, what: impl Into<String>, fix: Option<&str>) {
        let (what, fix) = (what.into(), fix.map(str::to_owned));
        let tag = match level {
            Level::Ok => "ok  ",
            Level::Note => "note",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("{tag}  {what}");
        if let Some(f) = &fix {
            println!("      fix: {f}");
        }
        self.lines.push((level, what, fix));
    }
    fn ok(&mut self, what: impl Into<String>) {
        self.add(Level::Ok, what, None);
    }
    fn worst(&self) -> Level {
        self.lines.iter().map(|l| l.0).max().unwrap_or(Level::Ok)
    }
}

pub fn run(env: Env, overrides: Overrides) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "error").map_err(anyhow::Error::msg)?;
    let mut r = Report { lines: Vec::new() };
    // Loaded as the server would, without creating anything.
    let settings = match Settings::load(&env, &overrides, false) {
        Ok(s) => {
            r.ok(match &s.config_file {
                Some(f) => format!("configuration: {} and the environment", f.display()),
                None => "configuration: the environment (no librechat.yaml)".into(),
            });
            s
        }
        Err(e) => {
            r.add(
                Level::Fail,
                format!("configuration: {e}"),
                Some("correct the setting named; `librechat config check` shows them all"),
            );
            return finish(&r);
        }
    };
    for w in &settings.yaml_warnings {
        r.add(Level::Warn, format!("configuration: {w}"), None);
    }
    for n in &settings.yaml_unsupported {
        r.add(Level::Note, format!("configuration: {n}"), None);
    }
    // The settings checked it holds a page; a missing folder fails above.
    if let Some(dir) = &settings.server.client_dir {
        r.ok(format!(
            "web client: LibreChat's client build in {} (CLIENT_DIR)",
            dir.display()
        ));
    }
    if settings.endpoints.list.is_empty() {
        r.add(
            Level::Warn,
            "no AI endpoint is configured: people can sign in but not chat",
            Some("set OPENAI_API_KEY (or another provider's key), or endpoints in librechat.yaml"),
        );
    }
    proxy(&mut r, &settings.server);
    data_folder(&mut r, &settings.data_dir);
    match &settings.database_url {
        Some(url) => postgres(&mut r, url.expose()),
        None => database(&mut r, &settings.database_path()),
    }
    if settings.features.search {
        search(&mut r, &settings.search_dir());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(services(&mut r, &settings));
    finish(&r)
}

/// Whether the settings suggest a reverse proxy in front that `TRUST_PROXY` does not believe
/// (or one that is believed while anyone can reach the port). Only the configuration is seen:
/// a public URL over https (this server speaks plain HTTP, so something in front ends TLS), or
/// listening on loopback under a public name. The running server warns in its log when
/// forwarded headers actually arrive.
fn proxy(r: &mut Report, s: &crate::config::ServerSettings) {
    let urls: Vec<&str> = [&s.domain_client, &s.domain_server]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let public_name = |u: &&str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .is_some_and(|h| !matches!(h.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
    };
    let loopback = matches!(s.host.as_str(), "localhost" | "127.0.0.1" | "::1");
    let trust = match s.trust_proxy {
        u32::MAX => "true".to_owned(),
        n => n.to_string(),
    };
    let behind = urls.iter().any(|u| u.starts_with("https://"))
        || (loopback && urls.iter().any(public_name));
    if s.trust_proxy == 0 && behind {
        r.add(
            Level::Warn,
            format!(
                "TRUST_PROXY is 0, but {} suggests a reverse proxy in front: every client would \
                 be seen as the proxy's address, and one person's failed logins would ban it, \
                 locking everyone out of signing in",
                urls.join(" and ")
            ),
            Some("set TRUST_PROXY=1 (the number of proxies in front) in the server's environment"),
        );
    } else if s.trust_proxy > 0 && !loopback {
        r.add(
            Level::Note,
            format!(
                "TRUST_PROXY={trust} while listening on {}: a client that reaches the port \
                 directly can pick its own address with X-Forwarded-For",
                s.host
            ),
            Some("let only the proxy reach the port (HOST=127.0.0.1, or a firewall)"),
        );
    } else {
        r.ok(format!("client addresses: TRUST_PROXY={trust}"));
    }
}

fn finish(r: &Report) -> anyhow::Result<ExitCode> {
    let counts = |l: Level| r.lines.iter().filter(|x| x.0 == l).count();
    println!(
        "\n{} ok, {} warning(s), {} problem(s)",
        counts(Level::Ok),
        counts(Level::Warn),
        counts(Level::Fail)
    );
    Ok(if r.worst() == Level::Fail {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn data_folder(r: &mut Report, dir: &Path) {
    let shown = dir.display();
    let meta = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => m,
        Ok(_) => {
            r.add(
                Level::Fail,
                format!("data folder {shown} is not a folder"),
                Some("point LIBRECHAT_DATA_DIR or --data-dir at a folder"),
            );
            return;
        }
        Err(_) => {
            r.add(
                Level::Note,
                format!("data folder {shown} does not exist yet; the first start creates it"),
                None,
            );
            return;
        }
    };
    // Writable, for real: a file written, flushed to disk and removed.
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    let written = std::fs::write(&probe, b"librechat doctor")
        .and_then(|()| std::fs::File::open(&probe)?.sync_all());
    let _ = std::fs::remove_file(&probe);
    match written {
        Ok(()) => r.ok(format!("data folder {shown} is writable")),
        Err(e) => r.add(
            Level::Fail,
            format!("data folder {shown} cannot be written: {e}"),
            Some("give the user the server runs as write access (chown it to that user)"),
        ),
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        r.add(
            Level::Warn,
            format!("data folder {shown} is open to every user of this machine (mode {mode:o})"),
            Some(&format!("chmod 750 {shown}")),
        );
    }
    match rustix::fs::statvfs(dir) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let gb = free as f64 / 1e9;
            if free < 100_000_000 {
                r.add(
                    Level::Fail,
                    format!("only {gb:.2} GB free for the data folder: writes will fail"),
                    Some("free disk space, or move the data folder to a larger disk"),
                );
            } else if free < 1_000_000_000 {
                r.add(
                    Level::Warn,
                    format!("only {gb:.2} GB free for the data folder"),
                    Some("free disk space soon"),
                );
            } else {
                r.ok(format!("{gb:.1} GB free for the data folder"));
            }
        }
        Err(e) => r.add(Level::Warn, format!("free disk space unknown: {e}"), None),
    }
    #[cfg(target_os = "linux")]
    if let Ok(fs) = rustix::fs::statfs(dir) {
        // tmpfs and ramfs live in memory: everything is gone after a reboot.
        const TMPFS: i64 = 0x0102_1994;
        const RAMFS: i64 = 0x8584_58f6;
        #[allow(clippy::unnecessary_cast)] // its type differs between architectures
        let kind = fs.f_type as i64;
        if kind == TMPFS || kind == RAMFS {
            r.add(
                Level::Fail,
                format!("data folder {shown} is in memory (tmpfs): it is lost at every reboot"),
                Some("use a folder on a disk, such as /var/lib/librechat"),
            );
        }
    }
}

fn database(r: &mut Report, path: &Path) {
    if !path.exists() {
        r.add(
            Level::Note,
            format!(
                "no database at {} yet; the first start creates it",
                path.display()
            ),
            None,
        );
        return;
    }
    let conn = match rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) {
        Ok(c) => c,
        Err(e) => {
            r.add(
                Level::Fail,
                format!("database {} cannot be opened: {e}", path.display()),
                Some("check its owner and permissions"),
            );
            return;
        }
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let version = match crate::db::schema_version(&conn) {
        Ok(v) => v,
        Err(e) => {
            r.add(
                Level::Fail,
                format!("database {} is not readable: {e}", path.display()),
                Some("restore a backup: librechat db restore FILE"),
            );
            return;
        }
    };
    let current = crate::db::SCHEMA_VERSION;
    if version > current {
        r.add(
            Level::Fail,
            format!("database schema {version} is newer than this binary's ({current})"),
            Some("run the newer librechat that wrote it, or restore a backup made for this one"),
        );
    } else if version < current {
        r.add(
            Level::Warn,
            format!("database schema {version}: the next start migrates it to {current}"),
            Some("back it up first: librechat db backup FILE"),
        );
    } else {
        r.ok(format!("database schema {version} is this binary's"));
    }
    match crate::db::integrity_check(&conn) {
        Ok(p) if p.is_empty() => r.ok("database integrity check passed"),
        Ok(p) => r.add(
            Level::Fail,
            format!("database integrity check failed: {}", p.join("; ")),
            Some("stop the server and restore a backup: librechat db restore FILE"),
        ),
        Err(e) => r.add(
            Level::Fail,
            format!("database integrity check could not run: {e}"),
            Some("stop the server and restore a backup: librechat db restore FILE"),
        ),
    }
    let pending: Option<i64> = conn
        .query_row("SELECT count(*) FROM search_outbox", [], |row| row.get(0))
        .ok();
    if let Some(n) = pending.filter(|n| *n > 10_000) {
        r.add(
            Level::Warn,
            format!("{n} changes are waiting to reach the search index"),
            Some("if the server is not running, `librechat search reindex` rebuilds it"),
        );
    }
}

fn search(r: &mut Report, dir: &Path) {
    match crate::search::SearchIndex::check(dir) {
        Ok(()) => r.ok("search index is readable"),
        Err(why) => r.add(
            Level::Note,
            format!("search index: {why}; the server rebuilds it at start"),
            None,
        ),
    }
}

async fn services(r: &mut Report, s: &Settings) {
    if let Some(redis) = &s.redis {
        let at = format!("redis at {}", redis.nodes.join(", "));
        match crate::cache::shared::Shared::check(redis).await {
            Ok(()) => r.ok(format!("{at} answers, publish and subscribe work")),
            Err(e) => r.add(
                Level::Fail,
                format!("{at}: {e}"),
                Some("check REDIS_URI (and REDIS_PASSWORD, REDIS_CA), and that Redis runs"),
            ),
        }
    }
    if let crate::config::file_store::FileStore::S3(s3) = &s.file_store {
        let at = format!("file storage: bucket {} at {}", s3.bucket, s3.endpoint);
        match crate::files::storage::S3Store::check(s3).await {
            Ok(()) => r.ok(format!("{at} answers, keys accepted")),
            Err(e) => r.add(
                Level::Fail,
                format!("{at}: {e}"),
                Some("check AWS_ENDPOINT_URL, AWS_BUCKET_NAME and the AWS_* keys"),
            ),
        }
    }
    let http = crate::providers::http_client();
    let mut clocks: Vec<(String, SystemTime)> = Vec::new();
    for endpoint in &s.endpoints.list {
        let name = &endpoint.name;
        let p = probe::probe(&http, endpoint).await;
        if let Some(t) = p.server_time {
            clocks.push((format!("endpoint {name}"), t));
        }
        match p.outcome {
            Outcome::Ok => r.ok(format!("endpoint {name}: reachable, key accepted")),
            Outcome::KeyRefused(status) => r.add(
                Level::Fail,
                format!("endpoint {name}: the provider refused the key ({status})"),
                Some("check the endpoint's API key (e.g. OPENAI_API_KEY, or apiKey in librechat.yaml)"),
            ),
            Outcome::Status(status) => r.add(
                Level::Warn,
                format!("endpoint {name}: answered {status} to a model list request"),
                Some("check its baseURL; some compatible servers have no model list"),
            ),
            Outcome::Unreachable(why) => r.add(
                Level::Fail,
                format!("endpoint {name}: unreachable ({why})"),
                Some("check its baseURL or reverse proxy, and this machine's network and DNS"),
            ),
            Outcome::NotChecked(why) => {
                r.add(Level::Note, format!("endpoint {name}: not checked ({why})"), None)
            }
        }
    }
    if let Some(email) = &s.email {
        let checked = match crate::mail::Mailer::new(email, &s.branding.app_title) {
            Ok(m) => m.check().await,
            Err(e) => Err(e.to_string()),
        };
        match checked {
            Ok(()) => r.ok(format!("mail server {}:{} accepts us", email.host, email.port)),
            Err(e) => r.add(
                Level::Fail,
                format!("mail server {}:{}: {e}", email.host, email.port),
                Some("check EMAIL_HOST, EMAIL_PORT, EMAIL_ENCRYPTION, EMAIL_USERNAME and EMAIL_PASSWORD"),
            ),
        }
    }
    if let Some(ldap) = &s.ldap {
        match crate::auth::ldap::probe(ldap).await {
            Ok(()) => r.ok(format!("LDAP {} answers", ldap.url)),
            Err(e) => r.add(
                Level::Fail,
                format!("LDAP {}: {e}", ldap.url),
                Some("check LDAP_URL, LDAP_BIND_DN, LDAP_BIND_CREDENTIALS and the TLS settings"),
            ),
        }
    }
    if let Some(openid) = &s.openid {
        let url = format!(
            "{}/.well-known/openid-configuration",
            openid.issuer.trim_end_matches('/')
        );
        let answer = crate::auth::external::provider_http()
            .get(&url)
            .send()
            .await;
        match answer {
            Ok(resp) if resp.status().is_success() => {
                if let Some(t) = resp
                    .headers()
                    .get(reqwest::header::DATE)
                    .and_then(|d| d.to_str().ok())
                    .and_then(probe::http_date)
                {
                    clocks.push(("the OpenID provider".into(), t));
                }
                r.ok(format!("OpenID discovery at {url}"));
            }
            Ok(resp) => r.add(
                Level::Fail,
                format!("OpenID discovery at {url} answered {}", resp.status()),
                Some("check OPENID_ISSUER"),
            ),
            Err(e) => r.add(
                Level::Fail,
                format!("OpenID discovery at {url}: {e}"),
                Some("check OPENID_ISSUER and this machine's network"),
            ),
        }
    }
    knowledge(r, s, &http).await;
    mcp_servers(r, s).await;
    clock(r, &clocks);
}

/// Each MCP server of librechat.yaml, connected to once (as for everyone; one that takes each
/// person's values or sign-in is only named).
async fn mcp_servers(r: &mut Report, s: &Settings) {
    let config = &s.mcp;
    let shared = crate::mcp::config::McpConfig {
        servers: config
            .servers
            .iter()
            .filter(|s| !s.per_user())
            .cloned()
            .collect(),
        settings: config.settings.clone(),
    };
    for server in config.servers.iter().filter(|s| s.per_user()) {
        let how = match crate::mcp::resolve::request_scoped(server) {
            true => "one connection per chat turn (the chat request's values)",
            false => "one connection per person (their values or sign-in)",
        };
        r.add(
            Level::Note,
            format!("MCP server {}: {how}; not tested", server.name),
            None,
        );
    }
    for (server, found) in crate::mcp::probe::probe_all(&shared).await {
        match found {
            Ok(p) => r.ok(format!(
                "MCP server {} ({}): {} tools, connected in {} ms",
                server.name,
                server.transport.kind(),
                p.tools.len(),
                p.took.as_millis()
            )),
            Err(e) => r.add(
                Level::Fail,
                format!("{e}"),
                Some(match server.transport.kind() {
                    "stdio" => "check its command and args in librechat.yaml (`librechat mcp test NAME` runs it)",
                    _ => "check its url, and mcpSettings.allowedAddresses for a server on this machine or network",
                }),
            ),
        }
    }
}

/// File search's embeddings endpoint (asked to embed one line) and web search's services:
/// SearXNG asked one query; Serper, Firecrawl, Jina and Cohere named but not called, since
/// each of their calls is billed.
async fn knowledge(r: &mut Report, s: &Settings, http: &reqwest::Client) {
    use crate::config::web_search::{Reranker, Scraper, SearchProvider};
    if let Some(e) = &s.embeddings {
        let embedder = crate::providers::embeddings::Embedder::new(e.clone());
        match embedder.embed(http, &["librechat doctor".to_owned()]).await {
            Ok(out) => r.ok(format!(
                "embeddings: {} {} answers ({} dimensions)",
                e.provider,
                e.model,
                out.vectors.first().map_or(0, Vec::len)
            )),
            Err(err) => r.add(
                Level::Fail,
                format!("embeddings: {} {}: {}", e.provider, e.model, err.message),
                Some(
                    "check EMBEDDINGS_PROVIDER, EMBEDDINGS_MODEL and the provider's key and \
                     address (RAG_OPENAI_API_KEY, RAG_OPENAI_BASEURL, RAG_AZURE_OPENAI_*, \
                     OLLAMA_BASE_URL); file search answers with BM25 alone meanwhile",
                ),
            ),
        }
    }
    let web = &s.tools.web_search;
    match crate::agents::tools::web_search::probe(web, http.clone()).await {
        Some(Ok(found)) => r.ok(found),
        Some(Err(why)) => r.add(
            Level::Fail,
            why,
            Some(
                "check SEARXNG_INSTANCE_URL (and SEARXNG_API_KEY), and that `json` is among \
                 the instance's search.formats",
            ),
        ),
        None if web.provider() == Some(SearchProvider::Serper) => r.add(
            Level::Note,
            "web search: Serper (not asked: each query is billed)",
            None,
        ),
        None => {}
    }
    if web.provider().is_some() {
        let scraper = match web.scraper {
            Scraper::Firecrawl => "Firecrawl reads the pages (not asked: each page is billed)",
            Scraper::Builtin => "the built-in scraper reads the pages",
        };
        let reranker = match web.reranker {
            Reranker::Jina => "Jina ranks the passages (not asked)",
            Reranker::Cohere => "Cohere ranks the passages (not asked)",
            Reranker::Builtin => "the built-in reranker ranks the passages",
            Reranker::None => "passages in page order (rerankerType: none)",
        };
        r.add(
            Level::Note,
            format!("web search: {scraper}; {reranker}"),
            None,
        );
    }
}

/// This clock against the servers that answered: tokens, sign-ins and SAML assertions carry
/// times, and a clock far off makes them fail.
fn clock(r: &mut Report, clocks: &[(String, SystemTime)]) {
    let Some((who, theirs)) = clocks.first() else {
        return;
    };
    let now = SystemTime::now();
    let skew = match now.duration_since(*theirs) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    if skew.abs() > 300.0 {
        r.add(
            Level::Fail,
            format!("this clock is {skew:.0} s off {who}'s: sign-ins and tokens will fail"),
            Some("synchronize the clock (systemd-timesyncd, chrony or ntpd)"),
        );
    } else if skew.abs() > 60.0 {
        r.add(
            Level::Warn,
            format!("this clock is {skew:.0} s off {who}'s"),
            Some("synchronize the clock (systemd-timesyncd, chrony or ntpd)"),
        );
    } else {
        r.ok(format!("clock agrees with {who}'s (within a minute)"));
    }
}

/// `DATABASE_URL`: PostgreSQL answers, and its schema is this binary's (or older: the next
/// start migrates it).
fn postgres(r: &mut Report, url: &str) {
    use crate::db::sql::{Connection, pg};
    let name = pg::redacted(url);
    let conn = match pg::Client::connect(url) {
        Ok(c) => Connection::postgres(c),
        Err(e) => {
            r.add(
                Level::Fail,
                format!("PostgreSQL at {name} does not answer: {e}"),
                Some("check DATABASE_URL, that the server runs and lets this host in"),
            );
            return;
        }
    };
    let current = crate::db::SCHEMA_VERSION;
    match crate::db::postgres_schema_version(&conn) {
        Ok(v) if v > current => r.add(
            Level::Fail,
            format!("PostgreSQL schema {v} is newer than this binary's ({current})"),
            Some("run the newer librechat that wrote it"),
        ),
        Ok(0) => r.add(
            Level::Note,
            format!(
                "PostgreSQL at {name} has no librechat tables yet; the first start creates them"
            ),
            None,
        ),
        Ok(v) if v < current => r.add(
            Level::Warn,
            format!("PostgreSQL schema {v}: the next start migrates it to {current}"),
            Some("back it up first: pg_dump -Fc"),
        ),
        Ok(v) => r.ok(format!(
            "PostgreSQL at {name} answers; schema {v} is this binary's"
        )),
        Err(e) => r.add(
            Level::Fail,
            format!("PostgreSQL at {name} cannot be read: {e}"),
            None,
        ),
    }
}
