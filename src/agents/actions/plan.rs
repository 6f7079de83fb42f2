//! How an agent's `tools` and `actions` change when one of its actions is saved or deleted, as
//! LibreChat changes them: `actions` holds `<encoded domain>_action_<action id>` for each
//! action, `tools` holds `<operation>_action_<encoded domain>` for each of its operations.

use super::domain::{self, DELIMITER};
use super::spec;

/// What a save knows about the action being saved.
pub struct Save<'a> {
    pub agent_tools: &'a [String],
    pub agent_actions: &'a [String],
    /// The operation names sent (`functions[].function.name`), in order, each once.
    pub functions: &'a [String],
    pub action_id: &'a str,
    /// The domain saved now, and the one stored before (if any).
    pub domain: &'a str,
    pub previous_domain: Option<&'a str>,
    /// The document stored before (its operations' tools are replaced).
    pub previous_spec: Option<&'a str>,
}

/// The agent's new `(tools, actions)` (LibreChat's `planAgentActionUpdate` and
/// `mergeAgentActionTools`): the action's old entries and old tools out, its new ones in.
pub fn save(s: &Save<'_>) -> (Vec<String>, Vec<String>) {
    let encoded = domain::encode(s.domain);
    let mut actions = Vec::with_capacity(s.agent_actions.len() + 1);
    let mut previous_encoded = None;
    for entry in s.agent_actions {
        let (d, id) = entry.split_once(DELIMITER).unwrap_or((entry.as_str(), ""));
        if id == s.action_id {
            previous_encoded = Some(d.to_owned());
            continue;
        }
        actions.push(entry.clone());
    }
    actions.push(format!("{encoded}{DELIMITER}{}", s.action_id));

    let mut domains = vec![encoded.clone(), domain::legacy_encode(s.domain)];
    domains.extend(previous_encoded);
    if let Some(d) = s.previous_domain {
        domains.push(domain::legacy_encode(d));
    }
    domains.retain(|d| !d.is_empty());
    let mut names: Vec<String> = s.functions.to_vec();
    if let Some(Ok(previous)) = s.previous_spec.map(spec::parse) {
        names.extend(previous.operations.into_iter().map(|o| o.name));
    }
    let replaced = |tool: &str| {
        names.iter().any(|n| {
            domains.iter().any(|d| {
                tool.len() == n.len() + DELIMITER.len() + d.len()
                    && tool == format!("{n}{DELIMITER}{d}")
            })
        })
    };
    let mut tools: Vec<String> = s
        .agent_tools
        .iter()
        .filter(|t| !t.is_empty() && !replaced(t))
        .cloned()
        .collect();
    tools.extend(
        s.functions
            .iter()
            .map(|n| format!("{n}{DELIMITER}{encoded}")),
    );
    (tools, actions)
}

/// The agent's new `(tools, actions)` without the action `action_id` (LibreChat's delete): its
/// entry goes, and its tools: those on its domain (as its entry encodes it, or in the legacy
/// encoding of `domain`) whose operation is in its document `spec`, or every tool on that
/// domain when the document is not known (as LibreChat removes them). `None` when no entry
/// names it.
pub fn delete(
    tools: &[String],
    actions: &[String],
    action_id: &str,
    domain: Option<&str>,
    spec: Option<&str>,
) -> Option<(Vec<String>, Vec<String>)> {
    let mut encoded = None;
    let kept: Vec<String> = actions
        .iter()
        .filter(|a| match a.split_once(DELIMITER) {
            Some((d, id)) if id == action_id => {
                encoded = Some(d.to_owned());
                false
            }
            _ => true,
        })
        .cloned()
        .collect();
    let encoded = encoded.filter(|d| !d.is_empty())?;
    let mut domains = vec![encoded];
    domains.extend(domain.map(domain::legacy_encode));
    let operations: Option<Vec<String>> = spec
        .and_then(|s| spec::parse(s).ok())
        .map(|s| s.operations.into_iter().map(|o| o.name).collect());
    let its_own = |tool: &str| {
        domains.iter().any(|d| {
            tool.strip_suffix(d.as_str())
                .and_then(|rest| rest.strip_suffix(DELIMITER))
                .is_some_and(|op| {
                    operations
                        .as_ref()
                        .is_none_or(|ops| ops.iter().any(|o| o == op))
                })
        })
    };
    let tools = tools.iter().filter(|t| !its_own(t)).cloned().collect();
    Some((tools, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_new_action_adds_its_entry_and_tools() {
        let tools = strings(&["calculator"]);
        let (t, a) = save(&Save {
            agent_tools: &tools,
            agent_actions: &[],
            functions: &strings(&["getPet", "addPet"]),
            action_id: "act1",
            domain: "http://127.0.0.1",
            previous_domain: None,
            previous_spec: None,
        });
        assert_eq!(
            t,
            [
                "calculator",
                "getPet_action_127---0---0---1",
                "addPet_action_127---0---0---1"
            ]
        );
        assert_eq!(a, ["127---0---0---1_action_act1"]);
    }

    #[test]
    fn an_update_replaces_the_old_domain_and_operations() {
        let tools = strings(&[
            "calculator",
            "getPet_action_127---0---0---1",
            "gone_action_127---0---0---1",
            "other_action_swapi---dev",
        ]);
        let actions = strings(&["127---0---0---1_action_act1", "swapi---dev_action_act2"]);
        let old_spec = r#"{"servers":[{"url":"http://127.0.0.1"}],"paths":{"/g":{"get":{"operationId":"gone"}}}}"#;
        let (t, a) = save(&Save {
            agent_tools: &tools,
            agent_actions: &actions,
            functions: &strings(&["getPet"]),
            action_id: "act1",
            domain: "localhost",
            previous_domain: Some("http://127.0.0.1"),
            previous_spec: Some(old_spec),
        });
        assert_eq!(
            t,
            [
                "calculator",
                "other_action_swapi---dev",
                "getPet_action_localhost"
            ]
        );
        assert_eq!(a, ["swapi---dev_action_act2", "localhost_action_act1"]);
        let (t, a) = delete(&t, &a, "act1", None, None).unwrap();
        assert_eq!(t, ["calculator", "other_action_swapi---dev"]);
        assert_eq!(a, ["swapi---dev_action_act2"]);
        assert_eq!(delete(&t, &a, "nope", None, None), None);
        // Part of an id names nothing.
        assert_eq!(delete(&t, &a, "act", None, None), None);
    }

    #[test]
    fn a_delete_leaves_another_actions_tools_on_the_same_domain() {
        let tools = strings(&[
            "getPet_action_localhost",
            "getMe_action_localhost",
            "x_localhost",
        ]);
        let actions = strings(&["localhost_action_a1", "localhost_action_a2"]);
        let spec = r#"{"servers":[{"url":"http://localhost"}],"paths":{"/p":{"get":{"operationId":"getPet"}}}}"#;
        let (t, a) = delete(&tools, &actions, "a1", Some("http://localhost"), Some(spec)).unwrap();
        assert_eq!(t, ["getMe_action_localhost", "x_localhost"]);
        assert_eq!(a, ["localhost_action_a2"]);
        // Without its document: every tool on its domain, as LibreChat.
        let (t, _) = delete(&tools, &actions, "a1", None, None).unwrap();
        assert_eq!(t, ["x_localhost"]);
    }
}
