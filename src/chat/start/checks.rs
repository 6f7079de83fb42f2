//! The checks before anything is saved: the message limits, the model, the key and base URL
//! the answer will use, and moderation. A refusal counts as a violation where LibreChat
//! counts one.

use std::net::IpAddr;

use super::{ChatService, StartError};
use crate::providers::Endpoint;

/// The endpoint as this person will reach it, and the model asked.
pub(super) struct Chosen {
    pub endpoint: Endpoint,
    pub api_key: String,
    pub model: String,
}

impl ChatService {
    /// Counts the message against `MESSAGE_IP_MAX` and `MESSAGE_USER_MAX`.
    pub(super) async fn limit(&self, user_id: &str, ip: Option<IpAddr>) -> Result<(), StartError> {
        let limits = &self.settings.limits;
        let refused = |limited: crate::cache::Limited| StartError::TooManyMessages {
            retry_after_secs: limited.retry_after.as_secs().max(1),
        };
        if let Some(spec) = &limits.message_ip {
            self.guard
                .limit_address(spec, "message_ip", Some(user_id), ip)
                .await?
                .map_err(refused)?;
        }
        if let Some(spec) = &limits.message_user {
            self.guard
                .limit(spec, "message_user", Some(user_id), ip)
                .await?
                .map_err(refused)?;
        }
        Ok(())
    }

    /// The model (asked for, or the endpoint's first; one the endpoint does not offer is
    /// refused), and the key and base URL to use: the person's own where the endpoint takes
    /// them.
    pub(super) async fn choose(
        &self,
        endpoint: Endpoint,
        model: Option<String>,
        user_id: &str,
        ip: Option<IpAddr>,
    ) -> Result<Chosen, StartError> {
        let name = endpoint.name.clone();
        let model = match model {
            Some(m) => m,
            None => endpoint
                .models
                .first()
                .cloned()
                .ok_or(StartError::ModelRequired)?,
        };
        let offered = if endpoint.fetch_models {
            self.models.get(&self.engine.http, &endpoint).await
        } else {
            endpoint.models.clone()
        };
        if !offered.contains(&model) && !endpoint.models.contains(&model) {
            let score = self.settings.limits.illegal_model_score;
            self.guard
                .violation("illegal_model_request", score, Some(user_id), ip)
                .await?;
            return Err(StartError::ModelNotOffered {
                model,
                endpoint: name,
            });
        }
        let (endpoint, api_key) = super::keys::reach(
            &self.engine.db,
            &self.cipher,
            &self.engine.guarded,
            endpoint,
            user_id,
        )
        .await?;
        Ok(Chosen {
            endpoint,
            api_key,
            model,
        })
    }

    /// OpenAI moderation, when on: flagged text is refused (and counted as a violation).
    pub(super) async fn moderate(
        &self,
        text: &str,
        user_id: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), StartError> {
        let Some(moderation) = &self.settings.moderation else {
            return Ok(());
        };
        if text.trim().is_empty() {
            return Ok(());
        }
        let flagged = moderation.flagged(&self.engine.http, text).await;
        if flagged.is_empty() {
            return Ok(());
        }
        self.guard
            .violation("moderation", 1, Some(user_id), ip)
            .await?;
        Err(StartError::Flagged(flagged))
    }
}
