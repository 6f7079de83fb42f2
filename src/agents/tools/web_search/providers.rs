//! The search providers behind one trait: SearXNG (self-hosted, no key: `GET /search?q=..
//! &format=json`) and Serper (Google results: `POST /search` with `X-API-KEY`), each answer
//! read into the same [`Found`]. Every failure (unreachable, slow, refused, not JSON) becomes a
//! [`ToolError`] that says what happened in words the model can pass on.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{Value, json};

use crate::agents::tools::ToolError;

/// The most read of a provider's answer (a page of results is tens of KB).
const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;
/// The most results of each kind kept.
const MAX_RESULTS: usize = 10;

/// What the model asked for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub q: String,
    /// `h`, `d`, `w`, `m` or `y`: results from the past hour, day, week, month or year.
    pub date: Option<String>,
    /// A two-letter country code (`us`, `de`).
    pub country: Option<String>,
    pub images: bool,
    pub news: bool,
    /// 0 off, 1 moderate, 2 strict.
    pub safe: u8,
}

/// A result that links to a page (LibreChat's `OrganicResult` and `TopStoryResult`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    pub title: String,
    pub link: String,
    pub snippet: String,
    pub date: Option<String>,
    /// The site or publisher that carries it (news).
    pub source: Option<String>,
    pub image_url: Option<String>,
}

/// An image result (LibreChat's `ImageResult`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    pub title: String,
    pub image_url: String,
    pub link: Option<String>,
}

/// One search's results.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub organic: Vec<Source>,
    pub top_stories: Vec<Source>,
    pub images: Vec<Image>,
    /// A direct answer (Serper's `answerBox`; SearXNG's `answers`), as the provider gave it.
    pub answer_box: Option<Value>,
    /// Serper's `knowledgeGraph`; SearXNG's first infobox.
    pub knowledge_graph: Option<Value>,
}

pub type SearchFuture<'a> = Pin<Box<dyn Future<Output = Result<Found, ToolError>> + Send + 'a>>;

/// A search provider.
pub trait Provider: Send + Sync {
    /// Its name, for messages (`SearXNG`).
    fn name(&self) -> &'static str;
    /// Runs `query`.
    fn search<'a>(&'a self, query: &'a Query) -> SearchFuture<'a>;
}

/// A self-hosted SearXNG whose JSON format is on (`search.formats: [html, json]`).
pub struct Searxng {
    pub http: reqwest::Client,
    pub base: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
}

/// Serper's API.
pub struct Serper {
    pub http: reqwest::Client,
    pub base: String,
    pub api_key: String,
    pub timeout: Duration,
}

impl Provider for Searxng {
    fn name(&self) -> &'static str {
        "SearXNG"
    }

    fn search<'a>(&'a self, query: &'a Query) -> SearchFuture<'a> {
        Box::pin(async move {
            let Ok(mut url) =
                url::Url::parse(&format!("{}/search", self.base.trim_end_matches('/')))
            else {
                return Err(ToolError(
                    "the search failed: the server's SEARXNG_INSTANCE_URL is not a URL. Tell \
                     the person so."
                        .into(),
                ));
            };
            let mut params = vec![
                ("q", query.q.clone()),
                ("format", "json".to_owned()),
                ("safesearch", query.safe.to_string()),
            ];
            let category = match (query.news, query.images) {
                (true, _) => "general,news",
                (_, true) => "general,images",
                _ => "general",
            };
            params.push(("categories", category.to_owned()));
            if let Some(range) = query.date.as_deref().and_then(searxng_range) {
                params.push(("time_range", range.to_owned()));
            }
            if let Some(c) = &query.country {
                params.push(("language", format!("all-{}", c.to_ascii_uppercase())));
            }
            url.query_pairs_mut().extend_pairs(&params);
            let mut request = self.http.get(url);
            if let Some(key) = &self.api_key {
                request = request.header("X-API-Key", key);
            }
            let body = send(self.name(), request, self.timeout).await?;
            Ok(read_searxng(&body))
        })
    }
}

impl Provider for Serper {
    fn name(&self) -> &'static str {
        "Serper"
    }

    fn search<'a>(&'a self, query: &'a Query) -> SearchFuture<'a> {
        Box::pin(async move {
            let base = self.base.trim_end_matches('/');
            let mut payload = json!({"q": query.q, "num": MAX_RESULTS});
            if let Some(c) = &query.country {
                payload["gl"] = json!(c.to_ascii_lowercase());
            }
            if let Some(d) = &query.date {
                payload["tbs"] = json!(format!("qdr:{d}"));
            }
            if query.safe > 0 {
                payload["safe"] = json!("active");
            }
            let call = |path: &str| {
                let request = self
                    .http
                    .post(format!("{base}/{path}"))
                    .header("X-API-KEY", &self.api_key)
                    .json(&payload);
                send(self.name(), request, self.timeout)
            };
            let web = call("search").await?;
            let mut found = read_serper(&web);
            // Images and news are other verticals of the same API; a failure there leaves the
            // web results as they are.
            if query.images
                && let Ok(v) = call("images").await
            {
                found.images = read_images(&v["images"], "imageUrl", "link");
            }
            if query.news
                && let Ok(v) = call("news").await
            {
                found.top_stories = sources(&v["news"], "snippet");
            }
            Ok(found)
        })
    }
}

/// SearXNG's `time_range` for the tool's `date`.
fn searxng_range(d: &str) -> Option<&'static str> {
    match d {
        "h" | "d" => Some("day"),
        "w" => Some("week"),
        "m" => Some("month"),
        "y" => Some("year"),
        _ => None,
    }
}

/// Sends `request` and reads its JSON answer, or says why not.
async fn send(
    name: &str,
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<Value, ToolError> {
    let sent = tokio::time::timeout(timeout, request.send()).await;
    let response = match sent {
        Err(_) => {
            return Err(ToolError(format!(
                "the search failed: {name} did not answer within {} seconds. Try again later, \
                 or answer without searching and say so.",
                timeout.as_secs_f32()
            )));
        }
        Ok(Err(e)) => {
            let e = e.without_url();
            tracing::warn!(provider = name, error = %e, "the search provider could not be reached");
            return Err(ToolError(format!(
                "the search failed: {name} could not be reached ({e}). Answer without searching \
                 and say so."
            )));
        }
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    let body = crate::net::body_prefix(response, MAX_ANSWER_BYTES, timeout).await;
    if !status.is_success() {
        let said = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                v["message"]
                    .as_str()
                    .or(v["error"].as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
                    .trim()
                    .to_owned()
            });
        let hint = match status.as_u16() {
            401 | 403 if name == "SearXNG" => {
                " (SearXNG refuses JSON unless its settings list `json` under search.formats)"
            }
            401 | 403 => " (the server's key for it is refused)",
            429 => " (too many searches: try again later)",
            _ => "",
        };
        return Err(ToolError(format!(
            "the search failed: {name} answered HTTP {}{hint}: {}. Answer without searching \
             and say so.",
            status.as_u16(),
            if said.is_empty() {
                "no reason given"
            } else {
                &said
            }
        )));
    }
    serde_json::from_slice(&body).map_err(|_| {
        ToolError(format!(
            "the search failed: {name}'s answer is not the JSON it should send. Answer without \
             searching and say so."
        ))
    })
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().trim().to_owned()
}

fn opt(v: &Value, key: &str) -> Option<String> {
    v[key]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Results that link to a page, from an array of objects with `title`, `link` and
/// `snippet_key`; those without an http(s) link are left out.
fn sources(items: &Value, snippet_key: &str) -> Vec<Source> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let link = text(r, "link");
            link.starts_with("http").then(|| Source {
                title: text(r, "title"),
                snippet: text(r, snippet_key),
                date: opt(r, "date"),
                source: opt(r, "source"),
                image_url: opt(r, "imageUrl"),
                link,
            })
        })
        .take(MAX_RESULTS)
        .collect()
}

fn read_images(items: &Value, image_key: &str, link_key: &str) -> Vec<Image> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let image_url = text(r, image_key);
            image_url.starts_with("http").then(|| Image {
                title: text(r, "title"),
                link: opt(r, link_key),
                image_url,
            })
        })
        .take(MAX_RESULTS)
        .collect()
}

/// Serper's answer (`organic`, `topStories`, `images`, `answerBox`, `knowledgeGraph`).
pub fn read_serper(v: &Value) -> Found {
    Found {
        organic: sources(&v["organic"], "snippet"),
        top_stories: sources(&v["topStories"], "snippet"),
        images: read_images(&v["images"], "imageUrl", "link"),
        answer_box: v.get("answerBox").filter(|a| a.is_object()).cloned(),
        knowledge_graph: v.get("knowledgeGraph").filter(|k| k.is_object()).cloned(),
    }
}

/// SearXNG's answer (`results` of categories general, news and images; `answers`;
/// `infoboxes`), its `url`/`content` read as `link`/`snippet`.
pub fn read_searxng(v: &Value) -> Found {
    let results: Vec<&Value> = v["results"].as_array().into_iter().flatten().collect();
    let as_source = |r: &&Value| {
        json!({
            "title": r["title"], "link": r["url"], "snippet": r["content"],
            "date": r["publishedDate"],
            "imageUrl": r["thumbnail"].as_str().or(r["img_src"].as_str()),
        })
    };
    let of = |category: &str| -> Value {
        results
            .iter()
            .filter(|r| r["category"].as_str().unwrap_or("general") == category)
            .map(as_source)
            .collect()
    };
    let images: Value = results
        .iter()
        .filter(|r| r["category"] == "images")
        .map(|r| json!({"title": r["title"], "imageUrl": r["img_src"], "link": r["url"]}))
        .collect();
    let answer_box = v["answers"]
        .as_array()
        .and_then(|a| a.first())
        .map(|a| match a {
            Value::String(s) => json!({"answer": s}),
            other => json!({"answer": other["answer"], "link": other["url"]}),
        });
    let knowledge_graph = v["infoboxes"].as_array().and_then(|i| i.first()).map(|i| {
        json!({
            "title": i["infobox"], "description": i["content"],
            "imageUrl": i["img_src"], "website": i["urls"][0]["url"],
        })
    });
    let mut organic = sources(&of("general"), "snippet");
    // An instance without the general category still answers the question.
    if organic.is_empty() {
        organic = sources(&results.iter().map(as_source).collect(), "snippet");
    }
    Found {
        organic,
        top_stories: sources(&of("news"), "snippet"),
        images: read_images(&images, "imageUrl", "link"),
        answer_box,
        knowledge_graph,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serper_answers_are_read() {
        let f = read_serper(&json!({
            "organic": [
                {"title": "Tides", "link": "https://a.example/tides", "snippet": "Moon.", "position": 1},
                {"title": "no link"},
            ],
            "topStories": [{"title": "News", "link": "https://n.example/1", "source": "N", "date": "1 hour ago"}],
            "answerBox": {"answer": "Twice a day"},
            "knowledgeGraph": {"title": "Tide"},
        }));
        assert_eq!(f.organic.len(), 1);
        assert_eq!(f.organic[0].snippet, "Moon.");
        assert_eq!(f.top_stories[0].source.as_deref(), Some("N"));
        assert_eq!(f.answer_box.unwrap()["answer"], "Twice a day");
        assert!(f.knowledge_graph.is_some());
    }

    #[test]
    fn searxng_answers_are_read() {
        let f = read_searxng(&json!({
            "query": "tides",
            "results": [
                {"url": "https://a.example/t", "title": "Tides", "content": "Moon.", "engine": "duckduckgo", "category": "general"},
                {"url": "https://n.example/1", "title": "News", "content": "x", "category": "news", "publishedDate": "2026-01-01T00:00:00"},
                {"url": "https://i.example/p", "title": "Pic", "img_src": "https://i.example/p.jpg", "category": "images"},
            ],
            "answers": ["Twice a day"],
            "infoboxes": [{"infobox": "Tide", "content": "Rise and fall", "urls": [{"url": "https://w.example"}]}],
        }));
        assert_eq!(f.organic[0].link, "https://a.example/t");
        assert_eq!(f.organic[0].snippet, "Moon.");
        assert_eq!(f.top_stories[0].title, "News");
        assert_eq!(f.images[0].image_url, "https://i.example/p.jpg");
        assert_eq!(f.answer_box.unwrap()["answer"], "Twice a day");
        assert_eq!(f.knowledge_graph.unwrap()["title"], "Tide");
    }
}
