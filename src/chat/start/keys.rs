//! What a person stored for an endpoint that takes their own key or base URL (set through
//! `/api/keys`, encrypted with CREDS_KEY).

use serde_json::Value;

use super::StartError;
use crate::auth::crypto::Cipher;
use crate::db::{Db, user_keys};

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
