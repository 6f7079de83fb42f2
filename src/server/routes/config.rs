//! `GET /api/config`: the startup configuration LibreChat's client reads, before login (the
//! sign-in methods) and after (everything).

use axum::Json;
use axum::extract::State;
use axum::http::header::VARY;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Settings;
use crate::server::AppState;
use crate::server::middleware::{Client, MaybeUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(startup_config))
}

/// LibreChat answers a visitor who is not signed in with only what its sign-in, registration
/// and password pages need ([`pre_login`]); a signed-in user gets the whole configuration.
#[utoipa::path(get, path = "/api/config", operation_id = "config_startup_config", summary = "The startup configuration the client needs: sign-in methods before login, everything (interface, features, model specs, balance) after", tag = "config", responses((status = 200, description = "Success")))]
async fn startup_config(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    client: Client,
) -> impl IntoResponse {
    let body = match user {
        None => pre_login(&state.settings, &client.base_url),
        Some(_) => build(&state.settings, &client.base_url, &state.instance_id),
    };
    // The answer depends on who asks: a cache must not hand one person's to another.
    ([(VARY, "Authorization")], Json(body))
}

/// What anyone may read: the sign-in methods and their labels, registration and password
/// reset, the legal links, and Turnstile (LibreChat's `buildPreLoginPayload` with
/// `socialLogins`, `turnstile` and the legal part of `interface`).
pub fn pre_login(s: &Settings, base_url: &str) -> Value {
    let l = &s.logins;
    let mut c = json!({
        "appTitle": s.branding.app_title,
        "socialLogins": s.auth.social_logins,
        "discordLoginEnabled": l.discord,
        "facebookLoginEnabled": l.facebook,
        "githubLoginEnabled": l.github,
        "googleLoginEnabled": l.google,
        "appleLoginEnabled": l.apple,
        "openidLoginEnabled": l.openid,
        "openidLabel": l.openid_label,
        "openidImageUrl": l.openid_image_url,
        "openidAutoRedirect": l.openid_auto_redirect,
        "samlLoginEnabled": l.saml,
        "samlLabel": l.saml_label,
        "samlImageUrl": l.saml_image_url,
        "serverDomain": s.server.domain_server.as_deref().unwrap_or(base_url),
        "emailLoginEnabled": s.auth.allow_email_login,
        // LibreChat's client shows a registration link only when this is on; LDAP accounts
        // come from the directory, so registration is off with LDAP as in LibreChat.
        "registrationEnabled": s.auth.allow_registration && !l.ldap,
        "socialLoginEnabled": s.auth.allow_social_login,
        "passwordResetEnabled": s.auth.allow_password_reset,
        "emailEnabled": l.email,
        "minPasswordLength": s.auth.min_password_length,
    });
    let obj = c.as_object_mut().expect("object literal");
    if l.ldap {
        obj.insert(
            "ldap".into(),
            json!({ "enabled": true, "username": l.ldap_uses_username }),
        );
    }
    if let Some(t) = &s.yaml.turnstile {
        obj.insert(
            "turnstile".into(),
            json!({ "siteKey": t.site_key, "options": t.options }),
        );
    }
    // The login page links the privacy policy and terms; the rest of `interface` waits.
    let legal = legal(s);
    if !legal.is_empty() {
        obj.insert("interface".into(), Value::Object(legal));
    }
    strip_nulls(obj);
    c
}

/// What a shared page shows around the conversation, LibreChat's `TSharedLinkStartupConfig`
/// (`GET /api/share/:id/config`): the app's title, analytics, footer, legal links and a
/// self-hosted artifact preview bundler.
pub fn shared_page(s: &Settings) -> Value {
    let mut c = json!({
        "appTitle": s.branding.app_title,
        "analyticsGtmId": s.branding.analytics_gtm_id,
        "customFooter": s.branding.custom_footer,
        "bundlerURL": s.branding.sandpack_bundler_url,
        "staticBundlerURL": s.branding.sandpack_static_bundler_url,
    });
    let obj = c.as_object_mut().expect("object literal");
    let legal = legal(s);
    if !legal.is_empty() {
        obj.insert("interface".into(), Value::Object(legal));
    }
    strip_nulls(obj);
    c
}

/// The privacy policy and terms of service of `interface`, which every page may link: the
/// sign-in pages, a shared page, the app.
fn legal(s: &Settings) -> Map<String, Value> {
    let mut full = interface(s);
    ["privacyPolicy", "termsOfService"]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), full.remove(k)?)))
        .collect()
}

/// LibreChat's whole `TStartupConfig` for a signed-in user, from the settings. `base_url` is
/// how this request reached us; it is the `serverDomain` unless `DOMAIN_SERVER` says otherwise.
pub fn build(s: &Settings, base_url: &str, instance_id: &str) -> Value {
    let mut c = pre_login(s, base_url);
    let obj = c.as_object_mut().expect("an object");
    let more = json!({
        "allowAccountDeletion": s.auth.allow_account_deletion,
        "showBirthdayIcon": s.branding.show_birthday_icon,
        "helpAndFaqURL": s.branding.help_and_faq_url,
        "interface": interface(s),
        "sharedLinksEnabled": s.features.shared_links,
        "publicSharedLinksEnabled": s.features.public_shared_links,
        "balance": balance(s),
        "transactions": { "enabled": s.features.transactions },
        "analyticsGtmId": s.branding.analytics_gtm_id,
        "bundlerURL": s.branding.sandpack_bundler_url,
        "staticBundlerURL": s.branding.sandpack_static_bundler_url,
        "instanceProjectId": instance_id,
        "conversationImportMaxFileSize": s.features.conversation_import_max_file_size,
    });
    if let Value::Object(more) = more {
        obj.extend(more);
    }
    if let Some(footer) = &s.branding.custom_footer {
        obj.insert("customFooter".into(), json!(footer));
    }
    if let Some(specs) = &s.yaml.model_specs {
        obj.insert("modelSpecs".into(), specs.clone());
    }
    if let Some(web) = s.tools.web_search.for_client() {
        obj.insert("webSearch".into(), web);
    }
    strip_nulls(obj);
    c
}

/// The `interface` object: librechat.yaml's values over LibreChat's defaults (features on), and
/// the features not here yet off.
fn interface(s: &Settings) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "endpointsMenu",
        "modelSelect",
        "parameters",
        "sidePanel",
        "presets",
        "bookmarks",
        "temporaryChat",
        "multiConvo",
        "fileCitations",
    ] {
        out.insert(key.into(), Value::Bool(true));
    }
    // LibreChat's defaults for the prompts library, agents and the people picker.
    for key in ["prompts", "agents"] {
        out.insert(
            key.into(),
            json!({"use": true, "create": true, "share": false, "public": false}),
        );
    }
    out.insert(
        "peoplePicker".into(),
        json!({"users": true, "groups": true, "roles": true}),
    );
    if let Some(Value::Object(given)) = s
        .yaml
        .interface
        .as_ref()
        .and_then(|i| serde_json::to_value(i).ok())
    {
        for (k, v) in given {
            if !v.is_null() {
                out.insert(k, v);
            }
        }
    }
    // As LibreChat: `memory.disabled` turns the memories panel off.
    if s.yaml.memory.as_ref().is_some_and(|m| m.is_disabled()) {
        out.insert("memories".into(), Value::Bool(false));
    }
    // Features this server does not have yet are off whatever librechat.yaml says, so the
    // client offers none of them.
    for f in crate::config::features::FEATURES
        .iter()
        .filter(|f| !f.built)
    {
        out.insert(f.interface_key.into(), f.interface_off());
    }
    strip_nulls(&mut out);
    out
}

fn balance(s: &Settings) -> Value {
    let b = s.yaml.balance.clone().unwrap_or_default();
    json!({
        "enabled": s.features.balance_enabled,
        "startBalance": s.features.start_balance,
        "autoRefillEnabled": b.auto_refill_enabled.unwrap_or(false),
        "refillIntervalValue": b.refill_interval_value.unwrap_or(30),
        "refillIntervalUnit": b.refill_interval_unit.map(|u| json!(u)).unwrap_or(json!("days")),
        "refillAmount": b.refill_amount.unwrap_or(10_000),
    })
}

fn strip_nulls(map: &mut Map<String, Value>) {
    map.retain(|_, v| !v.is_null());
    for v in map.values_mut() {
        if let Value::Object(inner) = v {
            strip_nulls(inner);
        }
    }
}
