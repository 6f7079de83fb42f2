//! Which agents of an answer run at the same time, as LibreChat's multi-agent graph (LangGraph
//! underneath) decides it from the edges ([`super::handoff`]):
//!
//! * the graph **starts** with every agent no edge leads to (the first agent alone, when
//!   every agent has an edge leading to it); several starts run side by side;
//! * after each step of the graph, every agent a direct edge leads to from an agent that just
//!   answered runs, all of them side by side (a **fan-out**); one that several of them lead to
//!   (a **fan-in**) runs once, given all their results;
//! * an agent that hands off runs only its handoff's destination, never its direct edges.
//!
//! The **groups** are what LibreChat's client shows in columns (its run steps' `groupId`):
//! several starts are group 1, and each direct edge with several destinations makes the next
//! group, numbered in the order a walk from the starts meets them. An agent keeps the first
//! group it is given; one that runs side by side with others through separate edges gets no
//! group, as in LibreChat.

use std::collections::{HashSet, VecDeque};

use super::handoff::{Edge, Kind};

/// The agents (their places in `ids`) the graph starts with.
pub fn starts(ids: &[&str], edges: &[Edge]) -> Vec<usize> {
    let led_to: HashSet<&str> = edges
        .iter()
        .flat_map(|e| e.to.iter().map(String::as_str))
        .collect();
    let starts: Vec<usize> = (0..ids.len())
        .filter(|&i| !led_to.contains(ids[i]))
        .collect();
    if starts.is_empty() && !ids.is_empty() {
        return vec![0];
    }
    starts
}

/// Each agent's parallel group, if it has one (see the module's doc).
pub fn groups(ids: &[&str], edges: &[Edge], starts: &[usize]) -> Vec<Option<u32>> {
    let index = |id: &str| ids.iter().position(|have| *have == id);
    let mut groups = vec![None; ids.len()];
    let mut next = 1;
    if starts.len() > 1 {
        for &s in starts {
            groups[s] = Some(next);
        }
        next += 1;
    }
    let mut seen = HashSet::new();
    let mut queue: VecDeque<usize> = starts.iter().copied().collect();
    while let Some(at) = queue.pop_front() {
        if !seen.insert(at) {
            continue;
        }
        let from_here = |kind: Kind| {
            edges
                .iter()
                .filter(move |e| e.kind == kind && e.from.iter().any(|f| f == ids[at]))
        };
        for edge in from_here(Kind::Direct) {
            let fan_out = edge.to.len() > 1;
            for dest in edge.to.iter().filter_map(|d| index(d)) {
                if fan_out && groups[dest].is_none() {
                    groups[dest] = Some(next);
                }
                queue.push_back(dest);
            }
            if fan_out {
                next += 1;
            }
        }
        for edge in from_here(Kind::Handoff) {
            queue.extend(edge.to.iter().filter_map(|d| index(d)));
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::handoff::edges;
    use serde_json::json;

    #[test]
    fn a_fan_out_is_a_group_and_the_agents_around_it_are_not() {
        let ids = ["r", "a1", "a2", "s"];
        let e = edges(
            &[
                json!({"from": "r", "to": ["a1", "a2"], "edgeType": "direct"}),
                json!({"from": ["a1", "a2"], "to": "s", "edgeType": "direct"}),
            ],
            "r",
        );
        let s = starts(&ids, &e);
        assert_eq!(s, [0]);
        assert_eq!(groups(&ids, &e, &s), [None, Some(1), Some(1), None]);
    }

    #[test]
    fn several_starts_are_group_one_and_a_later_fan_out_group_two() {
        let ids = ["a", "b", "c", "d", "e"];
        let e = edges(
            &[
                json!({"from": "a", "to": "c", "edgeType": "direct"}),
                json!({"from": "b", "to": "c", "edgeType": "direct"}),
                json!({"from": "c", "to": ["d", "e"], "edgeType": "direct"}),
            ],
            "a",
        );
        let s = starts(&ids, &e);
        assert_eq!(s, [0, 1]);
        assert_eq!(
            groups(&ids, &e, &s),
            [Some(1), Some(1), None, Some(2), Some(2)]
        );
    }

    #[test]
    fn handoffs_make_no_group_and_a_cycle_starts_with_the_first() {
        let ids = ["a", "b"];
        let e = edges(
            &[
                json!({"from": "a", "to": "b"}),
                json!({"from": "b", "to": "a"}),
            ],
            "a",
        );
        let s = starts(&ids, &e);
        assert_eq!(s, [0]);
        assert_eq!(groups(&ids, &e, &s), [None, None]);
    }
}
