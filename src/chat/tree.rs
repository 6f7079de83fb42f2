//! The message tree: every message points at its parent; the first message of a conversation
//! at [`NO_PARENT`]. Regenerated answers and edited questions are siblings.
//!
//! Forking copies part of a tree into a new conversation, with LibreChat's three choices:
//! * `directPath`: the target and the messages on the way up to the first message;
//! * `includeBranches`: that path plus every other branch leaving it (the siblings of each
//!   message on the path, with nothing below the target);
//! * `targetLevel`: every message as deep in the tree as the target, or less deep.
//!
//! With `splitAtTarget` the new conversation starts at the target's depth instead: messages
//! there become first messages and what the option selects below them comes along (for
//! `directPath`, the branch down to the message the user was looking at).
//!
//! Trees come from clients and imports, so none of this trusts them: a missing parent ends a
//! path, and a cycle is walked once.

use std::collections::{HashMap, HashSet};

use crate::db::messages::{Message, NO_PARENT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkOption {
    DirectPath,
    IncludeBranches,
    TargetLevel,
}

impl ForkOption {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "directPath" => Some(Self::DirectPath),
            "includeBranches" => Some(Self::IncludeBranches),
            "targetLevel" => Some(Self::TargetLevel),
            _ => None,
        }
    }
}

/// The ids from `target` up to its first message, target first.
fn path_to_root(by_id: &HashMap<&str, &Message>, target: &str) -> Vec<String> {
    let mut path = Vec::new();
    let mut seen = HashSet::new();
    let mut current = by_id.get(target).copied();
    while let Some(m) = current {
        if !seen.insert(m.message_id.as_str()) {
            break;
        }
        path.push(m.message_id.clone());
        current = by_id.get(m.parent_message_id.as_str()).copied();
    }
    path
}

/// Depth of every message reachable from a first message (first messages are depth 0).
/// Messages whose chain never reaches one (orphans, cycles) get no depth.
fn depths(messages: &[Message]) -> HashMap<String, usize> {
    let ids: HashSet<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut level: Vec<&str> = Vec::new();
    for m in messages {
        if m.parent_message_id == NO_PARENT || !ids.contains(m.parent_message_id.as_str()) {
            if m.parent_message_id == NO_PARENT {
                level.push(&m.message_id);
            }
        } else {
            children
                .entry(m.parent_message_id.as_str())
                .or_default()
                .push(&m.message_id);
        }
    }
    let mut out = HashMap::new();
    let mut depth = 0;
    while !level.is_empty() {
        let mut next = Vec::new();
        for id in level {
            if out.insert(id.to_owned(), depth).is_none() {
                next.extend(children.get(id).into_iter().flatten().copied());
            }
        }
        level = next;
        depth += 1;
    }
    out
}

/// The messages a fork of `messages` at `target` keeps, in their original order, with parents
/// rewritten where the fork starts new first messages. `None` when the target is not there.
/// `latest` is the message the user was looking at (LibreChat's `latestMessageId`): with
/// `splitAtTarget`, a `directPath` fork follows the branch down to it.
pub fn fork(
    messages: &[Message],
    target: &str,
    option: ForkOption,
    split_at_target: bool,
    latest: Option<&str>,
) -> Option<Vec<Message>> {
    let by_id: HashMap<&str, &Message> = messages
        .iter()
        .map(|m| (m.message_id.as_str(), m))
        .collect();
    by_id.get(target)?;
    let depth = depths(messages);
    let path: HashSet<String> = if split_at_target && option != ForkOption::TargetLevel {
        // The branch through the target down to the latest message, when the latest lies
        // below the target; else the target's own path.
        let below = latest
            .map(|l| path_to_root(&by_id, l))
            .filter(|p| p.iter().any(|id| id == target));
        below
            .unwrap_or_else(|| path_to_root(&by_id, target))
            .into_iter()
            .collect()
    } else {
        path_to_root(&by_id, target).into_iter().collect()
    };
    let keep: HashSet<String> = match option {
        ForkOption::DirectPath => path,
        ForkOption::IncludeBranches => messages
            .iter()
            .filter(|m| {
                path.contains(&m.message_id)
                    || (path.contains(&m.parent_message_id)
                        && (split_at_target || m.parent_message_id != target))
            })
            .map(|m| m.message_id.clone())
            .collect(),
        ForkOption::TargetLevel if split_at_target => {
            messages.iter().map(|m| m.message_id.clone()).collect()
        }
        ForkOption::TargetLevel => {
            let cut = depth.get(target).copied().unwrap_or(0);
            let mut keep: HashSet<String> = messages
                .iter()
                .filter(|m| depth.get(&m.message_id).is_some_and(|d| *d <= cut))
                .map(|m| m.message_id.clone())
                .collect();
            keep.insert(target.to_owned());
            keep
        }
    };
    let picked = messages.iter().filter(|m| keep.contains(&m.message_id));
    if !split_at_target {
        return Some(picked.cloned().collect());
    }
    // Start at the target's depth: messages there become first messages.
    let Some(&cut) = depth.get(target) else {
        return Some(vec![rerooted(by_id[target].clone())]);
    };
    Some(
        picked
            .filter(|m| depth.get(&m.message_id).is_some_and(|d| *d >= cut))
            .map(|m| {
                if depth[&m.message_id] == cut {
                    rerooted(m.clone())
                } else {
                    m.clone()
                }
            })
            .collect(),
    )
}

/// The branch that ends at `leaf`: the messages from the first one down to `leaf`, in order.
/// Without a leaf, the branch of the newest message. Empty when the leaf is not there.
pub fn branch(messages: &[Message], leaf: Option<&str>) -> Vec<Message> {
    let by_id: HashMap<&str, &Message> = messages
        .iter()
        .map(|m| (m.message_id.as_str(), m))
        .collect();
    let leaf = match leaf {
        Some(l) => l,
        None => match messages
            .iter()
            .max_by(|a, b| a.created_at.cmp(&b.created_at))
        {
            Some(m) => m.message_id.as_str(),
            None => return Vec::new(),
        },
    };
    let mut path: Vec<Message> = path_to_root(&by_id, leaf)
        .into_iter()
        .map(|id| by_id[id.as_str()].clone())
        .collect();
    path.reverse();
    path
}

fn rerooted(mut m: Message) -> Message {
    m.parent_message_id = NO_PARENT.to_owned();
    m
}

/// Copies messages for a new conversation: fresh ids, parents mapped to the fresh ids (a
/// parent outside the copy becomes [`NO_PARENT`]), the new conversation and owner.
pub fn copy_for(messages: Vec<Message>, conversation_id: &str, user_id: &str) -> Vec<Message> {
    let fresh: HashMap<String, String> = messages
        .iter()
        .map(|m| (m.message_id.clone(), uuid::Uuid::new_v4().to_string()))
        .collect();
    messages
        .into_iter()
        .map(|mut m| {
            m.parent_message_id = fresh
                .get(&m.parent_message_id)
                .cloned()
                .unwrap_or_else(|| NO_PARENT.to_owned());
            m.message_id = fresh[&m.message_id].clone();
            m.conversation_id = conversation_id.to_owned();
            m.user_id = user_id.to_owned();
            m
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, parent: &str) -> Message {
        Message {
            message_id: id.into(),
            conversation_id: "c".into(),
            user_id: "u".into(),
            parent_message_id: parent.into(),
            sender: "User".into(),
            is_created_by_user: true,
            text: id.into(),
            content: None,
            model: None,
            endpoint: None,
            token_count: None,
            error: false,
            unfinished: false,
            feedback: None,
            extra: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    /// a ─ b ─ c ─ d        (d is below c)
    ///   └ b2 ─ c2          (b2 is a regenerated answer to a)
    ///       c ─ e          (e is a sibling of d)
    fn tree() -> Vec<Message> {
        vec![
            msg("a", NO_PARENT),
            msg("b", "a"),
            msg("b2", "a"),
            msg("c", "b"),
            msg("c2", "b2"),
            msg("d", "c"),
            msg("e", "c"),
        ]
    }

    fn ids(ms: &[Message]) -> Vec<&str> {
        ms.iter().map(|m| m.message_id.as_str()).collect()
    }

    fn fork_ids(
        target: &str,
        option: ForkOption,
        split: bool,
        latest: Option<&str>,
    ) -> Vec<String> {
        fork(&tree(), target, option, split, latest)
            .unwrap()
            .iter()
            .map(|m| m.message_id.clone())
            .collect()
    }

    #[test]
    fn the_three_fork_options() {
        assert_eq!(
            fork_ids("c", ForkOption::DirectPath, false, None),
            ["a", "b", "c"]
        );
        // The path plus the branches leaving it (b2), nothing below the target (d, e).
        assert_eq!(
            fork_ids("c", ForkOption::IncludeBranches, false, None),
            ["a", "b", "b2", "c"]
        );
        // Everything at depth 2 or less.
        assert_eq!(
            fork_ids("c", ForkOption::TargetLevel, false, None),
            ["a", "b", "b2", "c", "c2"]
        );
        assert!(fork(&tree(), "nope", ForkOption::DirectPath, false, None).is_none());
    }

    #[test]
    fn split_at_target_starts_the_new_tree_there() {
        let forked = fork(&tree(), "c", ForkOption::TargetLevel, true, None).unwrap();
        assert_eq!(ids(&forked), ["c", "c2", "d", "e"]);
        let roots: Vec<&str> = forked
            .iter()
            .filter(|m| m.parent_message_id == NO_PARENT)
            .map(|m| m.message_id.as_str())
            .collect();
        assert_eq!(roots, ["c", "c2"]);
        // A direct path follows the branch the user was looking at, and nothing else.
        assert_eq!(
            fork_ids("c", ForkOption::DirectPath, true, Some("d")),
            ["c", "d"]
        );
        assert_eq!(fork_ids("c", ForkOption::DirectPath, true, None), ["c"]);
        assert_eq!(
            fork_ids("c", ForkOption::DirectPath, true, Some("c2")),
            ["c"],
            "c2 is not below c"
        );
    }

    #[test]
    fn cycles_and_missing_parents_do_not_hang_or_panic() {
        let broken = vec![
            msg("x", "y"),
            msg("y", "x"),
            msg("z", "missing"),
            msg("a", NO_PARENT),
        ];
        assert_eq!(
            ids(&fork(&broken, "x", ForkOption::DirectPath, false, None).unwrap()),
            ["x", "y"]
        );
        assert!(fork(&broken, "z", ForkOption::TargetLevel, false, None).is_some());
        assert_eq!(
            ids(&fork(&broken, "x", ForkOption::DirectPath, true, None).unwrap()),
            ["x"]
        );
    }

    #[test]
    fn a_branch_runs_from_the_first_message_to_the_leaf() {
        let t = tree();
        assert_eq!(ids(&branch(&t, Some("d"))), ["a", "b", "c", "d"]);
        assert_eq!(ids(&branch(&t, Some("c2"))), ["a", "b2", "c2"]);
        assert!(branch(&t, Some("nope")).is_empty());
        assert!(branch(&[], None).is_empty());
    }

    #[test]
    fn copies_get_fresh_ids_and_keep_their_shape() {
        let copy = copy_for(
            fork(&tree(), "c", ForkOption::DirectPath, false, None).unwrap(),
            "new",
            "u2",
        );
        assert_eq!(copy.len(), 3);
        assert!(
            copy.iter()
                .all(|m| m.conversation_id == "new" && m.user_id == "u2")
        );
        assert_eq!(copy[0].parent_message_id, NO_PARENT);
        assert_eq!(copy[1].parent_message_id, copy[0].message_id);
        assert_eq!(copy[2].parent_message_id, copy[1].message_id);
        assert!(
            copy.iter()
                .all(|m| !["a", "b", "c"].contains(&m.message_id.as_str()))
        );
    }
}
