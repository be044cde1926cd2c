//! Client secrets in Secrets Manager, one secret per [`SecretRef`] name.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretString};

use super::error::sdk_error;
use connector::ports::{SecretStore, StoreError};
use domain::tenant::SecretRef;

pub struct SecretsManagerStore {
    client: Client,
    /// KMS key for newly created secrets; `None` uses the account's `aws/secretsmanager` key.
    kms_key_id: Option<String>,
}

impl SecretsManagerStore {
    pub fn new(client: Client, kms_key_id: Option<String>) -> Self {
        Self { client, kms_key_id }
    }

    async fn put_value(&self, name: &SecretRef, value: &SecretString) -> Result<bool, StoreError> {
        match self
            .client
            .put_secret_value()
            .secret_id(name.as_str())
            .secret_string(value.expose_secret())
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|service| service.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error("PutSecretValue", e)),
        }
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        match self
            .client
            .get_secret_value()
            .secret_id(name.as_str())
            .send()
            .await
        {
            Ok(output) => Ok(output.secret_string.map(SecretString::from)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|service| service.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk_error("GetSecretValue", e)),
        }
    }

    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError> {
        if self.put_value(name, &value).await? {
            return Ok(());
        }
        let created = self
            .client
            .create_secret()
            .name(name.as_str())
            .secret_string(value.expose_secret())
            .set_kms_key_id(self.kms_key_id.clone())
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Another writer created it first: store our value as the current version.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|service| service.is_resource_exists_exception()) =>
            {
                if self.put_value(name, &value).await? {
                    Ok(())
                } else {
                    // Created by someone else, then gone again before our write: let the
                    // caller retry rather than guess.
                    Err(StoreError::Unprocessed {
                        operation: "store secret",
                        remaining: 1,
                        attempts: 2,
                    })
                }
            }
            Err(e) => Err(sdk_error("CreateSecret", e)),
        }
    }

    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError> {
        match self
            .client
            .delete_secret()
            .secret_id(name.as_str())
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|service| service.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error("DeleteSecret", e)),
        }
    }
}
