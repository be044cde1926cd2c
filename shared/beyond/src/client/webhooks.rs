//! Webhook signers and subscriptions.

use ::http::Method;
use uuid::Uuid;

use super::paging::collect_pages;
use super::{BeyondClient, PageRequest};
use crate::error::BeyondError;
use crate::model::{CreateSubscription, Page, Signer, Subscription};
use crate::retry::RequestSafety;

const SUBSCRIPTIONS_PAGE_SIZE: u64 = 100;

impl BeyondClient {
    /// `GET /signers`. The list carries no secrets, only IDs and creation times.
    pub async fn list_signers(&self) -> Result<Vec<Signer>, BeyondError> {
        let url = self.url(&["signers"])?;
        let page: Page<Signer> = self.get_json("list-signers", url).await?;
        Ok(page.into_items())
    }

    /// `POST /signers`: answers with the `sharedSecret`, the only time it is shown.
    /// UNSAFE: a lost answer leaves a signer whose secret we never learned; list and
    /// delete the unknown ones.
    pub async fn create_signer(&self) -> Result<Signer, BeyondError> {
        let url = self.url(&["signers"])?;
        let signer: Signer = self
            .send_json::<(), _>(
                "create-signer",
                Method::POST,
                url,
                None,
                RequestSafety::Unsafe,
            )
            .await?;
        if let Some(secret) = &signer.shared_secret {
            crate::redact::register_secret(secret);
        }
        Ok(signer)
    }

    /// `DELETE /signers/{id}`. REPEATABLE; a signer that is already gone (404) counts as
    /// deleted, so a repeat after a lost answer succeeds.
    pub async fn delete_signer(&self, signer_id: Uuid) -> Result<(), BeyondError> {
        let url = self.url(&["signers", &signer_id.to_string()])?;
        self.delete("delete-signer", url).await
    }

    /// `GET /webhook-subscriptions`: every subscription, all pages.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, BeyondError> {
        let listing = collect_pages(
            "list-subscriptions",
            0,
            |s: &Subscription| s.id,
            |page| async move {
                let mut url = self.url(&["webhook-subscriptions"])?;
                PageRequest::new(page, SUBSCRIPTIONS_PAGE_SIZE).append_to(&mut url);
                self.get_json("list-subscriptions", url).await
            },
        )
        .await?;
        Ok(listing.items)
    }

    /// `POST /webhook-subscriptions`. UNSAFE. 400 `webhook-overlapping-event-types`,
    /// 401 `no-signer-defined`.
    pub async fn create_subscription(
        &self,
        body: &CreateSubscription,
    ) -> Result<Subscription, BeyondError> {
        let url = self.url(&["webhook-subscriptions"])?;
        self.send_json(
            "create-subscription",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `DELETE /webhook-subscriptions/{id}`. REPEATABLE; 404 counts as deleted.
    pub async fn delete_subscription(&self, subscription_id: Uuid) -> Result<(), BeyondError> {
        let url = self.url(&["webhook-subscriptions", &subscription_id.to_string()])?;
        self.delete("delete-subscription", url).await
    }

    async fn delete(&self, operation: &'static str, url: url::Url) -> Result<(), BeyondError> {
        match self
            .send_no_content(operation, Method::DELETE, url, RequestSafety::Repeatable)
            .await
        {
            Err(error) if error.is_not_found() => Ok(()),
            other => other,
        }
    }
}
