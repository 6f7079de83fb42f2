//! LibreChat's `wolfram` tool: a question in plain words (`{"input": "France population"}`)
//! sent to Wolfram|Alpha's LLM API, whose text answer goes back to the model.
//!
//! The API is `GET <url>?input=<query>&appid=<App ID>`, answering `text/plain`: the result on
//! 200; on 501 an input it could not interpret (often with suggestions); on 403 an App ID
//! that is missing or invalid; on 400 a missing input. Each refusal goes back to the model
//! with the API's own words. The App ID is the server's `WOLFRAM_APP_ID`, or the one the person
//! stored; it is in the query string, so no URL of a request is ever logged or returned.

use std::time::Duration;

use serde_json::Value;

use super::{
    AuthField, Context, Manifest, Tool, ToolError, ToolFuture, text_input, text_input_def,
};
use crate::providers::ToolDef;

/// How long one query may take, the answer read in full.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of an answer read: the API answers a few KB (about 6,800 characters at most by
/// default); the loop bounds what goes back to the model further.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// The most of a refusal quoted back.
const MAX_ERROR_CHARS: usize = 2_000;

pub struct Wolfram {
    def: ToolDef,
    manifest: Manifest,
    http: reqwest::Client,
    /// The API's URL (`None`: not a URL, so every call fails saying so).
    url: Option<url::Url>,
}

impl Wolfram {
    /// The tool, calling the LLM API at `url` through `http`.
    pub fn new(http: reqwest::Client, url: &str) -> Self {
        Wolfram {
            def: text_input_def(
                "wolfram",
                "Asks Wolfram|Alpha: computation, math (equations, integrals, unit and date \
                 conversions), and curated, current data about chemistry, physics, geography, \
                 finance, astronomy and more. Send a short English keyword query on one line \
                 (\"France population\", not \"how many people live in France\"), one \
                 property per call; use single-letter variables and exponent notation like \
                 6*10^14. If the answer lists assumptions or suggestions, send the query again \
                 with the better one.",
                "The query, in English, on one line.",
            ),
            manifest: Manifest {
                name: "Wolfram",
                plugin_key: "wolfram",
                description: "Access computation, math, curated knowledge & real-time data \
                    through Wolfram|Alpha and Wolfram Language.",
                // LibreChat's is on wolframcdn.com, which the page may not load images from
                // (and which would learn of everyone who opens the tools dialog).
                icon: None,
                auth: vec![AuthField {
                    field: "WOLFRAM_APP_ID",
                    label: "Wolfram App ID",
                    description: "An AppID must be supplied in all calls to the Wolfram|Alpha \
                        API. You can get one by registering at <a \
                        href='http://products.wolframalpha.com/api/'>Wolfram|Alpha</a> and \
                        going to the <a \
                        href='https://developer.wolframalpha.com/portal/myapps/'>Developer \
                        Portal</a>.",
                    optional: false,
                }],
            },
            http,
            url: url::Url::parse(url).ok(),
        }
    }

    async fn ask(&self, input: String, app_id: String) -> Result<String, ToolError> {
        // One line, without the code quotes a model sometimes puts around a query.
        let query = input.replace('`', "").replace(['\n', '\r'], " ");
        let Some(mut url) = self.url.clone() else {
            return Err(ToolError(
                "Wolfram|Alpha is not set up on this server (WOLFRAM_API_URL is not a URL).".into(),
            ));
        };
        url.query_pairs_mut()
            .append_pair("input", &query)
            .append_pair("appid", &app_id);
        let sent = self.http.get(url).timeout(TIMEOUT).send().await;
        // The URL carries the App ID: errors are reported without it.
        let response = sent.map_err(|e| {
            let e = e.without_url();
            tracing::warn!(error = %e, "Wolfram|Alpha could not be reached");
            ToolError(format!("Wolfram|Alpha could not be reached: {e}"))
        })?;
        let status = response.status();
        let body = crate::net::body_prefix(response, MAX_ANSWER_BYTES, TIMEOUT).await;
        let text = String::from_utf8_lossy(&body).trim().to_owned();
        if status.is_success() {
            return Ok(text);
        }
        let mut said: String = text.chars().take(MAX_ERROR_CHARS).collect();
        if said.is_empty() {
            said = status
                .canonical_reason()
                .unwrap_or("no reason given")
                .into();
        }
        Err(ToolError(match status.as_u16() {
            403 => format!(
                "Wolfram|Alpha refused the App ID (HTTP 403: {said}). The person should check \
                 the Wolfram App ID in the tool's settings."
            ),
            501 => format!("Wolfram|Alpha could not interpret the input (HTTP 501): {said}"),
            code => format!("Wolfram|Alpha answered HTTP {code}: {said}"),
        }))
    }
}

impl Tool for Wolfram {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn manifest(&self) -> Option<&Manifest> {
        Some(&self.manifest)
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        let input = text_input(&args);
        Box::pin(async move {
            if input.trim().is_empty() {
                return Err(ToolError("the input is empty: send a query.".into()));
            }
            let app_id = cx.credential("wolfram", &self.manifest.auth[0]).await?;
            self.ask(input, app_id).await
        })
    }
}
