//! What a person stored for an endpoint that takes their own key or base URL (set through
//! `/api/keys`, encrypted with CREDS_KEY).

use serde_json::Value;

use super::StartError;
use crate::auth::crypto::Cipher;
use crate::db::{Db, user_keys};
use crate::providers::Endpoint;
use crate::providers::endpoints::Key;

/// The key, and the base URL when the endpoint takes theirs (LibreChat stores
/// `{"apiKey", "baseURL"}` as JSON, or the bare key).
pub struct UserValues {
    pub api_key: String,
    pub base_url: Option<String>,
}

/// The user's values for `endpoint`, decrypted: [`StartError::NoUserKey`] when none is set,
/// [`StartError::ExpiredUserKey`] when they have expired.
pub async fn user_values(
    db: &Db,
    cipher: &Cipher,
    user_id: &str,
    endpoint: &str,
) -> Result<UserValues, StartError> {
    let (u, e) = (user_id.to_owned(), endpoint.to_owned());
    let stored = db
        .read(move |c| user_keys::get(c, &u, &e))
        .await?
        .ok_or_else(|| StartError::NoUserKey(endpoint.to_owned()))?;
    if let Some(at) = &stored.expires_at
        && *at <= crate::db::now()
    {
        return Err(StartError::ExpiredUserKey(endpoint.to_owned()));
    }
    let value = cipher
        .decrypt(&stored.value)
        .map_err(|e| StartError::Internal(anyhow::anyhow!(e)))?;
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(match serde_json::from_str::<Value>(&value) {
        Ok(v) if v.is_object() => UserValues {
            api_key: field(&v, "apiKey").unwrap_or_default(),
            base_url: field(&v, "baseURL").filter(|u| !u.trim().is_empty()),
        },
        _ => UserValues {
            api_key: value,
            base_url: None,
        },
    })
}

/// The endpoint as this person reaches it, and the key to use: the person's own where the
/// endpoint takes them (a URL the person chose gets their key only, never the server's, as in
/// LibreChat). A URL naming a private address is refused here; a name is checked again on
/// what it resolves to when the call is made.
pub async fn reach(
    db: &Db,
    cipher: &Cipher,
    guarded: &crate::net::Guarded,
    mut endpoint: Endpoint,
    user_id: &str,
) -> Result<(Endpoint, String), StartError> {
    let name = endpoint.name.clone();
    let mine = match endpoint.key == Key::UserProvided || endpoint.user_base_url {
        true => Some(user_values(db, cipher, user_id, &name).await?),
        false => None,
    };
    let api_key = match (&endpoint.key, &mine) {
        (_, Some(m)) if endpoint.user_base_url => m.api_key.clone(),
        (Key::Value(k), _) => k.clone(),
        (Key::UserProvided, Some(m)) => m.api_key.clone(),
        _ => String::new(),
    };
    if endpoint.user_base_url {
        let url = mine
            .as_ref()
            .and_then(|m| m.base_url.clone())
            .ok_or_else(|| StartError::NoBaseUrl(name.clone()))?;
        endpoint = endpoint
            .with_user_base_url(&url)
            .map_err(StartError::BadBaseUrl)?;
        if let Err(blocked) = guarded.client_for_str(&endpoint.base_url) {
            return Err(StartError::BlockedBaseUrl {
                endpoint: name,
                reason: blocked.to_string(),
            });
        }
    }
    Ok((endpoint, api_key))
}
