//! LibreChat's `librechat.yaml`, read as LibreChat reads it.
//!
//! Every top-level key LibreChat knows is accepted. The sections this server already uses are
//! typed; the others are kept as plain values until the issue that uses them types them. Unknown
//! keys are warned about and ignored, so a file written for a newer LibreChat still loads; a value
//! of the wrong type is an error naming the file, the line and the key.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ConfigError;
use super::env::Env;

/// The parsed file, after `${VAR}` expansion. Its `Debug` names the sections only: expanded
/// sections hold API keys.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LibreChatYaml {
    /// Config schema version, e.g. `1.3.17`. LibreChat requires it; we warn when it is missing.
    pub version: Option<String>,
    /// LibreChat caches the parsed file; this server always does, the key is accepted.
    pub cache: Option<bool>,
    pub interface: Option<Interface>,
    pub registration: Option<Registration>,
    pub balance: Option<Balance>,
    pub transactions: Option<Transactions>,
    pub turnstile: Option<Turnstile>,
    /// Curated model presets; passed to the client as they are.
    pub model_specs: Option<Value>,

    // Sections the later issues type. Kept so that nothing is lost and nothing is warned about.
    pub endpoints: Option<Value>,
    pub file_strategy: Option<Value>,
    pub file_strategies: Option<Value>,
    pub cloudfront: Option<Value>,
    pub secure_image_links: Option<Value>,
    pub image_output_type: Option<Value>,
    /// The only tools agents and chats may use, by name (LibreChat's `includedTools`); when
    /// set, `filteredTools` is ignored.
    pub included_tools: Option<Vec<String>>,
    /// Tools agents and chats may not use, by name (LibreChat's `filteredTools`).
    pub filtered_tools: Option<Vec<String>>,
    pub ocr: Option<Value>,
    pub web_search: Option<Value>,
    /// Memories: limits, keys, and whether they personalise answers.
    pub memory: Option<super::memory::MemoryConfig>,
    pub summarization: Option<Value>,
    pub mcp_servers: Option<Value>,
    pub mcp_settings: Option<Value>,
    pub actions: Option<Value>,
    pub speech: Option<Value>,
    pub rate_limits: Option<Value>,
    pub file_config: Option<Value>,
    pub filters: Option<Value>,
    pub message_filter: Option<Value>,
    pub openapi: Option<Value>,
    pub langfuse: Option<Value>,
    pub skill_sync: Option<Value>,
    pub permissions: Option<Value>,
}

impl std::fmt::Debug for LibreChatYaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sections: Vec<String> = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k)
                .collect(),
            _ => Vec::new(),
        };
        f.debug_struct("LibreChatYaml")
            .field("version", &self.version)
            .field("sections", &sections)
            .finish()
    }
}

/// `interface:` — UI toggles sent to the client in `/api/config`. Unset means LibreChat's default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    pub custom_welcome: Option<String>,
    pub privacy_policy: Option<Link>,
    pub terms_of_service: Option<TermsOfService>,
    pub endpoints_menu: Option<bool>,
    pub model_select: Option<bool>,
    pub parameters: Option<bool>,
    pub side_panel: Option<bool>,
    pub presets: Option<bool>,
    pub prompts: Option<Permission>,
    pub bookmarks: Option<bool>,
    pub multi_convo: Option<bool>,
    pub agents: Option<Permission>,
    pub memories: Option<bool>,
    pub temporary_chat: Option<bool>,
    /// Hours a temporary chat is kept (1..=8760).
    pub temporary_chat_retention: Option<u32>,
    pub run_code: Option<bool>,
    pub web_search: Option<bool>,
    pub file_search: Option<bool>,
    pub file_citations: Option<bool>,
    pub people_picker: Option<PeoplePicker>,
    pub marketplace: Option<Marketplace>,
    pub mcp_servers: Option<Permission>,
    /// The agents API (`{use, create, share, public}`).
    pub remote_agents: Option<Permission>,
    /// Skills: a switch, or `{use, create, share, public}`. Not built here: off whatever it says.
    pub skills: Option<Permission>,
    /// A switch, or `{create, share, public}`: who may create shared links, and whether new
    /// links are public.
    pub shared_links: Option<Permission>,
    pub feedback: Option<bool>,
    pub context_usage: Option<bool>,
    pub context_cost: Option<bool>,
    /// `{code, rate}`, passed to the client as written.
    pub currency: Option<Value>,
}

/// LibreChat lets a feature be a plain switch or a set of switches (`{use, create, share, public}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Permission {
    Switch(bool),
    Detailed {
        #[serde(rename = "use")]
        use_: Option<bool>,
        create: Option<bool>,
        share: Option<bool>,
        public: Option<bool>,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub external_url: Option<String>,
    pub open_new_tab: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsOfService {
    pub external_url: Option<String>,
    pub open_new_tab: Option<bool>,
    pub modal_acceptance: Option<bool>,
    pub modal_title: Option<String>,
    pub modal_content: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PeoplePicker {
    pub users: Option<bool>,
    pub groups: Option<bool>,
    pub roles: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Marketplace {
    #[serde(rename = "use")]
    pub use_: Option<bool>,
}

/// `registration:`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// Order of the social login buttons.
    pub social_logins: Option<Vec<String>>,
    /// Only these email domains may register (empty or unset: any).
    pub allowed_domains: Option<Vec<String>>,
    pub oauth_state_ttl_ms: Option<u64>,
}

/// `balance:` — token credits per user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub enabled: Option<bool>,
    pub start_balance: Option<u64>,
    pub auto_refill_enabled: Option<bool>,
    pub refill_interval_value: Option<u64>,
    pub refill_interval_unit: Option<RefillUnit>,
    pub refill_amount: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefillUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Transactions {
    pub enabled: Option<bool>,
}

/// `turnstile:` — Cloudflare Turnstile for login and registration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turnstile {
    pub site_key: String,
    pub options: Option<Value>,
}

/// What parsing produced besides the value: keys that were ignored.
#[derive(Debug, Default)]
pub struct Parsed {
    pub yaml: LibreChatYaml,
    /// Dotted paths of keys this server does not know, e.g. `interface.fancyNewToggle`.
    pub unknown_keys: Vec<String>,
    /// The file's values before `${VAR}` expansion, for printing without leaking secrets.
    pub as_written: Value,
}

/// Parses the text of a librechat.yaml. `file` only names the file in errors.
pub fn parse(text: &str, file: &str, env: &Env) -> Result<Parsed, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Parsed::default());
    }
    let mut unknown_keys = Vec::new();
    let mut failed_key = None;
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        let mut record =
            |path: serde_ignored::Path<'_>| unknown_keys.push(clean_path(&path.to_string()));
        let de = serde_ignored::Deserializer::new(de, &mut record);
        serde_path_to_error::deserialize::<_, LibreChatYaml>(de).map_err(|e| {
            failed_key = Some(clean_path(&e.path().to_string()));
            e.into_inner()
        })
    });
    let yaml = result.map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let key = failed_key.filter(|k| !k.is_empty());
        ConfigError::Yaml {
            file: file.to_owned(),
            line,
            column,
            key,
            message: first_line(&e.to_string()),
        }
    })?;
    let as_written = serde_json::to_value(&yaml).unwrap_or_default();
    Ok(Parsed {
        yaml: expand_env(yaml, env)?,
        unknown_keys,
        as_written,
    })
}

/// serde marks each `Option` level with a `?` segment and the root with `.`; users see neither.
fn clean_path(path: &str) -> String {
    path.split('.')
        .filter(|s| *s != "?" && !s.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// What `config check` prints of the file: the sections this server has typed, with values under
/// secret-sounding keys masked, and for every other section only that it is set. Those hold keys,
/// passwords in URLs, tokens in headers and arguments, in shapes no name-based mask catches.
pub fn printable(as_written: &Value) -> Value {
    let Value::Object(sections) = as_written else {
        return Value::Null;
    };
    let shown = sections
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let value = if EXPANDED_SECTIONS.contains(&k.as_str()) {
                Value::String("(set; not printed, it may hold secrets)".into())
            } else {
                masked(v)
            };
            (k.clone(), value)
        })
        .collect();
    Value::Object(shown)
}

/// A copy of a config tree fit to print: values under keys that name secrets are masked, unless
/// they are still a `${VAR}` reference, which says where the secret comes from without showing it.
fn masked(v: &Value) -> Value {
    const SECRET_WORDS: [&str; 6] = [
        "key",
        "secret",
        "password",
        "token",
        "authorization",
        "credential",
    ];
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    let secret = SECRET_WORDS.iter().any(|w| lower.contains(w));
                    let shown = match v {
                        Value::String(s)
                            if secret && !(s.starts_with("${") && s.ends_with('}')) =>
                        {
                            Value::String("********".into())
                        }
                        other => masked(other),
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// Sections whose strings may hold `${VAR}` references, as in LibreChat, which expands them
/// where keys and addresses live (endpoints, MCP servers, search, speech, OCR, ...). Sections
/// sent to every visitor in `/api/config` (interface, registration, modelSpecs, turnstile) are
/// never expanded, so no environment value can reach an anonymous client through them.
const EXPANDED_SECTIONS: [&str; 15] = [
    "endpoints",
    "fileStrategy",
    "fileStrategies",
    "cloudfront",
    "ocr",
    "webSearch",
    "memory",
    "summarization",
    "mcpServers",
    "mcpSettings",
    "actions",
    "speech",
    "fileConfig",
    "langfuse",
    "openapi",
];

/// Replaces `${NAME}` in the string values of [`EXPANDED_SECTIONS`], as LibreChat's
/// `extractEnvVariable` does: a set variable is substituted, an unset or empty one is left as
/// written (so `apiKey: '${XAI_API_KEY}'` with no key loads, and the endpoint is simply not
/// usable). Done on parsed values, never on the text, so a value can never inject YAML.
fn expand_env(yaml: LibreChatYaml, env: &Env) -> Result<LibreChatYaml, ConfigError> {
    let mut tree = serde_json::to_value(&yaml).map_err(|e| ConfigError::Other(e.to_string()))?;
    if let Value::Object(sections) = &mut tree {
        for (name, section) in sections.iter_mut() {
            if EXPANDED_SECTIONS.contains(&name.as_str()) {
                expand_value(section, env);
            }
        }
    }
    serde_json::from_value(tree).map_err(|e| ConfigError::Other(e.to_string()))
}

fn expand_value(v: &mut Value, env: &Env) {
    match v {
        Value::String(s) if s.contains("${") => *s = expand_str(s, env),
        Value::Array(items) => items.iter_mut().for_each(|i| expand_value(i, env)),
        Value::Object(map) => map.values_mut().for_each(|i| expand_value(i, env)),
        _ => {}
    }
}

/// Expands each `${NAME}` whose NAME is set; everything else is copied as written.
pub fn expand_str(s: &str, env: &Env) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after.find('}');
        match name_len {
            Some(n) if is_env_name(&after[..n]) => {
                let name = &after[..n];
                match env.vars().get(name).filter(|v| !v.is_empty()) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 3 + n]),
                }
                rest = &after[n + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// The parser's message in our words: without its own `error: line N column M:` prefix (ours
/// carries `file:line:column`) and without advice meant for programmers using the parser.
fn first_line(s: &str) -> String {
    let msg = parser_message(s);
    if let Some((dup, _)) = msg.split_once(", set DuplicateKeyPolicy") {
        return dup.replace("duplicate mapping key", "duplicate key");
    }
    if msg.starts_with("multiple YAML documents") {
        return "the file holds several YAML documents (separated by ---); it must hold one".into();
    }
    if msg.starts_with("expected mapping start") {
        return "the file must be a mapping of keys such as `version:`, `interface:`, `endpoints:`"
            .into();
    }
    msg
}

fn parser_message(s: &str) -> String {
    let line = s.lines().next().unwrap_or(s).trim();
    let line = line
        .strip_prefix("error:")
        .map(str::trim_start)
        .unwrap_or(line);
    if let Some(rest) = line.strip_prefix("line ")
        && let Some((_, msg)) = rest.split_once(": ")
        && rest
            .split_once(": ")
            .is_some_and(|(pos, _)| pos.contains("column"))
    {
        return msg.trim().to_owned();
    }
    line.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_pairs([("KEY", "sk-123"), ("EMPTY", "")])
    }

    #[test]
    fn expands_set_variables_and_keeps_unset_ones() {
        let e = env();
        assert_eq!(expand_str("${KEY}", &e), "sk-123");
        assert_eq!(expand_str("Bearer ${KEY}!", &e), "Bearer sk-123!");
        assert_eq!(expand_str("${MISSING}", &e), "${MISSING}");
        assert_eq!(
            expand_str("${EMPTY}x", &e),
            "${EMPTY}x",
            "empty counts as unset"
        );
        assert_eq!(expand_str("${not a name} ${", &e), "${not a name} ${");
        assert_eq!(expand_str("a${KEY}${KEY}", &e), "ask-123sk-123");
    }

    #[test]
    fn loads_librechats_own_example_file_unchanged() {
        let text = include_str!("../../tests/fixtures/librechat.example.yaml");
        let parsed = parse(text, "librechat.yaml", &env()).expect("example loads");
        assert_eq!(parsed.yaml.version.as_deref(), Some("1.3.17"));
        let interface = parsed.yaml.interface.unwrap();
        assert_eq!(
            interface.custom_welcome.as_deref(),
            Some("Welcome to LibreChat! Enjoy your experience.")
        );
        assert!(
            interface
                .terms_of_service
                .unwrap()
                .modal_acceptance
                .unwrap()
        );
        let socials = parsed.yaml.registration.unwrap().social_logins.unwrap();
        assert_eq!(socials.len(), 7);
        let endpoints = parsed.yaml.endpoints.unwrap();
        assert_eq!(endpoints["custom"][0]["apiKey"], "${XAI_API_KEY}");
        assert!(parsed.unknown_keys.is_empty(), "{:?}", parsed.unknown_keys);
    }

    #[test]
    fn expands_variables_inside_kept_sections() {
        let text = "version: 1.2.8\nendpoints:\n  custom:\n    - name: x\n      apiKey: '${KEY}'\n";
        let parsed = parse(text, "f.yaml", &env()).unwrap();
        assert_eq!(
            parsed.yaml.endpoints.unwrap()["custom"][0]["apiKey"],
            "sk-123"
        );
    }

    #[test]
    fn unknown_keys_are_reported_not_fatal() {
        let text = "version: 1.2.8\nsomethingNew: 1\ninterface:\n  shinyToggle: true\n";
        let parsed = parse(text, "f.yaml", &env()).unwrap();
        assert_eq!(
            parsed.unknown_keys,
            vec!["somethingNew", "interface.shinyToggle"]
        );
    }

    #[test]
    fn printing_masks_secrets_but_shows_references() {
        let text = "version: 1.2.8\nendpoints:\n  custom:\n    - name: a\n      apiKey: '${KEY}'\n    - name: b\n      apiKey: sk-literal\n      headers:\n        Authorization: Bearer xyz\n";
        let parsed = parse(text, "f.yaml", &env()).unwrap();
        let shown = masked(&parsed.as_written).to_string();
        assert!(shown.contains("${KEY}"), "{shown}");
        for leak in ["sk-123", "sk-literal", "xyz"] {
            assert!(!shown.contains(leak), "{leak} leaked: {shown}");
        }
    }

    #[test]
    fn printing_leaves_out_sections_that_hold_secrets() {
        let text = "version: 1.2.8\ninterface:\n  customWelcome: hi\nmcpServers:\n  gh:\n    url: https://u:hunter2@x.org/?token=t0k\n    env:\n      GITHUB_PAT: ghp_x\n";
        let parsed = parse(text, "f.yaml", &env()).unwrap();
        let shown = printable(&parsed.as_written);
        assert_eq!(shown["interface"]["customWelcome"], "hi");
        let text = shown.to_string();
        for leak in ["hunter2", "t0k", "ghp_x"] {
            assert!(!text.contains(leak), "{leak} leaked: {text}");
        }
        assert!(text.contains("not printed"));
    }

    #[test]
    fn public_sections_are_never_expanded() {
        let text = "version: 1.2.8\ninterface:\n  customWelcome: 'key is ${KEY}'\nturnstile:\n  siteKey: '${KEY}'\nmodelSpecs:\n  list:\n    - label: '${KEY}'\n";
        let parsed = parse(text, "f.yaml", &env()).unwrap();
        let y = parsed.yaml;
        assert_eq!(
            y.interface.unwrap().custom_welcome.as_deref(),
            Some("key is ${KEY}")
        );
        assert_eq!(y.turnstile.unwrap().site_key, "${KEY}");
        assert_eq!(y.model_specs.unwrap()["list"][0]["label"], "${KEY}");
        assert!(!format!("{:?}", parsed.as_written).is_empty());
    }

    #[test]
    fn debug_output_names_sections_without_values() {
        let text = "version: 1.2.8\nendpoints:\n  custom:\n    - name: a\n      apiKey: '${KEY}'\n";
        let parsed = parse(text, "f.yaml", &env()).unwrap();
        let debug = format!("{:?}", parsed.yaml);
        assert!(
            debug.contains("endpoints") && !debug.contains("sk-123"),
            "{debug}"
        );
    }

    #[test]
    fn type_errors_name_file_line_and_key() {
        let text = "version: 1.2.8\nbalance:\n  enabled: true\n  startBalance: lots\n";
        let err = parse(text, "conf/librechat.yaml", &env()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("conf/librechat.yaml:4"), "{msg}");
        assert!(msg.contains("balance.startBalance"), "{msg}");
    }

    #[test]
    fn parser_advice_is_turned_into_plain_words() {
        for (text, expected) in [
            ("version: 1\nversion: 2\n", "duplicate key: version"),
            ("version: 1\n---\nversion: 2\n", "several YAML documents"),
            ("- a\n- b\n", "must be a mapping"),
        ] {
            let msg = parse(text, "f.yaml", &env()).unwrap_err().to_string();
            assert!(msg.contains(expected), "{msg}");
            assert!(
                !msg.contains("Options") && !msg.contains("from_str"),
                "{msg}"
            );
        }
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let text = "version: 1.2.8\ninterface:\n  presets: [true\n";
        let msg = parse(text, "f.yaml", &env()).unwrap_err().to_string();
        assert!(msg.starts_with("f.yaml:"), "{msg}");
    }
}
