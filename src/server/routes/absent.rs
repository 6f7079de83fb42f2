//! What LibreChat's web client asks about on every page load for features this server does not
//! have yet (speech on the server): answered as LibreChat answers when the feature is off, so
//! the client shows it off instead of failing.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::AppState;
use crate::server::middleware::AuthUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(speech_config))
}

/// The speech settings LibreChat's client starts from: no server-side speech-to-text or
/// text-to-speech (`sttExternal`/`ttsExternal` false), so it uses the browser's own; what
/// librechat.yaml's `speech.speechTab` sets is passed on, except an engine that would need
/// the server.
#[utoipa::path(get, path = "/api/files/speech/config/get", operation_id = "absent_speech_config", summary = "Speech settings (the browser's own engines only)", tag = "files", responses((status = 200, description = "Success")))]
async fn speech_config(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    let tab = state
        .settings
        .yaml
        .speech
        .as_ref()
        .and_then(|s| s.get("speechTab"));
    Json(speech_settings(tab))
}

fn speech_settings(tab: Option<&Value>) -> Value {
    let mut out = Map::new();
    out.insert("sttExternal".into(), json!(false));
    out.insert("ttsExternal".into(), json!(false));
    let Some(Value::Object(tab)) = tab else {
        return Value::Object(out);
    };
    if let Some(v) = tab.get("advancedMode") {
        out.insert("advancedMode".into(), v.clone());
    }
    for (section, switch) in [
        ("speechToText", "speechToText"),
        ("textToSpeech", "textToSpeech"),
    ] {
        match tab.get(section) {
            Some(Value::Bool(on)) => {
                out.insert(switch.into(), json!(on));
            }
            Some(Value::Object(fields)) => {
                for (k, v) in fields {
                    let engine = k == "engineSTT" || k == "engineTTS";
                    // Only the browser's engines work here.
                    if engine && v.as_str() != Some("browser") {
                        continue;
                    }
                    out.insert(k.clone(), v.clone());
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_uses_the_browsers_engines_only() {
        assert_eq!(
            speech_settings(None),
            json!({"sttExternal": false, "ttsExternal": false})
        );
        let tab = json!({
            "advancedMode": true,
            "speechToText": {"engineSTT": "openai", "autoSendText": 3},
            "textToSpeech": false,
        });
        assert_eq!(
            speech_settings(Some(&tab)),
            json!({"sttExternal": false, "ttsExternal": false, "advancedMode": true,
                   "autoSendText": 3, "textToSpeech": false})
        );
    }
}
