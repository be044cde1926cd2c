//! Embedded secret store: a local stand-in for Secrets Manager. The file is owner-readable
//! only and meant for local runs, not for production secrets.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::{SecretStore, StoreError};
use domain::tenant::SecretRef;

/// Deliberately without `Debug`: it holds secret values in the clear.
#[derive(Clone, Default, Serialize, Deserialize)]
struct SecretsFile {
    secrets: BTreeMap<String, String>,
}

pub struct EmbeddedSecretStore {
    file: JsonFile<SecretsFile>,
}

impl EmbeddedSecretStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("secrets.json")).await?,
        })
    }
}

#[async_trait]
impl SecretStore for EmbeddedSecretStore {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        Ok(self
            .file
            .read(|file| {
                file.secrets
                    .get(name.as_str())
                    .map(|value| SecretString::from(value.clone()))
            })
            .await)
    }

    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError> {
        if name.as_str().is_empty() {
            return Err(StoreError::invalid("secret name", "is empty"));
        }
        self.file
            .update(|file| {
                file.secrets
                    .insert(name.as_str().to_owned(), value.expose_secret().to_owned());
                Ok(Mutation::Changed(()))
            })
            .await
    }

    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError> {
        self.file
            .update(|file| {
                Ok(match file.secrets.remove(name.as_str()) {
                    Some(_) => Mutation::Changed(()),
                    None => Mutation::Unchanged(()),
                })
            })
            .await
    }
}
