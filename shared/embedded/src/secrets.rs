//! Embedded secret store: a local stand-in for Secrets Manager, table `secrets`. The
//! database file is owner-readable only and meant for local runs, not for production
//! secrets.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::db::{Database, KvTable};
use connector::ports::{SecretStore, StoreError};
use domain::tenant::SecretRef;

pub(crate) const TABLE: KvTable = KvTable {
    name: "secrets",
    what: "secret",
};

/// The JSON-file format this store had before SQLite (`secrets.json`), for the migration.
/// Deliberately without `Debug`: it holds secret values in the clear.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    secrets: std::collections::BTreeMap<String, String>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (name, value) in &self.secrets {
            TABLE.put(tx, name, value)?;
        }
        Ok(self.secrets.len())
    }
}

pub struct EmbeddedSecretStore {
    db: Arc<Database>,
}

impl EmbeddedSecretStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }
}

#[async_trait]
impl SecretStore for EmbeddedSecretStore {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        let name = name.as_str().to_owned();
        let value = self
            .db
            .read(move |connection| TABLE.get::<String>(connection, &name))
            .await?;
        Ok(value.map(SecretString::from))
    }

    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError> {
        if name.as_str().is_empty() {
            return Err(StoreError::invalid("secret name", "is empty"));
        }
        let name = name.as_str().to_owned();
        self.db
            .write(move |tx| TABLE.put(tx, &name, &value.expose_secret()))
            .await
    }

    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError> {
        let name = name.as_str().to_owned();
        self.db
            .write(move |tx| TABLE.delete(tx, &name).map(|_| ()))
            .await
    }
}
