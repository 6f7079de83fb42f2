//! What the model sees: the branch that leads to the new message, the system prompt first, the
//! oldest turns left out when everything would not fit the model's context window. An answer
//! of agents that ran side by side is given back with only the first agent of each parallel
//! group ([`primary_only`]), as LibreChat gives it.

use serde_json::{Map, Value};

use super::attachments::{Attached, Attachments};
use super::tokens::{Encoding, count_with};
use crate::db::messages::Message;
use crate::providers::{ChatMessage, Part, Role};

/// Context windows by model-name fragment; the longest fragment found in the name wins.
const WINDOWS: &[(&str, u64)] = &[
    ("gpt-3.5", 16_385),
    ("gpt-4", 8_192),
    ("gpt-4-32k", 32_768),
    ("gpt-4-turbo", 128_000),
    ("gpt-4o", 128_000),
    ("gpt-4.1", 1_047_576),
    ("gpt-4.5", 128_000),
    ("gpt-5", 400_000),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
    ("claude", 200_000),
    ("gemini", 1_000_000),
    ("llama3", 8_192),
    ("llama-3.1", 128_000),
    ("llama-3.3", 128_000),
    ("mistral", 32_000),
    ("mixtral", 32_768),
    ("deepseek", 128_000),
    ("grok", 131_072),
    ("qwen", 32_768),
];

/// The window assumed for a model this table does not know.
pub const DEFAULT_WINDOW: u64 = 32_768;
/// Tokens kept free for the answer when the request does not say how long it may be.
pub const DEFAULT_ANSWER_RESERVE: u64 = 1_024;
/// What each message costs beyond its text (role markers).
const PER_MESSAGE: u64 = 4;

/// The context window of `model`.
pub fn window(model: &str) -> u64 {
    let model = model.to_ascii_lowercase();
    WINDOWS
        .iter()
        .filter(|(fragment, _)| model.contains(fragment))
        .max_by_key(|(fragment, _)| fragment.len())
        .map_or(DEFAULT_WINDOW, |(_, w)| *w)
}

/// How many tokens the prompt may use: `maxContextTokens` when given, else the model's window,
/// less the answer's reserve (`max_tokens` and its synonyms).
pub fn budget(model: &str, params: &Map<String, Value>) -> u64 {
    let get = |k: &str| params.get(k).and_then(Value::as_u64);
    let window = get("maxContextTokens").unwrap_or_else(|| window(model));
    let reserve = ["max_tokens", "maxOutputTokens", "maxTokens"]
        .iter()
        .find_map(|k| get(k))
        .unwrap_or(DEFAULT_ANSWER_RESERVE);
    window.saturating_sub(reserve).max(256)
}

/// A message's cost in tokens: its stored count (or a count of its text), and its files'
/// (counted when they were read).
fn cost(m: &Message, text: &str, files: Option<&Attached>, encoding: Encoding) -> u64 {
    let tokens = m
        .token_count
        .filter(|n| *n > 0)
        .map_or_else(|| count_with(encoding, text) as u64, |n| n as u64);
    tokens + files.map_or(0, |f| f.tokens) + PER_MESSAGE
}

/// The messages to send for `branch` (first message to newest, the newest being the one to
/// answer), with `system` first. Failed answers are left out; the newest turns are kept and the
/// oldest dropped once `budget` tokens are used, but the newest message always goes.
/// Blocking (token counting): call off the async threads.
pub fn build(
    model: &str,
    branch: &[Message],
    system: Option<&str>,
    budget: u64,
) -> Vec<ChatMessage> {
    build_counted(model, branch, system, budget, &Attachments::new(), &|_| {
        false
    })
    .0
}

/// [`build`], with the messages' files (`attachments`, by message id: given before the text),
/// earlier answers' tool calls given back as calls and results where the tool is `offered` in
/// this turn (see [`super::replay`]), and how many tokens the messages are (for the balance
/// check and billing when the provider does not report its count).
pub fn build_counted(
    model: &str,
    branch: &[Message],
    system: Option<&str>,
    budget: u64,
    attachments: &Attachments,
    offered: &dyn Fn(&str) -> bool,
) -> (Vec<ChatMessage>, u64) {
    let encoding = Encoding::for_model(model);
    let system_cost = system.map_or(0, |s| count_with(encoding, s) as u64 + PER_MESSAGE);
    let mut left = budget.saturating_sub(system_cost);
    let mut used = system_cost;
    let mut kept = Vec::new();
    for (i, m) in branch.iter().rev().enumerate() {
        if m.error {
            continue;
        }
        let primary = (!m.is_created_by_user).then(|| primary_only(m)).flatten();
        let m = primary.as_ref().unwrap_or(m);
        let attached = attachments.get(&m.message_id);
        if !m.is_created_by_user
            && let Some((messages, text)) = super::replay::answer(m.content.as_ref(), offered)
        {
            // The stored count is the answer's own tokens; its calls' results are counted
            // here.
            let c = count_with(encoding, &text) as u64 + PER_MESSAGE * messages.len() as u64;
            if i > 0 && c > left {
                break;
            }
            left = left.saturating_sub(c);
            used += c;
            kept.extend(messages.into_iter().rev());
            continue;
        }
        let text = super::tokens::message_text(&m.text, m.content.as_ref());
        // Reasoning parts stay out of the history: the text parts carry the answer.
        let text = if m.content.is_some() && !m.text.is_empty() {
            m.text.clone()
        } else {
            visible_text(m).unwrap_or(text)
        };
        let c = cost(m, &text, attached, encoding);
        if i > 0 && c > left {
            break;
        }
        left = left.saturating_sub(c);
        used += c;
        let role = if m.is_created_by_user {
            Role::User
        } else {
            Role::Assistant
        };
        let mut content = attached.map_or_else(Vec::new, |a| a.parts.clone());
        content.push(Part::Text(text));
        kept.push(ChatMessage { role, content });
    }
    if let Some(s) = system.filter(|s| !s.trim().is_empty()) {
        kept.push(ChatMessage::text(Role::System, s));
    }
    kept.reverse();
    (kept, used)
}

/// An answer of agents that ran side by side, as LibreChat gives it back to a model: of each
/// parallel group (the parts with a `groupId`) only its primary agent's parts stay — the
/// first agent in the answer, or, among ids ending in LibreChat's `____<n>`, the lowest `n`
/// (LibreChat's `createMultiAgentMapper` and `findPrimaryAgentId`) — and its text is theirs
/// (recounted). `None` for any other message.
fn primary_only(m: &Message) -> Option<Message> {
    let parts = m.content.as_ref()?.as_array()?;
    let group = |p: &Value| p.get("groupId").filter(|g| !g.is_null()).cloned();
    if !parts.iter().any(|p| group(p).is_some()) {
        return None;
    }
    // Each group's agents, in the order their parts come.
    let mut groups: Vec<(Value, Vec<&str>)> = Vec::new();
    for p in parts {
        let (Some(g), Some(agent)) = (group(p), p["agentId"].as_str()) else {
            continue;
        };
        match groups.iter_mut().find(|(have, _)| *have == g) {
            Some((_, agents)) if !agents.contains(&agent) => agents.push(agent),
            Some(_) => {}
            None => groups.push((g, vec![agent])),
        }
    }
    let suffix = |id: &str| {
        let (_, n) = id.rsplit_once("____")?;
        (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| n.parse::<u64>().ok())
            .flatten()
    };
    let primary = |agents: &[&str]| -> Option<String> {
        if let Some(plain) = agents.iter().find(|a| suffix(a).is_none()) {
            return Some((*plain).to_owned());
        }
        agents
            .iter()
            .min_by_key(|a| suffix(a))
            .map(|a| (*a).to_owned())
    };
    let primaries: Vec<(Value, Option<String>)> = groups
        .iter()
        .map(|(g, agents)| (g.clone(), primary(agents)))
        .collect();
    let kept: Vec<Value> = parts
        .iter()
        .filter(|p| {
            let (Some(g), Some(agent)) = (group(p), p["agentId"].as_str()) else {
                return true;
            };
            primaries
                .iter()
                .find(|(have, _)| *have == g)
                .and_then(|(_, first)| first.as_deref())
                .is_none_or(|first| first == agent)
        })
        .cloned()
        .collect();
    let mut out = m.clone();
    out.content = Some(Value::Array(kept));
    out.text = crate::db::messages::text_parts(out.content.as_ref())
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    out.token_count = None;
    Some(out)
}

/// The text parts of a message's content, without its reasoning.
fn visible_text(m: &Message) -> Option<String> {
    let texts = crate::db::messages::text_parts(m.content.as_ref());
    (!texts.is_empty()).then(|| texts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, user: bool, text: &str) -> Message {
        Message {
            message_id: id.into(),
            conversation_id: "c".into(),
            user_id: "u".into(),
            is_created_by_user: user,
            text: text.into(),
            ..Message::default()
        }
    }

    #[test]
    fn of_agents_side_by_side_only_each_groups_first_is_given_back() {
        let mut answer = m("a", false, "lead\n\nleft\n\nright\n\nend");
        answer.content = Some(serde_json::json!([
            {"type": "text", "text": "lead", "agentId": "agent_lead"},
            {"type": "text", "text": "left", "agentId": "agent_left", "groupId": 1},
            {"type": "text", "text": "right", "agentId": "agent_right", "groupId": 1},
            {"type": "text", "text": "more left", "agentId": "agent_left", "groupId": 1},
            {"type": "text", "text": "end", "agentId": "agent_end"},
        ]));
        answer.token_count = Some(9);
        let given = build(
            "gpt-4o",
            &[m("q", true, "go"), answer.clone()],
            None,
            100_000,
        );
        assert_eq!(
            given[1].content,
            [Part::Text("lead\n\nleft\n\nmore left\n\nend".into())]
        );
        // Added agents' suffixes: the lowest is primary.
        answer.content = Some(serde_json::json!([
            {"type": "text", "text": "two", "agentId": "agent_x____2", "groupId": 1},
            {"type": "text", "text": "one", "agentId": "agent_x____1", "groupId": 1},
        ]));
        assert_eq!(primary_only(&answer).unwrap().text, "one");
        // Handoffs (no group) and plain answers stay whole.
        answer.content = Some(serde_json::json!([{"type": "text", "text": "x", "agentId": "a"}]));
        assert!(primary_only(&answer).is_none());
    }

    #[test]
    fn windows_by_longest_fragment() {
        assert_eq!(window("gpt-4o-mini"), 128_000);
        assert_eq!(window("gpt-4-32k-0613"), 32_768);
        assert_eq!(window("gpt-4"), 8_192);
        assert_eq!(window("some-local-model"), DEFAULT_WINDOW);
        let mut p = Map::new();
        p.insert("maxContextTokens".into(), 5000.into());
        p.insert("max_tokens".into(), 1000.into());
        assert_eq!(budget("gpt-4o", &p), 4000);
    }

    #[test]
    fn oldest_turns_go_first_and_the_system_prompt_stays() {
        let branch: Vec<Message> = (0..11)
            .map(|i| m(&i.to_string(), i % 2 == 0, &"word ".repeat(100)))
            .collect();
        let all = build("gpt-4o", &branch, Some("Be brief."), 1_000_000);
        assert_eq!(all.len(), 12);
        assert_eq!(all[0].role, Role::System);
        let some = build("gpt-4o", &branch, Some("Be brief."), 350);
        assert!(some.len() < 12 && some.len() >= 2, "{}", some.len());
        assert_eq!(some[0].role, Role::System);
        assert_eq!(
            some.last().unwrap().role,
            Role::User,
            "the newest message always goes"
        );
        // Even alone over budget, the newest message is sent.
        assert_eq!(build("gpt-4o", &branch, None, 1).len(), 1);
        let mut failed = branch.clone();
        failed[8].error = true;
        assert_eq!(build("gpt-4o", &failed, None, 1_000_000).len(), 10);
    }
}
