//! What one search gives: the text the model reads, and the data of LibreChat's `web_search`
//! attachment (its `SearchResultData`), numbered alike.
//!
//! LibreChat's client finds a citation `\ue202turn{N}{type}{i}` in the answer by looking up
//! the attachment whose `turn` is N, in its list for the type (`search`: `organic`, `news`:
//! `topStories`, `image`: `images`), at index i. So the i-th source of each list here is the
//! i-th there, and the anchors the model is shown are written as LibreChat's own instructions
//! write them (the six characters `\ue202`, which its client reads as well as the character).

use std::fmt::Write;

use serde_json::{Value, json};

use super::providers::{Found, Source};
use super::rerank::Highlight;

/// The anchor of source `index` of `kind` in search `turn`, as the model writes it.
fn anchor(turn: u32, kind: &str, index: usize) -> String {
    format!("\\ue202turn{turn}{kind}{index}")
}

/// The site a link is on (`en.wikipedia.org`), LibreChat's `attribution`.
fn site(link: &str) -> String {
    url::Url::parse(link)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_owned())
        })
        .unwrap_or_default()
}

/// The attachment's `web_search` value.
pub fn attachment_data(turn: u32, found: &Found, highlights: &[Vec<Highlight>]) -> Value {
    let organic: Vec<Value> = found
        .organic
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = source(s);
            v["position"] = json!(i + 1);
            if let Some(h) = highlights.get(i).filter(|h| !h.is_empty()) {
                v["highlights"] = h
                    .iter()
                    .map(|h| json!({"score": h.score, "text": h.text}))
                    .collect();
                v["processed"] = json!(true);
            }
            v
        })
        .collect();
    let mut data = json!({
        "turn": turn,
        "organic": organic,
        "topStories": found.top_stories.iter().map(source).collect::<Vec<_>>(),
        "images": found.images.iter().enumerate().map(|(i, im)| json!({
            "title": im.title, "imageUrl": im.image_url, "link": im.link, "position": i + 1,
        })).collect::<Vec<_>>(),
    });
    if let Some(a) = &found.answer_box {
        data["answerBox"] = a.clone();
    }
    if let Some(k) = &found.knowledge_graph {
        data["knowledgeGraph"] = k.clone();
    }
    data
}

fn source(s: &Source) -> Value {
    let mut v = json!({
        "title": s.title, "link": s.link, "snippet": s.snippet, "attribution": site(&s.link),
    });
    for (key, value) in [
        ("date", &s.date),
        ("source", &s.source),
        ("imageUrl", &s.image_url),
    ] {
        if let Some(x) = value {
            v[key] = json!(x);
        }
    }
    v
}

/// The results as the model reads them.
pub fn for_model(turn: u32, query: &str, found: &Found, highlights: &[Vec<Highlight>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Web search results for \"{query}\".");
    let _ = writeln!(
        out,
        "Cite a source right after the statement it supports by writing its anchor exactly as \
         shown (one: {a0}; several: \\ue200{a0}{a1}\\ue201). Never use markdown links, [1] or \
         footnotes.",
        a0 = anchor(turn, "search", 0),
        a1 = anchor(turn, "search", 1),
    );
    if let Some(a) = &found.answer_box {
        let said = ["answer", "snippet", "title"]
            .iter()
            .find_map(|k| a[k].as_str().filter(|s| !s.is_empty()));
        if let Some(said) = said {
            let _ = writeln!(out, "\nDirect answer: {said}");
        }
    }
    if let Some(k) = &found.knowledge_graph {
        let title = k["title"].as_str().unwrap_or_default();
        let about = k["description"].as_str().unwrap_or_default();
        if !title.is_empty() || !about.is_empty() {
            let _ = writeln!(out, "\nAbout {title}: {about}");
        }
    }
    if found.organic.is_empty() && found.top_stories.is_empty() {
        let _ = writeln!(
            out,
            "\nNo web results. Try other words, or answer without searching and say so."
        );
    }
    for (i, s) in found.organic.iter().enumerate() {
        let _ = writeln!(out, "\n{} {}", anchor(turn, "search", i), heading(s));
        let _ = writeln!(out, "URL: {}", s.link);
        if !s.snippet.is_empty() {
            let _ = writeln!(out, "Snippet: {}", s.snippet);
        }
        for h in highlights.get(i).into_iter().flatten() {
            let _ = writeln!(out, "> {}", h.text);
        }
    }
    if !found.top_stories.is_empty() {
        let _ = writeln!(out, "\nNews:");
        for (i, s) in found.top_stories.iter().enumerate() {
            let _ = writeln!(out, "{} {} {}", anchor(turn, "news", i), heading(s), s.link);
        }
    }
    if !found.images.is_empty() {
        let _ = writeln!(out, "\nImages:");
        for (i, im) in found.images.iter().enumerate() {
            let _ = writeln!(
                out,
                "{} {} {}",
                anchor(turn, "image", i),
                im.title,
                im.image_url
            );
        }
    }
    out
}

/// A source's title, with its site and date.
fn heading(s: &Source) -> String {
    let mut about = vec![s.source.clone().unwrap_or_else(|| site(&s.link))];
    about.extend(s.date.clone());
    format!("{} ({})", s.title, about.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> Found {
        Found {
            organic: vec![
                Source {
                    title: "Tides".into(),
                    link: "https://www.a.example/tides".into(),
                    snippet: "The Moon.".into(),
                    ..Source::default()
                },
                Source {
                    title: "Sea".into(),
                    link: "https://b.example/".into(),
                    ..Source::default()
                },
            ],
            top_stories: vec![Source {
                title: "Big tide".into(),
                link: "https://n.example/1".into(),
                source: Some("News Co".into()),
                date: Some("1 hour ago".into()),
                ..Source::default()
            }],
            answer_box: Some(json!({"answer": "Twice a day"})),
            ..Found::default()
        }
    }

    #[test]
    fn the_model_reads_each_source_with_the_anchor_the_client_resolves() {
        let h = vec![vec![Highlight {
            score: 2.5,
            text: "Two high tides a day.".into(),
        }]];
        let text = for_model(1, "tides", &found(), &h);
        assert!(text.contains("\\ue202turn1search0 Tides (a.example)\nURL: https://www.a.example/tides\nSnippet: The Moon.\n> Two high tides a day."), "{text}");
        assert!(
            text.contains("\\ue202turn1search1 Sea (b.example)"),
            "{text}"
        );
        assert!(
            text.contains("\\ue202turn1news0 Big tide (News Co, 1 hour ago)"),
            "{text}"
        );
        assert!(text.contains("Direct answer: Twice a day"), "{text}");
        let data = attachment_data(1, &found(), &h);
        assert_eq!(data["turn"], 1);
        assert_eq!(data["organic"][0]["link"], "https://www.a.example/tides");
        assert_eq!(data["organic"][0]["attribution"], "a.example");
        assert_eq!(data["organic"][0]["highlights"][0]["score"], 2.5);
        assert_eq!(data["organic"][0]["processed"], true);
        assert!(data["organic"][1].get("processed").is_none());
        assert_eq!(data["topStories"][0]["source"], "News Co");
        assert_eq!(data["answerBox"]["answer"], "Twice a day");
        assert_eq!(data["images"], json!([]));
    }
}
