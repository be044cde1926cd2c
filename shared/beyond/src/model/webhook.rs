//! Webhook signers and subscriptions (beyond-api.md §7).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hal::{HalCollection, Links};
use super::lenient_enum::lenient_enum;
use super::serde_util::{expose_secret_option, null_as_default};
use super::timestamp::BeyondTimestamp;

lenient_enum! {
    /// Webhook event types. Only these are documented; others are kept verbatim.
    pub enum WebhookEventType {
        OrderCreated => "order.created",
        OrderUpdated => "order.updated",
        ProductCreated => "product.created",
        ProductUpdated => "product.updated",
        AppUninstalled => "app.uninstalled",
        ShopUpdated => "shop.updated",
    }
}

/// A signer. `sharedSecret` is only present in the `POST /signers` answer; it keys the
/// HMAC of every webhook delivery. `Debug` redacts it; `Serialize` writes it (the wire
/// format needs it), so never serialize a signer into a log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signer {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_secret_option"
    )]
    pub shared_secret: Option<SecretString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<BeyondTimestamp>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for Signer {
    const COLLECTION: &'static str = "signers";
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub callback_uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub event_types: Vec<WebhookEventType>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for Subscription {
    const COLLECTION: &'static str = "subscriptions";
}

/// `POST /webhook-subscriptions` (and `PUT …/{id}`). An event type may sit in only one
/// subscription (400 `webhook-overlapping-event-types`); a signer must exist first
/// (401 `no-signer-defined`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSubscription {
    pub callback_uri: String,
    pub event_types: Vec<WebhookEventType>,
}
