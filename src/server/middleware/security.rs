//! Headers that every response carries, and the Content-Security-Policy: built here, in one
//! place, from the settings.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::Settings;

/// The bundled app's policy: only its own scripts and styles (no inline code, no eval); images
/// from [`image_sources`] (`{img}`); nothing may frame the app.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src {img}; font-src 'self' data:; \
    connect-src 'self'; media-src 'self' data: blob:; worker-src 'self' blob:; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Where the avatars of each social sign-in come from (the `picture` their profiles give).
const AVATAR_HOSTS: [(&str, &str); 4] = [
    ("google", "https://*.googleusercontent.com"),
    ("github", "https://avatars.githubusercontent.com"),
    ("discord", "https://cdn.discordapp.com"),
    ("facebook", "https://*.fbsbx.com"),
];

/// The `img-src` sources: this server, data and blob URLs (previews, the 2FA QR code), the
/// avatar hosts of the social sign-ins that are configured, and `ALLOWED_IMAGE_HOSTS`. Not any
/// https host: an image loads without a click, so its URL could carry a conversation away.
pub fn image_sources(settings: &Settings) -> Vec<String> {
    let logins = &settings.logins;
    let on = |name: &str| match name {
        "google" => logins.google,
        "github" => logins.github,
        "discord" => logins.discord,
        _ => logins.facebook,
    };
    ["'self'", "data:", "blob:"]
        .into_iter()
        .map(str::to_owned)
        .chain(
            AVATAR_HOSTS
                .iter()
                .filter(|(name, _)| on(name))
                .map(|(_, host)| (*host).to_owned()),
        )
        .chain(settings.images.csp_sources())
        .collect()
}

/// What LibreChat's client may frame beyond its own origin: the self-hosted Sandpack bundlers
/// (`SANDPACK_BUNDLER_URL`, `SANDPACK_STATIC_BUNDLER_URL`), by origin.
pub fn frame_sources(settings: &Settings) -> Vec<String> {
    let b = &settings.branding;
    [&b.sandpack_bundler_url, &b.sandpack_static_bundler_url]
        .into_iter()
        .flatten()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect()
}

/// The bundled app's Content-Security-Policy for these settings.
pub fn content_security_policy(settings: &Settings) -> String {
    CONTENT_SECURITY_POLICY.replace("{img}", &image_sources(settings).join(" "))
}

/// What [`headers`] adds, worked out once at start.
#[derive(Clone)]
pub struct Headers {
    csp: HeaderValue,
    /// `NO_INDEX`: add `X-Robots-Tag: noindex`.
    no_index: bool,
}

impl Headers {
    pub fn new(settings: &Settings) -> Self {
        Self {
            // Image hosts are checked to be plain host names, so this is a valid header.
            csp: HeaderValue::from_str(&content_security_policy(settings))
                .expect("the policy is plain ASCII"),
            no_index: settings.server.no_index,
        }
    }
}

pub async fn headers(State(headers): State<Headers>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(HeaderName::from_static("content-security-policy"))
        .or_insert(headers.csp);
    let mut set = |name: &'static str, value: &'static str| {
        h.entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    };
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "same-origin");
    set("x-frame-options", "DENY");
    set("cross-origin-opener-policy", "same-origin");
    if headers.no_index {
        set("x-robots-tag", "noindex, nofollow");
    }
    resp
}
