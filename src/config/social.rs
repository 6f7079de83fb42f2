//! Social sign-in settings (Google, GitHub, Discord, Facebook), from LibreChat's environment
//! names: each is on when its `*_CLIENT_ID` and `*_CLIENT_SECRET` are set; `*_CALLBACK_URL`
//! defaults to `/oauth/<provider>/callback`. The endpoints are each provider's documented
//! ones; `GITHUB_ENTERPRISE_BASE_URL` moves GitHub's to an Enterprise server, and
//! `GOOGLE_OAUTH_BASE_URL`, `DISCORD_OAUTH_BASE_URL`, `FACEBOOK_OAUTH_BASE_URL` (ours, for a
//! proxy or tests) move the others', keeping their paths.

use serde::Serialize;

use super::{ConfigError, Env};
use crate::db::identities::Provider;

#[derive(Debug, Clone, Serialize)]
pub struct SocialSettings {
    #[serde(skip)]
    pub provider: Provider,
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    /// Absolute, or a path on the server's address.
    pub callback_url: String,
    pub authorize_url: String,
    pub token_url: String,
    /// Who signed in (the provider's user API).
    pub user_url: String,
    /// GitHub: the addresses, when the profile shows none.
    pub emails_url: Option<String>,
    pub scopes: Vec<String>,
}

fn base(env: &Env, key: &str, default: &str) -> Result<String, ConfigError> {
    match env.string(key) {
        Some(b) => {
            let parsed = url::Url::parse(&b).map_err(|_| ConfigError::invalid(key, &b, "a URL"))?;
            Ok(parsed.as_str().trim_end_matches('/').to_owned())
        }
        None => Ok(default.to_owned()),
    }
}

impl SocialSettings {
    /// Every configured social provider, in LibreChat's order.
    pub fn from_env(env: &Env) -> Result<Vec<Self>, ConfigError> {
        let mut out = Vec::new();
        for (provider, prefix) in [
            (Provider::Google, "GOOGLE"),
            (Provider::Github, "GITHUB"),
            (Provider::Discord, "DISCORD"),
            (Provider::Facebook, "FACEBOOK"),
        ] {
            let (Some(client_id), Some(client_secret)) = (
                env.string(&format!("{prefix}_CLIENT_ID")),
                env.string(&format!("{prefix}_CLIENT_SECRET")),
            ) else {
                continue;
            };
            let callback_url = env
                .string(&format!("{prefix}_CALLBACK_URL"))
                .unwrap_or_else(|| format!("/oauth/{}/callback", provider.name()));
            let s = |v: &str| v.to_owned();
            let settings = match provider {
                Provider::Google => {
                    let (auth, api) = match env.string("GOOGLE_OAUTH_BASE_URL") {
                        Some(_) => {
                            let b = base(env, "GOOGLE_OAUTH_BASE_URL", "")?;
                            (b.clone(), b)
                        }
                        None => (
                            s("https://accounts.google.com"),
                            s("https://oauth2.googleapis.com"),
                        ),
                    };
                    let userinfo = match env.string("GOOGLE_OAUTH_BASE_URL") {
                        Some(_) => format!("{api}/v1/userinfo"),
                        None => s("https://openidconnect.googleapis.com/v1/userinfo"),
                    };
                    Self {
                        authorize_url: format!("{auth}/o/oauth2/v2/auth"),
                        token_url: format!("{api}/token"),
                        user_url: userinfo,
                        emails_url: None,
                        scopes: vec![s("openid"), s("profile"), s("email")],
                        provider,
                        client_id,
                        client_secret,
                        callback_url,
                    }
                }
                Provider::Github => {
                    let (web, api) = match env.string("GITHUB_ENTERPRISE_BASE_URL") {
                        Some(_) => {
                            let b = base(env, "GITHUB_ENTERPRISE_BASE_URL", "")?;
                            (b.clone(), format!("{b}/api/v3"))
                        }
                        None => (s("https://github.com"), s("https://api.github.com")),
                    };
                    Self {
                        authorize_url: format!("{web}/login/oauth/authorize"),
                        token_url: format!("{web}/login/oauth/access_token"),
                        user_url: format!("{api}/user"),
                        emails_url: Some(format!("{api}/user/emails")),
                        scopes: vec![s("user:email"), s("read:user")],
                        provider,
                        client_id,
                        client_secret,
                        callback_url,
                    }
                }
                Provider::Discord => {
                    let b = base(env, "DISCORD_OAUTH_BASE_URL", "https://discord.com")?;
                    Self {
                        authorize_url: format!("{b}/oauth2/authorize"),
                        token_url: format!("{b}/api/oauth2/token"),
                        user_url: format!("{b}/api/users/@me"),
                        emails_url: None,
                        scopes: vec![s("identify"), s("email")],
                        provider,
                        client_id,
                        client_secret,
                        callback_url,
                    }
                }
                _ => {
                    let (web, graph) = match env.string("FACEBOOK_OAUTH_BASE_URL") {
                        Some(_) => {
                            let b = base(env, "FACEBOOK_OAUTH_BASE_URL", "")?;
                            (b.clone(), b)
                        }
                        None => (
                            s("https://www.facebook.com"),
                            s("https://graph.facebook.com"),
                        ),
                    };
                    Self {
                        authorize_url: format!("{web}/v18.0/dialog/oauth"),
                        token_url: format!("{graph}/v18.0/oauth/access_token"),
                        user_url: format!("{graph}/v18.0/me?fields=id,name,email,picture"),
                        emails_url: None,
                        scopes: vec![s("public_profile"), s("email")],
                        provider,
                        client_id,
                        client_secret,
                        callback_url,
                    }
                }
            };
            out.push(settings);
        }
        Ok(out)
    }
}
