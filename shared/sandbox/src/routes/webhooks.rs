//! Signers and webhook subscriptions.
//!
//! Scopes: signers need only a valid token (the spec names none). Creating or changing a
//! subscription needs the read scope of every subscribed entity (`ordr:r` for `order.*`,
//! `prod:r` for `product.*`), as the spec says for order events. Deleting the last signer
//! is refused with 409 `cannot-delete-last-signer` (the docs forbid it; the error is not
//! documented, the name follows `cannot-delete-last-pickup-option`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use beyond::model as m;
use secrecy::SecretString;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::core::Core;
use crate::error::ApiError;
use crate::http::{Ids, JsonBody, Query, created, ok};
use crate::paging::{DEFAULT_SIZE, Paging};
use crate::shop::{SignerRecord, SubscriptionRecord};

fn signer_model(signer: &SignerRecord, root: &str, with_secret: bool) -> m::Signer {
    m::Signer {
        id: signer.id,
        shared_secret: with_secret.then(|| signer.shared_secret.clone()),
        created_at: (!with_secret).then(|| signer.created_at.into()),
        links: m::Links::new().with("self", format!("{root}/signers/{}", signer.id)),
    }
}

pub async fn create_signer(
    State(core): State<Arc<Core>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let root = core.api_root(&caller.shop);
    let signer = core.with_shop(&caller.shop, |shop, now| {
        let signer = SignerRecord {
            id: Uuid::new_v4(),
            shared_secret: SecretString::from(URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>())),
            created_at: now,
        };
        let model = signer_model(&signer, &root, true);
        shop.signers.push(signer);
        Ok(model)
    })?;
    Ok(ok(&signer))
}

pub async fn list_signers(
    State(core): State<Arc<Core>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let root = core.api_root(&caller.shop);
    let signers = core.with_shop(&caller.shop, |shop, _| {
        Ok(shop
            .signers
            .iter()
            .map(|signer| signer_model(signer, &root, false))
            .collect::<Vec<_>>())
    })?;
    // Beyond's signer list is unpaged and has no top-level links.
    Ok(ok(
        &serde_json::json!({ "_embedded": { "signers": signers } }),
    ))
}

pub async fn delete_signer(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    let id = ids.uuid("signerId", "/signers")?;
    core.with_shop(&caller.shop, |shop, _| {
        if !shop.signers.iter().any(|signer| signer.id == id) {
            return Err(ApiError::not_found(&format!("/signers/{id}")));
        }
        if shop.signers.len() == 1 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "cannot-delete-last-signer",
                "The last signer cannot be deleted.",
            ));
        }
        shop.signers.retain(|signer| signer.id != id);
        Ok(())
    })?;
    Ok(StatusCode::OK.into_response())
}

fn subscription_model(subscription: &SubscriptionRecord, root: &str) -> m::Subscription {
    let href = format!("{root}/webhook-subscriptions/{}", subscription.id);
    let toggle = if subscription.active {
        "deactivate"
    } else {
        "activate"
    };
    m::Subscription {
        id: subscription.id,
        callback_uri: Some(subscription.callback_uri.clone()),
        event_types: subscription
            .event_types
            .iter()
            .map(|event| m::WebhookEventType::from(event.as_str()))
            .collect(),
        active: Some(subscription.active),
        links: m::Links::new()
            .with("self", &href)
            .with(toggle, format!("{href}/{toggle}")),
    }
}

/// Reads `{callbackUri, eventTypes}` (both required) and checks the caller's scopes for
/// the event types.
fn parse_subscription(caller: &Caller, body: &Value) -> Result<(String, Vec<String>), ApiError> {
    let callback = body
        .get("callbackUri")
        .and_then(Value::as_str)
        .filter(|uri| !uri.trim().is_empty());
    let event_types: Option<Vec<String>> = body
        .get("eventTypes")
        .and_then(Value::as_array)
        .map(|types| {
            types
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .filter(|types: &Vec<String>| !types.is_empty());
    let mut problems = Vec::new();
    if callback.is_none() {
        problems.push((
            "callbackUri".to_owned(),
            body.get("callbackUri").cloned().unwrap_or(Value::Null),
            "must not be blank".to_owned(),
        ));
    }
    if event_types.is_none() {
        problems.push((
            "eventTypes".to_owned(),
            body.get("eventTypes").cloned().unwrap_or(Value::Null),
            "must not be empty".to_owned(),
        ));
    }
    let (Some(callback), Some(event_types)) = (callback, event_types) else {
        return Err(ApiError::validation("WebhookSubscription", problems));
    };
    for event_type in &event_types {
        match event_type.split('.').next() {
            Some("order") => caller.require("ordr:r")?,
            Some("product") => caller.require("prod:r")?,
            _ => {}
        }
    }
    Ok((callback.to_owned(), event_types))
}

fn overlapping() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "webhook-overlapping-event-types",
        "Subscriptions for one or more of the event types already exist. Overlapping event type subscriptions are not allowed.",
    )
}

pub async fn create_subscription(
    State(core): State<Arc<Core>>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let (callback, event_types) = parse_subscription(&caller, &body.required()?)?;
    let root = core.api_root(&caller.shop);
    let subscription = core.with_shop(&caller.shop, |shop, _| {
        if shop.signers.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no-signer-defined",
                format!(
                    "A signer is required. No signer has been defined for clientId={}",
                    shop.client_id
                ),
            ));
        }
        let taken = shop
            .subscriptions
            .iter()
            .any(|existing| existing.event_types.iter().any(|t| event_types.contains(t)));
        if taken {
            return Err(overlapping());
        }
        let subscription = SubscriptionRecord {
            id: Uuid::new_v4(),
            callback_uri: callback,
            event_types,
            active: true,
        };
        let model = subscription_model(&subscription, &root);
        shop.subscriptions.push(subscription);
        Ok(model)
    })?;
    let location = subscription
        .links
        .href("self")
        .unwrap_or_default()
        .to_owned();
    Ok(created(&location, &subscription))
}

pub async fn list_subscriptions(
    State(core): State<Arc<Core>>,
    caller: Caller,
    query: Query,
) -> Result<Response, ApiError> {
    let root = core.api_root(&caller.shop);
    let paging = Paging::from_query(&query, DEFAULT_SIZE);
    let subscriptions = core.with_shop(&caller.shop, |shop, _| {
        Ok(shop
            .subscriptions
            .iter()
            .map(|subscription| subscription_model(subscription, &root))
            .collect::<Vec<_>>())
    })?;
    Ok(ok(&paging.page(
        subscriptions,
        &format!("{root}/webhook-subscriptions"),
        &query,
    )))
}

fn subscription_id(ids: &Ids) -> Result<Uuid, ApiError> {
    ids.uuid("subscriptionId", "/webhook-subscriptions")
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(&format!("/webhook-subscriptions/{id}"))
}

pub async fn get_subscription(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    let id = subscription_id(&ids)?;
    let root = core.api_root(&caller.shop);
    let subscription = core.with_shop(&caller.shop, |shop, _| {
        shop.subscriptions
            .iter()
            .find(|s| s.id == id)
            .map(|s| subscription_model(s, &root))
            .ok_or_else(|| not_found(id))
    })?;
    Ok(ok(&subscription))
}

pub async fn update_subscription(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = subscription_id(&ids)?;
    let (callback, event_types) = parse_subscription(&caller, &body.required()?)?;
    let root = core.api_root(&caller.shop);
    let subscription = core.with_shop(&caller.shop, |shop, _| {
        let taken = shop.subscriptions.iter().any(|existing| {
            existing.id != id && existing.event_types.iter().any(|t| event_types.contains(t))
        });
        let subscription = shop
            .subscriptions
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| not_found(id))?;
        if taken {
            return Err(overlapping());
        }
        subscription.callback_uri = callback;
        subscription.event_types = event_types;
        Ok(subscription_model(subscription, &root))
    })?;
    Ok(ok(&subscription))
}

pub async fn delete_subscription(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    let id = subscription_id(&ids)?;
    core.with_shop(&caller.shop, |shop, _| {
        let before = shop.subscriptions.len();
        shop.subscriptions.retain(|s| s.id != id);
        if shop.subscriptions.len() == before {
            Err(not_found(id))
        } else {
            Ok(())
        }
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn activate_subscription(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    set_active(core, caller, ids, true)
}

pub async fn deactivate_subscription(
    State(core): State<Arc<Core>>,
    caller: Caller,
    ids: Ids,
) -> Result<Response, ApiError> {
    set_active(core, caller, ids, false)
}

fn set_active(
    core: Arc<Core>,
    caller: Caller,
    ids: Ids,
    active: bool,
) -> Result<Response, ApiError> {
    let id = subscription_id(&ids)?;
    let root = core.api_root(&caller.shop);
    let subscription = core.with_shop(&caller.shop, |shop, _| {
        let subscription = shop
            .subscriptions
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| not_found(id))?;
        subscription.active = active;
        Ok(subscription_model(subscription, &root))
    })?;
    Ok(ok(&subscription))
}
