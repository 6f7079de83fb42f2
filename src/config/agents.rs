//! `endpoints.agents` of librechat.yaml, read as LibreChat reads it (its
//! `agentsEndpointSchema`): whether people may build agents, the limits of a run, which
//! providers agents may use, and the capabilities offered.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ConfigError, Env};

/// LibreChat's `AgentCapabilities`, every one it knows (v0.8.8).
pub const CAPABILITIES: [&str; 20] = [
    "hide_sequential_outputs",
    "programmatic_tools",
    "end_after_tools",
    "deferred_tools",
    "execute_code",
    "stateful_code_sessions",
    "file_search",
    "web_search",
    "artifacts",
    "subagents",
    "actions",
    "context",
    "skills",
    "memory",
    "ask_user_question",
    "tools",
    "chain",
    "ocr",
    "run_in_background",
    "tool_intents",
];

/// LibreChat's `defaultAgentCapabilities`, in its order.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "deferred_tools",
    "execute_code",
    "file_search",
    "web_search",
    "artifacts",
    "subagents",
    "actions",
    "context",
    "skills",
    "memory",
    "ask_user_question",
    "tools",
    "chain",
    "ocr",
];

/// The capabilities this server runs today: the calculator and other tools (`tools`), agents'
/// actions (`actions`), the artifact instructions (`artifacts`), files read as text into
/// the context (`context`, LibreChat's client's "Upload as Text"), agents handing on to
/// others (`chain`: `edges` and `agent_ids`), agents carrying the memory tools (`memory`:
/// `set_memory` and `delete_memory`, when memories are on), file search over uploaded
/// documents (`file_search`: BM25 in the search index) and web search (`web_search`). The
/// others (code, OCR, MCP, ...) would only give LibreChat's client toggles that do nothing; a
/// capability joins this list the day it runs.
pub const RUNNABLE: [&str; 8] = [
    "actions",
    "artifacts",
    "chain",
    "context",
    "file_search",
    "memory",
    "tools",
    "web_search",
];

/// The agents endpoint's settings. Without the section, LibreChat's defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentsConfig {
    /// `true`: nobody may create or change agents (the builder is hidden, and the API
    /// refuses); existing agents stay usable.
    #[serde(default)]
    pub disable_builder: bool,
    /// Steps a run may take when the agent sets none.
    pub recursion_limit: Option<u32>,
    /// The most steps any agent may set.
    pub max_recursion_limit: Option<u32>,
    /// The most bytes one streamed tool call's arguments may reach (0: no bound).
    pub max_tool_call_arg_bytes: Option<u64>,
    /// The most streamed chunks of one model answer in a run.
    pub max_delta_events_per_turn: Option<u64>,
    /// Per-tool `maxToolCallArgBytes`.
    pub max_tool_call_arg_bytes_by_tool: Option<std::collections::BTreeMap<String, u64>>,
    /// File search: citations per answer (1 to 50).
    #[serde(default = "default_max_citations")]
    pub max_citations: u32,
    /// File search: citations per file (1 to 10).
    #[serde(default = "default_max_citations_per_file")]
    pub max_citations_per_file: u32,
    /// File search: the least relevance a cited passage has (0 to 1).
    #[serde(default = "default_min_relevance_score")]
    pub min_relevance_score: f64,
    /// The providers (endpoint names) agents may use; unset allows every configured one.
    pub allowed_providers: Option<Vec<String>>,
    /// What agents may do (LibreChat's `AgentCapabilities`); unset gives its defaults.
    pub capabilities: Option<Vec<String>>,
    /// The rest of LibreChat's endpoint settings (titles, stream rate, tool approval, ...),
    /// kept as written.
    #[serde(flatten)]
    pub other: Map<String, Value>,
    /// Whether `/api/endpoints` lists `agents` (`ENDPOINTS`, when set, must name it).
    #[serde(skip)]
    pub listed: bool,
    /// What the administrator asked for that this server leaves out (said once at start).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

fn default_max_citations() -> u32 {
    30
}
fn default_max_citations_per_file() -> u32 {
    7
}
fn default_min_relevance_score() -> f64 {
    0.45
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            disable_builder: false,
            recursion_limit: None,
            max_recursion_limit: None,
            max_tool_call_arg_bytes: None,
            max_delta_events_per_turn: None,
            max_tool_call_arg_bytes_by_tool: None,
            max_citations: default_max_citations(),
            max_citations_per_file: default_max_citations_per_file(),
            min_relevance_score: default_min_relevance_score(),
            allowed_providers: None,
            capabilities: None,
            other: Map::new(),
            listed: true,
            warnings: Vec::new(),
        }
    }
}

impl AgentsConfig {
    /// Reads `endpoints.agents` (the `endpoints` section as parsed) and `ENDPOINTS`. A value of
    /// the wrong type, out of its range, or an unknown capability stops the server with the key
    /// named.
    pub fn load(env: &Env, endpoints: Option<&Value>) -> Result<Self, ConfigError> {
        let err = |key: &str, why: String| {
            ConfigError::Other(format!("librechat.yaml: endpoints.agents{key}: {why}"))
        };
        let mut config = match endpoints.and_then(|e| e.get("agents")) {
            None | Some(Value::Null) => Self::default(),
            Some(section) => serde_path_to_error::deserialize::<_, Self>(section).map_err(|e| {
                let path = e.path().to_string();
                let key = if path == "." {
                    String::new()
                } else {
                    format!(".{path}")
                };
                err(&key, e.into_inner().to_string())
            })?,
        };
        if !(1..=50).contains(&config.max_citations) {
            return Err(err(".maxCitations", "must be from 1 to 50".into()));
        }
        if !(1..=10).contains(&config.max_citations_per_file) {
            return Err(err(".maxCitationsPerFile", "must be from 1 to 10".into()));
        }
        if !(0.0..=1.0).contains(&config.min_relevance_score) {
            return Err(err(".minRelevanceScore", "must be from 0 to 1".into()));
        }
        for (i, c) in config.capabilities.iter().flatten().enumerate() {
            if !CAPABILITIES.contains(&c.as_str()) {
                return Err(err(
                    &format!(".capabilities[{i}]"),
                    format!("{c:?} is not one of {}", CAPABILITIES.join(", ")),
                ));
            }
        }
        config.warnings = config
            .capabilities
            .iter()
            .flatten()
            .filter(|c| !RUNNABLE.contains(&c.as_str()))
            .map(|c| {
                format!(
                    "librechat.yaml: endpoints.agents.capabilities: `{c}` does not run on this \
                     server yet; it is left out"
                )
            })
            .collect();
        config.listed = env.get("ENDPOINTS").is_none_or(|list| {
            list.trim().is_empty() || list.split(',').any(|e| e.trim() == "agents")
        });
        Ok(config)
    }

    /// The capabilities offered, in the order configured (or LibreChat's defaults): only those
    /// that run here ([`RUNNABLE`]), so LibreChat's client offers no toggle that does nothing,
    /// and without `memory` when memories are off (as LibreChat serves them).
    pub fn served_capabilities(&self, memory_enabled: bool) -> Vec<String> {
        let list: Vec<&str> = match &self.capabilities {
            Some(c) => c.iter().map(String::as_str).collect(),
            None => DEFAULT_CAPABILITIES.to_vec(),
        };
        list.into_iter()
            .filter(|c| RUNNABLE.contains(c))
            .filter(|c| memory_enabled || *c != "memory")
            .map(str::to_owned)
            .collect()
    }

    /// Whether this server serves `capability` to agents (configured, and runnable here).
    pub fn serves(&self, capability: &str) -> bool {
        self.served_capabilities(true)
            .iter()
            .any(|c| c == capability)
    }

    /// Whether agents may use the endpoint `name` (`allowedProviders`, when set, names it).
    pub fn allows_provider(&self, name: &str) -> bool {
        self.allowed_providers
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| p == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(endpoints: Value, vars: &[(&str, &str)]) -> Result<AgentsConfig, ConfigError> {
        let env = Env::from_pairs(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        AgentsConfig::load(&env, Some(&endpoints))
    }

    #[test]
    fn librechat_s_defaults_without_the_section() {
        let c = load(json!({}), &[]).unwrap();
        assert!(!c.disable_builder && c.listed);
        assert_eq!((c.max_citations, c.max_citations_per_file), (30, 7));
        // LibreChat's defaults, less what does not run here.
        assert_eq!(
            c.served_capabilities(true),
            [
                "file_search",
                "web_search",
                "artifacts",
                "actions",
                "context",
                "memory",
                "tools",
                "chain"
            ]
        );
        assert_eq!(
            c.served_capabilities(false),
            [
                "file_search",
                "web_search",
                "artifacts",
                "actions",
                "context",
                "tools",
                "chain"
            ]
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(c.allows_provider("anything"));
    }

    #[test]
    fn the_section_is_read_and_checked() {
        let c = load(
            json!({"agents": {"disableBuilder": true, "recursionLimit": 50,
                   "allowedProviders": ["openAI"], "capabilities": ["tools", "execute_code", "artifacts"],
                   "titleConvo": true}}),
            &[("ENDPOINTS", "openAI,google")],
        )
        .unwrap();
        assert!(c.disable_builder && !c.listed);
        assert_eq!(c.recursion_limit, Some(50));
        assert!(c.allows_provider("openAI") && !c.allows_provider("google"));
        assert_eq!(c.served_capabilities(false), ["tools", "artifacts"]);
        assert_eq!(c.warnings.len(), 1);
        assert!(
            c.warnings[0].contains("`execute_code` does not run"),
            "{:?}",
            c.warnings
        );
        assert_eq!(c.other["titleConvo"], true);

        let bad = |v: Value| load(json!({ "agents": v }), &[]).unwrap_err().to_string();
        assert!(bad(json!({"maxCitations": 51})).contains("endpoints.agents.maxCitations"));
        assert!(bad(json!({"capabilities": ["tools", "teleport"]})).contains("capabilities[1]"));
        let typed = bad(json!({"disableBuilder": "yes"}));
        assert!(typed.contains("endpoints.agents.disableBuilder"), "{typed}");
        assert!(bad(json!({"allowedProviders": "openAI"})).contains("allowedProviders"));
    }
}
