//! OAuth tokens in the state table: `TENANT#{id}` / `TOKENS`. The table is encrypted with
//! KMS at rest (template.yaml); values never appear in logs.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use secrecy::{ExposeSecret, SecretString};

use super::attr::{Item, get_millis, get_n, get_s, millis, n, names, opt_s, s};
use super::error::sdk_error;
use super::keys::{SK_TOKENS, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::tokens::TokenPutOutcome;
use connector::ports::{StoreError, TokenStore};
use domain::tenant::TenantId;
use domain::tokens::TenantTokens;

pub struct DynamoTokenStore {
    table: Table,
}

impl DynamoTokenStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }
}

fn decode(item: &Item) -> Result<TenantTokens, StoreError> {
    Ok(TenantTokens {
        access_token: SecretString::from(get_s(item, "access_token")?.to_owned()),
        access_expires_at: get_millis(item, "access_expires_at")?,
        refresh_token: opt_s(item, "refresh_token")?.map(|t| SecretString::from(t.to_owned())),
        version: get_n(item, "version")?,
    })
}

#[async_trait]
impl TokenStore for DynamoTokenStore {
    async fn get(&self, tenant: &TenantId) -> Result<Option<TenantTokens>, StoreError> {
        self.table
            .get(Table::key(tenant_pk(tenant), SK_TOKENS))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn put_if_version(
        &self,
        tenant: &TenantId,
        tokens: &TenantTokens,
    ) -> Result<TokenPutOutcome, StoreError> {
        let key = Table::key(tenant_pk(tenant), SK_TOKENS);
        let version = tokens.version + 1;
        let mut item = key.clone();
        item.insert(
            "access_token".into(),
            s(tokens.access_token.expose_secret()),
        );
        item.insert("access_expires_at".into(), millis(tokens.access_expires_at));
        if let Some(refresh) = &tokens.refresh_token {
            item.insert("refresh_token".into(), s(refresh.expose_secret()));
        }
        item.insert("version".into(), n(version));
        let condition = if tokens.version == 0 {
            "attribute_not_exists(#pk)"
        } else {
            "#version = :expected"
        };
        let mut request = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if tokens.version != 0 {
            request = request.expression_attribute_values(":expected", n(tokens.version));
        }
        let result = request.send().await;
        Ok(
            match self.table.conditional("PutItem", &key, result).await? {
                Conditional::Done(_) => TokenPutOutcome::Stored { version },
                Conditional::Refused(item) => TokenPutOutcome::Stale {
                    current: item.as_ref().map(decode).transpose()?,
                },
            },
        )
    }

    async fn delete(&self, tenant: &TenantId) -> Result<(), StoreError> {
        self.table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .set_key(Some(Table::key(tenant_pk(tenant), SK_TOKENS)))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
        Ok(())
    }
}
