//! What the tools that call a service need from the environment: the server's own credentials
//! for them (LibreChat's tool variables, such as `WOLFRAM_APP_ID`), and where the services are.

use std::collections::BTreeMap;

use super::{ConfigError, Env};

/// The variables the tools' credentials are read from, as LibreChat names them (its tool
/// manifest's `authField`s). A value set here is the server's, used for everyone; the value
/// `user_provided`, or none, lets each person store their own.
pub const CREDENTIAL_VARS: &[&str] = &["WOLFRAM_APP_ID"];

/// Wolfram|Alpha's LLM API, which the `wolfram` tool calls.
pub const WOLFRAM_API_URL: &str = "https://www.wolframalpha.com/api/v1/llm-api";

/// LibreChat's value of a tool variable that means "each person gives their own".
pub const USER_PROVIDED: &str = "user_provided";

#[derive(Clone)]
pub struct ToolSettings {
    /// The server's credentials for tools, by variable (only those set to a real value).
    pub credentials: BTreeMap<String, String>,
    /// `WOLFRAM_API_URL`: where the `wolfram` tool sends its queries (default Wolfram|Alpha's
    /// LLM API; another address is for a proxy in front of it).
    pub wolfram_api_url: String,
    /// librechat.yaml's `webSearch` (see `config::web_search`): the `web_search` tool's
    /// services.
    pub web_search: super::web_search::WebSearchConfig,
    /// librechat.yaml's `includedTools`: when not empty, the only tools offered.
    pub included: Vec<String>,
    /// librechat.yaml's `filteredTools`: tools never offered (ignored when `included` is set).
    pub filtered: Vec<String>,
}

impl Default for ToolSettings {
    fn default() -> Self {
        ToolSettings {
            credentials: BTreeMap::new(),
            wolfram_api_url: WOLFRAM_API_URL.to_owned(),
            web_search: Default::default(),
            included: Vec::new(),
            filtered: Vec::new(),
        }
    }
}

// The credentials are secrets: never print them.
impl std::fmt::Debug for ToolSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSettings")
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .field("wolfram_api_url", &self.wolfram_api_url)
            .field("web_search", &self.web_search)
            .field("included", &self.included)
            .field("filtered", &self.filtered)
            .finish()
    }
}

impl ToolSettings {
    /// With librechat.yaml's `includedTools` and `filteredTools`.
    pub fn with_lists(mut self, included: Option<&[String]>, filtered: Option<&[String]>) -> Self {
        self.included = included.unwrap_or_default().to_vec();
        self.filtered = filtered.unwrap_or_default().to_vec();
        self
    }

    /// Whether the tool `name` may be offered, as LibreChat loads its tools: the ones
    /// `includedTools` names when it names any, else all but those `filteredTools` names.
    pub fn offers(&self, name: &str) -> bool {
        if self.included.is_empty() {
            !self.filtered.iter().any(|f| f == name)
        } else {
            self.included.iter().any(|i| i == name)
        }
    }

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let credentials = CREDENTIAL_VARS
            .iter()
            .filter_map(|k| {
                env.get(k)
                    .filter(|v| *v != USER_PROVIDED)
                    .map(|v| ((*k).to_owned(), v.to_owned()))
            })
            .collect();
        let wolfram_api_url = match env.get("WOLFRAM_API_URL") {
            None => WOLFRAM_API_URL.to_owned(),
            Some(v) => match url::Url::parse(v) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    v.to_owned()
                }
                _ => {
                    return Err(ConfigError::invalid(
                        "WOLFRAM_API_URL",
                        v,
                        "an http(s) URL such as https://www.wolframalpha.com/api/v1/llm-api",
                    ));
                }
            },
        };
        Ok(ToolSettings {
            credentials,
            wolfram_api_url,
            ..ToolSettings::default()
        })
    }

    /// The server's own value of a tool variable, if it has one.
    pub fn credential(&self, field: &str) -> Option<&str> {
        self.credentials.get(field).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_provided_is_no_value_and_the_url_is_checked() {
        let env = Env::from_pairs([("WOLFRAM_APP_ID", "user_provided")]);
        let t = ToolSettings::from_env(&env).unwrap();
        assert_eq!(t.credential("WOLFRAM_APP_ID"), None);
        assert_eq!(t.wolfram_api_url, WOLFRAM_API_URL);
        let env = Env::from_pairs([
            ("WOLFRAM_APP_ID", "APP-1"),
            ("WOLFRAM_API_URL", "http://127.0.0.1:9/llm"),
        ]);
        let t = ToolSettings::from_env(&env).unwrap();
        assert_eq!(t.credential("WOLFRAM_APP_ID"), Some("APP-1"));
        assert_eq!(t.wolfram_api_url, "http://127.0.0.1:9/llm");
        assert!(!format!("{t:?}").contains("APP-1"));
        let env = Env::from_pairs([("WOLFRAM_API_URL", "ftp://x")]);
        assert!(ToolSettings::from_env(&env).is_err());
    }
}
