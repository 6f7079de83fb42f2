//! What every handler can reach.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::{self, Db};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// This installation's id, read once at start.
    pub instance_id: Arc<str>,
}

impl AppState {
    /// Opens (and migrates) the database named by the settings. The data folder must exist.
    pub async fn init(settings: Settings) -> Result<Self, db::DbError> {
        let path = settings.database_path();
        let db = tokio::task::spawn_blocking(move || Db::open(&path))
            .await
            .map_err(|e| db::DbError::Io(e.to_string()))??;
        let instance_id = db.read(db::instance_id).await?;
        Ok(Self {
            settings: Arc::new(settings),
            db,
            instance_id: instance_id.into(),
        })
    }
}
