//! The parts of librechat.yaml this server reads but does not act on yet.
//!
//! LibreChat's file loads here unchanged, so a section for a feature that is not built yet is
//! accepted without a word, and an administrator could believe it works. `config check`,
//! `doctor` and the server's start name each such part that the file sets. Keep these lists in
//! step with the code: a section leaves them the day something uses it.

use serde_json::Value;

use super::features::FEATURES;

/// Top-level sections nothing reads yet, and what they configure in LibreChat.
const SECTIONS: [(&str, &str); 22] = [
    ("fileStrategy", "where uploaded files are stored"),
    ("fileStrategies", "where uploaded files are stored"),
    ("cloudfront", "file storage behind CloudFront"),
    ("secureImageLinks", "signed links to images"),
    ("imageOutputType", "the format of generated images"),
    ("includedTools", "the tools agents may use"),
    ("filteredTools", "the tools agents may use"),
    ("ocr", "text recognition in uploads"),
    ("webSearch", "web search"),
    ("memory", "memories"),
    ("summarization", "summaries of long conversations"),
    ("mcpServers", "MCP servers"),
    ("mcpSettings", "MCP servers"),
    ("actions", "agent actions"),
    ("speech", "speech to text and text to speech"),
    ("fileConfig", "file uploads"),
    ("filters", "content filters"),
    ("messageFilter", "message filters"),
    ("openapi", "OpenAPI tools"),
    ("langfuse", "Langfuse tracing"),
    ("skillSync", "skills"),
    ("permissions", "extra permission rules"),
];

/// `endpoints.*` kinds that are not offered (`openAI`, `anthropic`, `google`, `custom` and
/// `allowedAddresses` are read from the file; Azure OpenAI comes from the environment).
const ENDPOINT_KINDS: [(&str, &str); 6] = [
    ("all", "settings shared by every endpoint"),
    (
        "azureOpenAI",
        "Azure OpenAI from librechat.yaml (AZURE_API_KEY and friends work)",
    ),
    ("assistants", "OpenAI assistants"),
    ("azureAssistants", "Azure assistants"),
    ("agents", "agents"),
    ("bedrock", "AWS Bedrock"),
];

/// `rateLimits.*` kinds for features that are not built (only `conversationsImport` is read).
const RATE_LIMIT_KINDS: [(&str, &str); 3] = [
    ("fileUploads", "file uploads"),
    ("tts", "text to speech"),
    ("stt", "speech to text"),
];

/// Keys inside sections that are otherwise read, which nothing reads yet.
const NESTED: [(&str, &str, &str); 1] = [(
    "registration",
    "oauthStateTtlMs",
    "how long a sign-in with a provider may take",
)];

/// One line for each part of the file (before `${VAR}` expansion, as parsed) that is set but
/// has no effect here, e.g. "librechat.yaml: `mcpServers` (MCP servers) is not supported yet;
/// the section is ignored".
pub fn not_supported(file: &Value) -> Vec<String> {
    let set = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    let mut out = Vec::new();
    for (key, what) in SECTIONS {
        if set(file.get(key)) {
            out.push(format!(
                "librechat.yaml: `{key}` ({what}) is not supported yet; the section is ignored"
            ));
        }
    }
    for (key, what) in ENDPOINT_KINDS {
        if set(file.get("endpoints").and_then(|e| e.get(key))) {
            out.push(format!(
                "librechat.yaml: `endpoints.{key}` ({what}) is not supported yet; it is ignored"
            ));
        }
    }
    for f in FEATURES.iter().filter(|f| !f.built) {
        if set(file.get("interface").and_then(|i| i.get(f.interface_key))) {
            out.push(format!(
                "librechat.yaml: `interface.{}` has no effect: this server does not support {} \
                 yet, so the feature stays off",
                f.interface_key, f.name
            ));
        }
    }
    for (section, key, what) in NESTED {
        if set(file.get(section).and_then(|s| s.get(key))) {
            out.push(format!(
                "librechat.yaml: `{section}.{key}` ({what}) is not supported yet; it is ignored"
            ));
        }
    }
    for (key, what) in RATE_LIMIT_KINDS {
        if set(file.get("rateLimits").and_then(|r| r.get(key))) {
            out.push(format!(
                "librechat.yaml: `rateLimits.{key}`: {what} is not supported yet; the limit is ignored"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_part_that_is_set_and_nothing_else() {
        let file = json!({
            "version": "1.3.17",
            "interface": {"prompts": false, "bookmarks": true, "peoplePicker": {"users": true}},
            "endpoints": {"custom": [], "agents": {"disableBuilder": true}},
            "mcpServers": {"gh": {"url": "https://example.org"}},
            "memory": null,
            "rateLimits": {"conversationsImport": {"ipMax": 1}, "tts": {"ipMax": 1}},
            "registration": {"socialLogins": ["github"], "oauthStateTtlMs": 1000},
        });
        let notes = not_supported(&file);
        let joined = notes.join("\n");
        for named in [
            "`mcpServers` (MCP servers)",
            "`endpoints.agents`",
            "`interface.prompts` has no effect: this server does not support prompts",
            "support sharing with people yet",
            "`rateLimits.tts`",
            "`registration.oauthStateTtlMs`",
        ] {
            assert!(joined.contains(named), "{named} missing from {joined}");
        }
        assert_eq!(notes.len(), 6, "{joined}");
    }
}
