//! Which AI endpoints this server offers, read the way LibreChat reads them: the built-in
//! OpenAI endpoint from `OPENAI_API_KEY` (`OPENAI_MODELS`, `OPENAI_REVERSE_PROXY`,
//! `OPENAI_TITLE_MODEL`), filtered by `ENDPOINTS`, and every entry of librechat.yaml's
//! `endpoints.custom` (`name`, `apiKey`, `baseURL`, `models.default`, `models.fetch`,
//! `titleConvo`, `titleModel`, `modelDisplayLabel`, `iconURL`, `headers`, `addParams`,
//! `dropParams`). A key may be `user_provided`: each person then stores their own under
//! `/api/keys`; so may the `baseURL`, which is then called through `net::Guarded`, reaching
//! only the private services listed in `endpoints.allowedAddresses`.

use serde_json::{Map, Value};

use crate::config::{ConfigError, Env};

/// The wire format an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    OpenAi,
    /// OpenAI's format on Azure: per-deployment URLs, `api-version`, an `api-key` header.
    AzureOpenAi,
    Anthropic,
    Google,
}

/// Where Azure OpenAI requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Azure {
    /// `AZURE_OPENAI_API_DEPLOYMENT_NAME`; with `model_as_deployment` the model names it.
    pub deployment: Option<String>,
    /// `AZURE_USE_MODEL_AS_DEPLOYMENT_NAME`.
    pub model_as_deployment: bool,
    /// `AZURE_OPENAI_API_VERSION`.
    pub api_version: String,
}

impl Azure {
    /// The deployment serving `model`: the configured one, or the model's name without dots
    /// (Azure's deployment names cannot have them).
    pub fn deployment_for(&self, model: &str) -> String {
        match (&self.deployment, self.model_as_deployment) {
            (Some(d), false) => d.clone(),
            _ => model.replace('.', ""),
        }
    }
}

/// Where an endpoint's API key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    /// From the environment or librechat.yaml.
    Value(String),
    /// Each user stores their own (`user_provided`).
    UserProvided,
    /// None needed (a local Ollama, say).
    None,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Value(_) => f.write_str("Value(***)"),
            Key::UserProvided => f.write_str("UserProvided"),
            Key::None => f.write_str("None"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `openAI`, or a custom endpoint's `name`.
    pub name: String,
    /// Whether it comes from `endpoints.custom` (LibreChat reports `type: custom`).
    pub custom: bool,
    pub protocol: Protocol,
    pub base_url: String,
    /// `baseURL: user_provided`: each person stores the URL with their key, and `base_url`
    /// is filled from it for each request.
    pub user_base_url: bool,
    pub key: Key,
    /// The models offered, in order.
    pub models: Vec<String>,
    /// Ask the provider's `/models` for the list (falling back to `models`).
    pub fetch_models: bool,
    pub title_convo: bool,
    pub title_model: Option<String>,
    pub model_display_label: Option<String>,
    pub icon_url: Option<String>,
    pub headers: Vec<(String, String)>,
    pub add_params: Map<String, Value>,
    pub drop_params: Vec<String>,
    /// For `azureOpenAI`.
    pub azure: Option<Azure>,
    /// Prices per model for this endpoint (`tokenConfig`: `{model: {prompt, completion}}`).
    pub token_config: Option<Value>,
}

/// The configured endpoints, in the order the client shows them.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub list: Vec<Endpoint>,
    /// What was left out and why, warned about at start.
    pub warnings: Vec<String>,
    /// `endpoints.allowedAddresses`: the private services a `baseURL: user_provided` may
    /// still reach (`host:port` each); none by default.
    pub allowed_addresses: crate::net::AllowedAddresses,
}

/// Anthropic's models offered when `ANTHROPIC_MODELS` is not set.
pub const ANTHROPIC_DEFAULT_MODELS: &[&str] = &[
    "claude-sonnet-4-5",
    "claude-opus-4-1",
    "claude-haiku-4-5",
    "claude-3-7-sonnet-latest",
    "claude-3-5-haiku-latest",
];

/// Google's models offered when `GOOGLE_MODELS` is not set.
pub const GOOGLE_DEFAULT_MODELS: &[&str] = &[
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash",
];

/// OpenAI's models offered when `OPENAI_MODELS` is not set and the list cannot be fetched.
pub const OPENAI_DEFAULT_MODELS: &[&str] = &[
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o3-mini",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
];

impl Endpoints {
    pub fn get(&self, name: &str) -> Option<&Endpoint> {
        self.list.iter().find(|e| e.name == name)
    }

    pub fn load(env: &Env, yaml: Option<&Value>) -> Result<Self, ConfigError> {
        let mut out = Endpoints::default();
        let enabled: Option<Vec<String>> = env.get("ENDPOINTS").map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        });
        let allowed = |name: &str| {
            enabled
                .as_ref()
                .is_none_or(|list| list.iter().any(|e| e == name))
        };
        let yaml_section = |name: &str| yaml.and_then(|y| y.get(name));

        if let Some(e) = builtin(env, yaml_section(OPENAI.name), &OPENAI, &allowed)? {
            out.list.push(e);
        }

        if let Some(key) = env.get("AZURE_API_KEY").filter(|k| !k.is_empty())
            && allowed("azureOpenAI")
        {
            let instance = env.get("AZURE_OPENAI_API_INSTANCE_NAME").unwrap_or("");
            let deployment = env
                .get("AZURE_OPENAI_API_DEPLOYMENT_NAME")
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            // AZURE_OPENAI_BASEURL may name the instance and deployment by placeholder.
            let base_url = match env.get("AZURE_OPENAI_BASEURL").filter(|u| !u.is_empty()) {
                Some(u) => u
                    .replace("${INSTANCE_NAME}", instance)
                    .trim_end_matches('/')
                    .to_owned(),
                None if !instance.is_empty() => {
                    format!("https://{instance}.openai.azure.com/openai")
                }
                None => {
                    out.warnings.push(
                        "azureOpenAI is left out: set AZURE_OPENAI_API_INSTANCE_NAME or AZURE_OPENAI_BASEURL".into(),
                    );
                    String::new()
                }
            };
            let model_as_deployment = env
                .bool("AZURE_USE_MODEL_AS_DEPLOYMENT_NAME")?
                .unwrap_or(false);
            let models = list(env.get("AZURE_OPENAI_MODELS"));
            if !base_url.is_empty() {
                if deployment.is_none()
                    && !model_as_deployment
                    && !base_url.contains("${DEPLOYMENT_NAME}")
                {
                    out.warnings.push("azureOpenAI: no AZURE_OPENAI_API_DEPLOYMENT_NAME; each model's name is used as its deployment".into());
                }
                out.list.push(Endpoint {
                    name: "azureOpenAI".into(),
                    custom: false,
                    protocol: Protocol::AzureOpenAi,
                    base_url,
                    user_base_url: false,
                    key: key_of(key),
                    fetch_models: false,
                    models: if models.is_empty() {
                        deployment
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .into_iter()
                            .chain(OPENAI_DEFAULT_MODELS.iter().take(2).map(|m| m.to_string()))
                            .collect()
                    } else {
                        models
                    },
                    title_convo: env.bool("TITLE_CONVO")?.unwrap_or(true),
                    title_model: env.get("AZURE_OPENAI_DEFAULT_MODEL").map(str::to_owned),
                    model_display_label: None,
                    icon_url: None,
                    headers: Vec::new(),
                    add_params: Map::new(),
                    drop_params: Vec::new(),
                    azure: Some(Azure {
                        deployment,
                        model_as_deployment,
                        api_version: env
                            .get("AZURE_OPENAI_API_VERSION")
                            .filter(|v| !v.is_empty())
                            .unwrap_or("2024-10-21")
                            .to_owned(),
                    }),
                    token_config: None,
                });
            }
        }

        for b in [&ANTHROPIC, &GOOGLE] {
            if let Some(e) = builtin(env, yaml_section(b.name), b, &allowed)? {
                out.list.push(e);
            }
        }

        let listed = yaml_section("allowedAddresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or("(not text)"));
        let (allowed, warnings) = crate::net::AllowedAddresses::parse(listed);
        out.allowed_addresses = allowed;
        out.warnings.extend(warnings);

        let customs = yaml_section("custom").and_then(Value::as_array);
        for (i, c) in customs.into_iter().flatten().enumerate() {
            match custom(c) {
                Ok(e) if out.get(&e.name).is_some() => out.warnings.push(format!(
                    "endpoints.custom[{i}]: the name {:?} is used twice; the first is kept",
                    e.name
                )),
                Ok(e) => out.list.push(e),
                Err(why) => out
                    .warnings
                    .push(format!("endpoints.custom[{i}] is left out: {why}")),
            }
        }
        Ok(out)
    }
}

/// A built-in endpoint and the environment names that configure it.
struct Builtin {
    name: &'static str,
    protocol: Protocol,
    key_var: &'static str,
    models_var: &'static str,
    proxy_var: &'static str,
    title_var: &'static str,
    default_base: &'static str,
    default_models: &'static [&'static str],
    /// Without a model list in the environment, ask the provider for one.
    fetch_unlisted: bool,
}

const OPENAI: Builtin = Builtin {
    name: "openAI",
    protocol: Protocol::OpenAi,
    key_var: "OPENAI_API_KEY",
    models_var: "OPENAI_MODELS",
    proxy_var: "OPENAI_REVERSE_PROXY",
    title_var: "OPENAI_TITLE_MODEL",
    default_base: "https://api.openai.com/v1",
    default_models: OPENAI_DEFAULT_MODELS,
    fetch_unlisted: true,
};

const ANTHROPIC: Builtin = Builtin {
    name: "anthropic",
    protocol: Protocol::Anthropic,
    key_var: "ANTHROPIC_API_KEY",
    models_var: "ANTHROPIC_MODELS",
    proxy_var: "ANTHROPIC_REVERSE_PROXY",
    title_var: "ANTHROPIC_TITLE_MODEL",
    default_base: "https://api.anthropic.com",
    default_models: ANTHROPIC_DEFAULT_MODELS,
    fetch_unlisted: false,
};

const GOOGLE: Builtin = Builtin {
    name: "google",
    protocol: Protocol::Google,
    key_var: "GOOGLE_KEY",
    models_var: "GOOGLE_MODELS",
    proxy_var: "GOOGLE_REVERSE_PROXY",
    title_var: "GOOGLE_TITLE_MODEL",
    default_base: "https://generativelanguage.googleapis.com",
    default_models: GOOGLE_DEFAULT_MODELS,
    fetch_unlisted: false,
};

/// The built-in endpoint `b`, when its key is set and `ENDPOINTS` allows it; librechat.yaml's
/// `endpoints.<name>` may set `titleConvo` and `titleModel`.
fn builtin(
    env: &Env,
    section: Option<&Value>,
    b: &Builtin,
    allowed: &dyn Fn(&str) -> bool,
) -> Result<Option<Endpoint>, ConfigError> {
    let Some(key) = env.get(b.key_var).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    if !allowed(b.name) {
        return Ok(None);
    }
    let models = list(env.get(b.models_var));
    let base = env
        .get(b.proxy_var)
        .filter(|u| !u.is_empty())
        .unwrap_or(b.default_base)
        .trim_end_matches('/');
    // Anthropic's API paths start with /v1 themselves.
    let base = if b.protocol == Protocol::Anthropic {
        base.trim_end_matches("/v1")
    } else {
        base
    };
    Ok(Some(Endpoint {
        name: b.name.into(),
        custom: false,
        protocol: b.protocol,
        base_url: base.to_owned(),
        user_base_url: false,
        key: key_of(key),
        fetch_models: b.fetch_unlisted && models.is_empty(),
        models: if models.is_empty() {
            b.default_models.iter().map(|m| m.to_string()).collect()
        } else {
            models
        },
        title_convo: env.bool("TITLE_CONVO")?.unwrap_or(true)
            && section
                .and_then(|s| s.get("titleConvo"))
                .and_then(Value::as_bool)
                .unwrap_or(true),
        title_model: section
            .and_then(|s| s.get("titleModel"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| env.get(b.title_var).map(str::to_owned)),
        model_display_label: None,
        icon_url: None,
        headers: Vec::new(),
        add_params: Map::new(),
        drop_params: Vec::new(),
        azure: None,
        token_config: None,
    }))
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn key_of(value: &str) -> Key {
    match value.trim() {
        "user_provided" => Key::UserProvided,
        "" => Key::None,
        k => Key::Value(k.to_owned()),
    }
}

/// A `${VAR}` left in a value: the variable was not set.
fn unresolved(value: &str) -> bool {
    value.contains("${")
}

fn custom(c: &Value) -> Result<Endpoint, String> {
    let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
    let name = s("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or("it has no name")?;
    let protocol = match s("provider").as_deref() {
        None | Some("openai") | Some("openAI") => Protocol::OpenAi,
        Some("anthropic") => Protocol::Anthropic,
        Some(p) => {
            return Err(format!(
                "{name}: the {p} wire format is not supported here yet"
            ));
        }
    };
    let api_key = s("apiKey").ok_or_else(|| format!("{name}: apiKey is missing"))?;
    if unresolved(&api_key) {
        return Err(format!(
            "{name}: apiKey refers to an environment variable that is not set"
        ));
    }
    let base_url = s("baseURL").ok_or_else(|| format!("{name}: baseURL is missing"))?;
    let user_base_url = base_url == "user_provided";
    if !user_base_url {
        if unresolved(&base_url) {
            return Err(format!(
                "{name}: baseURL refers to an environment variable that is not set"
            ));
        }
        url::Url::parse(&base_url)
            .map_err(|e| format!("{name}: baseURL {base_url:?} is not a URL ({e})"))?;
    }
    let models = c.get("models");
    let defaults: Vec<String> = models
        .and_then(|m| m.get("default"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let fetch = models
        .and_then(|m| m.get("fetch"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if defaults.is_empty() && !fetch {
        return Err(format!(
            "{name}: models.default is empty and models.fetch is off"
        ));
    }
    if defaults.is_empty() && user_base_url {
        return Err(format!(
            "{name}: with a user-provided baseURL, models.default must list the models"
        ));
    }
    let headers = c
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                // Templates such as {{LIBRECHAT_USER_ID}} are filled per request, not here.
                .filter(|(_, v)| !unresolved(v))
                .collect()
        })
        .unwrap_or_default();
    let base_url = if user_base_url {
        ""
    } else {
        base_url.trim_end_matches('/')
    };
    Ok(Endpoint {
        custom: true,
        protocol,
        base_url: normalized_base(protocol, base_url),
        user_base_url,
        key: key_of(&api_key),
        models: defaults,
        // The list cannot be fetched before someone gives the URL.
        fetch_models: fetch && !user_base_url,
        title_convo: c
            .get("titleConvo")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        title_model: s("titleModel"),
        model_display_label: s("modelDisplayLabel"),
        icon_url: s("iconURL"),
        headers,
        add_params: c
            .get("addParams")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        drop_params: c
            .get("dropParams")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        azure: None,
        token_config: c.get("tokenConfig").filter(|t| t.is_object()).cloned(),
        name,
    })
}

/// A base URL as requests use it: no trailing slash, and for Anthropic without the `/v1`
/// its paths add themselves.
pub fn normalized_base(protocol: Protocol, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if protocol == Protocol::Anthropic {
        base.trim_end_matches("/v1").to_owned()
    } else {
        base.to_owned()
    }
}

impl Endpoint {
    /// Uses the URL a person gave for a `baseURL: user_provided` endpoint: http or https
    /// only (it is where their messages and key go).
    pub fn with_user_base_url(mut self, url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|_| format!("the base URL you set for {} is not a URL", self.name))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "the base URL you set for {} must be an http or https URL",
                self.name
            ));
        }
        self.base_url = normalized_base(self.protocol, parsed.as_str());
        Ok(self)
    }
}

/// Endpoints for unit tests elsewhere.
#[cfg(test)]
pub mod tests_support {
    use super::*;

    pub fn endpoint(name: &str, base_url: &str) -> Endpoint {
        Endpoint {
            name: name.into(),
            custom: false,
            protocol: Protocol::OpenAi,
            base_url: base_url.into(),
            user_base_url: false,
            key: Key::None,
            models: vec!["m".into()],
            fetch_models: false,
            title_convo: false,
            title_model: None,
            model_display_label: None,
            icon_url: None,
            headers: Vec::new(),
            add_params: Map::new(),
            drop_params: Vec::new(),
            azure: None,
            token_config: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn openai_from_the_environment() {
        let e = Endpoints::load(
            &env(&[("OPENAI_API_KEY", "sk-1"), ("OPENAI_MODELS", "a, b")]),
            None,
        )
        .unwrap();
        let o = e.get("openAI").unwrap();
        assert_eq!(o.models, ["a", "b"]);
        assert!(!o.fetch_models);
        assert_eq!(o.base_url, "https://api.openai.com/v1");
        assert_eq!(o.key, Key::Value("sk-1".into()));
        assert!(!format!("{o:?}").contains("sk-1"));
        let none = Endpoints::load(
            &env(&[("OPENAI_API_KEY", "sk-1"), ("ENDPOINTS", "anthropic")]),
            None,
        )
        .unwrap();
        assert!(none.get("openAI").is_none());
        let user = Endpoints::load(&env(&[("OPENAI_API_KEY", "user_provided")]), None).unwrap();
        assert_eq!(user.get("openAI").unwrap().key, Key::UserProvided);
    }

    #[test]
    fn custom_endpoints_from_yaml_and_what_is_left_out() {
        let yaml = json!({"custom": [
            {"name": "Ollama", "apiKey": "ollama", "baseURL": "http://localhost:11434/v1/",
             "models": {"default": ["llama3"], "fetch": true}, "titleConvo": true,
             "dropParams": ["stop"], "addParams": {"keep_alive": 5}, "headers": {"X-A": "1", "X-B": "${UNSET}"}},
            {"name": "xai", "apiKey": "${XAI_API_KEY}", "baseURL": "https://api.x.ai/v1", "models": {"default": ["g"]}},
            {"name": "Claude-Compatible", "provider": "anthropic", "apiKey": "k", "baseURL": "https://x", "models": {"default": ["c"]}},
            {"name": "Ollama", "apiKey": "x", "baseURL": "http://h/v1", "models": {"default": ["m"]}}
        ]});
        let e = Endpoints::load(&env(&[]), Some(&yaml)).unwrap();
        assert_eq!(e.list.len(), 2);
        assert_eq!(
            e.get("Claude-Compatible").unwrap().protocol,
            Protocol::Anthropic
        );
        let o = e.get("Ollama").unwrap();
        assert_eq!(o.base_url, "http://localhost:11434/v1");
        assert_eq!(o.headers, [("X-A".to_string(), "1".to_string())]);
        assert_eq!(o.drop_params, ["stop"]);
        assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
    }
}
