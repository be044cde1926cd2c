//! Registering our receiver with a shop: a signer whose secret we store, and one
//! subscription per event type we act on, pointing at our callback. One piece serves the
//! install flow (`install-app`) and `epages-sync run --listen`.

use url::Url;

use super::{StoredSigner, callback_uri, signer_secret_ref};
use crate::ports::secrets::SecretNaming;
use crate::ports::{StateStores, StoreError};
use beyond::model::{CreateSubscription, WebhookEventType};
use beyond::{BeyondClient, BeyondError};
use domain::tenant::TenantId;

/// The event types every registered shop is subscribed to.
pub const SUBSCRIBED_EVENTS: &[&str] = &["order.created", "order.updated", "app.uninstalled"];

/// Why the webhook registration failed (webhooks only speed things up: the scheduled poll
/// works without them, so callers log this and go on).
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("Beyond call failed")]
    Beyond(#[from] BeyondError),
    #[error("storing the signer secret failed")]
    Store(#[from] StoreError),
    #[error("the new signer came without its shared secret")]
    NoSignerSecret,
}

/// What the registration found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// The signer and every subscription to our callback were in place.
    AlreadyRegistered,
    /// A signer or subscriptions were created.
    Registered,
}

/// A signer whose secret we know (stored under [`signer_secret_ref`]), and one
/// subscription for every event type of [`SUBSCRIBED_EVENTS`] pointing at
/// `{webhook_url}?tenant={tenant}`; existing ones are kept.
pub async fn register_webhooks(
    stores: &StateStores,
    secrets: &SecretNaming,
    webhook_url: &Url,
    client: &BeyondClient,
    tenant: &TenantId,
) -> Result<Registration, RegisterError> {
    let mut registration = Registration::AlreadyRegistered;
    let secret_ref = signer_secret_ref(secrets, tenant);
    let stored = stores
        .secrets
        .get(&secret_ref)
        .await?
        .and_then(|secret| StoredSigner::from_secret(&secret));
    let signers = client.list_signers().await?;
    let known = stored.is_some_and(|signer| signers.iter().any(|s| s.id == signer.signer_id));
    if !known {
        let signer = client.create_signer().await?;
        let shared_secret = signer.shared_secret.ok_or(RegisterError::NoSignerSecret)?;
        // A secret this process now holds: no sink may print it (beyond::redact).
        beyond::redact::register_secret(&shared_secret);
        let stored = StoredSigner {
            signer_id: signer.id,
            shared_secret,
        };
        stores.secrets.put(&secret_ref, stored.to_secret()).await?;
        registration = Registration::Registered;
    }

    let callback = callback_uri(webhook_url, tenant).to_string();
    let subscriptions = client.list_subscriptions().await?;
    let wanted: Vec<WebhookEventType> = SUBSCRIBED_EVENTS
        .iter()
        .map(|e| WebhookEventType::from(*e))
        .collect();
    let mut missing = Vec::new();
    for event in &wanted {
        let ours = subscriptions.iter().any(|s| {
            s.callback_uri.as_deref() == Some(callback.as_str()) && s.event_types.contains(event)
        });
        if !ours {
            missing.push(event.clone());
        }
    }
    if missing.is_empty() {
        return Ok(registration);
    }
    // Subscriptions belong to the app: one with an old callback (a moved webhook URL)
    // would block ours, since an event type may sit in one subscription only.
    for stale in subscriptions.iter().filter(|s| {
        s.callback_uri.as_deref() != Some(callback.as_str())
            && s.event_types.iter().any(|e| missing.contains(e))
    }) {
        client.delete_subscription(stale.id).await?;
    }
    client
        .create_subscription(&CreateSubscription {
            callback_uri: callback,
            event_types: missing,
        })
        .await?;
    Ok(Registration::Registered)
}
