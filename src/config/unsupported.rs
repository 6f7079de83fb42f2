//! The parts of librechat.yaml this server reads but does not act on yet.
//!
//! LibreChat's file loads here unchanged, so a section for a feature that is not built yet is
//! accepted without a word, and an administrator could believe it works. `config check`,
//! `doctor` and the server's start name each such part that the file sets. Keep these lists in
//! step with the code: a section leaves them the day something uses it.

use serde_json::Value;

use super::features::FEATURES;

/// The parts nothing reads yet, by their path in the file, and what they configure in LibreChat.
const UNREAD: [(&[&str], &str); 25] = [
    // `fileStrategy` is read: `local` and `s3` (see `file_store`); others are noted below.
    (&["fileStrategies"], "where uploaded files are stored"),
    (&["cloudfront"], "file storage behind CloudFront"),
    (&["secureImageLinks"], "signed links to images"),
    (&["ocr"], "text recognition in uploads"),
    (&["summarization"], "summaries of long conversations"),
    // `endpoints`, the size limits, `fileTokenLimit` and `clientImageResize` are read.
    (&["fileConfig", "ocr"], "text recognition in uploads"),
    (&["fileConfig", "stt"], "speech to text of uploads"),
    (&["fileConfig", "text"], "which uploads are read as text"),
    (&["fileConfig", "skills"], "skills"),
    (&["filters"], "content filters"),
    (&["messageFilter"], "message filters"),
    (&["openapi"], "OpenAPI tools"),
    (&["langfuse"], "Langfuse tracing"),
    (&["skillSync"], "skills"),
    (&["permissions"], "extra permission rules"),
    // `speech.speechTab` is read (/api/files/speech/config/get): the browser's own engines.
    (&["speech", "stt"], "speech to text on the server"),
    (&["speech", "tts"], "text to speech on the server"),
    // `openAI`, `anthropic`, `google`, `custom`, `agents` and `allowedAddresses` are read; Azure OpenAI
    // comes from the environment.
    (&["endpoints", "all"], "settings shared by every endpoint"),
    (
        &["endpoints", "azureOpenAI"],
        "Azure OpenAI from librechat.yaml (AZURE_API_KEY and friends work)",
    ),
    (&["endpoints", "assistants"], "OpenAI assistants"),
    (&["endpoints", "azureAssistants"], "Azure assistants"),
    (&["endpoints", "bedrock"], "AWS Bedrock"),
    (
        &["registration", "oauthStateTtlMs"],
        "how long a sign-in with a provider may take",
    ),
    // `conversationsImport` and `fileUploads` are read.
    (&["rateLimits", "tts"], "a limit on text to speech"),
    (&["rateLimits", "stt"], "a limit on speech to text"),
];

/// One line for each part of the file (before `${VAR}` expansion, as parsed) that is set but
/// has no effect here, e.g. "librechat.yaml: `mcpServers` (MCP servers) is not supported yet;
/// it is ignored".
pub fn not_supported(file: &Value) -> Vec<String> {
    let set = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    let at = |path: &[&str]| path.iter().try_fold(file, |v, key| v.get(key));
    let mut out: Vec<String> = UNREAD
        .iter()
        .filter(|(path, _)| set(at(path)))
        .map(|(path, what)| {
            format!(
                "librechat.yaml: `{}` ({what}) is not supported yet; it is ignored",
                path.join(".")
            )
        })
        .collect();
    if let Some(strategy) = file.get("fileStrategy").filter(|v| !v.is_null()) {
        let name = strategy.as_str().unwrap_or_default();
        if !matches!(name, "local" | "s3") {
            out.push(format!(
                "librechat.yaml: `fileStrategy: {}` is not supported (only `local` and `s3`); \
                 uploaded files are stored on the local disk",
                if name.is_empty() {
                    strategy.to_string()
                } else {
                    name.to_owned()
                }
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
            "interface": {"agents": false, "bookmarks": true, "runCode": true},
            "endpoints": {"custom": [], "agents": {"disableBuilder": true}, "bedrock": {}},
            "fileStrategy": "firebase",
            "memory": null,
            "rateLimits": {"conversationsImport": {"ipMax": 1}, "tts": {"ipMax": 1}},
            "registration": {"socialLogins": ["github"], "oauthStateTtlMs": 1000},
            "speech": {"speechTab": {"advancedMode": true}, "stt": {"openai": {}}},
        });
        let notes = not_supported(&file);
        let joined = notes.join("\n");
        for named in [
            "`fileStrategy: firebase` is not supported (only `local` and `s3`)",
            "`endpoints.bedrock`",
            "`interface.runCode` has no effect",
            "`rateLimits.tts`",
            "`registration.oauthStateTtlMs`",
            "`speech.stt` (speech to text on the server)",
        ] {
            assert!(joined.contains(named), "{named} missing from {joined}");
        }
        // `speech.speechTab`, `endpoints.agents` and `interface.agents` are read.
        assert!(!joined.contains("agents"), "{joined}");
        assert_eq!(notes.len(), 6, "{joined}");
        for read in ["s3", "local"] {
            assert!(not_supported(&json!({ "fileStrategy": read })).is_empty());
        }
    }
}
