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
        .filter(|t| !t.is_empty() && !replaced(t) && !t.contains(s.action_id))
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
/// entry goes, and every tool that names its domain or its id. `None` when no entry names it.
pub fn delete(
    tools: &[String],
    actions: &[String],
    action_id: &str,
) -> Option<(Vec<String>, Vec<String>)> {
    let mut stored_domain = None;
    let kept: Vec<String> = actions
        .iter()
        .filter(|a| {
            if a.contains(action_id) {
                stored_domain = a.split(DELIMITER).next().map(str::to_owned);
                false
            } else {
                true
            }
        })
        .cloned()
        .collect();
    let stored_domain = stored_domain.filter(|d| !d.is_empty())?;
    let tools = tools
        .iter()
        .filter(|t| !t.contains(&stored_domain) && !t.contains(action_id))
        .cloned()
        .collect();
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
        let (t, a) = delete(&t, &a, "act1").unwrap();
        assert_eq!(t, ["calculator", "other_action_swapi---dev"]);
        assert_eq!(a, ["swapi---dev_action_act2"]);
        assert_eq!(delete(&t, &a, "nope"), None);
    }
}
